package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/** One try of a delivery: its number, outcome (sent, retrying, failed), provider id or error, and when. */
public record DeliveryAttempt(int attempt, String outcome, String providerMessageId, String error,
    String startedAt, String finishedAt) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("attempt", attempt).put("outcome", outcome)
        .put("provider_message_id", providerMessageId).put("error", error).put("started_at", startedAt)
        .put("finished_at", finishedAt);
  }

  public static DeliveryAttempt fromJson(JsonObject json) {
    return new DeliveryAttempt(json.getInteger("attempt", 0), json.getString("outcome"),
        json.getString("provider_message_id"), json.getString("error"), json.getString("started_at"),
        json.getString("finished_at"));
  }
}
