package com.mingus.reliability.ratelimit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The limiter's settings: its own {@code ratelimit} section (every key with a default here and in
 * conf/config.json) and the budgets of {@code plaid.rate_limits}. {@code window_scale} shrinks every
 * window, margin and cool-down together, so a test can run a "minute" in a few seconds.
 */
record RateLimitConfig(
    long minuteMs,
    long hourMs,
    long marginMs,
    long cooldownMs,
    long maxWaitMs,
    int maxWaiters,
    double budgetShare,
    SlidingWindow.Learning learning,
    long forwardTimeoutMs,
    Set<String> clientCodes,
    Set<String> itemCodes,
    Set<String> ignoredCodes,
    Map<String, Budget> budgets) {

  /** One endpoint's configured budgets; 0 means Plaid sets no such limit. */
  record Budget(int perMinute, int perHour, int perItemPerMinute) {}

  static final long MINUTE_MS = 60_000;

  static RateLimitConfig from(JsonObject config) {
    double scale = positive(config.getValue("window_scale", 1.0), "window_scale");
    long minuteMs = Math.max(1, Math.round(MINUTE_MS * scale));
    JsonObject learning = config.getJsonObject("learning", new JsonObject());
    double share = positive(config.getValue("budget_share", 1.0), "budget_share");
    if (share > 1.0) {
      throw new IllegalArgumentException("ratelimit.budget_share must be at most 1");
    }
    JsonObject limits = config.getJsonObject("plaid", new JsonObject()).getJsonObject("rate_limits", new JsonObject());
    Map<String, Budget> budgets = new LinkedHashMap<>();
    for (String endpoint : limits.fieldNames()) {
      JsonObject limit = limits.getJsonObject(endpoint);
      budgets.put(endpoint.startsWith("/") ? endpoint : "/" + endpoint, new Budget(
          shared(limit.getInteger("per_minute", 0), share),
          shared(limit.getInteger("per_hour", 0), share),
          limit.getInteger("per_item_per_minute", 0)));
    }
    return new RateLimitConfig(
        minuteMs,
        minuteMs * 60,
        Math.round(config.getLong("margin_ms", 1_000L) * scale),
        Math.round(config.getLong("cooldown_ms", 5_000L) * scale),
        config.getLong("max_wait_ms", 30_000L),
        config.getInteger("max_waiters", 10_000),
        share,
        new SlidingWindow.Learning(
            fraction(learning.getValue("decrease_factor", 0.8), "learning.decrease_factor"),
            fraction(learning.getValue("min_fraction", 0.1), "learning.min_fraction"),
            learning.getInteger("quiet_windows", 10),
            fraction(learning.getValue("recovery_step_fraction", 0.05), "learning.recovery_step_fraction")),
        config.getLong("forward_timeout_ms", 2_000L),
        codes(config.getJsonArray("client_codes", new JsonArray().add("ACCOUNTS_BALANCE_GET_LIMIT")
            .add("INSTITUTIONS_GET_BY_ID_LIMIT").add("INSTITUTIONS_GET_LIMIT"))),
        codes(config.getJsonArray("item_codes", new JsonArray().add("BALANCE_LIMIT"))),
        codes(config.getJsonArray("ignored_codes", new JsonArray().add("CREDITS_EXHAUSTED")
            .add("INSTITUTION_RATE_LIMIT"))),
        budgets);
  }

  /** With several nodes each spending its own share until the budget is cluster-wide (docs/ratelimit.md). */
  private static int shared(int limit, double share) {
    return limit <= 0 ? 0 : Math.max(1, (int) Math.floor(limit * share));
  }

  private static Set<String> codes(JsonArray array) {
    Set<String> out = new TreeSet<>();
    array.forEach(code -> out.add(String.valueOf(code).toUpperCase(Locale.ROOT)));
    return Set.copyOf(out);
  }

  private static double positive(Object value, String key) {
    if (!(value instanceof Number number) || number.doubleValue() <= 0) {
      throw new IllegalArgumentException("ratelimit." + key + " must be a positive number");
    }
    return number.doubleValue();
  }

  private static double fraction(Object value, String key) {
    double number = positive(value, key);
    if (number > 1.0) {
      throw new IllegalArgumentException("ratelimit." + key + " must be between 0 and 1");
    }
    return number;
  }
}
