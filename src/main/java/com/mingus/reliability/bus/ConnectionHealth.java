package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The health of one connection as health tracking keeps it (the seed's ConnectionHealth plus who owns it,
 * which bank, and why): the body of {@code health.changed} and of the {@code health.connection} reply.
 *
 * <p>{@code requires_reauth} and {@code maintenance_mode} are derived from {@code status}, so no stale flag
 * can outlive the state it describes. {@code consentExpiring} remembers Plaid's PENDING_EXPIRATION warning
 * while a worse state (maintenance, error) is shown, so the warning comes back when that state clears.
 */
public record ConnectionHealth(
    String connectionId,
    String userId,
    String itemId,
    String institutionId,
    String institutionName,
    ConnectionStatus status,
    Instant statusSince,
    Instant lastSuccessfulSync,
    JsonObject lastError,
    long syncSuccessCount,
    long syncFailureCount,
    int consecutiveFailures,
    Instant maintenanceUntil,
    int retryAttempts,
    Instant nextRetry,
    boolean consentExpiring,
    Instant consentExpirationTime,
    Instant updatedAt) implements BusMessage {

  public boolean requiresReauth() {
    return status == ConnectionStatus.REQUIRES_REAUTH;
  }

  public boolean maintenanceMode() {
    return status == ConnectionStatus.MAINTENANCE;
  }

  /** A new connection: active, nothing known yet. */
  public static ConnectionHealth fresh(String connectionId, String userId, String itemId, String institutionId,
      String institutionName, Instant now) {
    return new ConnectionHealth(connectionId, userId, itemId, institutionId, institutionName, ConnectionStatus.ACTIVE,
        now, null, null, 0, 0, 0, null, 0, null, false, null, now);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("connection_id", connectionId)
        .put("user_id", userId)
        .put("item_id", itemId)
        .put("institution_id", institutionId)
        .put("institution_name", institutionName)
        .put("status", status.wire())
        .put("status_since", text(statusSince))
        .put("last_successful_sync", text(lastSuccessfulSync))
        .put("last_error", lastError)
        .put("sync_success_count", syncSuccessCount)
        .put("sync_failure_count", syncFailureCount)
        .put("consecutive_failures", consecutiveFailures)
        .put("maintenance_mode", maintenanceMode())
        .put("maintenance_until", text(maintenanceUntil))
        .put("retry_attempts", retryAttempts)
        .put("next_retry", text(nextRetry))
        .put("requires_reauth", requiresReauth())
        .put("consent_expiring", consentExpiring)
        .put("consent_expiration_time", text(consentExpirationTime))
        .put("updated_at", text(updatedAt));
  }

  public static ConnectionHealth fromJson(JsonObject json) {
    return new ConnectionHealth(json.getString("connection_id"), json.getString("user_id"), json.getString("item_id"),
        json.getString("institution_id"), json.getString("institution_name"),
        ConnectionStatus.fromWire(json.getValue("status")), instant(json.getValue("status_since")),
        instant(json.getValue("last_successful_sync")), json.getJsonObject("last_error"),
        json.getLong("sync_success_count", 0L), json.getLong("sync_failure_count", 0L),
        json.getInteger("consecutive_failures", 0), instant(json.getValue("maintenance_until")),
        json.getInteger("retry_attempts", 0), instant(json.getValue("next_retry")),
        json.getBoolean("consent_expiring", false), instant(json.getValue("consent_expiration_time")),
        instant(json.getValue("updated_at")));
  }

  static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }

  static Instant instant(Object value) {
    if (!(value instanceof String text)) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
