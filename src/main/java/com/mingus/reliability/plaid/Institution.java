package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An institution from {@code /institutions/get_by_id}; {@link #status()} is set when the request asked for
 * it ({@code options.include_status}) and Plaid has it.
 */
public record Institution(
    String institutionId,
    String name,
    List<String> products,
    List<String> countryCodes,
    String url,
    Boolean oauth,
    Status status,
    JsonObject raw) {

  /** The health of each kind of request at this institution, and its open incidents. */
  public record Status(Map<String, ProductStatus> byProduct, List<HealthIncident> healthIncidents) {

    /** Status of logins (new Items, update mode), or null. */
    public ProductStatus itemLogins() {
      return byProduct.get("item_logins");
    }

    /** Status of transactions updates, or null. */
    public ProductStatus transactionsUpdates() {
      return byProduct.get("transactions_updates");
    }

    static Status fromJson(JsonObject json) {
      Map<String, ProductStatus> byProduct = new LinkedHashMap<>();
      for (String key : json.fieldNames()) {
        JsonObject value = LenientJson.object(json, key);
        if (value != null && value.containsKey("status")) {
          byProduct.put(key, ProductStatus.fromJson(value));
        }
      }
      return new Status(Map.copyOf(byProduct), LenientJson.objects(json, "health_incidents", HealthIncident::fromJson));
    }
  }

  /**
   * @param status HEALTHY, DEGRADED or DOWN (unknown values kept)
   */
  public record ProductStatus(String status, Instant lastStatusChange, Breakdown breakdown) {
    static ProductStatus fromJson(JsonObject json) {
      JsonObject breakdown = LenientJson.object(json, "breakdown");
      return new ProductStatus(LenientJson.text(json, "status"), LenientJson.instant(json, "last_status_change"),
          breakdown == null ? null : Breakdown.fromJson(breakdown));
    }
  }

  /**
   * Shares of recent requests by outcome (they sum to 1).
   *
   * @param refreshInterval NORMAL, DELAYED or STOPPED (transactions only; may be null)
   */
  public record Breakdown(Double success, Double errorPlaid, Double errorInstitution, String refreshInterval) {
    static Breakdown fromJson(JsonObject json) {
      return new Breakdown(LenientJson.decimal(json, "success"), LenientJson.decimal(json, "error_plaid"),
          LenientJson.decimal(json, "error_institution"), LenientJson.text(json, "refresh_interval"));
    }
  }

  /** A health incident Plaid reports for the institution; {@code endDate} null while it lasts. */
  public record HealthIncident(Instant startDate, Instant endDate, String title, List<IncidentUpdate> updates) {
    static HealthIncident fromJson(JsonObject json) {
      return new HealthIncident(LenientJson.instant(json, "start_date"), LenientJson.instant(json, "end_date"),
          LenientJson.text(json, "title"), LenientJson.objects(json, "incident_updates", IncidentUpdate::fromJson));
    }
  }

  public record IncidentUpdate(String description, String status, Instant updatedDate) {
    static IncidentUpdate fromJson(JsonObject json) {
      return new IncidentUpdate(LenientJson.text(json, "description"), LenientJson.text(json, "status"),
          LenientJson.instant(json, "updated_date"));
    }
  }

  static Institution fromJson(JsonObject json) {
    JsonObject status = LenientJson.object(json, "status");
    return new Institution(
        LenientJson.text(json, "institution_id"),
        LenientJson.text(json, "name"),
        LenientJson.texts(json, "products"),
        LenientJson.texts(json, "country_codes"),
        LenientJson.text(json, "url"),
        LenientJson.bool(json, "oauth"),
        status == null ? null : Status.fromJson(status),
        json.copy());
  }
}
