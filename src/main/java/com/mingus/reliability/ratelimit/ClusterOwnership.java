package com.mingus.reliability.ratelimit;

import com.mingus.reliability.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One owner per endpoint in the whole cluster (docs/ratelimit.md, "Cluster-wide budgets"), by a lease in
 * PostgreSQL with a fencing token ({@code ratelimit_owners}). Each instance that owns an endpoint on its
 * node tries to take the endpoint's lease every {@code poll_ms}; the statement succeeds only for a row that
 * is absent, expired (by PostgreSQL's clock) or already this instance's, and taking a row from another
 * owner increments its token. The holder renews every {@code renew_ms}, loads the endpoint's journal (the
 * previous owner's exact grants) before it decides anything, then decides its own node's callers and registers
 * the clustered consumers on the endpoint's cluster addresses; every other node forwards to them.
 *
 * <p>The lease is the truth, not the cluster manager: a node that cannot renew stops deciding when its lease
 * runs out by its own clock (counted from when it sent the last successful renewal, less a tenth for clock
 * rate differences), whatever Hazelcast thinks, so a partitioned owner gives up before anyone else can take
 * over. Every grant is also written through under the token ({@link FencedJournal}), so an owner that missed
 * its deadline cannot have a grant committed after a take-over either.
 *
 * <p>Touched only on the owning instance's event loop.
 */
final class ClusterOwnership {
  private static final Logger log = LoggerFactory.getLogger(ClusterOwnership.class);
  static final List<String> VERBS = List.of("acquire", "report", "status");

  /** What the owner does when it takes an endpoint over or loses it, and the handler of each cluster address. */
  interface Owner {
    /** Loads the endpoint's journal into a fresh limiter; until this completes the node does not own it. */
    Future<Void> tookOver(String endpoint, long token);

    /** The node no longer owns the endpoint: its waiters are answered, so they ask the next owner. */
    void lost(String endpoint, String why);

    Handler<Message<Object>> handler(String verb);
  }

  private static final class Held {
    final long token;
    long validUntilNanos;
    boolean ready;
    List<MessageConsumer<Object>> consumers = List.of();

    Held(long token, long validUntilNanos) {
      this.token = token;
      this.validUntilNanos = validUntilNanos;
    }
  }

  private final Vertx vertx;
  private final GrantStore store;
  private final String id;
  private final long leaseMs;
  private final long renewMs;
  private final long pollMs;
  private final LongSupplier clock;
  private final Owner owner;
  private final Map<String, Held> held = new HashMap<>();
  private final List<String> wanted = new ArrayList<>();
  private Future<Void> leasing = Future.succeededFuture();
  private boolean leaseInFlight;
  private long lastRenewNanos;
  private long dbOffsetMs;
  private long lastWarning;
  private long pollTimer = -1;
  private boolean stopped;

  ClusterOwnership(Vertx vertx, GrantStore store, String id, long leaseMs, long renewMs, long pollMs,
      LongSupplier clock, Owner owner) {
    this.vertx = vertx;
    this.store = store;
    this.id = id;
    this.leaseMs = leaseMs;
    this.renewMs = renewMs;
    this.pollMs = pollMs;
    this.clock = clock;
    this.owner = owner;
    this.lastRenewNanos = System.nanoTime();
  }

  /** The clustered address on which the owner of {@code endpoint} answers {@code verb}. */
  static String address(String endpoint, String verb) {
    return Addresses.rateLimitOwner(endpoint, verb);
  }

  String id() {
    return id;
  }

  long leaseMs() {
    return leaseMs;
  }

  /**
   * True while this instance holds the endpoint's lease, has loaded its journal, and the lease has not run
   * out by this node's clock. The moment it has, the endpoint is dropped: nothing more is decided here.
   */
  boolean owns(String endpoint) {
    Held entry = held.get(endpoint);
    if (entry == null || !entry.ready) {
      return false;
    }
    if (System.nanoTime() - entry.validUntilNanos > 0) {
      drop(endpoint, "its lease ran out before it could be renewed");
      return false;
    }
    return true;
  }

  /** The fencing token this instance decides the endpoint under, or -1 when it does not own it. */
  long token(String endpoint) {
    return owns(endpoint) ? held.get(endpoint).token : -1;
  }

  /** PostgreSQL's clock minus the limiter's (epoch ms), from the last lease round trip: journal times are PostgreSQL's. */
  long dbOffsetMs() {
    return dbOffsetMs;
  }

  /** This node lost the endpoint (its journal write was fenced off or failed): stop deciding it now. */
  void lose(String endpoint, String why) {
    drop(endpoint, why);
  }

  /** Tries every endpoint once (so a lone first node owns its endpoints when it starts), then keeps trying. */
  Future<Void> start(Collection<String> endpoints) {
    wanted.addAll(endpoints);
    return tick().onComplete(done -> {
      if (!stopped) {
        pollTimer = vertx.setPeriodic(pollMs, timer -> tick());
      }
    });
  }

  private Future<Void> tick() {
    if (stopped) {
      return Future.succeededFuture();
    }
    for (String endpoint : new ArrayList<>(held.keySet())) {
      owns(endpoint);
    }
    if (leaseInFlight) {
      return leasing;
    }
    long sentAt = System.nanoTime();
    boolean renew = sentAt - lastRenewNanos >= renewMs * 1_000_000;
    List<String> ask = new ArrayList<>();
    for (String endpoint : wanted) {
      if (!held.containsKey(endpoint) || renew) {
        ask.add(endpoint);
      }
    }
    if (ask.isEmpty()) {
      return Future.succeededFuture();
    }
    if (renew) {
      lastRenewNanos = sentAt;
    }
    leaseInFlight = true;
    long localSent = clock.getAsLong();
    leasing = store.lease(ask, id, leaseMs).map(leases -> {
      leaseInFlight = false;
      long localNow = clock.getAsLong();
      if (!leases.isEmpty()) {
        dbOffsetMs = leases.get(0).dbNow() - (localSent + localNow) / 2;
      }
      // the lease runs from when PostgreSQL wrote it, after this was sent: counted from the send, less a tenth
      long validUntil = sentAt + (leaseMs - leaseMs / 10) * 1_000_000;
      Set<String> returned = new HashSet<>();
      for (GrantStore.Lease lease : leases) {
        returned.add(lease.endpoint());
        Held entry = held.get(lease.endpoint());
        if (entry != null && entry.token == lease.token()) {
          entry.validUntilNanos = validUntil;
        } else if (!stopped) {
          if (entry != null) {
            drop(lease.endpoint(), "its fencing token changed");
          }
          takeOver(lease.endpoint(), lease.token(), validUntil);
        }
      }
      for (String endpoint : ask) {
        if (held.containsKey(endpoint) && !returned.contains(endpoint)) {
          drop(endpoint, "another node holds its lease");
        }
      }
      return (Void) null;
    }).recover(failure -> {
      leaseInFlight = false;
      long now = System.currentTimeMillis();
      if (now - lastWarning > 10_000) {
        lastWarning = now;
        log.warn("Rate-limit leases not renewed ({}): this node stops deciding {} when they run out", failure.getMessage(),
            held.keySet());
      }
      return Future.succeededFuture();
    });
    return leasing;
  }

  private void takeOver(String endpoint, long token, long validUntil) {
    Held entry = new Held(token, validUntil);
    held.put(endpoint, entry);
    owner.tookOver(endpoint, token).onComplete(loaded -> {
      if (held.get(endpoint) != entry || stopped) {
        // lost (or stopping) while loading: the limiter goes
        if (!stopped) {
          owner.lost(endpoint, "lost while taking over");
        }
        return;
      }
      if (loaded.failed()) {
        log.warn("Could not take over the Plaid budget of {}: {}; trying again", endpoint, loaded.cause().getMessage());
        held.remove(endpoint);
        owner.lost(endpoint, "take-over failed");
        return;
      }
      // the lease and the journal are all a decision needs: this node decides its own callers from now, and
      // the other nodes reach it once its cluster consumers are registered (through a partition the cluster
      // manager may take a while, and the node's own callers need not wait for it)
      entry.ready = true;
      log.info("This node now owns the cluster-wide Plaid budget of {} (fencing token {})", endpoint, token);
      // a drop or stop meanwhile unregisters these consumers itself
      register(endpoint, entry).onFailure(failure -> {
        if (held.get(endpoint) == entry && !stopped) {
          log.warn("Could not register the cluster addresses of the Plaid budget of {}: {}; taking it over again",
              endpoint, failure.getMessage());
          drop(endpoint, "its cluster addresses could not be registered");
        }
      });
    });
  }

  private Future<Void> register(String endpoint, Held entry) {
    List<MessageConsumer<Object>> list = new ArrayList<>();
    List<Future<Void>> done = new ArrayList<>();
    for (String verb : VERBS) {
      MessageConsumer<Object> consumer = vertx.eventBus().consumer(address(endpoint, verb), owner.handler(verb));
      list.add(consumer);
      done.add(consumer.completion());
    }
    entry.consumers = list;
    return Future.all(done).mapEmpty();
  }

  private void drop(String endpoint, String why) {
    Held entry = held.remove(endpoint);
    if (entry == null) {
      return;
    }
    entry.consumers.forEach(MessageConsumer::unregister);
    if (entry.ready) {
      log.warn("This node no longer decides the Plaid budget of {} (fencing token {}): {}", endpoint, entry.token, why);
      owner.lost(endpoint, why);
    }
  }

  /** Stops deciding: no more lease attempts, the cluster consumers go. The leases are kept until {@link #release}. */
  Future<Void> stop() {
    stopped = true;
    vertx.cancelTimer(pollTimer);
    List<Future<Void>> done = new ArrayList<>();
    held.values().forEach(entry -> entry.consumers.forEach(consumer -> done.add(consumer.unregister())));
    held.clear();
    return Future.join(done).mapEmpty();
  }

  /** Gives every lease back (after the last journal write), so the next owner takes over at its next poll. */
  Future<Void> release() {
    return leasing.compose(done -> store.release(wanted, id)).recover(failure -> {
      log.warn("Rate-limit leases not released ({}): the next owner waits for them to expire", failure.getMessage());
      return Future.succeededFuture();
    });
  }
}
