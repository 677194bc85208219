package com.mingus.reliability.ratelimit;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.BusFailure;
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
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
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
 * consumers. On a cluster the same rule goes one level up ({@link ClusterOwnership}, docs/cluster.md): the
 * instance owning an endpoint on its node decides only while it holds the endpoint's cluster-wide lock, and
 * otherwise forwards once more, over the clustered bus, to the node that does.
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
  private final Map<Message<Object>, String> forwarded = new IdentityHashMap<>();

  @Override
  public Future<?> start() {
    try {
      settings = RateLimitConfig.from(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    epochBase = System.currentTimeMillis() - System.nanoTime() / 1_000_000;
    cluster = vertx.isClustered() ? clusterOwnership() : null;
    // the deployment's own count, so a config that disagrees with it can never make two owners of a budget
    shards = Math.max(1, context.getInstanceCount());
    shardPrefix = "ratelimit.shard." + context.deploymentID() + ".";
    registry = config().getString("metrics_registry") == null ? null
        : BackendRegistries.getNow(config().getString("metrics_registry"));
    boolean persist = config().getBoolean("persist", true) && config().getJsonObject("database") != null;
    return vertx.sharedData().getLocalCounter(shardPrefix + "instances")
        .compose(counter -> counter.getAndIncrement())
        .compose(number -> {
          shard = (int) (number % shards);
          if (persist) {
            store = new GrantStore(Pools.create(vertx, config().getJsonObject("database").copy().put("pool_size", 1),
                "ratelimit-" + shard));
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
          if (store != null) {
            flushTimer = vertx.setPeriodic(config().getLong("persist_interval_ms", 250L), id -> store.flush());
          }
          refreshFigures();
          List<Future<Void>> registered = new ArrayList<>();
          registered.add(register(shardPrefix + shard + ".acquire", this::acquireHere));
          registered.add(register(shardPrefix + shard + ".report", this::reportHere));
          registered.add(register(shardPrefix + shard + ".status", this::statusHere));
          registered.add(register(Addresses.RATELIMIT_ACQUIRE, this::acquire));
          registered.add(register(Addresses.RATELIMIT_REPORT, this::report));
          registered.add(register(Addresses.RATELIMIT_STATUS, this::status));
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
            for (SlidingWindow window : limiter(endpoint).client().windows()) {
              for (GrantStore.Grants grant : list) {
                for (int i = 0; i < grant.count(); i++) {
                  window.restore(grant.at());
                }
              }
            }
            list.forEach(grant -> restored[0] += grant.count());
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
    return new ClusterOwnership(vertx, clusterConfig.getLong("poll_ms", 500L),
        clusterConfig.getLong("lock_timeout_ms", 100L), new ClusterOwnership.Owner() {
          @Override
          public Future<Void> tookOver(String endpoint, boolean previousOwnerExisted) {
            // the owners map can lose an entry written while its owner was alone; the stored grants cannot
            Future<Boolean> someoneDecided = previousOwnerExisted || store == null
                ? Future.succeededFuture(previousOwnerExisted)
                : store.grantedSince(endpoint, now() - settings.minuteMs() - settings.marginMs()).map(count -> count > 0);
            return someoneDecided.map(existed -> {
              if (existed) {
                limiter(endpoint).assumeFull(now());
                log.warn("Took over the Plaid budget of {} from a previous owner: its last window counts as fully used",
                    endpoint);
              }
              return (Void) null;
            });
          }

          @Override
          public io.vertx.core.Handler<Message<Object>> handler(String verb) {
            // a request routed here after this node lost the endpoint (a stale route) is refused, never decided
            return switch (verb) {
              case "acquire" -> message -> decodeThen(message, PermitRequest.class, PermitRequest::fromJson,
                  request -> ifOwner(message, request.endpoint(), () -> limiter(request.endpoint()).acquire(request, message::reply)));
              case "report" -> message -> decodeThen(message, RateLimitReport.class, RateLimitReport::fromJson,
                  report -> ifOwner(message, report.endpoint(), () -> message.reply(reportNow(report))));
              default -> message -> decodeThen(message, RateLimitStatusRequest.class, RateLimitStatusRequest::fromJson,
                  request -> ifOwner(message, request.endpoint(), () -> message.reply(new RateLimitStatus(statusBody(request)))));
            };
          }
        });
  }

  private void ifOwner(Message<Object> message, String endpoint, Runnable decide) {
    if (endpoint != null && cluster.owns(endpoint)) {
      decide.run();
    } else {
      message.fail(FailureCodes.UNAVAILABLE, "this node does not own the Plaid budget of " + endpoint);
    }
  }

  private <T> void decodeThen(Message<Object> message, Class<T> type, Function<JsonObject, T> fromJson,
      java.util.function.Consumer<T> then) {
    T body = parse(message, type, fromJson);
    if (body != null) {
      then.accept(body);
    }
  }

  /**
   * On the instance that owns an endpoint on this node: decide here when this node owns it cluster-wide
   * (or on a single node, or for an endpoint without a budget), else forward once to the cluster owner.
   */
  private void decide(Message<Object> message, String endpoint, String verb, Object body, long waitMs, Runnable here) {
    if (cluster == null || cluster.owns(endpoint) || !settings.budgets().containsKey(endpoint)) {
      here.run();
      return;
    }
    forward(message, ClusterOwnership.address(endpoint, verb), verb, body, waitMs);
  }

  /** Forwards once and relays the answer; a request still out when this instance stops is answered then. */
  private void forward(Message<Object> message, String address, String verb, Object body, long waitMs) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(waitMs + settings.forwardTimeoutMs());
    forwarded.put(message, verb);
    vertx.eventBus().request(address, body, options)
        .onComplete(done -> {
          if (forwarded.remove(message) == null) {
            return;
          }
          if (done.succeeded()) {
            message.reply(done.result().body());
          } else {
            fail(message, done.cause());
          }
        });
  }

  private Future<Void> register(String address, io.vertx.core.Handler<Message<Object>> handler) {
    MessageConsumer<Object> consumer = vertx.eventBus().localConsumer(address, handler);
    return consumer.completion();
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
      limiter = new EndpointLimiter(endpoint, settings, this::now, new EndpointLimiter.Timers() {
        @Override
        public long set(long delayMs, Runnable task) {
          return vertx.setTimer(delayMs, id -> task.run());
        }

        @Override
        public void cancel(long id) {
          vertx.cancelTimer(id);
        }
      });
      limiters.put(endpoint, limiter);
      if (store != null) {
        limiter.onClientGrant(at -> store.granted(endpoint, at));
      }
      // meters only for configured endpoints: a caller's typo must not grow the registry
      if (settings.budgets().containsKey(endpoint)) {
        registerMeters(limiter);
      }
    }
    return limiter;
  }

  // --- public addresses: parse, then handle here or forward to the owner

  private void acquire(Message<Object> message) {
    PermitRequest request = parse(message, PermitRequest.class, PermitRequest::fromJson);
    if (request == null) {
      return;
    }
    long wait = Math.min(request.maxWaitMs(), settings.maxWaitMs());
    route(message, request.endpoint(), "acquire", request, wait, () -> limiter(request.endpoint()).acquire(request, message::reply));
  }

  private void report(Message<Object> message) {
    RateLimitReport report = parse(message, RateLimitReport.class, RateLimitReport::fromJson);
    if (report == null) {
      return;
    }
    route(message, report.endpoint(), "report", report, 0, () -> message.reply(reportNow(report)));
  }

  private void status(Message<Object> message) {
    RateLimitStatusRequest request = parse(message, RateLimitStatusRequest.class, RateLimitStatusRequest::fromJson);
    if (request == null) {
      return;
    }
    if (request.endpoint() != null) {
      route(message, request.endpoint(), "status", request, 0,
          () -> message.reply(new RateLimitStatus(statusBody(request))));
      return;
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
          : Bus.request(vertx, shardPrefix + i + ".status", request, settings.forwardTimeoutMs()));
    }
    Future.all(parts).onComplete(done -> {
      if (done.failed()) {
        fail(message, done.cause());
        return;
      }
      JsonObject endpoints = new JsonObject();
      for (Future<RateLimitStatus> part : parts) {
        endpoints.mergeIn(part.result().body().getJsonObject("endpoints"));
      }
      message.reply(new RateLimitStatus(statusEnvelope(endpoints)));
    });
  }

  private void route(Message<Object> message, String endpoint, String verb, Object body, long waitMs, Runnable here) {
    int owner = ownerOf(endpoint);
    if (owner == shard) {
      decide(message, endpoint, verb, body, waitMs, here);
      return;
    }
    forward(message, shardPrefix + owner + "." + verb, verb, body, waitMs);
  }

  // --- owner addresses: the body is already a parsed record

  private void acquireHere(Message<Object> message) {
    PermitRequest request = (PermitRequest) message.body();
    long wait = Math.min(request.maxWaitMs(), settings.maxWaitMs());
    decide(message, request.endpoint(), "acquire", request, wait,
        () -> limiter(request.endpoint()).acquire(request, message::reply));
  }

  private void reportHere(Message<Object> message) {
    RateLimitReport report = (RateLimitReport) message.body();
    decide(message, report.endpoint(), "report", report, 0, () -> message.reply(reportNow(report)));
  }

  private void statusHere(Message<Object> message) {
    RateLimitStatusRequest request = (RateLimitStatusRequest) message.body();
    if (request.endpoint() == null) {
      message.reply(new RateLimitStatus(statusBody(request)));
      return;
    }
    decide(message, request.endpoint(), "status", request, 0,
        () -> message.reply(new RateLimitStatus(statusBody(request))));
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
        endpoints.put(limiter.endpoint(), limiter.status(request.itemId(), now));
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

  private <T> T parse(Message<Object> message, Class<T> type, Function<JsonObject, T> fromJson) {
    Object body = message.body();
    try {
      if (type.isInstance(body)) {
        return type.cast(body);
      }
      if (body instanceof JsonObject json) {
        return fromJson.apply(json);
      }
      message.fail(FailureCodes.INVALID_REQUEST, "expected a " + type.getSimpleName() + " or its JSON");
    } catch (IllegalArgumentException | ClassCastException e) {
      message.fail(FailureCodes.INVALID_REQUEST, "invalid " + type.getSimpleName() + ": " + e.getMessage());
    }
    return null;
  }

  private static void fail(Message<Object> message, Throwable failure) {
    BusFailure typed = failure instanceof Bus.BusException bus ? bus.failure() : BusFailure.of(failure);
    message.fail(typed.infrastructure() ? FailureCodes.UNAVAILABLE : typed.code(), typed.message());
  }

  // --- housekeeping and metrics

  private void sweep() {
    long now = now();
    if (store != null && shard == 0) {
      store.prune(now - settings.hourMs() - settings.marginMs());
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
      snapshot.granted.set(limiter.granted());
      snapshot.denied.set(limiter.denied());
      snapshot.rateLimited.set(limiter.rateLimited());
      snapshot.coolingItems.set(limiter.coolingItems(now));
    }
  }

  @Override
  public Future<?> stop() {
    Future<Void> released = cluster == null ? Future.succeededFuture() : cluster.stop();
    forwarded.forEach((message, verb) -> {
      if (verb.equals("acquire")) {
        message.reply(PermitReply.deny(now() + settings.forwardTimeoutMs(), "stopping", 0));
      } else {
        message.fail(FailureCodes.UNAVAILABLE, "the rate limiter is stopping");
      }
    });
    forwarded.clear();
    vertx.cancelTimer(sweepTimer);
    vertx.cancelTimer(metricsTimer);
    long now = now();
    limiters.values().forEach(limiter -> limiter.close(now));
    if (registry != null) {
      meters.forEach(registry::remove);
    }
    if (store != null) {
      vertx.cancelTimer(flushTimer);
      return released.compose(done -> store.close());
    }
    return released;
  }
}
