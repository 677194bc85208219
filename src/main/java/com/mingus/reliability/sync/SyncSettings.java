package com.mingus.reliability.sync;

import io.vertx.core.json.JsonObject;

/** The {@code sync} section of conf/config.json, every key with its default. */
record SyncSettings(
    long pollMs,
    long leaseMs,
    long heartbeatMs,
    int claimBatch,
    int maxConcurrent,
    int pageCount,
    int maxPaginationRestarts,
    long permitWaitMs,
    long periodicIntervalMs,
    double periodicJitter,
    long stalenessMs,
    long balanceIntervalMs,
    long webhookCoalesceMs,
    long resumeSpreadMs,
    long requestTimeoutMs,
    String clientName,
    long registryPermitWaitMs,
    long redriveAfterMs,
    long redriveEveryMs,
    long reconcileIntervalMs,
    int reconcileHistoryDays,
    long metricsIntervalMs) {

  static SyncSettings from(JsonObject config) {
    return new SyncSettings(
        config.getLong("poll_interval_ms", 500L),
        config.getLong("lease_ms", 10_000L),
        config.getLong("heartbeat_ms", 3_000L),
        config.getInteger("claim_batch", 16),
        config.getInteger("max_concurrent", 32),
        Math.max(1, Math.min(500, config.getInteger("page_count", 500))),
        config.getInteger("max_pagination_restarts", 3),
        config.getLong("permit_wait_ms", 5_000L),
        config.getLong("periodic_interval_s", 21_600L) * 1000,
        config.getDouble("periodic_jitter", 0.1),
        config.getLong("staleness_hours", 24L) * 3_600_000,
        config.getLong("balance_interval_s", 3_600L) * 1000,
        config.getLong("webhook_coalesce_ms", 250L),
        config.getLong("resume_spread_ms", 30_000L),
        config.getLong("bus_timeout_ms", 5_000L),
        config.getString("link_client_name", "MINGUS"),
        config.getLong("registry_permit_wait_ms", 30_000L),
        config.getLong("outbox_redrive_after_ms", 15_000L),
        config.getLong("outbox_redrive_every_ms", 2_000L),
        config.getLong("reconcile_interval_s", 86_400L) * 1000,
        Math.max(1, Math.min(730, config.getInteger("reconcile_history_days", 730))),
        Math.max(100, config.getLong("metrics_interval_ms", 5_000L)));
  }
}
