package com.mingus.reliability.sync;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Our scheduler's dispatch with a sync that does nothing, for the dispatch benchmark
 * (bench/sync/SyncDispatchBench): the real {@link SyncStore#claim} and {@link SyncStore#finish} (fence,
 * reschedule, log row; no changes), driven the way {@code SyncVerticle.claimDue} drives them – claim at
 * most {@code min(room, batch)}, claim again at once when the batch came back full and whenever a sync
 * ends. It lives in this package because SyncStore is package-private.
 */
public final class NoopDispatch {
  private final Vertx vertx;
  private final SyncStore store;
  private final String owner = "bench-" + UUID.randomUUID().toString().substring(0, 8);
  private final int maxConcurrent;
  private final int batch;
  private final long target;
  private final int minRoom;
  private final AtomicLong done = new AtomicLong();
  private final AtomicLong claims = new AtomicLong();
  private final Promise<Long> finished = Promise.promise();
  private int inFlight;
  private boolean claiming;
  private boolean claimQueued;

  private NoopDispatch(Vertx vertx, Pool pool, int maxConcurrent, int batch, long target, int minRoom) {
    this.vertx = vertx;
    this.store = new SyncStore(pool);
    this.maxConcurrent = maxConcurrent;
    this.batch = batch;
    this.target = target;
    this.minRoom = minRoom;
  }

  /**
   * Dispatches until {@code target} no-op syncs have been claimed and finished; completes with the number
   * of CLAIM queries it took. Runs on a context of its own, as one SyncVerticle instance does.
   * {@code minRoom} 1 is SyncVerticle's rule (claim whenever a slot is free); a larger value claims only
   * when that many slots are free, as db-scheduler's lock-and-fetch does (a proposal, measured).
   */
  public static Future<Long> run(Vertx vertx, Pool pool, int maxConcurrent, int batch, long target, long pollMs,
      int minRoom) {
    NoopDispatch dispatch = new NoopDispatch(vertx, pool, maxConcurrent, batch, target, Math.max(1, minRoom));
    vertx.getOrCreateContext().runOnContext(v -> {
      long timer = vertx.setPeriodic(pollMs, id -> dispatch.claimDue());
      dispatch.finished.future().onComplete(end -> vertx.cancelTimer(timer));
      dispatch.claimDue();
    });
    return dispatch.finished.future();
  }

  private void claimDue() {
    int room = maxConcurrent - inFlight;
    if (claiming || room < minRoom || finished.future().isComplete()) {
      return;
    }
    claiming = true;
    int asked = Math.min(room, batch);
    claims.incrementAndGet();
    store.claim(owner, asked, 10_000).onComplete(result -> {
      claiming = false;
      if (result.failed()) {
        finished.tryFail(result.cause());
        return;
      }
      List<Claim> claimed = result.result();
      for (Claim claim : claimed) {
        inFlight++;
        finishNoop(claim).onComplete(end -> {
          inFlight--;
          if (end.failed()) {
            finished.tryFail(end.cause());
            return;
          }
          if (done.incrementAndGet() == target) {
            finished.tryComplete(claims.get());
          }
          claimSoon();
        });
      }
      if (claimed.size() == asked) {
        claimSoon();
      }
    });
  }

  /** As SyncVerticle.claimSoon: one claim after every sync that ends in this turn has freed its slot. */
  private void claimSoon() {
    if (claimQueued) {
      return;
    }
    claimQueued = true;
    vertx.runOnContext(v -> {
      claimQueued = false;
      claimDue();
    });
  }

  /** What SyncRunner.finishSuccess stores for an update without changes: next in six hours, a log row. */
  private Future<OffsetDateTime> finishNoop(Claim claim) {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    SyncStore.Next next = new SyncStore.Next(now.plusHours(6), "periodic", 2, null, true, false, null);
    SyncStore.Log log = new SyncStore.Log(claim.syncId(), claim.connectionId(), claim.trigger(), "success", now, 0, 1,
        0, 0, 0, 0, null, null, null, null, owner);
    return store.finish(claim, new SyncResult(), next, log);
  }
}
