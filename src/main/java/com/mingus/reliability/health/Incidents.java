package com.mingus.reliability.health;

import com.mingus.reliability.plaid.Institution;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a maintenance window out of Plaid's institution status: an incident that has started and not ended
 * is active; one whose start lies ahead (Plaid lists it with a SCHEDULED update) is scheduled. Plaid gives
 * no end time for a window that has not ended, so the end comes from the incident's own words
 * ("... until 2025-01-27T12:00:00Z"), when they say it.
 */
final class Incidents {
  private Incidents() {}

  private static final Pattern UNTIL = Pattern.compile("until\\s+(\\d{4}-\\d{2}-\\d{2}T[0-9:.]+(?:Z|[+-]\\d{2}:\\d{2}))");

  /** A window: state active or scheduled; from, until (null when unknown) and the incident's title. */
  record Window(String state, Instant from, Instant until, String title) {
    JsonObject toJson() {
      return new JsonObject().put("state", state).put("from", from == null ? null : from.toString())
          .put("until", until == null ? null : until.toString()).put("title", title);
    }

    boolean active() {
      return "active".equals(state);
    }

    static JsonObject none() {
      return new JsonObject().put("state", "none");
    }
  }

  /** The active window if there is one, else the earliest scheduled one, else null. */
  static Window maintenance(Institution.Status status, Instant now) {
    if (status == null || status.healthIncidents() == null) {
      return null;
    }
    Window scheduled = null;
    for (Institution.HealthIncident incident : status.healthIncidents()) {
      Instant start = incident.startDate();
      Instant end = incident.endDate();
      if (start == null || (end != null && !end.isAfter(now))) {
        continue;
      }
      Instant until = end != null ? end : until(incident);
      if (!start.isAfter(now)) {
        return new Window("active", start, until, incident.title());
      }
      if (scheduled == null || start.isBefore(scheduled.from())) {
        scheduled = new Window("scheduled", start, until, incident.title());
      }
    }
    return scheduled;
  }

  private static Instant until(Institution.HealthIncident incident) {
    Instant found = null;
    if (incident.updates() != null) {
      for (Institution.IncidentUpdate update : incident.updates()) {
        Instant at = parse(update.description());
        if (at != null) {
          found = at;
        }
      }
    }
    return found != null ? found : parse(incident.title());
  }

  static Instant parse(String text) {
    if (text == null) {
      return null;
    }
    Matcher matcher = UNTIL.matcher(text);
    Instant found = null;
    while (matcher.find()) {
      try {
        found = java.time.OffsetDateTime.parse(matcher.group(1)).toInstant();
      } catch (DateTimeParseException e) {
        // not a time after all; keep looking
      }
    }
    return found;
  }

  /** Plaid's headline status for syncing: transactions_updates, else item_logins; null when absent. */
  static String plaidStatus(Institution.Status status) {
    if (status == null) {
      return null;
    }
    Institution.ProductStatus product = status.transactionsUpdates() != null ? status.transactionsUpdates()
        : status.itemLogins();
    return product == null ? null : product.status();
  }
}
