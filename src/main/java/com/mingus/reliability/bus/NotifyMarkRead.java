package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/** {@code notify.mark_read}: marks the user's own notification read; answers its {@link NotificationView}, else NOT_FOUND. */
public record NotifyMarkRead(String userId, String notificationId) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("notification_id", notificationId);
  }

  public static NotifyMarkRead fromJson(JsonObject json) {
    return new NotifyMarkRead(json.getString("user_id"), json.getString("notification_id"));
  }
}
