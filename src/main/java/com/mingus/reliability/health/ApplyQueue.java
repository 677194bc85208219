package com.mingus.reliability.health;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Health's changes on their way to PostgreSQL, in batches: each change waits in its connection's shard
 * (connections are spread over the shards by id), and each shard has at most one batch in flight, so one
 * connection's changes apply in arrival order while the shards use the pool side by side. A shard with
 * nothing in flight lingers up to {@code lingerMs} for more changes (or until {@code maxBatch} wait); one that
 * had a batch in flight sends whatever arrived meanwhile as soon as that batch is done. Each change's future
 * completes when its batch has committed (or failed: then every change of it fails). Used on one event loop
 * (the verticle's), so it needs no locking.
 */
final class ApplyQueue<C, R> {
  private static final long FAILURE_PAUSE_MS = 100;
  private final Vertx vertx;
  private final int maxBatch;
  private final long lingerMs;
  private final Function<List<C>, Future<List<R>>> apply;
  private final List<Shard> shards = new ArrayList<>();
  private boolean closed;

  ApplyQueue(Vertx vertx, int shards, int maxBatch, long lingerMs, Function<List<C>, Future<List<R>>> apply) {
    this.vertx = vertx;
    this.maxBatch = maxBatch;
    this.lingerMs = lingerMs;
    this.apply = apply;
    for (int i = 0; i < shards; i++) {
      this.shards.add(new Shard());
    }
  }

  /** Queues a change of the connection {@code key}; completes with its outcome once its batch committed. */
  Future<R> submit(String key, C change) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("health is stopping"));
    }
    Promise<R> promise = Promise.promise();
    Shard shard = shards.get(Math.floorMod(key.hashCode(), shards.size()));
    shard.waiting.add(new Waiting<>(change, promise));
    shard.kick();
    return promise.future();
  }

  /** Fails what waits; a batch in flight completes (or fails) on its own. */
  void close() {
    closed = true;
    for (Shard shard : shards) {
      if (shard.timer >= 0) {
        vertx.cancelTimer(shard.timer);
        shard.timer = -1;
      }
      Waiting<C, R> next;
      while ((next = shard.waiting.poll()) != null) {
        next.promise.fail(new IllegalStateException("health is stopping"));
      }
    }
  }

  private record Waiting<C, R>(C change, Promise<R> promise) {}

  private final class Shard {
    final ArrayDeque<Waiting<C, R>> waiting = new ArrayDeque<>();
    boolean inFlight;
    boolean paused;
    long timer = -1;

    void kick() {
      if (inFlight || paused || waiting.isEmpty()) {
        return;
      }
      if (waiting.size() >= maxBatch || lingerMs == 0) {
        drain();
      } else if (timer < 0) {
        timer = vertx.setTimer(lingerMs, id -> {
          timer = -1;
          drain();
        });
      }
    }

    void drain() {
      if (inFlight || waiting.isEmpty()) {
        return;
      }
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
      int size = Math.min(maxBatch, waiting.size());
      List<Waiting<C, R>> batch = new ArrayList<>(size);
      List<C> changes = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        Waiting<C, R> next = waiting.poll();
        batch.add(next);
        changes.add(next.change());
      }
      inFlight = true;
      Future<List<R>> done;
      try {
        done = apply.apply(changes);
      } catch (RuntimeException e) {
        done = Future.failedFuture(e);
      }
      done.onComplete(result -> {
        inFlight = false;
        if (result.succeeded()) {
          List<R> outcomes = result.result();
          for (int i = 0; i < batch.size(); i++) {
            batch.get(i).promise().complete(outcomes.get(i));
          }
        } else {
          batch.forEach(waiting -> waiting.promise().fail(result.cause()));
          // a pause, so the pool notices a lost connection before the next batch is handed the same one
          if (!closed) {
            paused = true;
            vertx.setTimer(FAILURE_PAUSE_MS, id -> {
              paused = false;
              drain();
            });
          }
          return;
        }
        // what arrived meanwhile has waited a batch already: no linger for it
        if (!waiting.isEmpty() && !closed) {
          drain();
        }
      });
    }
  }
}
