package com.mingus.reliability.health;

import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The clocks of each bank's next maintenance window, known (Plaid's SCHEDULED incident) or predicted
 * ({@link MaintenanceForecast} over the bank's recorded outages): a sync of its connections ahead of the
 * window, and the window's start, when health opens the bank's circuit instead of waiting for the first
 * failures (docs/health.md, "Predicted maintenance"). One plan per bank; planning the same window again changes
 * nothing, a different one replaces it. The health verticle owns the circuit; this class only keeps time.
 */
final class MaintenancePlanner {
  /** A window to act on: its start, its end (null when unknown) and the circuit's reason at its start. */
  record Plan(Instant from, Instant until, String reason) {}

  /** What happens when a plan's clocks ring, on the verticle's context. */
  interface Actions {
    /** Sync the bank's connections now, spread over {@code spreadMs}, so they are fresh when the window begins. */
    void syncAhead(String institutionId, Plan plan, long spreadMs);

    /** The window begins (or, planned late, has begun): pause the bank. */
    void windowStarts(String institutionId, Plan plan);
  }

  private record Planned(Plan plan, long aheadTimer, long startTimer) {}

  private final Vertx vertx;
  private final long aheadMs;
  private final Actions actions;
  private final Map<String, Planned> plans = new HashMap<>();

  MaintenancePlanner(Vertx vertx, long aheadMs, Actions actions) {
    this.vertx = vertx;
    this.aheadMs = aheadMs;
    this.actions = actions;
  }

  /** Plans the bank's next window (null: none), unless it is the one already planned. */
  void plan(String institutionId, Plan plan) {
    Planned current = plans.get(institutionId);
    if (current != null && current.plan().equals(plan)) {
      return;
    }
    cancel(institutionId);
    long now = System.currentTimeMillis();
    if (plan == null || (plan.until() != null && !plan.until().isAfter(Instant.ofEpochMilli(now)))) {
      return;
    }
    long toStart = plan.from().toEpochMilli() - now;
    long aheadTimer = -1;
    if (aheadMs > 0 && toStart > 0) {
      // planned with less lead time than wanted: sync now, over half the time left, so all finish before it
      long wait = Math.max(0, toStart - aheadMs);
      long spread = (toStart - wait) / 2;
      aheadTimer = vertx.setTimer(Math.max(1, wait), id -> actions.syncAhead(institutionId, plan, spread));
    }
    long startTimer = vertx.setTimer(Math.max(1, toStart), id -> actions.windowStarts(institutionId, plan));
    plans.put(institutionId, new Planned(plan, aheadTimer, startTimer));
  }

  /** The bank's planned window, or null. */
  Plan planned(String institutionId) {
    Planned current = plans.get(institutionId);
    return current == null ? null : current.plan();
  }

  void cancel(String institutionId) {
    Planned current = plans.remove(institutionId);
    if (current != null) {
      vertx.cancelTimer(current.aheadTimer());
      vertx.cancelTimer(current.startTimer());
    }
  }

  void stop() {
    plans.keySet().stream().toList().forEach(this::cancel);
  }
}
