package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The answer to {@code notify.send}: the notification's id (the earlier one when {@code deduplicated}) and
 * its deliveries as written to the outbox (pending, or skipped with the reason).
 */
public record NotifySendResult(String notificationId, boolean deduplicated, List<DeliveryStatus> deliveries)
    implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("notification_id", notificationId).put("deduplicated", deduplicated)
        .put("deliveries", Wire.array(deliveries));
  }

  public static NotifySendResult fromJson(JsonObject json) {
    return new NotifySendResult(json.getString("notification_id"), json.getBoolean("deduplicated", false),
        Wire.list(json.getJsonArray("deliveries"), DeliveryStatus::fromJson));
  }
}
