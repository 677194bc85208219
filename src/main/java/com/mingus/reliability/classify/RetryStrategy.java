package com.mingus.reliability.classify;

import com.mingus.reliability.config.ConfigException;
import io.vertx.core.json.JsonObject;
import java.util.random.RandomGenerator;

/**
 * One category's retry strategy: capped exponential backoff, optionally with full jitter, and where to go
 * once the fast retries are used up. The seed's keys, in seconds: {@code max_retries}, {@code base_delay_s},
 * {@code max_delay_s}, {@code backoff_multiplier}, {@code jitter}; ours: {@code fallback_interval_s}.
 */
record RetryStrategy(int maxRetries, double baseDelayS, double maxDelayS, double multiplier, boolean jitter,
    long fallbackIntervalS) {

  /** Reads a strategy; a missing key takes its value from {@code defaults}, a wrong one stops start-up. */
  static RetryStrategy fromJson(JsonObject json, RetryStrategy defaults, String path) {
    if (json == null) {
      return defaults;
    }
    Object jitter = json.getValue("jitter");
    if (jitter != null && !(jitter instanceof Boolean)) {
      throw new ConfigException(path + ".jitter", "must be true or false, got '" + jitter + "'");
    }
    double max = number(json, "max_retries", defaults.maxRetries, 0, 1_000, path);
    if (max != Math.floor(max)) {
      throw new ConfigException(path + ".max_retries", "must be a whole number, got " + max);
    }
    RetryStrategy strategy = new RetryStrategy(
        (int) max,
        number(json, "base_delay_s", defaults.baseDelayS, 0, 86_400, path),
        number(json, "max_delay_s", defaults.maxDelayS, 0, 7 * 86_400, path),
        number(json, "backoff_multiplier", defaults.multiplier, 1, 100, path),
        jitter == null ? defaults.jitter : (Boolean) jitter,
        (long) number(json, "fallback_interval_s", defaults.fallbackIntervalS, 1, 7 * 86_400, path));
    if (strategy.maxDelayS < strategy.baseDelayS) {
      throw new ConfigException(path + ".max_delay_s", "must not be below base_delay_s");
    }
    return strategy;
  }

  JsonObject toJson() {
    return new JsonObject().put("max_retries", maxRetries).put("base_delay_s", baseDelayS)
        .put("max_delay_s", maxDelayS).put("backoff_multiplier", multiplier).put("jitter", jitter)
        .put("fallback_interval_s", fallbackIntervalS);
  }

  /**
   * The wait before retry number {@code retry} (1 = the first retry): {@code min(max, base * multiplier^(retry-1))},
   * and with jitter a uniformly random share of it ("full jitter", so a crowd of failed callers spreads out
   * instead of returning together).
   */
  long delayMs(int retry, RandomGenerator random) {
    double exponential = baseDelayS * Math.pow(multiplier, Math.max(0, retry - 1));
    double cappedMs = Math.min(maxDelayS, exponential) * 1_000.0;
    if (!(cappedMs > 0)) {
      return 0;
    }
    return jitter ? (long) (random.nextDouble() * cappedMs) : (long) cappedMs;
  }

  private static double number(JsonObject json, String key, double fallback, double min, double max, String path) {
    Object value = json.getValue(key);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Number n) || Double.isNaN(n.doubleValue()) || n.doubleValue() < min || n.doubleValue() > max) {
      throw new ConfigException(path + "." + key, "must be a number from " + min + " to " + max + ", got '" + value + "'");
    }
    return n.doubleValue();
  }
}
