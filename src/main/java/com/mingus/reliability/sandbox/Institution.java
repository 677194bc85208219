package com.mingus.reliability.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A bank: its metadata, its maintenance windows and the request outcomes its status is computed from. */
final class Institution {
  /**
   * A maintenance window; {@code from} in the future makes it a SCHEDULED incident. {@code until} null: the
   * bank has not said when it ends (it ends when the control surface ends it), and the incident does not say.
   */
  record Maintenance(Instant from, Instant until, Instant announced) {
    boolean covers(Instant now) {
      return !now.isBefore(from) && (until == null || now.isBefore(until));
    }

    boolean resolved(Instant now) {
      return until != null && !now.isBefore(until);
    }

    String untilText() {
      return until == null ? "" : " until " + until;
    }
  }

  final String id;
  final String name;
  final String routingNumber;
  final String primaryColor;
  final Instant createdAt;
  final List<Maintenance> maintenance = new ArrayList<>();
  long successes;
  long plaidErrors;
  long institutionErrors;
  /** Set by the verticle: true while a fault scoped to this institution is active. */
  boolean faulted;
  private String lastStatus = "HEALTHY";
  private Instant lastStatusChange;

  Institution(String id, String name, String routingNumber, String primaryColor, Instant createdAt) {
    this.id = id;
    this.name = name;
    this.routingNumber = routingNumber;
    this.primaryColor = primaryColor;
    this.createdAt = createdAt;
    this.lastStatusChange = createdAt;
  }

  boolean down(Instant now) {
    for (Maintenance window : maintenance) {
      if (window.covers(now)) {
        return true;
      }
    }
    return false;
  }

  String status(Instant now) {
    String status = down(now) ? "DOWN" : faulted ? "DEGRADED" : "HEALTHY";
    if (!status.equals(lastStatus)) {
      lastStatus = status;
      lastStatusChange = now;
    }
    return status;
  }

  JsonObject toJson(boolean includeStatus, Instant now) {
    JsonObject json = new JsonObject()
        .put("institution_id", id)
        .put("name", name)
        .put("products", new JsonArray().add("assets").add("auth").add("balance").add("identity").add("transactions"))
        .put("country_codes", new JsonArray().add("US"))
        .put("url", "https://plaid.com")
        .put("primary_color", primaryColor)
        .put("logo", null)
        .put("routing_numbers", new JsonArray().add(routingNumber))
        .put("dtc_numbers", new JsonArray())
        .put("oauth", false);
    if (includeStatus) {
      String status = status(now);
      json.put("status", new JsonObject()
          .put("item_logins", productStatus(status, now))
          .put("transactions_updates", productStatus(status, now))
          .put("health_incidents", incidents(now)));
    }
    return json;
  }

  private JsonObject productStatus(String status, Instant now) {
    long total = successes + plaidErrors + institutionErrors;
    double success = total == 0 ? 1.0 : round((double) successes / total);
    double plaid = total == 0 ? 0.0 : round((double) plaidErrors / total);
    double institution = total == 0 ? 0.0 : round((double) institutionErrors / total);
    if ("DOWN".equals(status)) {
      success = 0.0;
      plaid = 0.0;
      institution = 1.0;
    }
    return new JsonObject()
        .put("status", status)
        .put("last_status_change", lastStatusChange.toString())
        .put("breakdown", new JsonObject()
            .put("success", success)
            .put("error_plaid", plaid)
            .put("error_institution", institution)
            .put("refresh_interval", "DOWN".equals(status) ? "STOPPED" : "DEGRADED".equals(status) ? "DELAYED" : "NORMAL"));
  }

  private JsonArray incidents(Instant now) {
    JsonArray out = new JsonArray();
    for (Maintenance window : maintenance) {
      boolean scheduled = now.isBefore(window.from());
      boolean resolved = window.resolved(now);
      JsonArray updates = new JsonArray().add(new JsonObject()
          .put("description", "Scheduled maintenance at " + name + " from " + window.from() + window.untilText())
          .put("status", "SCHEDULED")
          .put("updated_date", window.announced().toString()));
      if (!scheduled) {
        updates.add(new JsonObject()
            .put("description", name + " is down for maintenance" + window.untilText())
            .put("status", "IDENTIFIED")
            .put("updated_date", window.from().toString()));
      }
      if (resolved) {
        updates.add(new JsonObject()
            .put("description", "Maintenance at " + name + " is complete")
            .put("status", "RESOLVED")
            .put("updated_date", window.until().toString()));
      }
      out.add(new JsonObject()
          .put("start_date", window.from().toString())
          .put("end_date", resolved ? window.until().toString() : null)
          .put("title", "Scheduled maintenance: " + name)
          .put("incident_updates", updates));
    }
    return out;
  }

  private static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }
}
