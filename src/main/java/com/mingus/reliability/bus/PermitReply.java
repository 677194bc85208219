package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * Answer to {@code ratelimit.acquire}: either granted (the call may go now, and has been counted), or not,
 * with {@code notBefore} the earliest epoch millisecond at which asking again can succeed and
 * {@code blockedBy} naming what binds ({@code client_minute}, {@code client_hour}, {@code item_minute},
 * {@code client_cooldown}, {@code item_cooldown}, {@code queue}, {@code queue_full}, {@code stopping}). {@code waitedMs} is how long the
 * limiter held the request.
 */
public record PermitReply(boolean granted, long notBefore, String blockedBy, long waitedMs) implements BusMessage {

  public static PermitReply grant(long waitedMs) {
    return new PermitReply(true, 0, null, waitedMs);
  }

  public static PermitReply deny(long notBefore, String blockedBy, long waitedMs) {
    return new PermitReply(false, notBefore, blockedBy, waitedMs);
  }

  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("granted", granted).put("waited_ms", waitedMs);
    if (!granted) {
      json.put("not_before", notBefore).put("blocked_by", blockedBy);
    }
    return json;
  }

  public static PermitReply fromJson(JsonObject json) {
    return new PermitReply(json.getBoolean("granted", false), json.getLong("not_before", 0L),
        json.getString("blocked_by"), json.getLong("waited_ms", 0L));
  }
}
