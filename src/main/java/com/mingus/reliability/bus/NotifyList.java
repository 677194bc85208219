package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code notify.list}: a user's in-app notifications, newest first, a page at a time ({@link PageCursor}:
 * {@code cursor} null for the first page, else the {@code next_cursor} of the one before); answers
 * {@link NotificationPage}.
 */
public record NotifyList(String userId, int limit, String cursor, boolean unreadOnly) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("limit", limit).put("cursor", cursor)
        .put("unread_only", unreadOnly);
  }

  public static NotifyList fromJson(JsonObject json) {
    return new NotifyList(json.getString("user_id"), json.getInteger("limit", 50), json.getString("cursor"),
        json.getBoolean("unread_only", false));
  }
}
