package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * Answer to {@code ratelimit.acquire}: either granted (the call may go now, and has been counted), or not,
 * with {@code notBefore} the earliest epoch millisecond at which asking again can succeed and
 * {@code blockedBy} naming what binds ({@code client_minute}, {@code client_hour}, {@code item_minute},
 * {@code client_cooldown}, {@code item_cooldown}, {@code queue}, {@code queue_full}, {@code stopping}). {@code waitedMs} is how long the
 * limiter held the request.
 *
 * <p>{@code validMs} (0: no limit) is how long after the grant the call may still start: the limiter
 * counts a grant when it gives it, and its window margin covers the time from grant to Plaid only up to a
 * point. A caller that could not put the call on the wire within that time (its event loop was busy, no
 * connection to Plaid was free) must not send it, and asks again ({@link #sendByNanos}).
 */
public record PermitReply(boolean granted, long notBefore, String blockedBy, long waitedMs, long validMs)
    implements BusMessage {

  public static PermitReply grant(long waitedMs) {
    return grant(waitedMs, 0);
  }

  public static PermitReply grant(long waitedMs, long validMs) {
    return new PermitReply(true, 0, null, waitedMs, validMs);
  }

  public static PermitReply deny(long notBefore, String blockedBy, long waitedMs) {
    return new PermitReply(false, notBefore, blockedBy, waitedMs, 0);
  }

  /**
   * The {@link System#nanoTime} by which a granted call must be on the wire, for a caller that asked at
   * {@code askedAtNanos}; 0 when the grant has no limit. Measured on the caller's clock only, and on the
   * safe side: the grant came at least {@code waitedMs} after the request was sent.
   */
  public long sendByNanos(long askedAtNanos) {
    return !granted || validMs <= 0 ? 0 : askedAtNanos + (waitedMs + validMs) * 1_000_000L;
  }

  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("granted", granted).put("waited_ms", waitedMs);
    if (!granted) {
      json.put("not_before", notBefore).put("blocked_by", blockedBy);
    } else if (validMs > 0) {
      json.put("valid_ms", validMs);
    }
    return json;
  }

  public static PermitReply fromJson(JsonObject json) {
    return new PermitReply(json.getBoolean("granted", false), json.getLong("not_before", 0L),
        json.getString("blocked_by"), json.getLong("waited_ms", 0L), json.getLong("valid_ms", 0L));
  }
}
