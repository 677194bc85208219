package com.mingus.reliability.ratelimit;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.shareddata.Lock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One owner per endpoint in the whole cluster (docs/cluster.md). On each node the instance that owns an
 * endpoint locally competes for a cluster-wide lock named after the endpoint (Hazelcast-backed through
 * {@code vertx.sharedData()}); the holder registers clustered consumers on the endpoint's cluster
 * addresses and decides every permit of that endpoint, and every other node forwards to it. Hazelcast
 * frees a lock when its holder leaves the cluster (a kill included, once the member times out), and the
 * next instance to take it assumes the dead owner's last window fully used. Two witnesses tell a new owner
 * whether anyone owned the endpoint before: a cluster map naming each endpoint's owner, which the owner
 * writes again at every poll so the entry has a backup on another member soon after one joins (a value
 * written while a member was alone has none, and would die with it), and the grants owners write behind
 * to PostgreSQL (any in the last window means someone was deciding). The endpoint is owned, and decided
 * here, only once the limiter has taken that into account.
 *
 * <p>Touched only on the owning instance's event loop.
 */
final class ClusterOwnership {
  private static final Logger log = LoggerFactory.getLogger(ClusterOwnership.class);
  private static final String LOCK_PREFIX = "mingus.ratelimit.owner:";
  private static final String OWNERS = "mingus.ratelimit.owners";
  private static final String ADDRESS_PREFIX = "ratelimit.cluster:";
  static final List<String> VERBS = List.of("acquire", "report", "status");

  /** What the owner does when it takes an endpoint over, and the handler of each cluster address. */
  interface Owner {
    /** Completes once the endpoint's limiter is ready to decide: until then this node does not own it. */
    Future<Void> tookOver(String endpoint, boolean previousOwnerExisted);

    Handler<Message<Object>> handler(String verb);
  }

  private final Vertx vertx;
  private final long pollMs;
  private final long lockTimeoutMs;
  private final Owner owner;
  private final Map<String, Lock> held = new HashMap<>();
  private final Map<String, List<MessageConsumer<Object>>> consumers = new HashMap<>();
  private final List<String> wanted = new ArrayList<>();
  private final Set<String> trying = new HashSet<>();
  private final String id = java.util.UUID.randomUUID().toString();
  private long pollTimer = -1;
  private boolean stopped;

  ClusterOwnership(Vertx vertx, long pollMs, long lockTimeoutMs, Owner owner) {
    this.vertx = vertx;
    this.pollMs = pollMs;
    this.lockTimeoutMs = lockTimeoutMs;
    this.owner = owner;
  }

  /** The clustered address on which the owner of {@code endpoint} answers {@code verb}. */
  static String address(String endpoint, String verb) {
    return ADDRESS_PREFIX + endpoint + "." + verb;
  }

  /**
   * True while this instance holds the endpoint's cluster lock and is still a member: a node whose
   * cluster manager stopped (its member terminated or removed) must stop deciding, since another node
   * will have taken the lock.
   */
  boolean owns(String endpoint) {
    if (held.isEmpty()) {
      return false;
    }
    if (!member()) {
      log.warn("This node left the cluster: it no longer decides the Plaid budgets of {}", held.keySet());
      held.clear();
      consumers.values().forEach(list -> list.forEach(MessageConsumer::unregister));
      consumers.clear();
      return false;
    }
    return held.containsKey(endpoint);
  }

  private boolean member() {
    ClusterManager manager = ((VertxInternal) vertx).clusterManager();
    return manager != null && manager.isActive();
  }

  /** Tries every endpoint once (so a lone first node owns its endpoints when it starts), then keeps trying. */
  Future<Void> start(Collection<String> endpoints) {
    wanted.addAll(endpoints);
    return attemptAll().onComplete(done -> {
      if (!stopped) {
        pollTimer = vertx.setPeriodic(pollMs, id -> attemptAll());
      }
    });
  }

  private Future<Void> attemptAll() {
    List<Future<Void>> attempts = new ArrayList<>();
    if (!held.isEmpty()) {
      attempts.add(vertx.sharedData().<String, String>getAsyncMap(OWNERS)
          .compose(owners -> Future.join(held.keySet().stream().map(endpoint -> owners.put(endpoint, id)).toList()))
          .<Void>mapEmpty()
          .recover(failure -> Future.succeededFuture()));
    }
    for (String endpoint : wanted) {
      // one attempt at a time per endpoint: a second one could take the (reentrant) lock twice
      if (member() && !held.containsKey(endpoint) && trying.add(endpoint)) {
        attempts.add(attempt(endpoint).onComplete(done -> trying.remove(endpoint)));
      }
    }
    return Future.join(attempts).mapEmpty();
  }

  private Future<Void> attempt(String endpoint) {
    return vertx.sharedData().getLockWithTimeout(LOCK_PREFIX + endpoint, lockTimeoutMs)
        .compose(lock -> {
          if (stopped) {
            lock.release();
            return Future.succeededFuture();
          }
          // Not owned until the limiter has taken the dead owner's window into account: deciding in between,
          // from an empty window, would grant what the previous owner already spent (a chaos run saw 429s
          // from exactly that).
          return vertx.sharedData().<String, String>getAsyncMap(OWNERS)
              .compose(owners -> owners.get(endpoint)
                  .compose(previous -> owners.put(endpoint, id).map(previous != null)))
              .recover(failure -> {
                // cannot tell whether someone owned it: assume so, which only costs a window
                log.warn("Rate-limit owner of {} unreadable: {}", endpoint, failure.getMessage());
                return Future.succeededFuture(true);
              })
              .compose(previousOwnerExisted -> owner.tookOver(endpoint, previousOwnerExisted))
              .compose(ready -> {
                if (stopped) {
                  lock.release();
                  return Future.succeededFuture();
                }
                held.put(endpoint, lock);
                return register(endpoint)
                    .onSuccess(registered -> log.info("This node now owns the cluster-wide Plaid budget of {}", endpoint));
              }, failed -> {
                lock.release();
                return Future.failedFuture(failed);
              });
        }, notNow -> Future.succeededFuture());
  }

  private Future<Void> register(String endpoint) {
    List<MessageConsumer<Object>> list = new ArrayList<>();
    List<Future<Void>> done = new ArrayList<>();
    for (String verb : VERBS) {
      MessageConsumer<Object> consumer = vertx.eventBus().consumer(address(endpoint, verb), owner.handler(verb));
      list.add(consumer);
      done.add(consumer.completion());
    }
    consumers.put(endpoint, list);
    return Future.all(done).mapEmpty();
  }

  /** Stops answering and releases the locks, so another node takes over without waiting for a timeout. */
  Future<Void> stop() {
    stopped = true;
    vertx.cancelTimer(pollTimer);
    List<Future<Void>> done = new ArrayList<>();
    consumers.values().forEach(list -> list.forEach(consumer -> done.add(consumer.unregister())));
    return Future.join(done).onComplete(unregistered -> {
      held.values().forEach(Lock::release);
      held.clear();
    }).mapEmpty();
  }
}
