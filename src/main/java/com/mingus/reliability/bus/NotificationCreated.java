package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/** Event {@code notification.created}: a user's in-app notification exists, for that user's live feed. */
public record NotificationCreated(String userId, NotificationView notification) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("notification", notification.toJson());
  }

  public static NotificationCreated fromJson(JsonObject json) {
    return new NotificationCreated(json.getString("user_id"), NotificationView.fromJson(json.getJsonObject("notification")));
  }
}
