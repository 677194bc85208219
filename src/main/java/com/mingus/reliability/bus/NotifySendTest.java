package com.mingus.reliability.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * {@code notify.send_test}: the seed's send-test. Sends a sample of {@code type} to the user on exactly the
 * named channels (preferences and quiet hours aside, contact points still needed), waits a bounded time for
 * each first attempt and answers {@link NotifyTestResult}.
 */
public record NotifySendTest(String userId, String type, List<String> channels, String userName,
    String userEmail, JsonObject data) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId).put("type", type)
        .put("channels", channels == null ? null : new JsonArray(List.copyOf(channels)))
        .put("user_name", userName).put("user_email", userEmail).put("data", data);
  }

  public static NotifySendTest fromJson(JsonObject json) {
    return new NotifySendTest(json.getString("user_id"), json.getString("type"),
        Wire.strings(json.getJsonArray("channels")), json.getString("user_name"), json.getString("user_email"),
        json.getJsonObject("data"));
  }
}
