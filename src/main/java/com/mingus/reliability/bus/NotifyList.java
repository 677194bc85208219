package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/** {@code notify.list}: a user's in-app notifications, newest first, a page at a time; answers {@link NotificationPage}. */
public record NotifyList(String userId, int limit, int offset, boolean unreadOnly) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("limit", limit).put("offset", offset)
        .put("unread_only", unreadOnly);
  }

  public static NotifyList fromJson(JsonObject json) {
    return new NotifyList(json.getString("user_id"), json.getInteger("limit", 50), json.getInteger("offset", 0),
        json.getBoolean("unread_only", false));
  }
}
