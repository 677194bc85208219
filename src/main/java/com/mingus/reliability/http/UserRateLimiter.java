package com.mingus.reliability.http;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Our own API's limit per user: a token bucket per user id ({@code per_second} refill, {@code burst}
 * capacity). One bucket map per HTTP verticle instance, touched only on its event loop; with N instances a
 * user's effective ceiling is at most N times the configured rate, which bounds abuse without a shared
 * store on the hot path.
 */
final class UserRateLimiter {
  private static final class Bucket {
    double tokens;
    long lastNanos;
  }

  private final double perSecond;
  private final double burst;
  private final Map<String, Bucket> buckets = new HashMap<>();

  UserRateLimiter(double perSecond, double burst) {
    this.perSecond = perSecond;
    this.burst = burst;
  }

  /** 0 when the request may go ahead, else the whole seconds to wait (for Retry-After). */
  long acquire(String userId, long nowNanos) {
    Bucket bucket = buckets.computeIfAbsent(userId, id -> {
      Bucket fresh = new Bucket();
      fresh.tokens = burst;
      fresh.lastNanos = nowNanos;
      return fresh;
    });
    bucket.tokens = Math.min(burst, bucket.tokens + (nowNanos - bucket.lastNanos) / 1e9 * perSecond);
    bucket.lastNanos = nowNanos;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, (long) Math.ceil((1 - bucket.tokens) / perSecond));
  }

  /** Drops buckets that have refilled completely: they hold nothing a fresh bucket would not. */
  void prune(long nowNanos) {
    for (Iterator<Bucket> it = buckets.values().iterator(); it.hasNext(); ) {
      Bucket bucket = it.next();
      if (bucket.tokens + (nowNanos - bucket.lastNanos) / 1e9 * perSecond >= burst) {
        it.remove();
      }
    }
  }
}
