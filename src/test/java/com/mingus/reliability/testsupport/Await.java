package com.mingus.reliability.testsupport;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting from a test thread (never an event loop) for futures and conditions. */
public final class Await {
  private Await() {}

  public static <T> T result(Future<T> future) {
    return result(future, Duration.ofSeconds(30));
  }

  public static <T> T result(Future<T> future, Duration timeout) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new AssertionError("future failed: " + e.getCause(), e.getCause());
    } catch (Exception e) {
      throw new AssertionError("future did not complete: " + e, e);
    }
  }

  /** Polls until the condition holds; fails the test with the message when the time runs out. */
  public static void until(BooleanSupplier condition, Duration timeout, String message) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(message + " (interrupted)");
      }
    }
    throw new AssertionError(message + " (not within " + timeout.toSeconds() + " s)");
  }

  /**
   * Checks that the condition keeps holding for the whole duration (nothing more arrives, nothing changes),
   * polling, and fails at the first moment it does not: the "and then nothing else happens" of a test,
   * instead of a fixed sleep followed by one look.
   */
  public static void holds(BooleanSupplier condition, Duration duration, String message) {
    long deadline = System.nanoTime() + duration.toNanos();
    do {
      if (!condition.getAsBoolean()) {
        throw new AssertionError(message + " (stopped holding within " + duration.toMillis() + " ms)");
      }
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(message + " (interrupted)");
      }
    } while (System.nanoTime() < deadline);
    if (!condition.getAsBoolean()) {
      throw new AssertionError(message + " (stopped holding at the end of " + duration.toMillis() + " ms)");
    }
  }
}
