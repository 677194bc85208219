package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** The seed's send-test answer: overall success, a message and one {@link DeliveryResult} per channel. */
public record NotifyTestResult(boolean success, String message, String notificationId,
    List<DeliveryResult> deliveryResults) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("success", success).put("message", message).put("notification_id", notificationId)
        .put("delivery_results", Wire.array(deliveryResults));
  }

  public static NotifyTestResult fromJson(JsonObject json) {
    return new NotifyTestResult(json.getBoolean("success", false), json.getString("message"),
        json.getString("notification_id"), Wire.list(json.getJsonArray("delivery_results"), DeliveryResult::fromJson));
  }
}
