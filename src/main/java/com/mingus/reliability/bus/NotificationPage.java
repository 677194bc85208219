package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.util.List;

/** One page of a user's notifications, their unread count and total, and the offset of the next page (or null). */
public record NotificationPage(List<NotificationView> notifications, int unreadCount, int total, int limit,
    int offset, Integer nextOffset) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("notifications", Wire.array(notifications)).put("unread_count", unreadCount)
        .put("total", total).put("limit", limit).put("offset", offset).put("next_offset", nextOffset);
  }

  public static NotificationPage fromJson(JsonObject json) {
    return new NotificationPage(Wire.list(json.getJsonArray("notifications"), NotificationView::fromJson),
        json.getInteger("unread_count", 0), json.getInteger("total", 0), json.getInteger("limit", 0),
        json.getInteger("offset", 0), json.getInteger("next_offset"));
  }
}
