package com.mingus.reliability.ratelimit;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.BusFailure;
import com.mingus.reliability.bus.Commands;
import com.mingus.reliability.bus.Commands.Body;
import com.mingus.reliability.bus.Commands.CommandFailure;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.PingReply;
import com.mingus.reliability.bus.RateLimitReport;
import com.mingus.reliability.bus.RateLimitReportReply;
import com.mingus.reliability.bus.RateLimitStatus;
import com.mingus.reliability.bus.RateLimitStatusRequest;
import com.mingus.reliability.db.Pools;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import com.mingus.reliability.chaos.CrashPoints;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rate limiter: answers {@code ratelimit.acquire}, {@code ratelimit.report} and {@code ratelimit.status}.
 *
 * <p>Several instances agree on one budget by owning disjoint endpoints: instance {@code i} of a deployment
 * of {@code n} owns the endpoints whose path hashes to {@code i mod n} and is the only one that touches
 * their state, on its own event loop, so each decision is atomic without a lock. Whichever instance the
 * bus hands a request to forwards it to the owner's local address. The public addresses are local
 * consumers. On a cluster the same rule goes one level up ({@link ClusterOwnership}, docs/ratelimit.md): the
 * instance owning an endpoint on its node decides only while it holds the endpoint's lease in PostgreSQL,
 * answers a grant only once it is journaled under the lease's fencing token ({@link FencedJournal}), and
 * otherwise forwards, over the clustered bus, to the node that does, asking again through a take-over
 * until the caller's wait runs out ({@link ClusterRequest}).
 */
