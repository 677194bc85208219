package com.mingus.reliability.classify;

import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.config.ConfigException;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The classifier's configuration ({@code classify} in conf/config.json), every key with a default here.
 * The retry strategies default to the seed's three plus ours for the other categories.
 */
record ClassifySettings(
    Map<ErrorCategory, RetryStrategy> strategies,
    Long seed,
    int maxBodyChars,
    int maxPaginationRestarts,
    long paginationBackoffS,
    BudgetSettings budget) {

  /** The retry budget: retries may be at most {@code ratio} of recent requests, but always {@code min_retries}. */
  record BudgetSettings(boolean enabled, double ratio, int minRetries, long windowS, int buckets, int maxInstitutions) {
    JsonObject toJson() {
      return new JsonObject().put("enabled", enabled).put("ratio", ratio).put("min_retries", minRetries)
          .put("window_s", windowS).put("buckets", buckets).put("max_institutions", maxInstitutions);
    }
  }

  /** The defaults in code, the same as in conf/config.json. */
  static final Map<ErrorCategory, RetryStrategy> DEFAULT_STRATEGIES;

  static {
    Map<ErrorCategory, RetryStrategy> map = new EnumMap<>(ErrorCategory.class);
    // the seed's three
    map.put(ErrorCategory.CONNECTION_FAILURE, new RetryStrategy(5, 1, 60, 2.0, true, 900));
    map.put(ErrorCategory.RATE_LIMIT_EXCEEDED, new RetryStrategy(3, 60, 300, 1.5, false, 900));
    map.put(ErrorCategory.BANK_MAINTENANCE, new RetryStrategy(10, 300, 3600, 2.0, true, 3600));
    // ours: a bank that does not answer recovers in hours, Plaid's own 500s in seconds
    map.put(ErrorCategory.INSTITUTION_ERROR, new RetryStrategy(6, 60, 1800, 2.0, true, 3600));
    map.put(ErrorCategory.INTERNAL_ERROR, new RetryStrategy(4, 2, 120, 2.0, true, 900));
    // unknown: a few slow tries, so a new Plaid code neither storms nor is dropped
    map.put(ErrorCategory.UNKNOWN_ERROR, new RetryStrategy(2, 30, 300, 2.0, true, 3600));
    // PRODUCT_NOT_READY waits for its webhook; these are the safety polls in case the webhook is lost
    map.put(ErrorCategory.PRODUCT_NOT_AVAILABLE, new RetryStrategy(5, 300, 3600, 2.0, true, 21600));
    // the user or our code must act first: never retried; the fallback only matters if a rule ever retries them
    map.put(ErrorCategory.AUTHENTICATION_ERROR, new RetryStrategy(0, 0, 0, 1.0, false, 86400));
    map.put(ErrorCategory.ITEM_ERROR, new RetryStrategy(0, 0, 0, 1.0, false, 86400));
    map.put(ErrorCategory.INVALID_REQUEST, new RetryStrategy(0, 0, 0, 1.0, false, 86400));
    DEFAULT_STRATEGIES = Collections.unmodifiableMap(map);
  }

  static final BudgetSettings DEFAULT_BUDGET = new BudgetSettings(true, 0.2, 10, 60, 6, 10_000);

  static ClassifySettings from(JsonObject config) {
    JsonObject section = config == null ? new JsonObject() : config;
    JsonObject strategiesJson = object(section, "retry_strategies", "classify.retry_strategies");
    Map<ErrorCategory, RetryStrategy> strategies = new EnumMap<>(ErrorCategory.class);
    for (ErrorCategory category : ErrorCategory.values()) {
      String path = "classify.retry_strategies." + category.wire();
      strategies.put(category, RetryStrategy.fromJson(object(strategiesJson, category.wire(), path),
          DEFAULT_STRATEGIES.get(category), path));
    }
    for (String key : strategiesJson.fieldNames()) {
      if (ErrorCategory.fromWire(key) == ErrorCategory.UNKNOWN_ERROR && !key.equals("unknown_error")) {
        throw new ConfigException("classify.retry_strategies." + key, "is not a category (use e.g. connection_failure)");
      }
    }
    Object seedValue = section.getValue("seed");
    if (seedValue != null && !(seedValue instanceof Number)) {
      throw new ConfigException("classify.seed", "must be a number or null, got '" + seedValue + "'");
    }
    JsonObject budget = object(section, "retry_budget", "classify.retry_budget");
    Object enabled = budget.getValue("enabled", DEFAULT_BUDGET.enabled());
    if (!(enabled instanceof Boolean)) {
      throw new ConfigException("classify.retry_budget.enabled", "must be true or false");
    }
    BudgetSettings budgetSettings = new BudgetSettings(
        (Boolean) enabled,
        number(budget, "ratio", DEFAULT_BUDGET.ratio(), 0, 10, "classify.retry_budget.ratio"),
        (int) whole(budget, "min_retries", DEFAULT_BUDGET.minRetries(), 0, 1_000_000, "classify.retry_budget.min_retries"),
        whole(budget, "window_s", DEFAULT_BUDGET.windowS(), 1, 86_400, "classify.retry_budget.window_s"),
        (int) whole(budget, "buckets", DEFAULT_BUDGET.buckets(), 1, 600, "classify.retry_budget.buckets"),
        (int) whole(budget, "max_institutions", DEFAULT_BUDGET.maxInstitutions(), 1, 10_000_000,
            "classify.retry_budget.max_institutions"));
    return new ClassifySettings(
        Collections.unmodifiableMap(strategies),
        seedValue == null ? null : ((Number) seedValue).longValue(),
        (int) whole(section, "max_body_chars", 65_536, 256, 16 * 1024 * 1024, "classify.max_body_chars"),
        (int) whole(section, "max_pagination_restarts", 3, 0, 1_000, "classify.max_pagination_restarts"),
        whole(section, "pagination_backoff_s", 60, 0, 86_400, "classify.pagination_backoff_s"),
        budgetSettings);
  }

  RetryStrategy strategy(ErrorCategory category) {
    return strategies.get(category);
  }

  private static JsonObject object(JsonObject parent, String key, String path) {
    Object value = parent.getValue(key);
    if (value == null) {
      return new JsonObject();
    }
    if (!(value instanceof JsonObject object)) {
      throw new ConfigException(path, "must be a JSON object");
    }
    return object;
  }

  private static double number(JsonObject json, String key, double fallback, double min, double max, String path) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Number n) || Double.isNaN(n.doubleValue()) || n.doubleValue() < min || n.doubleValue() > max) {
      throw new ConfigException(path, "must be a number from " + min + " to " + max + ", got '" + value + "'");
    }
    return n.doubleValue();
  }

  private static long whole(JsonObject json, String key, long fallback, long min, long max, String path) {
    double n = number(json, key, fallback, min, max, path);
    if (n != Math.floor(n)) {
      throw new ConfigException(path, "must be a whole number, got " + n);
    }
    return (long) n;
  }
}
