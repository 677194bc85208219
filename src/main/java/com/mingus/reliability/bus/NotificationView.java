package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * A notification as the user sees it (the DESIGN's list shape): {@code occurrences} counts the identical
 * requests merged into it within the dedupe cooldown.
 */
public record NotificationView(String id, String type, String priority, String title, String message,
    String connectionId, boolean read, String createdAt, int occurrences) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("type", type).put("priority", priority).put("title", title)
        .put("message", message).put("connection_id", connectionId).put("read", read).put("created_at", createdAt)
        .put("occurrences", occurrences);
  }

  public static NotificationView fromJson(JsonObject json) {
    return new NotificationView(json.getString("id"), json.getString("type"), json.getString("priority"),
        json.getString("title"), json.getString("message"), json.getString("connection_id"),
        json.getBoolean("read", false), json.getString("created_at"), json.getInteger("occurrences", 1));
  }
}