public final class RateLimitVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RateLimitVerticle.class);

  private RateLimitConfig settings;
  private int shard;
  private int shards;
  private String shardPrefix;
  private long epochBase;
  private final Map<String, EndpointLimiter> limiters = new HashMap<>();
  private final Map<String, Figures> figures = new HashMap<>();
  private final List<Meter> meters = new ArrayList<>();
  private MeterRegistry registry;
  private long sweepTimer = -1;
  private long metricsTimer = -1;
  /** Null on a single node; on a cluster, which of this instance's endpoints it owns cluster-wide. */
  private ClusterOwnership cluster;
  private long flushTimer = -1;
  private GrantStore store;
  /** Requests this instance forwarded and still waits on: answered at stop, when their replies can no longer come back. */
  private final Map<Promise<Object>, String> forwarded = new IdentityHashMap<>();
  /** Cluster-mode requests being decided here or at the cluster owner, retried through a take-over. */
  private final Set<ClusterRequest> clusterRequests = new HashSet<>();
  private FencedJournal journal;
  private boolean stopping;

  @Override
  public Future<?> start() {
    try {
      settings = RateLimitConfig.from(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    epochBase = System.currentTimeMillis() - System.nanoTime() / 1_000_000;
    boolean database = config().getJsonObject("database") != null;
    if (vertx.isClustered() && !database) {
      return Future.failedFuture(new IllegalArgumentException(
          "ratelimit on a cluster needs the database section: each budget's owner holds a lease in PostgreSQL"));
    }
    // the deployment's own count, so a config that disagrees with it can never make two owners of a budget
    shards = Math.max(1, context.getInstanceCount());
    shardPrefix = Addresses.rateLimitShards(context.deploymentID());
    registry = config().getString("metrics_registry") == null ? null
        : BackendRegistries.getNow(config().getString("metrics_registry"));
    // on a cluster the store is the lease and the journal, whatever persist says
    boolean persist = database && (vertx.isClustered() || config().getBoolean("persist", true));
    return vertx.sharedData().getLocalCounter(shardPrefix + "instances")
        .compose(counter -> counter.getAndIncrement())
        .compose(number -> {
          shard = (int) (number % shards);
          if (persist) {
            // two connections on a cluster, so a lease renewal never queues behind a journal write
            store = new GrantStore(Pools.create(vertx, config().getJsonObject("database").copy()
                .put("pool_size", vertx.isClustered() ? 2 : 1), "ratelimit-" + shard));
          }
          if (vertx.isClustered()) {
            try {
              cluster = clusterOwnership();
            } catch (IllegalArgumentException e) {
              return Future.failedFuture(e);
            }
            journal = new FencedJournal(context, store, cluster.id(), new FencedJournal.Fence() {
              @Override
              public long token(String endpoint) {
                return cluster.token(endpoint);
              }

              @Override
              public long dbOffsetMs() {
                return cluster.dbOffsetMs();
              }

              @Override
              public void lost(String endpoint, String why) {
                cluster.lose(endpoint, why);
              }
            }, this::now);
            // limiters of budgeted endpoints exist only while this instance owns them (see tookOver)
            return Future.succeededFuture();
          }
          for (String endpoint : settings.budgets().keySet()) {
            if (ownerOf(endpoint) == shard) {
              limiter(endpoint);
            }
          }
          return store == null ? Future.succeededFuture() : restore();
        })
        .compose(restored -> {
          sweepTimer = vertx.setPeriodic(settings.minuteMs(), id -> sweep());
          metricsTimer = vertx.setPeriodic(config().getLong("metrics_interval_ms", 1_000L), id -> refreshFigures());
          if (store != null && cluster == null) {
            flushTimer = vertx.setPeriodic(config().getLong("persist_interval_ms", 250L), id -> store.flush());
          }
          refreshFigures();
          List<Future<Void>> registered = new ArrayList<>();
          // owner addresses: the body is already a parsed record, sent by another instance of this deployment
          registered.add(register(Addresses.rateLimitShard(shardPrefix, shard, "acquire"), Body.of(PermitRequest.class),
              this::acquireHere));
          registered.add(register(Addresses.rateLimitShard(shardPrefix, shard, "report"), Body.of(RateLimitReport.class),
              this::reportHere));
          registered.add(register(Addresses.rateLimitShard(shardPrefix, shard, "status"),
              Body.of(RateLimitStatusRequest.class), this::statusHere));
          registered.add(register(Addresses.RATELIMIT_ACQUIRE, Body.of(PermitRequest.class, PermitRequest::fromJson),
              this::acquire));
          registered.add(register(Addresses.RATELIMIT_REPORT, Body.of(RateLimitReport.class, RateLimitReport::fromJson),
              this::report));
          registered.add(register(Addresses.RATELIMIT_STATUS,
              Body.of(RateLimitStatusRequest.class, RateLimitStatusRequest::fromJson), this::status));
          registered.add(Bus.answerPing(vertx, "ratelimit", () -> Future.succeededFuture(PingReply.up("ratelimit")))
              .completion());
          return Future.all(registered);
        })
        .compose(registered -> vertx.isClustered() ? startCluster() : Future.succeededFuture())
        .onSuccess(started -> log.debug("Rate limiter shard {} of {} owns {}", shard, shards, limiters.keySet()));
  }

  /**
   * Puts back the grants of the last hour and the learned budgets of this instance's endpoints, so a
   * restart neither spends again what was spent nor forgets what Plaid taught. Without the database the
   * limiter still starts, with an empty memory.
   */
  private Future<Void> restore() {
    long now = now();
    int[] restored = new int[1];
    return store.loadGrants(now - settings.hourMs() - settings.marginMs())
        .compose(grants -> {
          grants.forEach((endpoint, list) -> {
            if (ownerOf(endpoint) != shard || !settings.budgets().containsKey(endpoint)) {
              return;
            }
            EndpointLimiter limiter = limiter(endpoint);
            for (GrantStore.Grants grant : list) {
              limiter.restore(grant.at(), grant.itemId(), grant.count(), now);
              restored[0] += grant.count();
            }
          });
          return store.loadLearned();
        })
        .map(learned -> {
          for (GrantStore.Learned entry : learned) {
            if (ownerOf(entry.endpoint()) == shard && settings.budgets().containsKey(entry.endpoint())) {
              limiter(entry.endpoint()).client().windows().stream()
                  .filter(window -> window.name().equals(entry.window()))
                  .forEach(window -> window.restoreLearning(entry.lowered(), entry.last429At()));
            }
          }
          if (restored[0] > 0 || !learned.isEmpty()) {
            log.info("Rate limiter shard {} remembered {} grants of the last hour and {} learned budgets",
                shard, restored[0], learned.size());
          }
          return (Void) null;
        })
        .recover(failure -> {
          log.warn("Rate limiter starts without its stored grants: {}", failure.getMessage());
          return Future.succeededFuture();
        });
  }

  /** Competes for the cluster-wide ownership of this shard's configured endpoints (docs/cluster.md). */
  private Future<Void> startCluster() {
    List<String> mine = new ArrayList<>();
    for (String endpoint : settings.budgets().keySet()) {
      if (ownerOf(endpoint) == shard) {
        mine.add(endpoint);
      }
    }
    return cluster.start(mine);
  }

  /**
   * Made before any consumer is registered: from its first message this instance forwards the endpoints
   * it does not own cluster-wide, rather than deciding them alone for a moment.
   */
  private ClusterOwnership clusterOwnership() {
    JsonObject clusterConfig = config().getJsonObject("cluster", new JsonObject());
    long leaseMs = clusterConfig.getLong("lease_ms", 6_000L);
    long renewMs = clusterConfig.getLong("renew_ms", leaseMs / 3);
    long pollMs = clusterConfig.getLong("poll_ms", Math.min(500L, renewMs));
    if (leaseMs <= 0 || renewMs <= 0 || pollMs <= 0 || 2 * renewMs > leaseMs || pollMs > renewMs) {
      throw new IllegalArgumentException("ratelimit.cluster: need 0 < poll_ms <= renew_ms <= lease_ms / 2 (got poll_ms "
          + pollMs + ", renew_ms " + renewMs + ", lease_ms " + leaseMs + ")");
    }
    return new ClusterOwnership(vertx, store, java.util.UUID.randomUUID().toString(), leaseMs, renewMs, pollMs,
        this::now, new ClusterOwnership.Owner() {
          @Override
          public Future<Void> tookOver(String endpoint, long token) {
            return handOver(endpoint, token);
          }

          @Override
          public void lost(String endpoint, String why) {
            journal.dropped(endpoint);
            EndpointLimiter limiter = limiters.remove(endpoint);
            if (limiter != null) {
              retire(limiter);
            }
          }

          @Override
          public io.vertx.core.Handler<Message<Object>> handler(String verb) {
            // a request routed here after this node lost the endpoint (a stale route) is refused, never decided
            return switch (verb) {
              case "acquire" -> Commands.answering(Body.of(PermitRequest.class, PermitRequest::fromJson),
                  request -> ifOwner(request.endpoint(), answer -> limiter(request.endpoint()).acquire(request, answer::tryComplete)),
                  RateLimitVerticle::failureOf);
              case "report" -> Commands.answering(Body.of(RateLimitReport.class, RateLimitReport::fromJson),
                  report -> ifOwner(report.endpoint(), answer -> answer.tryComplete(reportNow(report))),
                  RateLimitVerticle::failureOf);
              default -> Commands.answering(Body.of(RateLimitStatusRequest.class, RateLimitStatusRequest::fromJson),
                  request -> ifOwner(request.endpoint(), answer -> answer.tryComplete(new RateLimitStatus(statusBody(request)))),
                  RateLimitVerticle::failureOf);
            };
          }
        });
  }

  /**
   * The hand-over: a fresh limiter for the endpoint continues from the journal of its longest window (the
   * previous owner's grants, committed under its token before this one's took over, so exact), with the
   * learned budgets. Nothing is held back. Until this completes the endpoint is not owned here.
   */
  private Future<Void> handOver(String endpoint, long token) {
    EndpointLimiter fresh = newLimiter(endpoint);
    long offset = cluster.dbOffsetMs();
    long since = now() + offset - fresh.horizonMs();
    return store.loadEndpoint(endpoint, since)
        .compose(grants -> store.loadLearned().map(learned -> {
          long now = now();
          int count = 0;
          for (GrantStore.Grants grant : grants) {
            fresh.restore(grant.at() - offset, grant.itemId(), grant.count(), now);
            count += grant.count();
          }
          for (GrantStore.Learned entry : learned) {
            if (entry.endpoint().equals(endpoint)) {
              fresh.client().windows().stream().filter(window -> window.name().equals(entry.window()))
                  .forEach(window -> window.restoreLearning(entry.lowered(), entry.last429At()));
            }
          }
          EndpointLimiter previous = limiters.put(endpoint, fresh);
          if (previous != null) {
            retire(previous);
          }
          log.info("Took over the Plaid budget of {} (fencing token {}): {} grants of the last {} ms from the journal",
              endpoint, token, count, fresh.horizonMs());
          return (Void) null;
        }));
  }

  /** A limiter this instance no longer decides with: its waiters are told (they ask again), its counters kept. */
  private void retire(EndpointLimiter limiter) {
    limiter.close(now());
    Figures snapshot = figures.get(limiter.endpoint());
    if (snapshot != null) {
      snapshot.retired(limiter);
    }
  }

  private Future<Object> ifOwner(String endpoint, Consumer<Promise<Object>> decide) {
    if (endpoint == null || !cluster.owns(endpoint)) {
      return Future.failedFuture(new CommandFailure(FailureCodes.UNAVAILABLE,
          "this node does not own the Plaid budget of " + endpoint));
    }
    Promise<Object> answer = Promise.promise();
    decide.accept(answer);
    return answer.future();
  }

  /**
   * On the instance that owns an endpoint on this node: decide here when this node owns it cluster-wide
   * (or on a single node, or for an endpoint without a budget), else forward once to the cluster owner.
   */
  private Future<Object> decide(String endpoint, String verb, Object body, long waitMs, Consumer<Promise<Object>> here) {
    Promise<Object> answer = Promise.promise();
    if (cluster == null || !settings.budgets().containsKey(endpoint)) {
      here.accept(answer);
      return answer.future();
    }
    // a report is told to the owner for up to one forward timeout; a status is asked once
    long bound = verb.equals("report") ? settings.forwardTimeoutMs() : verb.equals("status") ? 0 : waitMs;
    new ClusterRequest(answer, endpoint, verb, body, bound).attempt();
    return answer.future();
  }

  /** How often a request is asked again while no budget owner answers (a take-over). */
  private static final long RETRY_MS = 200;

  /**
   * A request for a budgeted endpoint on a cluster, on the instance that owns the endpoint on this node:
   * decided here while this node holds the endpoint's lease, else forwarded to the cluster owner's address.
   * Through a take-over (nobody answers there, the answer times out, the owner says it is stopping or no
   * longer owns the endpoint, a grant's journal write is fenced off) it is asked again every
   * {@link #RETRY_MS}, routed afresh each time, until the caller's wait runs out: the caller waits for the
   * new owner instead of hearing a refusal. A forwarded acquire waits at the owner for at most one lease at
   * a time, so an owner that dies holding it costs at most a lease, not the caller's whole wait.
   */
  private final class ClusterRequest {
    final Promise<Object> answer;
    final String endpoint;
    final String verb;
    final Object body;
    final long startedNanos = System.nanoTime();
    final long deadlineNanos;
    long askedNanos = startedNanos;
    long timer = -1;
    boolean done;

    ClusterRequest(Promise<Object> answer, String endpoint, String verb, Object body, long boundMs) {
      this.answer = answer;
      this.endpoint = endpoint;
      this.verb = verb;
      // one id across this request's attempts: an owner that granted an attempt whose answer never came
      // back answers the next attempt with that permit instead of spending a second one
      this.body = body instanceof PermitRequest permit && permit.requestId() == null
          ? permit.withRequestId(UUID.randomUUID().toString()) : body;
      this.deadlineNanos = startedNanos + boundMs * 1_000_000;
      clusterRequests.add(this);
    }

    long remainingMs() {
      return Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000);
    }

    void attempt() {
      timer = -1;
      if (done) {
        return;
      }
      askedNanos = System.nanoTime();
      long remaining = remainingMs();
      if (cluster.owns(endpoint)) {
        switch (verb) {
          case "acquire" -> limiter(endpoint).acquire(waiting(remaining), this::answered);
          case "report" -> finish(reportNow((RateLimitReport) body));
          default -> finish(new RateLimitStatus(statusBody((RateLimitStatusRequest) body)));
        }
        return;
      }
      boolean acquire = verb.equals("acquire");
      long segment = acquire ? Math.min(remaining, cluster.leaseMs()) : 0;
      vertx.eventBus().request(ClusterOwnership.address(endpoint, verb), acquire ? waiting(segment) : body,
              new DeliveryOptions().setSendTimeout(segment + settings.forwardTimeoutMs()))
          .onComplete(reply -> {
            if (done) {
              return;
            }
            if (reply.failed()) {
              BusFailure failure = BusFailure.of(reply.cause());
              if (failure.infrastructure() || failure.code() == FailureCodes.UNAVAILABLE) {
                retry(reply.cause());
              } else {
                done();
                answer.tryFail(failureOf(reply.cause()));
              }
              return;
            }
            Object answer = reply.result().body();
            if (!acquire) {
              finish(answer);
              return;
            }
            PermitReply permit = answer instanceof PermitReply record ? record : PermitReply.fromJson((JsonObject) answer);
            if (!permit.granted() && !"stopping".equals(permit.blockedBy()) && segment < remaining
                && permit.waitedMs() + 10 >= segment) {
              // held for a whole segment and the caller's wait goes on: wait on at the owner
              attempt();
              return;
            }
            answered(permit);
          });
    }

    private PermitRequest waiting(long waitMs) {
      return ((PermitRequest) body).withWait(waitMs);
    }

    void answered(PermitReply permit) {
      if (done) {
        return;
      }
      if (!permit.granted() && "stopping".equals(permit.blockedBy()) && !stopping) {
        retry(permit);
        return;
      }
      finish(waited(permit));
    }

    /** The time waited here before the answering attempt counts too: the caller's send-by deadline stays safe. */
    private PermitReply waited(PermitReply permit) {
      long before = (askedNanos - startedNanos) / 1_000_000;
      return before <= 0 ? permit
          : new PermitReply(permit.granted(), permit.notBefore(), permit.blockedBy(), before + permit.waitedMs(), permit.validMs());
    }

    private void retry(Object refusal) {
      if (!stopping && remainingMs() > RETRY_MS) {
        timer = vertx.setTimer(RETRY_MS, id -> attempt());
        return;
      }
      if (refusal instanceof PermitReply permit) {
        finish(waited(permit));
      } else {
        done();
        answer.tryFail(failureOf((Throwable) refusal));
      }
    }

    private void finish(Object reply) {
      done();
      answer.tryComplete(reply);
    }

    private void done() {
      done = true;
      clusterRequests.remove(this);
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    }

    /** The instance stops: answered at once, so the caller asks again (and reaches the next owner). */
    void stop() {
      if (done) {
        return;
      }
      if (verb.equals("acquire")) {
        finish(PermitReply.deny(now() + settings.forwardTimeoutMs(), "stopping", (System.nanoTime() - startedNanos) / 1_000_000));
      } else {
        done();
        answer.tryFail(stoppingFailure());
      }
    }
  }

  /** Forwards once to the instance owning the endpoint on this node and relays the answer. */
  private Future<Object> forward(String address, String verb, Object body, long waitMs) {
    // that instance may ask a cluster owner through a take-over for up to the wait plus a forward timeout
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(waitMs + 2 * settings.forwardTimeoutMs());
    Promise<Object> answer = Promise.promise();
    forwarded.put(answer, verb);
    vertx.eventBus().request(address, body, options)
        .onComplete(done -> {
          if (forwarded.remove(answer) == null) {
            return;
          }
          if (done.succeeded()) {
            answer.tryComplete(done.result().body());
          } else {
            answer.tryFail(failureOf(done.cause()));
          }
        });
    return answer.future();
  }

  /** The public addresses and the shard addresses are this node's own: the cluster's go through {@link ClusterOwnership}. */
  private <T> Future<Void> register(String address, Body<T> body, Function<T, Future<?>> handler) {
    return Commands.answerLocal(vertx, address, body, handler, RateLimitVerticle::failureOf);
  }

  private int ownerOf(String endpoint) {
    return Math.floorMod(endpoint.hashCode(), shards);
  }

  private long now() {
    return epochBase + System.nanoTime() / 1_000_000;
  }

  private EndpointLimiter limiter(String endpoint) {
    EndpointLimiter limiter = limiters.get(endpoint);
    if (limiter == null) {
      limiter = newLimiter(endpoint);
      limiters.put(endpoint, limiter);
    }
    return limiter;
  }

  private EndpointLimiter newLimiter(String endpoint) {
    EndpointLimiter limiter = new EndpointLimiter(endpoint, settings, this::now, new EndpointLimiter.Timers() {
      @Override
      public long set(long delayMs, Runnable task) {
        return vertx.setTimer(delayMs, id -> task.run());
      }

      @Override
      public void cancel(long id) {
        vertx.cancelTimer(id);
      }
    });
    limiter.journal(journalFor(endpoint));
    // meters only for configured endpoints: a caller's typo must not grow the registry
    if (settings.budgets().containsKey(endpoint) && !figures.containsKey(endpoint)) {
      registerMeters(limiter);
    }
    return limiter;
  }

  /**
   * Where an endpoint's grants go before the caller hears of them: through the fenced journal on a cluster,
   * into the write-behind buffer on a single node. Either way the crash point {@code ratelimit.granted} sits
   * between the grant being recorded and the reply.
   */
  private EndpointLimiter.Journal journalFor(String endpoint) {
    if (journal != null && settings.budgets().containsKey(endpoint)) {
      return journal.of(endpoint);
    }
    GrantStore behind = cluster == null ? store : null;
    return (at, itemId, reply, caller) -> {
      if (behind != null) {
        behind.granted(endpoint, at, itemId);
      }
      CrashPoints.reach("ratelimit.granted");
      caller.accept(reply);
    };
  }

  // --- public addresses: handle here or forward to the owner

  private Future<Object> acquire(PermitRequest request) {
    long wait = Math.min(request.maxWaitMs(), settings.maxWaitMs());
    return route(request.endpoint(), "acquire", request, wait,
        answer -> limiter(request.endpoint()).acquire(request, answer::tryComplete));
  }

  private Future<Object> report(RateLimitReport report) {
    return route(report.endpoint(), "report", report, 0, answer -> answer.tryComplete(reportNow(report)));
  }

  private Future<Object> status(RateLimitStatusRequest request) {
    if (request.endpoint() != null) {
      return route(request.endpoint(), "status", request, 0,
          answer -> answer.tryComplete(new RateLimitStatus(statusBody(request))));
    }
    List<Future<RateLimitStatus>> parts = new ArrayList<>();
    if (vertx.isClustered()) {
      // each endpoint's figures live on its cluster owner, wherever that is
      for (String endpoint : settings.budgets().keySet()) {
        parts.add(Bus.request(vertx, Addresses.RATELIMIT_STATUS,
            new RateLimitStatusRequest(endpoint, request.itemId()), 2 * settings.forwardTimeoutMs()));
      }
    }
    for (int i = 0; i < shards && !vertx.isClustered(); i++) {
      parts.add(i == shard ? Future.succeededFuture(new RateLimitStatus(statusBody(request)))
          : Bus.request(vertx, Addresses.rateLimitShard(shardPrefix, i, "status"), request, settings.forwardTimeoutMs()));
    }
    return Future.all(parts).map(done -> {
      JsonObject endpoints = new JsonObject();
      for (Future<RateLimitStatus> part : parts) {
        endpoints.mergeIn(part.result().body().getJsonObject("endpoints"));
      }
      return new RateLimitStatus(statusEnvelope(endpoints));
    });
  }

  private Future<Object> route(String endpoint, String verb, Object body, long waitMs, Consumer<Promise<Object>> here) {
    int owner = ownerOf(endpoint);
    if (owner == shard) {
      return decide(endpoint, verb, body, waitMs, here);
    }
    return forward(Addresses.rateLimitShard(shardPrefix, owner, verb), verb, body, waitMs);
  }

  // --- owner addresses: the body is already a parsed record

  private Future<Object> acquireHere(PermitRequest request) {
    long wait = Math.min(request.maxWaitMs(), settings.maxWaitMs());
    return decide(request.endpoint(), "acquire", request, wait,
        answer -> limiter(request.endpoint()).acquire(request, answer::tryComplete));
  }

  private Future<Object> reportHere(RateLimitReport report) {
    return decide(report.endpoint(), "report", report, 0, answer -> answer.tryComplete(reportNow(report)));
  }

  private Future<Object> statusHere(RateLimitStatusRequest request) {
    if (request.endpoint() == null) {
      return Future.succeededFuture(new RateLimitStatus(statusBody(request)));
    }
    return decide(request.endpoint(), "status", request, 0,
        answer -> answer.tryComplete(new RateLimitStatus(statusBody(request))));
  }

  private RateLimitReportReply reportNow(RateLimitReport report) {
    long retryAfter = retryAfterMs(report.retryAfter(), System.currentTimeMillis());
    EndpointLimiter limiter = limiter(report.endpoint());
    RateLimitReportReply reply = limiter.report(report, retryAfter);
    if (store != null && "client".equals(reply.scope())) {
      for (SlidingWindow window : limiter.client().windows()) {
        if (window.last429At() != Long.MIN_VALUE) {
          store.saveLearned(new GrantStore.Learned(report.endpoint(), window.name(), window.lowered(), window.last429At()));
        }
      }
    }
    log.info("Plaid rate limit {} on {} charged to {} scope: closed until {}, effective budget {}",
        report.errorCode(), report.endpoint(), reply.scope(), reply.coolingUntil(), reply.effectiveBudget());
    return reply;
  }

  private JsonObject statusBody(RateLimitStatusRequest request) {
    long now = now();
    JsonObject endpoints = new JsonObject();
    for (EndpointLimiter limiter : limiters.values()) {
      if (request.endpoint() == null || request.endpoint().equals(limiter.endpoint())) {
        JsonObject status = limiter.status(request.itemId(), now);
        if (cluster != null && settings.budgets().containsKey(limiter.endpoint())) {
          status.put("lease", new JsonObject().put("owner", cluster.id())
              .put("fencing_token", cluster.token(limiter.endpoint())));
        }
        endpoints.put(limiter.endpoint(), status);
      }
    }
    return statusEnvelope(endpoints);
  }

  private JsonObject statusEnvelope(JsonObject endpoints) {
    return new JsonObject().put("at", now()).put("window_ms", settings.minuteMs())
        .put("budget_share", settings.budgetShare()).put("endpoints", endpoints);
  }

  /**
   * Retry-After as Plaid might send it (RFC 9110: seconds, or an HTTP date), as milliseconds from now; -1
   * when absent or unreadable, so the configured cool-down applies.
   */
  static long retryAfterMs(String header, long nowEpochMs) {
    if (header == null || header.isBlank()) {
      return -1;
    }
    String text = header.trim();
    try {
      long seconds = Long.parseLong(text);
      return seconds < 0 ? -1 : seconds * 1_000;
    } catch (NumberFormatException notSeconds) {
      try {
        long at = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
        return Math.max(0, at - nowEpochMs);
      } catch (DateTimeParseException notDate) {
        return -1;
      }
    }
  }

  /** A failure from a forward or a cluster owner, as this address answers it: absence and silence are UNAVAILABLE. */
  private static CommandFailure failureOf(Throwable failure) {
    if (failure instanceof CommandFailure command) {
      return command;
    }
    BusFailure typed = failure instanceof Bus.BusException bus ? bus.failure() : BusFailure.of(failure);
    return new CommandFailure(typed.infrastructure() ? FailureCodes.UNAVAILABLE : typed.code(), typed.message());
  }

  private static CommandFailure stoppingFailure() {
    return new CommandFailure(FailureCodes.UNAVAILABLE, "the rate limiter is stopping");
  }

  // --- housekeeping and metrics

  private void sweep() {
    long now = now();
    long dbNow = now + (cluster == null ? 0 : cluster.dbOffsetMs());
    if (store != null && shard == 0) {
      store.prune(dbNow - settings.hourMs() - settings.minuteMs() - settings.marginMs());
    }
    if (cluster != null) {
      // an owner keeps its endpoints' journals to their longest window (a minute for most: far fewer rows)
      for (EndpointLimiter limiter : limiters.values()) {
        if (cluster.owns(limiter.endpoint())) {
          store.prune(limiter.endpoint(), dbNow - limiter.horizonMs() - settings.marginMs());
        }
      }
    }
    for (EndpointLimiter limiter : limiters.values()) {
      limiter.sweep(now);
    }
  }

  /** Meters read a snapshot the owner refreshes, never the limiter itself, which only its event loop may touch. */
  private static final class Figures {
    final AtomicLong[] configured = {new AtomicLong(), new AtomicLong()};
    final AtomicLong[] effective = {new AtomicLong(), new AtomicLong()};
    final AtomicLong[] used = {new AtomicLong(), new AtomicLong()};
    final AtomicLong waiting = new AtomicLong();
    final AtomicLong granted = new AtomicLong();
    final AtomicLong denied = new AtomicLong();
    final AtomicLong rateLimited = new AtomicLong();
    final AtomicLong coolingItems = new AtomicLong();
    /** Counts of the limiters this instance retired (ownership lost, taken over again): counters never go back. */
    long grantedBefore;
    long deniedBefore;
    long rateLimitedBefore;

    void retired(EndpointLimiter limiter) {
      grantedBefore += limiter.granted();
      deniedBefore += limiter.denied();
      rateLimitedBefore += limiter.rateLimited();
      granted.set(grantedBefore);
      denied.set(deniedBefore);
      rateLimited.set(rateLimitedBefore);
      for (AtomicLong use : used) {
        use.set(0);
      }
      waiting.set(0);
      coolingItems.set(0);
    }
  }

  private void registerMeters(EndpointLimiter limiter) {
    Figures snapshot = new Figures();
    figures.put(limiter.endpoint(), snapshot);
    if (registry == null) {
      return;
    }
    Tags endpoint = Tags.of("endpoint", limiter.endpoint());
    List<SlidingWindow> windows = limiter.client().windows();
    for (int i = 0; i < windows.size(); i++) {
      int w = i;
      Tags tags = endpoint.and("window", windows.get(i).name());
      meters.add(Gauge.builder("mingus.ratelimit.budget", snapshot, s -> s.configured[w].get()).tags(tags)
          .description("Configured Plaid requests per window, client-wide").register(registry));
      meters.add(Gauge.builder("mingus.ratelimit.effective", snapshot, s -> s.effective[w].get()).tags(tags)
          .description("Budget in force after learning from 429s").register(registry));
      meters.add(Gauge.builder("mingus.ratelimit.used", snapshot, s -> s.used[w].get()).tags(tags)
          .description("Permits granted in the window ending now").register(registry));
      meters.add(Gauge.builder("mingus.ratelimit.remaining", snapshot,
              s -> Math.max(0, s.effective[w].get() - s.used[w].get())).tags(tags)
          .description("Permits left in the window ending now").register(registry));
    }
    meters.add(Gauge.builder("mingus.ratelimit.waiting", snapshot, s -> s.waiting.get()).tags(endpoint)
        .description("Callers held for a permit").register(registry));
    meters.add(Gauge.builder("mingus.ratelimit.items.cooling", snapshot, s -> s.coolingItems.get()).tags(endpoint)
        .description("Items closed after a 429").register(registry));
    meters.add(FunctionCounter.builder("mingus.ratelimit.granted", snapshot, s -> s.granted.get()).tags(endpoint)
        .description("Permits granted").register(registry));
    meters.add(FunctionCounter.builder("mingus.ratelimit.denied", snapshot, s -> s.denied.get()).tags(endpoint)
        .description("Permit requests answered with a not-before").register(registry));
    meters.add(FunctionCounter.builder("mingus.ratelimit.rate_limited", snapshot, s -> s.rateLimited.get())
        .tags(endpoint).description("429s reported by callers").register(registry));
  }

  private void refreshFigures() {
    long now = now();
    for (EndpointLimiter limiter : limiters.values()) {
      Figures snapshot = figures.get(limiter.endpoint());
      if (snapshot == null) {
        continue;
      }
      List<SlidingWindow> windows = limiter.client().windows();
      for (int i = 0; i < windows.size(); i++) {
        snapshot.configured[i].set(windows.get(i).configured());
        snapshot.effective[i].set(windows.get(i).effective(now));
        snapshot.used[i].set(windows.get(i).used(now));
      }
      snapshot.waiting.set(limiter.waiting());
      snapshot.granted.set(snapshot.grantedBefore + limiter.granted());
      snapshot.denied.set(snapshot.deniedBefore + limiter.denied());
      snapshot.rateLimited.set(snapshot.rateLimitedBefore + limiter.rateLimited());
      snapshot.coolingItems.set(limiter.coolingItems(now));
    }
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    Future<Void> unregistered = cluster == null ? Future.succeededFuture() : cluster.stop();
    long now = now();
    limiters.values().forEach(limiter -> limiter.close(now));
    forwarded.forEach((answer, verb) -> {
      if (verb.equals("acquire")) {
        answer.tryComplete(PermitReply.deny(now() + settings.forwardTimeoutMs(), "stopping", 0));
      } else {
        answer.tryFail(stoppingFailure());
      }
    });
    forwarded.clear();
    new ArrayList<>(clusterRequests).forEach(ClusterRequest::stop);
    vertx.cancelTimer(sweepTimer);
    vertx.cancelTimer(metricsTimer);
    if (registry != null) {
      meters.forEach(registry::remove);
    }
    if (store == null) {
      return unregistered;
    }
    vertx.cancelTimer(flushTimer);
    // the grants out are answered, then the leases go back, so the next owner reads every one of them
    Future<Void> drained = journal == null ? Future.succeededFuture() : journal.drain();
    return unregistered.compose(done -> drained)
        .compose(done -> cluster == null ? Future.<Void>succeededFuture() : cluster.release())
        .compose(done -> store.close());
  }
}
