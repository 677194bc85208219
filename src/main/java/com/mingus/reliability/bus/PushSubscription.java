package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/** A browser's Web Push subscription as {@code PushSubscription.toJSON()} gives it: endpoint, keys.p256dh, keys.auth. */
public record PushSubscription(String endpoint, String p256dh, String auth) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("endpoint", endpoint)
        .put("keys", new JsonObject().put("p256dh", p256dh).put("auth", auth));
  }

  public static PushSubscription fromJson(JsonObject json) {
    JsonObject keys = json.getJsonObject("keys", new JsonObject());
    return new PushSubscription(json.getString("endpoint"), keys.getString("p256dh"), keys.getString("auth"));
  }
}
