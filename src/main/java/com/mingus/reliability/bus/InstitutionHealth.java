package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The health of one bank as health tracking sees it: the body of {@code institution.changed} and an entry
 * of the {@code health.institutions} reply.
 *
 * @param circuit         closed, open or half_open (open: sync is asked to leave the bank's connections alone)
 * @param circuitReason   why it last opened: failures, plaid_down, maintenance, predicted_maintenance (null while
 *                        closed from the start)
 * @param plaidStatus     Plaid's transactions_updates (else item_logins) status: HEALTHY, DEGRADED, DOWN, or null
 * @param successRates    our own syncs at this bank per window: {"5m": {"total","successful","rate"}, "1h": ..., "24h": ...}
 * @param maintenance     the known maintenance window: {"state": scheduled|active|none, "from", "until", "title",
 *                        "until_source": plaid|predicted} (until_source predicted: Plaid gave no end, the learned
 *                        window did)
 * @param predictedMaintenance the next (or current) window learned from the bank's past outages: {"from", "until",
 *                        "period": day|week, "occurrences"}, or null when its history shows no rhythm
 */
public record InstitutionHealth(
    String institutionId,
    String name,
    String circuit,
    Instant circuitSince,
    String circuitReason,
    String plaidStatus,
    JsonObject successRates,
    JsonObject maintenance,
    JsonObject predictedMaintenance,
    Instant updatedAt) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("institution_id", institutionId)
        .put("name", name)
        .put("circuit", circuit)
        .put("circuit_since", ConnectionHealth.text(circuitSince))
        .put("circuit_reason", circuitReason)
        .put("status", plaidStatus)
        .put("success_rates", successRates)
        .put("maintenance", maintenance)
        .put("predicted_maintenance", predictedMaintenance)
        .put("updated_at", ConnectionHealth.text(updatedAt));
  }

  public static InstitutionHealth fromJson(JsonObject json) {
    return new InstitutionHealth(json.getString("institution_id"), json.getString("name"), json.getString("circuit"),
        ConnectionHealth.instant(json.getValue("circuit_since")), json.getString("circuit_reason"),
        json.getString("status"), json.getJsonObject("success_rates"), json.getJsonObject("maintenance"),
        json.getJsonObject("predicted_maintenance"),
        ConnectionHealth.instant(json.getValue("updated_at")));
  }
}
