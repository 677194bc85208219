package com.mingus.reliability.sandbox;

import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Plaid's per-client and per-Item request limits, counted per window (a minute unless configured
 * otherwise, so tests can use a two-second "minute"). Plaid does not say what kind of window it uses:
 * {@code fixed} windows (aligned to multiples of the window length) are the default; {@code sliding}
 * (no more than the limit in any window-long interval) is the stricter reading, for proving that a
 * client complies whichever Plaid uses. A rejected request does not use up budget.
 */
final class RateLimits {
  /** A limit pair; null means no such limit. */
  record Limit(Integer perMinute, Integer perItemPerMinute) {
    JsonObject toJson() {
      return new JsonObject().put("per_minute", perMinute).put("per_item_per_minute", perItemPerMinute);
    }
  }

  /** Plaid's error codes on a 429: {per Item, per client}. */
  private static final Map<String, String[]> CODES = Map.of(
      "/accounts/balance/get", new String[] {"BALANCE_LIMIT", "ACCOUNTS_BALANCE_GET_LIMIT"},
      "/accounts/get", new String[] {"ACCOUNTS_LIMIT", "ACCOUNTS_LIMIT"},
      "/item/get", new String[] {"ITEM_GET_LIMIT", "ITEM_GET_LIMIT"},
      "/institutions/get_by_id", new String[] {"INSTITUTIONS_GET_BY_ID_LIMIT", "INSTITUTIONS_GET_BY_ID_LIMIT"},
      "/transactions/get", new String[] {"TRANSACTIONS_LIMIT", "TRANSACTIONS_LIMIT"},
      "/transactions/sync", new String[] {"TRANSACTIONS_SYNC_LIMIT", "TRANSACTIONS_SYNC_LIMIT"},
      "/transactions/refresh", new String[] {"TRANSACTIONS_REFRESH_LIMIT", "TRANSACTIONS_REFRESH_LIMIT"});

  /** Plaid's sandbox defaults (PLAID-FACTS.md), used for endpoints the configuration does not name. */
  static final Map<String, Limit> SANDBOX_DEFAULTS = Map.of(
      "/accounts/balance/get", new Limit(100, 25),
      "/accounts/get", new Limit(5_000, 100),
      "/item/get", new Limit(5_000, 40),
      "/item/remove", new Limit(500, 100),
      "/institutions/get_by_id", new Limit(400, null),
      "/transactions/get", new Limit(1_000, 80),
      "/transactions/sync", new Limit(1_000, 50),
      "/transactions/refresh", new Limit(100, 2));

  private final Map<String, Limit> limits = new LinkedHashMap<>();
  private final Map<String, long[]> windows = new HashMap<>();
  private final Map<String, ArrayDeque<Long>> slides = new HashMap<>();
  private long windowMs;
  private boolean sliding;

  RateLimits(JsonObject configured, long windowMs) {
    reset(configured, windowMs);
  }

  void reset(JsonObject configured, long windowMs) {
    limits.clear();
    limits.putAll(SANDBOX_DEFAULTS);
    windows.clear();
    slides.clear();
    this.windowMs = windowMs;
    this.sliding = false;
    update(configured);
  }

  /** Merges {"<endpoint>": {"per_minute", "per_item_per_minute"}}; an explicit null removes that limit. */
  void update(JsonObject changes) {
    for (String endpoint : changes.fieldNames()) {
      if (!endpoint.startsWith("/")) {
        continue;
      }
      JsonObject change = changes.getJsonObject(endpoint);
      Limit before = limits.getOrDefault(endpoint, new Limit(null, null));
      limits.put(endpoint, new Limit(
          change.containsKey("per_minute") ? change.getInteger("per_minute") : before.perMinute(),
          change.containsKey("per_item_per_minute") ? change.getInteger("per_item_per_minute") : before.perItemPerMinute()));
    }
  }

  void windowMs(long windowMs) {
    this.windowMs = windowMs;
    windows.clear();
    slides.clear();
  }

  void sliding(boolean sliding) {
    this.sliding = sliding;
    windows.clear();
    slides.clear();
  }

  /** Counts the request when both budgets allow it; otherwise returns the 429 Plaid would send. */
  PlaidFailure acquire(String endpoint, String itemId, long nowMs) {
    Limit limit = limits.get(endpoint);
    if (limit == null) {
      return null;
    }
    String[] codes = CODES.getOrDefault(endpoint, new String[] {"RATE_LIMIT", "RATE_LIMIT"});
    String itemKey = itemId != null && limit.perItemPerMinute() != null ? endpoint + " " + itemId : null;
    String clientKey = limit.perMinute() != null ? endpoint : null;
    if (itemKey != null && used(itemKey, nowMs) >= limit.perItemPerMinute()) {
      return PlaidFailure.rateLimited(codes[0], endpoint + " on this Item");
    }
    if (clientKey != null && used(clientKey, nowMs) >= limit.perMinute()) {
      return PlaidFailure.rateLimited(codes[1], endpoint + " for this client");
    }
    if (itemKey != null) {
      take(itemKey, nowMs);
    }
    if (clientKey != null) {
      take(clientKey, nowMs);
    }
    return null;
  }

  /** Requests already accepted in the window that ends now (the current fixed window, or the last window-long interval). */
  private long used(String key, long nowMs) {
    ArrayDeque<Long> times = slides.computeIfAbsent(key, k -> new ArrayDeque<>());
    if (sliding) {
      while (!times.isEmpty() && times.peekFirst() <= nowMs - windowMs) {
        times.pollFirst();
      }
      return times.size();
    }
    long window = nowMs / windowMs;
    long[] counter = windows.computeIfAbsent(key, k -> new long[] {window});
    if (counter[0] != window) {
      counter[0] = window;
      times.clear();
    }
    return times.size();
  }

  private void take(String key, long nowMs) {
    slides.get(key).addLast(nowMs);
  }

  /**
   * Why a request was refused, for the sandbox's log: the scope, its limit, and when the requests it
   * counted arrived, in ms from the start of the window (fixed) or before now (sliding).
   */
  String explain(String endpoint, String itemId, long nowMs) {
    Limit limit = limits.get(endpoint);
    String itemKey = itemId == null ? null : endpoint + " " + itemId;
    boolean item = itemKey != null && limit != null && limit.perItemPerMinute() != null
        && slides.containsKey(itemKey) && slides.get(itemKey).size() >= limit.perItemPerMinute();
    String key = item ? itemKey : endpoint;
    ArrayDeque<Long> times = slides.getOrDefault(key, new ArrayDeque<>());
    long origin = sliding ? nowMs : nowMs / windowMs * windowMs;
    StringBuilder out = new StringBuilder(item ? "Item " + itemId : "client").append(" limit ")
        .append(item ? limit.perItemPerMinute() : limit == null ? null : limit.perMinute()).append(" per ")
        .append(windowMs).append(" ms ").append(sliding ? "sliding" : "fixed").append(" window reached at +")
        .append(nowMs - origin).append(" ms; ").append(times.size()).append(" accepted, the last at (ms):");
    int skip = Math.max(0, times.size() - 60);
    for (long at : times) {
      if (skip-- <= 0) {
        out.append(' ').append(at - origin);
      }
    }
    return out.toString();
  }

  JsonObject toJson() {
    JsonObject out = new JsonObject().put("window_ms", windowMs).put("window_kind", sliding ? "sliding" : "fixed");
    limits.forEach((endpoint, limit) -> out.put(endpoint, limit.toJson()));
    return out;
  }
}
