package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * A message body that crosses the event bus. Implementations are immutable records with a
 * {@code toJson()} and a static {@code fromJson(JsonObject)} listed in {@link MessageTypes}; locally they
 * travel as the same instance, between nodes as JSON.
 */
public interface BusMessage {
  JsonObject toJson();
}
