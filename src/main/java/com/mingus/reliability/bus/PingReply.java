package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/** The answer to {@code <component>.ping}: who answered, whether it is healthy, and why not. */
public record PingReply(String component, boolean healthy, String detail) implements BusMessage {

  public static PingReply up(String component) {
    return new PingReply(component, true, "ok");
  }

  public static PingReply down(String component, String detail) {
    return new PingReply(component, false, detail);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("component", component).put("healthy", healthy).put("detail", detail);
  }

  public static PingReply fromJson(JsonObject json) {
    return new PingReply(json.getString("component"), json.getBoolean("healthy", false), json.getString("detail"));
  }
}
