package com.mingus.reliability.sync;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The claim loop of one sync instance: claims due connections while it has room (at most
 * {@code min(room, batch)} at a time, one claim in flight), runs each claimed sync, claims again at once
 * when a batch came back full, and, when syncs end, once per turn of the event loop, so that every slot
 * the syncs ending in one turn free (a batch of finishes shares one reply) goes into one claim. The
 * dispatch benchmark drives this same loop with syncs that do nothing.
 *
 * <p>Touched only on its verticle's event loop.
 */
final class ClaimLoop {
  private static final Logger log = LoggerFactory.getLogger(ClaimLoop.class);

  private final Vertx vertx;
  private final SyncStore store;
  private final String owner;
  private final int maxConcurrent;
  private final int batch;
  private final long leaseMs;
  private final Function<Claim, Future<?>> run;
  /** Held leases by token; read by the heartbeat and at stop. */
  private final Map<UUID, Claim> inFlight = new ConcurrentHashMap<>();
  private boolean claiming;
  private boolean claimQueued;
  private boolean stopped;
  private long claims;

  ClaimLoop(Vertx vertx, SyncStore store, String owner, int maxConcurrent, int batch, long leaseMs,
      Function<Claim, Future<?>> run) {
    this.vertx = vertx;
    this.store = store;
    this.owner = owner;
    this.maxConcurrent = maxConcurrent;
    this.batch = batch;
    this.leaseMs = leaseMs;
    this.run = run;
  }

  /** Claims what is due, if there is room and no claim is out (the poll timer, a wake-up, a sync's end). */
  void claimDue() {
    if (claiming || stopped) {
      return;
    }
    int room = maxConcurrent - inFlight.size();
    if (room <= 0) {
      return;
    }
    claiming = true;
    claims++;
    int asked = Math.min(room, batch);
    store.claim(owner, asked, leaseMs).onComplete(result -> {
      claiming = false;
      if (result.failed()) {
        log.warn("Claiming due syncs failed: {}", result.cause().getMessage());
        return;
      }
      List<Claim> claimed = result.result();
      for (Claim claim : claimed) {
        inFlight.put(claim.leaseToken(), claim);
        run.apply(claim).onComplete(done -> {
          inFlight.remove(claim.leaseToken());
          claimSoon();
        });
      }
      if (claimed.size() == asked) {
        claimSoon();
      }
    });
  }

  /**
   * Claims once the current turn of the event loop is over, so that every sync ending in this turn frees
   * its slot before the claim counts the room: one claim for all of them rather than a claim for the first
   * and another for the rest (1,758 claims per 20,000 no-op syncs before, 1,250 after: docs/bench/sync.md).
   */
  private void claimSoon() {
    if (claimQueued || stopped) {
      return;
    }
    claimQueued = true;
    vertx.runOnContext(v -> {
      claimQueued = false;
      claimDue();
    });
  }

  /** The leases held now (syncs running), for the heartbeat and for handing back at stop. */
  List<Claim> held() {
    return List.copyOf(inFlight.values());
  }

  /** Claims no more; syncs already running go on. */
  void stop() {
    stopped = true;
  }

  /** CLAIM statements sent so far. */
  long claims() {
    return claims;
  }
}
