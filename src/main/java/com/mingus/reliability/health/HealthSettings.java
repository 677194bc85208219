package com.mingus.reliability.health;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/** The {@code health} config section, every key with a default (conf/config.json repeats them). */
record HealthSettings(
    long coalesceMs,
    long institutionCoalesceMs,
    long pollIntervalMs,
    int pollBatch,
    long circuitWindowMs,
    int circuitMinConnections,
    double circuitFailureRatio,
    long circuitOpenMs,
    long circuitMaxOpenMs,
    long probeTimeoutMs,
    long pauseTtlMs,
    Map<String, Long> rateWindowsMs,
    long reconcileRetryMs,
    long metricsIntervalMs,
    long busTimeoutMs,
    long noticeRedriveAfterMs,
    long noticeRedriveEveryMs,
    long eventMemoryMs,
    boolean predictMaintenance,
    long forecastIntervalMs,
    long forecastToleranceMs,
    long syncAheadMs,
    int applyShards,
    int applyMaxBatch,
    long applyLingerMs,
    long readCacheMs,
    int readCacheEntries) {

  static HealthSettings from(JsonObject config) {
    JsonObject circuit = config.getJsonObject("circuit", new JsonObject());
    JsonObject maintenance = config.getJsonObject("maintenance", new JsonObject());
    JsonObject apply = config.getJsonObject("apply", new JsonObject());
    JsonObject windows = config.getJsonObject("rate_windows_ms",
        new JsonObject().put("5m", 300_000L).put("1h", 3_600_000L).put("24h", 86_400_000L));
    Map<String, Long> rateWindows = new LinkedHashMap<>();
    for (String name : windows.fieldNames()) {
      rateWindows.put(name, positive(windows.getLong(name), "rate_windows_ms." + name));
    }
    double ratio = circuit.getDouble("failure_ratio", 0.5);
    if (!(ratio > 0 && ratio <= 1)) {
      throw new IllegalArgumentException("health.circuit.failure_ratio must be in (0, 1]");
    }
    return new HealthSettings(
        nonNegative(config.getLong("coalesce_ms", 1_000L), "coalesce_ms"),
        nonNegative(config.getLong("institution_coalesce_ms", 1_000L), "institution_coalesce_ms"),
        positive(config.getLong("poll_interval_ms", 300_000L), "poll_interval_ms"),
        (int) positive(config.getLong("poll_batch", 20L), "poll_batch"),
        positive(circuit.getLong("window_ms", 120_000L), "circuit.window_ms"),
        (int) positive(circuit.getLong("min_connections", 3L), "circuit.min_connections"),
        ratio,
        positive(circuit.getLong("open_ms", 60_000L), "circuit.open_ms"),
        positive(circuit.getLong("max_open_ms", 900_000L), "circuit.max_open_ms"),
        positive(circuit.getLong("probe_timeout_ms", 60_000L), "circuit.probe_timeout_ms"),
        positive(circuit.getLong("pause_ttl_ms", 3_600_000L), "circuit.pause_ttl_ms"),
        java.util.Collections.unmodifiableMap(rateWindows),
        positive(config.getLong("reconcile_retry_ms", 5_000L), "reconcile_retry_ms"),
        positive(config.getLong("metrics_interval_ms", 5_000L), "metrics_interval_ms"),
        positive(config.getLong("bus_timeout_ms", 5_000L), "bus_timeout_ms"),
        positive(config.getLong("notice_redrive_after_ms", 15_000L), "notice_redrive_after_ms"),
        positive(config.getLong("notice_redrive_every_ms", 5_000L), "notice_redrive_every_ms"),
        positive(config.getLong("event_memory_ms", 86_400_000L), "event_memory_ms"),
        maintenance.getBoolean("predict", true),
        positive(maintenance.getLong("forecast_interval_ms", 300_000L), "maintenance.forecast_interval_ms"),
        positive(maintenance.getLong("tolerance_ms", 1_800_000L), "maintenance.tolerance_ms"),
        nonNegative(maintenance.getLong("sync_ahead_ms", 600_000L), "maintenance.sync_ahead_ms"),
        (int) positive(apply.getLong("shards", 4L), "apply.shards"),
        (int) positive(apply.getLong("max_batch", 500L), "apply.max_batch"),
        nonNegative(apply.getLong("linger_ms", 2L), "apply.linger_ms"),
        nonNegative(config.getLong("read_cache_ms", 1_000L), "read_cache_ms"),
        (int) nonNegative(config.getLong("read_cache_entries", 50_000L), "read_cache_entries"));
  }

  private static long positive(Long value, String key) {
    if (value == null || value <= 0) {
      throw new IllegalArgumentException("health." + key + " must be a positive number");
    }
    return value;
  }

  private static long nonNegative(Long value, String key) {
    if (value == null || value < 0) {
      throw new IllegalArgumentException("health." + key + " must not be negative");
    }
    return value;
  }
}
