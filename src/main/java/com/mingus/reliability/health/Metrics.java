package com.mingus.reliability.health;

import com.mingus.reliability.bus.ConnectionHealth;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

/**
 * The seed's reliability figures. health_rate = active / total × 100 (100 with no connections);
 * success_rate = successful / total syncs × 100 (100 with no syncs); reliability_score =
 * 0.5 × health_rate + 0.5 × success_rate, or health_rate alone before any sync. All rounded to 2 decimals.
 */
final class Metrics {
  private Metrics() {}

  static JsonObject overview(Row row) {
    long total = row.getLong("total");
    long active = row.getLong("active");
    long withErrors = row.getLong("error") + row.getLong("degraded") + row.getLong("rate_limited")
        + row.getLong("disconnected");
    long successes = row.getLong("successes");
    long failures = row.getLong("failures");
    return overview(total, active, withErrors, row.getLong("maintenance"), row.getLong("requires_reauth"),
        row.getLong("pending_expiration"), successes, failures);
  }

  static JsonObject overview(long total, long active, long withErrors, long maintenance, long reauth,
      long pendingExpiration, long successes, long failures) {
    double healthRate = total == 0 ? 100.0 : round(active * 100.0 / total);
    long syncs = successes + failures;
    double successRate = syncs == 0 ? 100.0 : round(successes * 100.0 / syncs);
    double score = syncs == 0 ? healthRate : round(0.5 * healthRate + 0.5 * successRate);
    return new JsonObject()
        .put("connections", new JsonObject()
            .put("total", total)
            .put("active", active)
            .put("with_errors", withErrors)
            .put("in_maintenance", maintenance)
            .put("require_reauth", reauth)
            .put("pending_expiration", pendingExpiration)
            .put("health_rate", healthRate))
        .put("sync", new JsonObject()
            .put("total_syncs", syncs)
            .put("successful_syncs", successes)
            .put("failed_syncs", failures)
            .put("success_rate", successRate))
        .put("reliability_score", score);
  }

  /** The seed's per-connection stats from health's own counters, when sync cannot answer. */
  static JsonObject ownStats(ConnectionHealth health, int days) {
    long total = health.syncSuccessCount() + health.syncFailureCount();
    return new JsonObject()
        .put("total_syncs", total)
        .put("successful_syncs", health.syncSuccessCount())
        .put("failed_syncs", health.syncFailureCount())
        .put("success_rate", total == 0 ? 0.0 : round(health.syncSuccessCount() * 100.0 / total))
        .put("period_days", days)
        .put("source", "health");
  }

  static JsonObject connection(ConnectionHealth health, JsonObject stats) {
    long total = health.syncSuccessCount() + health.syncFailureCount();
    return new JsonObject()
        .put("connection_id", health.connectionId())
        .put("institution_id", health.institutionId())
        .put("institution_name", health.institutionName())
        .put("status", health.status().wire())
        .put("reliability_stats", stats)
        .put("health", health.toJson())
        .put("lifetime", new JsonObject().put("total_syncs", total)
            .put("successful_syncs", health.syncSuccessCount()).put("failed_syncs", health.syncFailureCount())
            .put("consecutive_failures", health.consecutiveFailures()));
  }

  static double round(double value) {
    return Math.round(value * 100.0) / 100.0;
  }
}
