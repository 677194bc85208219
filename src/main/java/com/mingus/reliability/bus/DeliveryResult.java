package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/** The seed's {@code {channel, success, message}} of one send-test channel. */
public record DeliveryResult(String channel, boolean success, String message) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("channel", channel).put("success", success).put("message", message);
  }

  public static DeliveryResult fromJson(JsonObject json) {
    return new DeliveryResult(json.getString("channel"), json.getBoolean("success", false), json.getString("message"));
  }
}
