package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One delivery of a notification on one channel (one per push subscription), as tracked: {@code status}
 * is pending, retrying, sent, failed (dead-lettered after the last attempt, or refused for good) or
 * skipped; {@code reason} says why it is skipped, waiting or failed; {@code attempts} lists every try.
 */
public record DeliveryStatus(String id, String channel, String target, String status, String reason,
    int attemptCount, String providerMessageId, String lastError, String nextAttemptAt, String sentAt,
    String idempotencyKey, List<DeliveryAttempt> attempts) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("channel", channel).put("target", target).put("status", status)
        .put("reason", reason).put("attempt_count", attemptCount).put("provider_message_id", providerMessageId)
        .put("last_error", lastError).put("next_attempt_at", nextAttemptAt).put("sent_at", sentAt)
        .put("idempotency_key", idempotencyKey).put("attempts", Wire.array(attempts));
  }

  public static DeliveryStatus fromJson(JsonObject json) {
    return new DeliveryStatus(json.getString("id"), json.getString("channel"), json.getString("target"),
        json.getString("status"), json.getString("reason"), json.getInteger("attempt_count", 0),
        json.getString("provider_message_id"), json.getString("last_error"), json.getString("next_attempt_at"),
        json.getString("sent_at"), json.getString("idempotency_key"),
        Wire.list(json.getJsonArray("attempts"), DeliveryAttempt::fromJson));
  }
}
