package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * {@code notify.deliveries}: the delivery tracking of one notification. As a request {@code deliveries} is
 * empty and {@code userId} names the owner (null only for operators); the answer carries every delivery
 * with its attempts. Another user's notification answers NOT_FOUND.
 */
public record NotifyDeliveries(String userId, String notificationId, List<DeliveryStatus> deliveries)
    implements BusMessage {

  public static NotifyDeliveries query(String userId, String notificationId) {
    return new NotifyDeliveries(userId, notificationId, List.of());
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("notification_id", notificationId)
        .put("deliveries", Wire.array(deliveries));
  }

  public static NotifyDeliveries fromJson(JsonObject json) {
    return new NotifyDeliveries(json.getString("user_id"), json.getString("notification_id"),
        Wire.list(json.getJsonArray("deliveries"), DeliveryStatus::fromJson));
  }
}
