package com.mingus.reliability.classify;

import io.vertx.core.shareddata.Shareable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per institution, retries may be at most {@code ratio} of the requests of the last {@code window}
 * (but always {@code minRetries}), so an outage never multiplies the load on a bank or on Plaid. Counts
 * live in a ring of time buckets per institution. Requests are first attempts: failed ones counted when
 * classified, successful ones when reported. Thread-safe, so every classify instance of a node shares one
 * (through Vert.x local shared data); the least recently used institutions are forgotten past a bound.
 */
final class RetryBudget implements Shareable {
  private final double ratio;
  private final int minRetries;
  private final long bucketMs;
  private final int buckets;
  private final Map<String, Window> windows;

  RetryBudget(double ratio, int minRetries, long windowMs, int buckets, int maxInstitutions) {
    this.ratio = ratio;
    this.minRetries = minRetries;
    this.buckets = Math.max(1, buckets);
    this.bucketMs = Math.max(1, windowMs / this.buckets);
    this.windows = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Window> eldest) {
        return size() > maxInstitutions;
      }
    };
  }

  static RetryBudget of(ClassifySettings.BudgetSettings settings) {
    return new RetryBudget(settings.ratio(), settings.minRetries(), settings.windowS() * 1_000L, settings.buckets(),
        settings.maxInstitutions());
  }

  /** Counts one request (a first attempt) to the institution. */
  synchronized void recordRequest(String institution, long nowMs) {
    window(institution).add(nowMs, 1, 0);
  }

  /**
   * Takes one retry from the institution's budget: 0 when granted, else how long until the window has room
   * again (at least one bucket), during which the caller waits rather than retries.
   */
  synchronized long tryAcquire(String institution, long nowMs) {
    Window window = window(institution);
    long requests = window.sum(nowMs, true);
    long retries = window.sum(nowMs, false);
    long allowed = Math.max(minRetries, (long) Math.floor(ratio * requests));
    if (retries < allowed) {
      window.add(nowMs, 0, 1);
      return 0;
    }
    return window.msUntilOldestRetryExpires(nowMs);
  }

  /** Requests and retries counted in the current window, for tests and the docs. */
  synchronized long[] counts(String institution, long nowMs) {
    Window window = window(institution);
    return new long[] {window.sum(nowMs, true), window.sum(nowMs, false)};
  }

  private Window window(String institution) {
    return windows.computeIfAbsent(institution == null ? "" : institution, k -> new Window());
  }

  private final class Window {
    final long[] epoch = new long[buckets];
    final long[] requests = new long[buckets];
    final long[] retries = new long[buckets];

    Window() {
      java.util.Arrays.fill(epoch, Long.MIN_VALUE);
    }

    void add(long nowMs, long request, long retry) {
      long current = Math.floorDiv(nowMs, bucketMs);
      int slot = (int) Math.floorMod(current, (long) buckets);
      if (epoch[slot] != current) {
        epoch[slot] = current;
        requests[slot] = 0;
        retries[slot] = 0;
      }
      requests[slot] += request;
      retries[slot] += retry;
    }

    long sum(long nowMs, boolean ofRequests) {
      long current = Math.floorDiv(nowMs, bucketMs);
      long total = 0;
      for (int i = 0; i < buckets; i++) {
        if (epoch[i] != Long.MIN_VALUE && epoch[i] > current - buckets && epoch[i] <= current) {
          total += ofRequests ? requests[i] : retries[i];
        }
      }
      return total;
    }

    long msUntilOldestRetryExpires(long nowMs) {
      long current = Math.floorDiv(nowMs, bucketMs);
      long oldest = current;
      for (int i = 0; i < buckets; i++) {
        if (retries[i] > 0 && epoch[i] > current - buckets && epoch[i] < oldest) {
          oldest = epoch[i];
        }
      }
      long expiresAt = (oldest + buckets) * bucketMs;
      return Math.max(bucketMs, expiresAt - nowMs);
    }
  }
}
