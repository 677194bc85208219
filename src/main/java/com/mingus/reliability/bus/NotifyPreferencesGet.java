package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/** {@code notify.preferences.get}: a user's preferences (defaults when none are stored); answers {@link NotifyPreferences}. */
public record NotifyPreferencesGet(String userId) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("user_id", userId);
  }

  public static NotifyPreferencesGet fromJson(JsonObject json) {
    return new NotifyPreferencesGet(json.getString("user_id"));
  }
}
