package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * Body of {@code ratelimit.status}: every endpoint when {@code endpoint} is null, else that one; with an
 * {@code itemId}, that Item's own scope is included as well.
 */
public record RateLimitStatusRequest(String endpoint, String itemId) implements BusMessage {

  public static RateLimitStatusRequest all() {
    return new RateLimitStatusRequest(null, null);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("endpoint", endpoint).put("item_id", itemId);
  }

  public static RateLimitStatusRequest fromJson(JsonObject json) {
    return new RateLimitStatusRequest(json.getString("endpoint"), json.getString("item_id"));
  }
}
