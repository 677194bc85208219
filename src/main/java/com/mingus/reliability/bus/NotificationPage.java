package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One page of a user's notifications, their unread count and total, and the cursor of the next page (null on
 * the last, when {@code hasMore} is false).
 */
public record NotificationPage(List<NotificationView> notifications, int unreadCount, int total, int limit,
    String nextCursor, boolean hasMore) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("notifications", Wire.array(notifications)).put("unread_count", unreadCount)
        .put("total", total).put("limit", limit).put("next_cursor", nextCursor).put("has_more", hasMore);
  }

  public static NotificationPage fromJson(JsonObject json) {
    return new NotificationPage(Wire.list(json.getJsonArray("notifications"), NotificationView::fromJson),
        json.getInteger("unread_count", 0), json.getInteger("total", 0), json.getInteger("limit", 0),
        json.getString("next_cursor"), json.getBoolean("has_more", false));
  }
}
