package com.mingus.reliability.http;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The feed's reads from health tracking for snapshots, shared and bounded: clients that need the same thing
 * (every client the institutions, a user's sockets that user's connections) wait for one read, and at most
 * {@code maxInFlight} reads are out at once, so that 10,000 clients connecting (or getting a new snapshot
 * when health answers again) ask health a few hundred questions instead of 20,000 at once, and its ping is
 * not stuck behind them.
 *
 * <p>A reader only joins a read that has not been sent yet: one sent before the reader registered for
 * changes could miss a change published just before it registered, so a read in flight is never joined;
 * the reader waits for the next one. One instance per feed, used on its event loop only.
 */
final class SnapshotReads {
  private final int maxInFlight;
  private final ArrayDeque<Read> queue = new ArrayDeque<>();
  /** The read of each key that is queued, not yet sent: the one a new reader joins. */
  private final Map<String, Read> joinable = new HashMap<>();
  private int inFlight;

  SnapshotReads(int maxInFlight) {
    this.maxInFlight = Math.max(1, maxInFlight);
  }

  /** The next read of {@code key} (sent after this call), made with {@code source} when its turn comes. */
  @SuppressWarnings("unchecked")
  <T> Future<T> read(String key, Supplier<Future<T>> source) {
    Read read = joinable.get(key);
    if (read == null) {
      read = new Read(key, (Supplier<Future<?>>) (Supplier<?>) source);
      joinable.put(key, read);
      queue.add(read);
    }
    Promise<Object> waiter = Promise.promise();
    read.waiters.add(waiter);
    pump();
    return (Future<T>) waiter.future();
  }

  /** Reads sent and not answered yet, and reads waiting to be sent. */
  int inFlight() {
    return inFlight;
  }

  int queued() {
    return queue.size();
  }

  private void pump() {
    while (inFlight < maxInFlight && !queue.isEmpty()) {
      Read read = queue.poll();
      joinable.remove(read.key);
      inFlight++;
      Future<?> answer;
      try {
        answer = read.source.get();
      } catch (RuntimeException bug) {
        answer = Future.failedFuture(bug);
      }
      answer.onComplete(result -> {
        inFlight--;
        read.complete(result);
        pump();
      });
    }
  }

  private static final class Read {
    final String key;
    final Supplier<Future<?>> source;
    final List<Promise<Object>> waiters = new ArrayList<>(1);

    Read(String key, Supplier<Future<?>> source) {
      this.key = key;
      this.source = source;
    }

    void complete(AsyncResult<?> result) {
      for (Promise<Object> waiter : waiters) {
        if (result.succeeded()) {
          waiter.complete(result.result());
        } else {
          waiter.fail(result.cause());
        }
      }
    }
  }
}
