package com.mingus.reliability.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * {@code notify.send}: ask for a notification to a user. The owner validates the names and answers
 * {@link NotifySendResult}. {@code type} is a {@link NotificationType} wire name; {@code channels} and
 * {@code priority} (wire names) override the type's defaults when not null; {@code dedupeKey} (e.g.
 * {@code connection_id:type:state}) merges an identical request made within the cooldown; {@code data}
 * fills the template's placeholders; {@code userName}/{@code userEmail} come from the caller's JWT claims
 * and are used when the stored preferences have none.
 */
public record NotifySend(String userId, String type, String connectionId, String dedupeKey, JsonObject data,
    List<String> channels, String priority, String userName, String userEmail) implements BusMessage {

  /** The common case: a type, a connection, a dedupe key and the placeholder values. */
  public static NotifySend of(String userId, NotificationType type, String connectionId, String dedupeKey,
      JsonObject data) {
    return new NotifySend(userId, type.wire(), connectionId, dedupeKey, data, null, null, null, null);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("type", type).put("connection_id", connectionId)
        .put("dedupe_key", dedupeKey).put("data", data)
        .put("channels", channels == null ? null : new JsonArray(List.copyOf(channels)))
        .put("priority", priority).put("user_name", userName).put("user_email", userEmail);
  }

  public static NotifySend fromJson(JsonObject json) {
    return new NotifySend(json.getString("user_id"), json.getString("type"), json.getString("connection_id"),
        json.getString("dedupe_key"), json.getJsonObject("data"), Wire.strings(json.getJsonArray("channels")),
        json.getString("priority"), json.getString("user_name"), json.getString("user_email"));
  }
}
