package com.mingus.reliability.health;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.BusFailure;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ConnectionHealth;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.Commands;
import com.mingus.reliability.bus.Commands.CommandFailure;
import com.mingus.reliability.bus.Commands.Body;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.InstitutionHealth;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.PingReply;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.health.HealthMachine.Input;
import com.mingus.reliability.health.HealthMachine.Signal;
import com.mingus.reliability.plaid.PlaidClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.sqlclient.Pool;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Health tracking: each connection's health from sync events (state machine {@link HealthMachine}, kept in
 * PostgreSQL), reliability metrics, coalesced change events, the notifications a user must get, and the bus
 * commands; each bank's health (rates, Plaid's status, the {@link Circuit}, maintenance windows) is the
 * {@link BankTracker}'s, which hands its bank-wide signals back to be applied to each connection.
 *
 * <p>Deployed as one instance per node, consuming the sync events of its own node (local consumers): on a
 * cluster each event is applied once, by the node whose sync published it, and the per-connection writes
 * (row lock, applied-event claims) keep one truth in the database. Bank state (rates, circuits) is each node's view
 * of its own syncs; a circuit that opens on one node pauses the bank in PostgreSQL, for every node's sync;
 * pause, probe and resume are idempotent on sync's side.
 */
public final class HealthVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HealthVerticle.class);

  private HealthSettings settings;
  private Pool pool;
  private HealthStore store;
  private ReadCache reads;
  private PlaidClient plaid;
  private MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();
  private final Map<String, AtomicLong> statusGauges = new LinkedHashMap<>();
  private final AtomicLong reliabilityScore = new AtomicLong();
  private Coalescer<ConnectionHealth> healthEvents;
  private Coalescer<InstitutionHealth> institutionEvents;
  private BankTracker banks;
  /** Every change of a connection on its way to the database, in batches, each connection's in arrival order. */
  private ApplyQueue<HealthStore.Change, HealthStore.Applied> changes;
  private final List<Long> timers = new ArrayList<>();
  private boolean stopping;

  @Override
  public Future<?> start() {
    try {
      settings = HealthSettings.from(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    MessageCodecs.register(vertx.eventBus());
    pool = Pools.create(vertx, config().getJsonObject("database"), "health");
    store = new HealthStore(pool, HealthVerticle::noticeRequest, settings.noticeRedriveAfterMs());
    changes = new ApplyQueue<>(vertx, settings.applyShards(), settings.applyMaxBatch(), settings.applyLingerMs(),
        batch -> timed(batch.size(), store.applyBatch(batch)).onFailure(failure -> log.warn(
            "A batch of {} health change(s) was not applied (each is applied when told again): {}", batch.size(),
            failure.getMessage())));
    JsonObject plaidSection = config().getJsonObject("plaid");
    plaid = plaidSection == null || plaidSection.getString("base_url") == null ? null
        : PlaidClient.create(vertx, plaidSection);
    String registryName = config().getString("metrics_registry");
    registry = registryName == null ? null : BackendRegistries.getNow(registryName);
    healthEvents = new Coalescer<>(vertx, settings.coalesceMs(),
        health -> vertx.eventBus().publish(Addresses.HEALTH_CHANGED, health));
    institutionEvents = new Coalescer<>(vertx, settings.institutionCoalesceMs(),
        bank -> vertx.eventBus().publish(Addresses.INSTITUTION_CHANGED, bank));
    banks = new BankTracker(vertx, settings, store, plaid, institutionEvents, new BankTracker.Connections() {
      @Override
      public void signal(String institutionId, String key, Input input) {
        toEveryConnection(institutionId, key, input);
      }

      @Override
      public void send(NotifySend request, String kind) {
        HealthVerticle.this.send(request, kind);
      }

      @Override
      public void count(String name, String... tags) {
        HealthVerticle.this.count(name, tags);
      }
    });
    reads = new ReadCache(settings.readCacheMs(), settings.readCacheEntries(), System::nanoTime);
    registerMeters();

    List<Future<?>> started = new ArrayList<>();
    // another node's change (this node's own are dropped as they are applied, before they are published)
    started.add(vertx.eventBus().<Object>consumer(Addresses.HEALTH_CHANGED, message -> {
      String changed = message.body() instanceof ConnectionHealth health ? health.connectionId()
          : message.body() instanceof JsonObject json ? json.getString("connection_id") : null;
      if (changed != null) {
        reads.drop(changed);
      }
    }).completion());
    // Local: sync's outbox relay hands each event to its own node's health, and answers come back once the
    // event is applied and committed (docs/cluster.md); a redelivery (any node's relay, after a death) is a
    // duplicate and changes nothing.
    started.add(Commands.answerLocal(vertx, Addresses.HEALTH_APPLY, Body.of(SyncEvent.class, SyncEvent::fromJson),
        event -> onEvent(event).map(applied -> new JsonObject().put("applied", applied)),
        failure -> new CommandFailure(FailureCodes.UNAVAILABLE, "health could not apply the event: " + failure.getMessage())));
    started.add(command(Addresses.HEALTH_CONNECTIONS, this::connections));
    started.add(command(Addresses.HEALTH_CONNECTION, this::connection));
    started.add(command(Addresses.HEALTH_OVERVIEW, this::overview));
    started.add(command(Addresses.HEALTH_CONNECTION_METRICS, this::connectionMetrics));
    started.add(command(Addresses.HEALTH_INSTITUTIONS, body -> Future.succeededFuture(banks.institutions())));
    started.add(Bus.answerPing(vertx, "health", () -> pool.query("SELECT 1").execute().map(rows -> PingReply.up("health")))
        .completion());
    return Future.all(started)
        .compose(ok -> banks.start())
        .onSuccess(ok -> {
          timers.add(vertx.setPeriodic(settings.metricsIntervalMs(), id -> refreshFigures()));
          timers.add(vertx.setPeriodic(Math.max(60_000, settings.coalesceMs() * 10), id -> {
            healthEvents.sweep();
            institutionEvents.sweep();
          }));
          timers.add(vertx.setPeriodic(settings.noticeRedriveEveryMs(), id -> redriveNotices()));
          timers.add(vertx.setPeriodic(Math.min(600_000, settings.eventMemoryMs()), id -> store
              .forgetEvents(settings.eventMemoryMs())
              .onFailure(failure -> log.debug("Applied-event claims not pruned: {}", failure.getMessage()))));
          reconcile();
        });
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    changes.close();
    timers.forEach(vertx::cancelTimer);
    banks.stop();
    healthEvents.cancel();
    institutionEvents.cancel();
    if (registry != null) {
      meters.forEach(registry::remove);
    }
    if (plaid != null) {
      plaid.close();
    }
    return pool.close();
  }

  // --- connection events ------------------------------------------------------------------------------

  /** Applies one sync event; completes with true when it changed something, false for a duplicate or nothing to do. */
  private Future<Boolean> onEvent(SyncEvent event) {
    if (event.connectionId() == null) {
      return Future.succeededFuture(false);
    }
    if (stopping) {
      return Future.failedFuture(new IllegalStateException("health is stopping"));
    }
    Instant at = instant(event.at(), now());
    switch (event.kind() == null ? "" : event.kind()) {
      case SyncEvent.REGISTERED -> {
        banks.bank(event.institutionId(), event.institutionName());
        return changes.submit(event.connectionId(), HealthStore.Change.event(event.connectionId(), "registered", null,
            () -> fresh(event), (health, stale) -> health, null)).compose(this::after);
      }
      case SyncEvent.REMOVED -> {
        return changes.submit(event.connectionId(), HealthStore.Change.removal(event.connectionId())).map(v -> {
          reads.drop(event.connectionId());
          ConnectionHealth gone = ConnectionHealth.fresh(event.connectionId(), event.userId(), event.itemId(),
              event.institutionId(), event.institutionName(), now());
          // The user removed it: listeners see it go; nobody is told about their own removal.
          healthEvents.offer(event.connectionId(), new ConnectionHealth(gone.connectionId(), gone.userId(), gone.itemId(),
              gone.institutionId(), gone.institutionName(), ConnectionStatus.DISCONNECTED, now(), null, null, 0, 0, 0,
              null, 0, null, false, null, now()));
          return true;
        });
      }
      case SyncEvent.COMPLETED, SyncEvent.FAILED -> {
        Input input = syncInput(event, at);
        if (input == null) {
          banks.observe(event);
          return Future.succeededFuture(false);
        }
        // the bank's rates count each sync once: not again when the event is delivered again
        return applyTo(event, "sync:" + event.kind() + ":" + event.syncId(), input).onSuccess(applied -> {
          if (applied) {
            banks.observe(event);
          }
        });
      }
      case SyncEvent.ITEM -> {
        Input input = itemInput(event, at);
        return input == null ? Future.succeededFuture(false)
            : applyTo(event, "item:" + event.webhookCode() + ":" + event.at(), input);
      }
      default -> {
        return Future.succeededFuture(false);
      }
    }
  }

  private Future<Boolean> applyTo(SyncEvent event, String key, Input input) {
    // No row from a sync or webhook event: a connection health never saw registered is added by the
    // reconciliation, and one already removed must not come back from a late event.
    return changes.submit(event.connectionId(), HealthStore.Change.event(event.connectionId(), key, input.at(), null,
        (health, stale) -> HealthMachine.apply(named(health, event), input, now(), stale),
        health -> correctedNotice(health, event))).compose(this::after);
  }

  /**
   * A sync whose reconciliation repaired the user's data tells them (account_update), once per run: what
   * they saw may have changed under them. Null for every other event.
   */
  static JsonObject correctedNotice(ConnectionHealth health, SyncEvent event) {
    JsonObject run = event.detail() == null ? null : event.detail().getJsonObject("reconciliation");
    if (run == null || !"repaired".equals(run.getString("status")) || event.syncId() == null) {
      return null;
    }
    int transactions = run.getInteger("missing", 0) + run.getInteger("extra", 0) + run.getInteger("changed", 0);
    int balances = run.getInteger("balances_changed", 0);
    String detail = "We checked your account against your bank's records and corrected "
        + (transactions > 0 ? transactions + " transaction" + (transactions == 1 ? "" : "s") : "")
        + (transactions > 0 && balances > 0 ? " and " : "")
        + (balances > 0 ? balances + " balance" + (balances == 1 ? "" : "s") : "") + ".";
    JsonObject data = new JsonObject()
        .put("institution_name", health.institutionName() == null ? "your bank" : health.institutionName())
        .put("action_required_text", "Nothing to do: your account now matches your bank.")
        .put("status", health.status().wire())
        .put("kind", "data_corrected")
        .put("detail", detail);
    return new NotifySend(health.userId(), NotificationType.ACCOUNT_UPDATE.wire(), health.connectionId(),
        health.connectionId() + ":reconciled:" + event.syncId(), data, null, NotificationPriority.LOW.wire(), null, null)
        .toJson();
  }

  private static ConnectionHealth named(ConnectionHealth h, SyncEvent event) {
    if (event.institutionName() == null || event.institutionName().equals(h.institutionName())) {
      return h;
    }
    return new ConnectionHealth(h.connectionId(), h.userId(), h.itemId(), h.institutionId(), event.institutionName(),
        h.status(), h.statusSince(), h.lastSuccessfulSync(), h.lastError(), h.syncSuccessCount(), h.syncFailureCount(),
        h.consecutiveFailures(), h.maintenanceUntil(), h.retryAttempts(), h.nextRetry(), h.consentExpiring(),
        h.consentExpirationTime(), h.updatedAt());
  }

  private ConnectionHealth fresh(SyncEvent event) {
    return ConnectionHealth.fresh(event.connectionId(), event.userId(), event.itemId(), event.institutionId(),
        event.institutionName(), now());
  }

  /** The machine's input for a sync outcome, or null when it says nothing about health. */
  static Input syncInput(SyncEvent event, Instant at) {
    Instant nextRetry = instant(event.nextSyncAt(), null);
    if (SyncEvent.COMPLETED.equals(event.kind())) {
      return new Input(Signal.SYNC_SUCCEEDED, at, null, 0, null, null, null, true);
    }
    Classification plan = event.classification() == null ? null : Classification.fromJson(event.classification());
    if (plan == null) {
      if (event.failure() == null && "rate_limited".equals(event.status())) {
        // Our own limiter said "not yet": Plaid was never called, so it is no failed sync.
        return new Input(Signal.RATE_LIMITED, at, null, 0, nextRetry, null, null, false);
      }
      JsonObject error = new JsonObject().put("category", "unknown_error").put("at", at.toString())
          .put("message", event.detail() == null ? null : event.detail().getString("message"));
      if (event.failure() != null) {
        error.put("error_type", event.failure().getString("error_type"))
            .put("error_code", event.failure().getString("error_code"));
      }
      return new Input(Signal.FAILED_DEGRADED, at, error, 0, nextRetry, null, null, true);
    }
    Signal signal = switch (plan.connectionStatus()) {
      case ACTIVE -> null;
      case DEGRADED -> Signal.FAILED_DEGRADED;
      case ERROR -> Signal.FAILED_ERROR;
      case RATE_LIMITED -> Signal.RATE_LIMITED;
      case MAINTENANCE -> Signal.FAILED_MAINTENANCE;
      case REQUIRES_REAUTH -> Signal.FAILED_REAUTH;
      case PENDING_EXPIRATION -> Signal.WARN_PENDING_EXPIRATION;
      case DISCONNECTED -> Signal.FAILED_DISCONNECTED;
    };
    if (signal == null) {
      return null;
    }
    JsonObject error = new JsonObject()
        .put("category", plan.category().wire())
        .put("error_type", plan.errorType())
        .put("error_code", plan.errorCode())
        .put("message", plan.message())
        .put("user_action", plan.userAction().wire())
        .put("notification_type", plan.notificationType() == null ? null : plan.notificationType().wire())
        .put("priority", plan.priority() == null ? null : plan.priority().wire())
        .put("next_step", plan.nextStep().wire())
        .put("institution_wide", plan.institutionWide())
        .put("at", at.toString());
    return new Input(signal, at, error, plan.attempt(), nextRetry, null, null, true);
  }

  /** The machine's input for a Plaid ITEM webhook, or null when it says nothing about health. */
  static Input itemInput(SyncEvent event, Instant at) {
    String code = event.webhookCode() == null ? "" : event.webhookCode();
    JsonObject detail = event.detail() == null ? new JsonObject() : event.detail();
    return switch (code) {
      case "LOGIN_REPAIRED" -> Input.of(Signal.LOGIN_REPAIRED, at);
      case "PENDING_EXPIRATION", "PENDING_DISCONNECT" -> new Input(Signal.WARN_PENDING_EXPIRATION, at, null, 0, null,
          instant(detail.getString("consent_expiration_time"), null), null, false);
      case "USER_PERMISSION_REVOKED", "USER_ACCOUNT_REVOKED" -> new Input(Signal.ACCESS_REVOKED, at,
          new JsonObject().put("category", "item_error").put("error_code", code).put("at", at.toString())
              .put("message", "Access to this bank was revoked. Link the account again to keep it up to date.")
              .put("user_action", "relink"), 0, null, null, null, false);
      case "ERROR" -> {
        JsonObject error = detail.getJsonObject("error");
        String errorCode = error == null ? null : error.getString("error_code");
        yield "ITEM_LOGIN_REQUIRED".equals(errorCode)
            ? new Input(Signal.FAILED_REAUTH, at, new JsonObject().put("category", "authentication_error")
                .put("error_type", error.getString("error_type")).put("error_code", errorCode)
                .put("message", "Your bank needs you to sign in again. Reconnect this account to keep it up to date.")
                .put("user_action", "reconnect").put("at", at.toString()), 0, null, null, null, false)
            : null;
      }
      default -> null;
    };
  }

  private Future<Boolean> after(HealthStore.Applied applied) {
    if (applied.duplicate() || applied.after() == null) {
      return Future.succeededFuture(false);
    }
    ConnectionHealth after = applied.after();
    reads.drop(after.connectionId());
    if (applied.before() != null && applied.before().status() != after.status()) {
      count("mingus.health.transitions", "from", applied.before().status().wire(), "to", after.status().wire());
      log.debug("Connection {}: {} -> {}", after.connectionId(), applied.before().status().wire(), after.status().wire());
    }
    if (applied.changed()) {
      healthEvents.offer(after.connectionId(), after);
    }
    if (applied.noticeRequest() != null) {
      send(NotifySend.fromJson(applied.noticeRequest()), applied.notice().kind());
    }
    if (applied.eventNotice() != null) {
      send(NotifySend.fromJson(applied.eventNotice()), applied.eventNotice().getJsonObject("data").getString("kind"));
    }
    return Future.succeededFuture(true);
  }

  /** A bank-wide signal (from the bank tracker) applied to each of the bank's connections, each once. */
  private void toEveryConnection(String institutionId, String key, Input input) {
    store.connectionsOf(institutionId).onSuccess(ids -> ids.forEach(id -> toConnection(id, key, input, 1)))
        .onFailure(failure -> log.warn("Bank {}: connections not updated for {}: {}", institutionId, input.signal(),
            failure.getMessage()));
  }

  /** Nobody tells a bank-wide signal again, so a batch that failed is retried here (its key makes it count once). */
  private void toConnection(String connectionId, String key, Input input, int attempt) {
    changes.submit(connectionId, HealthStore.Change.event(connectionId, key, input.at(), null,
            (health, stale) -> HealthMachine.apply(health, input, now(), stale), null))
        .compose(this::after)
        .onFailure(failure -> {
          if (attempt < 3 && !stopping) {
            timers.add(vertx.setTimer(200L * attempt, id -> toConnection(connectionId, key, input, attempt + 1)));
          } else {
            log.warn("Connection {}: {} not applied: {}", connectionId, input.signal(), failure.getMessage());
          }
        });
  }

  // --- notifications ----------------------------------------------------------------------------------

  /** The notify.send request of a change a user must hear about; the dedupe key makes every repeat the same one. */
  static JsonObject noticeRequest(ConnectionHealth health, HealthMachine.Notice notice, String dedupeKey) {
    JsonObject data = new JsonObject()
        .put("institution_name", health.institutionName() == null ? "your bank" : health.institutionName())
        .put("action_required_text", notice.actionText())
        .put("status", health.status().wire())
        .put("kind", notice.kind())
        .put("detail", health.lastError() == null ? notice.actionText()
            : health.lastError().getString("message", notice.actionText()));
    if (health.maintenanceUntil() != null) {
      data.put("completion_time", health.maintenanceUntil().toString());
    }
    return new NotifySend(health.userId(), notice.type().wire(), health.connectionId(), dedupeKey, data, null,
        notice.priority().wire(), null, null).toJson();
  }

  /**
   * Hands a pending notice to notify (this node's first) and forgets it once notify has accepted it. One
   * not accepted stays pending in the connection's row, and any node's redrive sends it again.
   */
  private void send(NotifySend request, String kind) {
    Bus.handOff(vertx, Addresses.NOTIFY_SEND, request, settings.busTimeoutMs(), settings.busTimeoutMs() * 2, true)
        .compose(reply -> {
          count("mingus.health.notifications", "kind", kind, "outcome", "sent");
          return request.connectionId() == null ? Future.succeededFuture()
              : store.noticeAccepted(request.connectionId(), request.dedupeKey());
        })
        .onFailure(failure -> {
          BusFailure cause = failure instanceof Bus.BusException bus ? bus.failure() : BusFailure.of(failure);
          count("mingus.health.notifications", "kind", kind, "outcome", "pending");
          log.warn("Notification {} for connection {} not accepted yet ({}); it stays pending and is sent again",
              kind, request.connectionId(), cause.message());
        });
  }

  /** Sends again the notices nobody got accepted by their redrive time (this node's or a dead one's). */
  private void redriveNotices() {
    if (stopping) {
      return;
    }
    store.dueNotices(100).onSuccess(requests -> {
      if (!requests.isEmpty()) {
        log.info("Sending again {} notification(s) notify had not accepted", requests.size());
      }
      for (JsonObject request : requests) {
        NotifySend send = NotifySend.fromJson(request);
        send(send, send.data() == null ? "redrive" : send.data().getString("kind", "redrive"));
      }
    }).onFailure(failure -> log.debug("Notice redrive skipped: {}", failure.getMessage()));
  }

  // --- reconciliation with sync's registry -------------------------------------------------------------------

  /** Learns every connection registered before health ran, and forgets those removed meanwhile. */
  private void reconcile() {
    if (stopping) {
      return;
    }
    Instant listedAt = now();
    Bus.<JsonObject>request(vertx, Addresses.SYNC_CONNECTIONS, new JsonObject(), settings.busTimeoutMs() * 4)
        .compose(reply -> {
          JsonArray list = reply.getJsonArray("connections", new JsonArray());
          List<ConnectionHealth> known = new ArrayList<>();
          List<String> ids = new ArrayList<>();
          for (int i = 0; i < list.size(); i++) {
            JsonObject c = list.getJsonObject(i);
            ids.add(c.getString("connection_id"));
            banks.bank(c.getString("institution_id"), c.getString("institution_name"));
            ConnectionStatus status = "needs_user".equals(c.getString("paused")) ? ConnectionStatus.REQUIRES_REAUTH
                : "stopped".equals(c.getString("paused")) ? ConnectionStatus.ERROR : ConnectionStatus.ACTIVE;
            ConnectionHealth fresh = ConnectionHealth.fresh(c.getString("connection_id"), c.getString("user_id"),
                c.getString("item_id"), c.getString("institution_id"), c.getString("institution_name"), listedAt);
            known.add(new ConnectionHealth(fresh.connectionId(), fresh.userId(), fresh.itemId(), fresh.institutionId(),
                fresh.institutionName(), status, listedAt, instant(c.getString("last_successful_sync"), null), null,
                0, 0, 0, null, 0, null, false, null, listedAt));
          }
          return store.insertMissing(known).compose(added -> store.deleteAbsent(ids, listedAt)
              .map(removed -> {
                if (added > 0 || !removed.isEmpty()) {
                  reads.dropAll();
                }
                log.info("Health reconciled with sync: {} connection(s), {} new, {} gone", ids.size(), added,
                    removed.size());
                return null;
              }));
        })
        .onSuccess(v -> {
          banks.poll();
          if (settings.predictMaintenance()) {
            banks.forecast();
          }
        })
        .onFailure(failure -> {
          log.warn("Health could not reconcile with sync yet ({}); trying again", failure.getMessage());
          timers.add(vertx.setTimer(settings.reconcileRetryMs(), id -> reconcile()));
        });
  }

  // --- commands ---------------------------------------------------------------------------------------

  private Future<?> command(String address, Function<JsonObject, Future<?>> handler) {
    return Commands.answer(vertx, address, handler, failure -> {
      log.warn("Health command failed: {}", failure.getMessage());
      return new CommandFailure(FailureCodes.UNAVAILABLE, "connection health is not available right now");
    });
  }

  private static String optionalUser(JsonObject body) {
    return Commands.optional(body, "user_id");
  }

  private Future<Object> connections(JsonObject body) {
    String userId = optionalUser(body);
    return store.asUser(userId, scoped -> scoped.list(userId)).map(list -> {
      JsonArray out = new JsonArray();
      int healthy = 0;
      int degraded = 0;
      int error = 0;
      for (ConnectionHealth health : list) {
        out.add(health.toJson());
        switch (group(health.status())) {
          case "healthy" -> healthy++;
          case "degraded" -> degraded++;
          default -> error++;
        }
      }
      return new JsonObject().put("connections", out).put("total_connections", list.size())
          .put("healthy_connections", healthy).put("degraded_connections", degraded).put("error_connections", error);
    });
  }

  /** The seed's three headline groups: healthy, degraded (working, or waiting out something), error (stuck). */
  static String group(ConnectionStatus status) {
    return switch (status) {
      case ACTIVE -> "healthy";
      case DEGRADED, RATE_LIMITED, MAINTENANCE, PENDING_EXPIRATION -> "degraded";
      case ERROR, REQUIRES_REAUTH, DISCONNECTED -> "error";
    };
  }

  private Future<Object> connection(JsonObject body) {
    String userId = optionalUser(body);
    String connectionId = Commands.required(body, "connection_id");
    ConnectionHealth cached = reads.get(userId, connectionId);
    if (cached != null) {
      return Future.succeededFuture(cached.toJson());
    }
    long began = reads.begin();
    return store.asUser(userId, scoped -> scoped.get(userId, connectionId)).map(health -> {
      if (health == null) {
        throw CommandFailure.notFound("no such connection");
      }
      reads.put(userId, connectionId, health, began);
      return health.toJson();
    });
  }

  private Future<Object> overview(JsonObject body) {
    String userId = optionalUser(body);
    return store.asUser(userId, scoped -> scoped.counts(userId)).map(row -> (Object) Metrics.overview(row));
  }

  private Future<Object> connectionMetrics(JsonObject body) {
    String userId = optionalUser(body);
    String connectionId = Commands.required(body, "connection_id");
    int days = body.getValue("days") instanceof Number n ? Math.max(1, Math.min(365, n.intValue())) : 30;
    return store.asUser(userId, scoped -> scoped.get(userId, connectionId)).compose(health -> {
      if (health == null) {
        return Future.failedFuture(CommandFailure.notFound("no such connection"));
      }
      JsonObject request = new JsonObject().put("user_id", userId).put("connection_id", connectionId).put("days", days);
      return Bus.<JsonObject>request(vertx, Addresses.SYNC_STATUS, request, settings.busTimeoutMs())
          .map(status -> status.getJsonObject("reliability_stats"))
          .otherwise(failure -> Metrics.ownStats(health, days))
          .map(stats -> (Object) Metrics.connection(health, stats));
    });
  }

  // --- metrics ----------------------------------------------------------------------------------------

  private void registerMeters() {
    if (registry == null) {
      return;
    }
    for (ConnectionStatus status : ConnectionStatus.values()) {
      AtomicLong value = new AtomicLong();
      statusGauges.put(status.wire(), value);
      meters.add(Gauge.builder("mingus.health.connections", value, AtomicLong::get).tag("status", status.wire())
          .description("Connections per health status").register(registry));
    }
    meters.add(Gauge.builder("mingus.health.reliability_score", reliabilityScore, v -> v.get() / 100.0)
        .description("The overview's reliability score, 0-100").register(registry));
    for (Circuit.State state : Circuit.State.values()) {
      meters.add(Gauge.builder("mingus.health.institutions", banks, tracker -> tracker.inState(state))
          .tag("circuit", state.wire()).description("Banks per circuit state").register(registry));
    }
  }

  private void refreshFigures() {
    if (registry == null || stopping) {
      return;
    }
    store.counts(null).onSuccess(row -> {
      for (ConnectionStatus status : ConnectionStatus.values()) {
        statusGauges.get(status.wire()).set(row.getLong(status.wire()));
      }
      reliabilityScore.set(Math.round(Metrics.overview(row).getDouble("reliability_score") * 100));
    });
  }

  private void count(String name, String... tags) {
    if (registry != null) {
      Counter.builder(name).tags(tags).register(registry).increment();
    }
  }

  // --- helpers ----------------------------------------------------------------------------------------

  private static <T> Future<T> timed(int size, Future<T> batch) {
    long start = System.nanoTime();
    return batch.onSuccess(done -> log.debug("Batch of {} change(s) applied in {} ms", size,
        (System.nanoTime() - start) / 1_000_000));
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  private static Instant instant(String text, Instant fallback) {
    if (text == null) {
      return fallback;
    }
    try {
      return java.time.OffsetDateTime.parse(text).toInstant().truncatedTo(ChronoUnit.MILLIS);
    } catch (java.time.format.DateTimeParseException e) {
      return fallback;
    }
  }
}
