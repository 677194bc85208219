package com.mingus.reliability.sync;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Sync's figures in /metrics (docs/sync.md, "Metrics"): how long syncs take (a histogram per trigger and outcome),
 * how late they start after they were due (the schedule lag), how many are due and waiting (the claim queue),
 * how many run, every outcome per bank, and each reconciliation's figures. A null registry counts nothing.
 * Each node counts its own syncs; the queue is the database's, so every node reports the same.
 */
final class SyncMetrics {
  private final MeterRegistry registry;
  private final AtomicLong due = new AtomicLong();
  private final Map<String, Timer> durations = new ConcurrentHashMap<>();
  private final Map<String, Timer> lags = new ConcurrentHashMap<>();
  private final Map<String, Counter> outcomes = new ConcurrentHashMap<>();
  private final List<Meter> gauges = new ArrayList<>();

  SyncMetrics(MeterRegistry registry, IntSupplier running) {
    this.registry = registry;
    if (registry != null) {
      gauges.add(Gauge.builder("mingus.sync.queue.due", due, AtomicLong::get)
          .description("connections due to sync and not claimed (every node's claim loop serves them)")
          .register(registry));
      gauges.add(Gauge.builder("mingus.sync.running", running::getAsInt)
          .description("syncs this node runs now").register(registry));
    }
  }

  /** A claim taken: how long after it was due. */
  void claimed(Claim claim) {
    if (registry == null || claim.dueAt() == null) {
      return;
    }
    long lateMs = Math.max(0, Duration.between(claim.dueAt(), OffsetDateTime.now(ZoneOffset.UTC)).toMillis());
    lags.computeIfAbsent(tag(claim.trigger()), trigger -> Timer.builder("mingus.sync.schedule.lag")
            .description("from a sync's due time to its claim").tag("trigger", trigger)
            .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofMinutes(10)).register(registry))
        .record(lateMs, TimeUnit.MILLISECONDS);
  }

  /** A sync written with its outcome (success, partial, failed, rate_limited, ...). */
  void finished(Claim claim, String status, long durationMs) {
    if (registry == null) {
      return;
    }
    String trigger = tag(claim.trigger());
    String outcome = tag(status);
    durations.computeIfAbsent(trigger + "|" + outcome, key -> Timer.builder("mingus.sync.duration")
            .description("one sync, from its claim to its commit").tag("trigger", trigger).tag("status", outcome)
            .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(5))
            .maximumExpectedValue(Duration.ofMinutes(5)).register(registry))
        .record(durationMs, TimeUnit.MILLISECONDS);
    String institution = tag(claim.institutionId());
    outcomes.computeIfAbsent(institution + "|" + outcome, key -> Counter.builder("mingus.sync.outcomes")
            .description("syncs per bank and outcome").tag("institution", institution).tag("status", outcome)
            .register(registry))
        .increment();
  }

  /** A committed reconciliation's figures. */
  void reconciled(Reconciler.Run run) {
    if (run == null || registry == null) {
      return;
    }
    registry.counter("mingus.reconcile.runs", "status", run.status()).increment();
    registry.counter("mingus.reconcile.plaid.calls").increment(run.plaidCalls());
    registry.counter("mingus.reconcile.drift", "kind", "missing").increment(run.missing());
    registry.counter("mingus.reconcile.drift", "kind", "extra").increment(run.extra());
    registry.counter("mingus.reconcile.drift", "kind", "changed").increment(run.changed());
    registry.counter("mingus.reconcile.drift", "kind", "balance").increment(run.balancesChanged());
  }

  void queue(long dueNow) {
    due.set(dueNow);
  }

  void close() {
    if (registry != null) {
      gauges.forEach(registry::remove);
    }
  }

  private static String tag(String value) {
    return value == null ? "none" : value;
  }
}
