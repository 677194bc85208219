package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * Answer to {@code ratelimit.status}: {@code {"at": epoch ms, "endpoints": {"/transactions/sync": {
 * "windows": [{"scope": "client", "window": "minute", "window_ms", "configured", "effective", "used",
 * "remaining", "next_free_at"}], "cooling_until", "waiting", "granted", "denied", "rate_limited",
 * "items": {"tracked", "cooling"}, "item": {...the asked Item's scope...}}}}}. Kept as JSON because it
 * is read by the HTTP verticle and the dashboard as it is.
 */
public record RateLimitStatus(JsonObject body) implements BusMessage {

  @Override
  public JsonObject toJson() {
    return body.copy();
  }

  public static RateLimitStatus fromJson(JsonObject json) {
    return new RateLimitStatus(json);
  }
}
