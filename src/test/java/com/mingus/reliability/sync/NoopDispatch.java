package com.mingus.reliability.sync;

import com.mingus.reliability.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Our scheduler's dispatch with a sync that does nothing, for the dispatch benchmark
 * (bench/sync/SyncDispatchBench): SyncVerticle's own {@link ClaimLoop} over the real {@link SyncStore}
 * (claim; fence, reschedule, log row and outbox event on finish; no changes), and the {@link EventRelay}
 * that hands each event to a stand-in for health tracking on {@code health.apply} (which answers at once)
 * and forgets it, as in the server. It lives in this package because these classes are package-private.
 */
public final class NoopDispatch {
  private NoopDispatch() {}

  /**
   * Dispatches until {@code target} no-op syncs have been claimed and finished; completes with the number
   * of CLAIM queries it took. Runs on a context of its own, as one SyncVerticle instance does, with the
   * same poll timer.
   */
  public static Future<Long> run(Vertx vertx, Pool pool, int maxConcurrent, int batch, long target, long pollMs) {
    SyncStore store = new SyncStore(pool);
    EventRelay relay = new EventRelay(vertx, pool, 5_000, 15_000, 64);
    String owner = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    AtomicLong done = new AtomicLong();
    Promise<Long> finished = Promise.promise();
    ClaimLoop[] loop = new ClaimLoop[1];
    loop[0] = new ClaimLoop(vertx, store, owner, maxConcurrent, batch, 10_000, claim -> finishNoop(store, owner, claim)
        .onSuccess(relay::tell)
        .onComplete(end -> {
          if (end.failed()) {
            finished.tryFail(end.cause());
          } else if (done.incrementAndGet() == target) {
            finished.tryComplete(loop[0].claims());
          }
        }));
    // health that applies every event at once: the relay's hand-off and its DELETE are part of the cost
    MessageConsumer<Object> health = vertx.eventBus().localConsumer(Addresses.HEALTH_APPLY,
        message -> message.reply(new JsonObject().put("applied", true)));
    finished.future().onComplete(end -> health.unregister());
    vertx.getOrCreateContext().runOnContext(v -> {
      long timer = vertx.setPeriodic(pollMs, id -> loop[0].claimDue());
      finished.future().onComplete(end -> {
        vertx.cancelTimer(timer);
        loop[0].stop();
      });
      loop[0].claimDue();
    });
    return finished.future();
  }

  /** What SyncRunner stores for an update without changes: next in six hours, a log row. */
  private static Future<SyncStore.Outboxed> finishNoop(SyncStore store, String owner, Claim claim) {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    SyncStore.Next next = new SyncStore.Next(now.plusHours(6), "periodic", 2, null, true, false, null);
    SyncStore.Log log = new SyncStore.Log(claim.syncId(), claim.connectionId(), claim.trigger(), "success", now, 0, 1,
        0, 0, 0, 0, null, null, null, null, owner);
    return store.finish(claim, new SyncResult(), next, log, tellCompleted(claim)).map(SyncStore.Finished::told);
  }

  /** The completed event SyncRunner tells for such a sync. */
  static SyncStore.Tell tellCompleted(Claim claim) {
    return new SyncStore.Tell(com.mingus.reliability.bus.Addresses.SYNC_COMPLETED,
        nextAt -> new com.mingus.reliability.bus.SyncEvent(com.mingus.reliability.bus.SyncEvent.COMPLETED,
            claim.connectionId(), claim.userId(), claim.itemId(), claim.institutionId(), claim.institutionName(),
            claim.syncId().toString(), claim.trigger(), "success", OffsetDateTime.now(ZoneOffset.UTC).toString(), 0L,
            0, 0, 0, SyncStore.text(nextAt), null, null, null, null, null));
  }
}
