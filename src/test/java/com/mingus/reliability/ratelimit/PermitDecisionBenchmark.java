package com.mingus.reliability.ratelimit;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The permit decision alone, ours beside Resilience4j's AtomicRateLimiter and a Bucket4j local bucket, in
 * the same run: once where every call is granted (steady state: our sliding log evicts one grant and records
 * one) and once where the budget is spent and every call is refused. One thread, because our limiter has
 * one owner by design; the peers are lock-free CAS loops. Run: see docs/bench/ratelimit.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
public class PermitDecisionBenchmark {

  private static RateLimitConfig config(int perMinute, int perItem) {
    return RateLimitConfig.from(new JsonObject().put("margin_ms", 0).put("plaid", new JsonObject()
        .put("rate_limits", new JsonObject().put("/transactions/sync",
            new JsonObject().put("per_minute", perMinute).put("per_item_per_minute", perItem)))));
  }

  private static final EndpointLimiter.Timers NO_TIMERS = new EndpointLimiter.Timers() {
    @Override
    public long set(long delayMs, Runnable task) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void cancel(long id) {
      throw new UnsupportedOperationException();
    }
  };

  /** Budgets far above the call rate: every decision grants. */
  @State(Scope.Thread)
  public static class Granting {
    long clock;
    EndpointLimiter ours;
    EndpointLimiter oursWithItem;
    AtomicRateLimiter resilience4j;
    Bucket bucket4j;

    @Setup
    public void setUp() {
      // the clock moves 1 ms per call: 60,000 grants live in the log, one leaves as one arrives
      ours = new EndpointLimiter("/transactions/sync", config(100_000, 0), () -> clock, NO_TIMERS);
      oursWithItem = new EndpointLimiter("/transactions/sync", config(100_000, 100_000), () -> clock, NO_TIMERS);
      resilience4j = new AtomicRateLimiter("peer", RateLimiterConfig.custom()
          .limitForPeriod(Integer.MAX_VALUE).limitRefreshPeriod(Duration.ofMinutes(1)).timeoutDuration(Duration.ZERO).build());
      // Bucket4j refills at most one token per nanosecond; a capacity this large is never drained here
      bucket4j = Bucket.builder().addLimit(Bandwidth.builder().capacity(1_000_000_000_000_000L)
          .refillGreedy(10_000_000_000L, Duration.ofMinutes(1)).build()).build();
    }
  }

  /** Budgets spent for the next hour: every decision refuses (and ours computes the not-before). */
  @State(Scope.Thread)
  public static class Refusing {
    EndpointLimiter ours;
    AtomicRateLimiter resilience4j;
    Bucket bucket4j;

    @Setup
    public void setUp() {
      ours = new EndpointLimiter("/transactions/sync", config(100, 0), () -> 0L, NO_TIMERS);
      for (int i = 0; i < 100; i++) {
        ours.tryAcquire(null, 0);
      }
      resilience4j = new AtomicRateLimiter("peer", RateLimiterConfig.custom()
          .limitForPeriod(1).limitRefreshPeriod(Duration.ofHours(1)).timeoutDuration(Duration.ZERO).build());
      resilience4j.acquirePermission();
      bucket4j = Bucket.builder().addLimit(Bandwidth.builder().capacity(1)
          .refillGreedy(1, Duration.ofHours(1)).build()).build();
      bucket4j.tryConsume(1);
    }
  }

  @Benchmark
  public long grantedOurs(Granting state) {
    return state.ours.tryAcquire(null, ++state.clock);
  }

  @Benchmark
  public long grantedOursWithItemScope(Granting state) {
    return state.oursWithItem.tryAcquire("item-7", ++state.clock);
  }

  @Benchmark
  public boolean grantedResilience4j(Granting state) {
    return state.resilience4j.acquirePermission();
  }

  @Benchmark
  public boolean grantedBucket4j(Granting state) {
    return state.bucket4j.tryConsume(1);
  }

  @Benchmark
  public long refusedOurs(Refusing state) {
    return state.ours.tryAcquire(null, 1);
  }

  @Benchmark
  public boolean refusedResilience4j(Refusing state) {
    return state.resilience4j.acquirePermission();
  }

  @Benchmark
  public boolean refusedBucket4j(Refusing state) {
    return state.bucket4j.tryConsume(1);
  }
}
