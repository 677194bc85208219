package com.mingus.reliability.sync;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.Commands;
import com.mingus.reliability.bus.Commands.CommandFailure;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PageCursor;
import com.mingus.reliability.bus.PingReply;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.crypto.TokenCipher;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.plaid.LinkUpdateRequest;
import com.mingus.reliability.plaid.PlaidClient;
import com.mingus.reliability.plaid.PlaidConfig;
import com.mingus.reliability.plaid.PlaidException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.security.SecureRandom;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sync scheduling: the connection registry, when each connection syncs, leases so that one sync per
 * connection runs at a time across every instance and node, and the syncs themselves ({@link SyncRunner}).
 *
 * <p>Each instance polls for due connections (and is woken at once by {@code sync.wake} after a sync-now
 * or a webhook), claims a batch with {@code FOR UPDATE SKIP LOCKED}, renews its leases by heartbeat, and
 * lets leases of a dead node expire so another node takes the connections over within one lease period.
 */
public final class SyncVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(SyncVerticle.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private Pool pool;
  private SyncStore store;
  private SyncRunner runner;
  private PlaidClient plaid;
  private TokenCipher cipher;
  private SyncSettings settings;
  private String nodeId;
  private ClaimLoop claimLoop;
  private EventRelay relay;
  private long pollTimer = -1;
  private long redriveTimer = -1;
  private long metricsTimer = -1;
  private SyncMetrics metrics;
  private long heartbeatTimer = -1;
  private boolean stopping;
  private TokenRotation rotation;

  @Override
  public Future<?> start() {
    JsonObject config = config();
    settings = SyncSettings.from(config);
    nodeId = config.getString("node_id", "node") + "-" + UUID.randomUUID().toString().substring(0, 8);
    cipher = TokenCipher.fromConfig(config.getJsonObject("crypto", new JsonObject()));
    pool = Pools.create(vertx, config.getJsonObject("database"), "sync");
    store = new SyncStore(pool, settings.redriveAfterMs());
    relay = new EventRelay(vertx, pool, settings.requestTimeoutMs(), settings.redriveAfterMs(), 64);
    plaid = PlaidClient.create(vertx, withRoomForEverySync(config.getJsonObject("plaid"), settings));
    String registryName = config.getString("metrics_registry");
    metrics = new SyncMetrics(registryName == null ? null : io.vertx.micrometer.backends.BackendRegistries.getNow(registryName),
        () -> claimLoop == null ? 0 : claimLoop.held().size());
    runner = new SyncRunner(vertx, store, plaid, cipher, settings, nodeId, relay, metrics);
    claimLoop = new ClaimLoop(vertx, store, nodeId, settings.maxConcurrent(), settings.claimBatch(), settings.leaseMs(),
        claim -> {
          metrics.claimed(claim);
          return runner.run(claim)
              .onFailure(failure -> log.warn("Connection {}: sync ended with {}", claim.connectionId(), failure.getMessage()));
        });

    rotation = new TokenRotation(vertx, pool, cipher, config.getJsonObject("key_rotation", new JsonObject()),
        registryName == null ? null : io.vertx.micrometer.backends.BackendRegistries.getNow(registryName));
    runner.onUnreadableToken(claim -> rotation.markUnreadable(claim.connectionId(), claim.token()));
    // every stored token's key must be configured before this node claims a single sync
    return rotation.checkKeys().compose(checked -> rotation.readout()).compose(keys -> consumers());
  }

  private Future<?> consumers() {
    List<Future<?>> consumers = List.of(
        handle(Addresses.SYNC_REGISTER, this::register),
        handle(Addresses.SYNC_REMOVE, this::remove),
        handle(Addresses.SYNC_NOW, this::syncNow),
        handle(Addresses.SYNC_RETRY, this::retry),
        handle(Addresses.SYNC_RECONCILE, this::reconcile),
        handle(Addresses.SYNC_RECONCILIATIONS, this::reconciliations),
        handle(Addresses.SYNC_STATUS, this::status),
        handle(Addresses.SYNC_TRANSACTIONS, this::transactions),
        handle(Addresses.SYNC_ACCOUNTS, this::accounts),
        handle(Addresses.SYNC_CONNECTIONS, this::connections),
        handle(Addresses.SYNC_LINK_TOKEN, this::linkToken),
        handle(Addresses.SYNC_WEBHOOK, this::webhook),
        handle(Addresses.SYNC_PAUSE_INSTITUTION, this::pauseInstitution),
        handle(Addresses.SYNC_RESUME_INSTITUTION, this::resumeInstitution),
        handle(Addresses.SYNC_PROBE_INSTITUTION, this::probeInstitution),
        handle(Addresses.SYNC_AHEAD_INSTITUTION, this::aheadInstitution),
        handle(Addresses.SYNC_KEYS, body -> rotation.readout().map(readout -> (Object) readout)),
        vertx.eventBus().localConsumer(Addresses.SYNC_WAKE, message -> claimLoop.claimDue()).completion(),
        Bus.answerPing(vertx, "sync", () -> pool.query("SELECT 1").execute().map(rows -> PingReply.up("sync")))
            .completion());
    return Future.all(consumers).onSuccess(ok -> {
      pollTimer = vertx.setPeriodic(settings.pollMs(), id -> claimLoop.claimDue());
      heartbeatTimer = vertx.setPeriodic(settings.heartbeatMs(), id -> heartbeat());
      redriveTimer = vertx.setPeriodic(settings.redriveEveryMs(), id -> relay.redrive());
      metricsTimer = vertx.setPeriodic(settings.metricsIntervalMs(), id -> store.dueCount()
          .onSuccess(metrics::queue)
          .onFailure(failure -> log.debug("Claim queue not counted: {}", failure.getMessage())));
      rotation.start();
    });
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    rotation.stop();
    claimLoop.stop();
    vertx.cancelTimer(pollTimer);
    vertx.cancelTimer(heartbeatTimer);
    vertx.cancelTimer(redriveTimer);
    vertx.cancelTimer(metricsTimer);
    metrics.close();
    // Leases still held are handed back; a result that arrives later is fenced out.
    List<Claim> held = claimLoop.held();
    return store.release(nodeId, held)
        .otherwise(0)
        .compose(released -> relay.stop().otherwise((Void) null).map(released))
        .compose(released -> {
          plaid.close();
          return pool.close();
        });
  }

  private void heartbeat() {
    List<Claim> held = claimLoop.held();
    store.heartbeat(nodeId, held, settings.leaseMs())
        .onFailure(failure -> log.warn("Lease heartbeat failed: {}", failure.getMessage()));
  }

  /**
   * The Plaid section with at least one connection per concurrent sync, plus 8 for registry calls: a call
   * that waits for a connection after its permit was granted may let the permit lapse (it is then not
   * sent, and asks again), so connections must not be what a granted call waits for.
   */
  static JsonObject withRoomForEverySync(JsonObject plaidSection, SyncSettings settings) {
    int configured = plaidSection.getInteger("max_connections", PlaidConfig.DEFAULT_MAX_CONNECTIONS);
    return plaidSection.copy().put("max_connections", Math.max(configured, settings.maxConcurrent() + 8));
  }

  // --- commands ---------------------------------------------------------------------------------------

  private Future<?> handle(String address, Function<JsonObject, Future<Object>> handler) {
    return Commands.answer(vertx, address, handler::apply, SyncVerticle::failureOf);
  }

  /** A Plaid error the caller should see; anything else is ours and is logged. */
  private static CommandFailure failureOf(Throwable failure) {
    if (failure instanceof PlaidException plaidFailure) {
      String display = plaidFailure.error() != null && plaidFailure.error().displayMessage() != null
          ? plaidFailure.error().displayMessage() : plaidFailure.getMessage();
      return new CommandFailure(FailureCodes.UPSTREAM, display);
    }
    log.warn("Sync command failed: {}", failure.getMessage());
    return new CommandFailure(FailureCodes.INTERNAL, "the sync service failed to answer");
  }

  private static String required(JsonObject body, String key) {
    return Commands.required(body, key);
  }

  private static final String NOT_FOUND = "no such connection";

  private Future<Object> register(JsonObject body) {
    String userId = required(body, "user_id");
    String publicToken = required(body, "public_token");
    UUID firstSync = UUID.randomUUID();
    return underPermit("/item/public_token/exchange", null, client -> client.exchangePublicToken(publicToken))
        .compose(exchange -> underPermit("/item/get", exchange.itemId(), client -> client.getItem(exchange.accessToken()))
            .compose(item -> institutionName(item.item().institutionId(), item.item().institutionName())
                .compose(name -> {
                  String connectionId = "conn_" + randomId();
                  TokenCipher.Sealed sealed = cipher.seal(exchange.accessToken(), userId, exchange.itemId());
                  JsonObject known = new JsonObject().put("connection_id", connectionId).put("user_id", userId)
                      .put("item_id", exchange.itemId()).put("institution_id", item.item().institutionId())
                      .put("institution_name", name);
                  return store.asUser(userId, own -> own.insertConnection(connectionId, userId, exchange.itemId(),
                      item.item().institutionId(), name, sealed, firstSync, settings.reconcileIntervalMs(),
                      Addresses.CONNECTION_REGISTERED, itemEvent(SyncEvent.REGISTERED, known, null, null))).compose(registered -> {
                        if (registered == null) {
                          return Future.failedFuture(new CommandFailure(FailureCodes.CONFLICT,
                              "this bank connection is already registered"));
                        }
                        // health knows the connection before the user hears of it (HTTP asks health alone)
                        return relay.tell(registered)
                            .compose(told -> store.asUser(userId, own -> own.connection(userId, connectionId)));
                      });
                })))
        .map(view -> {
          vertx.eventBus().send(Addresses.SYNC_WAKE, new JsonObject());
          return (Object) view.put("first_sync_id", firstSync.toString()).put("status", "active");
        });
  }

  private Future<String> institutionName(String institutionId, String known) {
    if (known != null || institutionId == null) {
      return Future.succeededFuture(known);
    }
    return underPermit("/institutions/get_by_id", null, client -> client.getInstitution(institutionId, List.of("US"), false))
        .map(institution -> institution.name())
        .otherwise(institutionId);
  }

  private Future<Object> remove(JsonObject body) {
    String userId = required(body, "user_id");
    String connectionId = required(body, "connection_id");
    return store.asUser(userId, own -> own.tokenRow(userId, connectionId)).compose(row -> {
      if (row == null) {
        return Future.failedFuture(new CommandFailure(FailureCodes.NOT_FOUND, NOT_FOUND));
      }
      String itemId = row.getString("item_id");
      String token = cipher.open(SyncStore.sealed(row), row.getString("user_id"), itemId);
      JsonObject view = row.toJson();
      view.remove("token_nonce");
      view.remove("token_ciphertext");
      view.remove("token_key_id");
      return underPermit("/item/remove", itemId, client -> client.removeItem(token))
          .recover(failure -> {
            // Already gone at Plaid: removing it here is all that is left to do.
            if (failure instanceof PlaidException plaidFailure
                && (plaidFailure.hasErrorCode("ITEM_NOT_FOUND") || plaidFailure.hasErrorCode("INVALID_ACCESS_TOKEN"))) {
              return Future.succeededFuture("");
            }
            return Future.failedFuture(failure);
          })
          .compose(v -> store.asUser(userId, own -> own.deleteConnection(connectionId, Addresses.CONNECTION_REMOVED,
              itemEvent(SyncEvent.REMOVED, view, null, null))))
          .compose(removed -> relay.tell(removed))
          .map(told -> (Object) new JsonObject().put("connection_id", connectionId).put("removed", true));
    });
  }

  /**
   * A registry call under a permit (answered for a person waiting, so the highest priority). A call kept
   * off the wire because its permit lapsed first reached nothing at Plaid, so it is made again, as often
   * as a sync's call would be; then the person hears the server is too busy.
   */
  private <T> Future<T> underPermit(String endpoint, String itemId, Function<PlaidClient, Future<T>> call) {
    return SyncRunner.untilSentInTime(() -> permit(endpoint, itemId).compose(call), SyncRunner.SENDS)
        .recover(failure -> Future.failedFuture(failure instanceof PlaidClient.NotSentInTime
            ? new CommandFailure(FailureCodes.UNAVAILABLE, "the server is too busy to reach Plaid now; try again in a moment")
            : failure));
  }

  /**
   * A permit for a call a person waits on, waiting up to {@code registry_permit_wait_ms} (30 s): through a
   * budget owner's take-over (no owner answers for a few seconds; docs/cluster.md) the request is simply
   * asked again, so the person waits instead of hearing "try again". Only a budget that is really spent
   * for longer than that answers RATE_LIMITED.
   */
  private Future<PlaidClient> permit(String endpoint, String itemId) {
    return permit(endpoint, itemId, System.nanoTime() + settings.registryPermitWaitMs() * 1_000_000);
  }

  private Future<PlaidClient> permit(String endpoint, String itemId, long deadline) {
    long leftMs = (deadline - System.nanoTime()) / 1_000_000;
    return runner.permit(endpoint, itemId, PermitPriority.MANUAL, Math.max(0, leftMs)).compose(permit -> {
      if (permit.reply().granted()) {
        return Future.succeededFuture(permit.plaid());
      }
      boolean noOwner = SyncRunner.NO_LIMITER.equals(permit.reply().blockedBy())
          || "stopping".equals(permit.reply().blockedBy());
      long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
      if (noOwner && remainingMs > 250) {
        return Future.<Void>future(p -> vertx.setTimer(250, id -> p.complete()))
            .compose(v -> permit(endpoint, itemId, deadline));
      }
      return Future.failedFuture(new CommandFailure(FailureCodes.RATE_LIMITED,
          "Plaid's rate limit is reached; try again in a moment"));
    });
  }

  private Future<Object> syncNow(JsonObject body) {
    String userId = required(body, "user_id");
    String connectionId = required(body, "connection_id");
    return store.asUser(userId, own -> own.requestNow(userId, connectionId)).map(syncId -> {
      if (syncId == null) {
        throw new CommandFailure(FailureCodes.NOT_FOUND, NOT_FOUND);
      }
      vertx.eventBus().publish(Addresses.SYNC_WAKE, new JsonObject());
      return new JsonObject().put("connection_id", connectionId).put("sync_id", syncId.toString())
          .put("queued_at", OffsetDateTime.now().toInstant().toString());
    });
  }

  /** Durable before the answer, like sync-now: the schedule row says reconcile before the 202. */
  private Future<Object> reconcile(JsonObject body) {
    String connectionId = required(body, "connection_id");
    return store.asUser(null, operator -> operator.requestReconcile(connectionId)).map(syncId -> {
      if (syncId == null) {
        throw new CommandFailure(FailureCodes.NOT_FOUND, NOT_FOUND);
      }
      vertx.eventBus().publish(Addresses.SYNC_WAKE, new JsonObject());
      return new JsonObject().put("connection_id", connectionId).put("sync_id", syncId.toString())
          .put("queued_at", OffsetDateTime.now().toInstant().toString());
    });
  }

  /** One connection's runs, or (no connection_id) every connection's with the last day's totals; a page at a time. */
  private Future<Object> reconciliations(JsonObject body) {
    String connectionId = Commands.optional(body, "connection_id");
    int limit = PageCursor.limit(body.getValue("limit"), 20, 200);
    String list = connectionId == null ? "reconciliations" : "reconciliations:" + connectionId;
    List<String> after = PageCursor.decode(list, body.getString("cursor"), 1);
    Long beforeId = after == null ? null : Long.valueOf(after.get(0));
    return store.asUser(null, operator -> {
      Future<JsonObject> totals = connectionId == null
          ? operator.reconciliationTotals(24).map(t -> new JsonObject().put("totals", t))
          : Future.succeededFuture(new JsonObject().put("connection_id", connectionId));
      return totals.compose(answer -> operator.reconciliations(connectionId, beforeId, limit + 1).map(rows -> {
        boolean hasMore = rows.size() > limit;
        JsonArray page = new JsonArray(new ArrayList<>(rows.getList().subList(0, Math.min(limit, rows.size()))));
        String next = hasMore ? PageCursor.encode(list, String.valueOf(page.getJsonObject(page.size() - 1).getLong("id")))
            : null;
        return (Object) answer.put("reconciliations", page).put("next_cursor", next).put("has_more", hasMore);
      }));
    });
  }

  private Future<Object> retry(JsonObject body) {
    String userId = required(body, "user_id");
    String connectionId = required(body, "connection_id");
    return store.asUser(userId, own -> own.requestRetry(userId, connectionId)).map(row -> {
      if (row == null) {
        throw new CommandFailure(FailureCodes.NOT_FOUND, NOT_FOUND);
      }
      vertx.eventBus().publish(Addresses.SYNC_WAKE, new JsonObject());
      return new JsonObject().put("connection_id", connectionId)
          .put("sync_id", row.getUUID("pending_sync_id").toString())
          .put("retry_count", row.getInteger("retry_count"))
          .put("last_retry_attempt", SyncStore.text(row.getOffsetDateTime("last_retry_at")));
    });
  }

  private Future<Object> status(JsonObject body) {
    String userId = body.getString("user_id");
    String connectionId = required(body, "connection_id");
    int days = Math.max(1, Math.min(365, body.getInteger("days", 30)));
    int limit = Math.max(1, Math.min(200, body.getInteger("limit", 20)));
    // the user's own, or (no user: an operator route, or health's metrics for one) anyone's
    return store.asUser(userId, scoped -> scoped.connection(userId, connectionId).compose(view -> {
      if (view == null) {
        return Future.failedFuture(new CommandFailure(FailureCodes.NOT_FOUND, NOT_FOUND));
      }
      return Future.all(scoped.syncLogs(connectionId, limit), scoped.reliabilityStats(connectionId, days))
          .map(all -> {
            JsonArray logs = all.resultAt(0);
            JsonObject stats = all.resultAt(1);
            return (Object) new JsonObject()
                .put("connection", view)
                .put("last_sync_at", stats.remove("last_sync_at"))
                .put("sync_logs", logs)
                .put("reliability_stats", stats);
          });
    }));
  }

  private Future<Object> accounts(JsonObject body) {
    String userId = required(body, "user_id");
    String connectionId = required(body, "connection_id");
    return store.asUser(userId, own -> own.connection(userId, connectionId).compose(view -> {
      if (view == null) {
        return Future.failedFuture(new CommandFailure(FailureCodes.NOT_FOUND, NOT_FOUND));
      }
      return own.accounts(connectionId)
          .map(accounts -> new JsonObject().put("connection_id", connectionId).put("accounts", accounts));
    }));
  }

  private Future<Object> transactions(JsonObject body) {
    String userId = required(body, "user_id");
    String connectionId = required(body, "connection_id");
    int limit = PageCursor.limit(body.getValue("limit"), 100, 500);
    LocalDate since = parseDate(body.getString("since"), "since");
    // the cursor is bound to the connection: another connection's is refused
    String list = "transactions:" + connectionId;
    List<String> after = PageCursor.decode(list, body.getString("cursor"), 2);
    LocalDate afterDate = null;
    String afterId = null;
    if (after != null) {
      try {
        afterDate = LocalDate.parse(after.get(0));
        afterId = after.get(1);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(PageCursor.INVALID);
      }
    }
    LocalDate fromDate = afterDate;
    String fromId = afterId;
    return store.asUser(userId, own -> own.connection(userId, connectionId).compose(view -> {
      if (view == null) {
        return Future.failedFuture(new CommandFailure(FailureCodes.NOT_FOUND, NOT_FOUND));
      }
      return own.transactions(connectionId, since, fromDate, fromId, limit + 1).map(rows -> {
        boolean hasMore = rows.size() > limit;
        List<JsonObject> page = hasMore ? rows.subList(0, limit) : rows;
        JsonArray out = new JsonArray();
        String next = null;
        for (JsonObject tx : page) {
          String date = (String) tx.remove("_date");
          out.add(tx);
          next = PageCursor.encode(list, date, tx.getString("transaction_id"));
        }
        return (Object) new JsonObject().put("transactions", out).put("next_cursor", hasMore ? next : null)
            .put("has_more", hasMore);
      });
    }));
  }

  private static LocalDate parseDate(String text, String field) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return LocalDate.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(field + " must be a date like 2025-01-27");
    }
  }

  private Future<Object> connections(JsonObject body) {
    String userId = body.getString("user_id");
    return store.asUser(userId, scoped -> scoped.connections(userId))
        .map(list -> new JsonObject().put("connections", new JsonArray(list)));
  }

  private Future<Object> linkToken(JsonObject body) {
    String userId = required(body, "user_id");
    String connectionId = required(body, "connection_id");
    return store.asUser(userId, own -> own.tokenRow(userId, connectionId)).compose(row -> {
      if (row == null) {
        return Future.failedFuture(new CommandFailure(FailureCodes.NOT_FOUND, NOT_FOUND));
      }
      String token = cipher.open(SyncStore.sealed(row), row.getString("user_id"), row.getString("item_id"));
      return underPermit("/link/token/create", null,
              client -> client.createUpdateLinkToken(LinkUpdateRequest.of(token, settings.clientName(), userId)))
          .map(link -> (Object) new JsonObject().put("connection_id", connectionId).put("link_token", link.linkToken())
              .put("expiration", link.expiration() == null ? null : link.expiration().toString())
              .put("mode", "update"));
    });
  }

  // --- Plaid webhooks ---------------------------------------------------------------------------------

  private Future<Object> webhook(JsonObject body) {
    String type = required(body, "webhook_type");
    String code = required(body, "webhook_code");
    String itemId = body.getString("item_id");
    if (itemId == null) {
      return Future.succeededFuture(new JsonObject().put("handled", false).put("reason", "no item_id"));
    }
    Future<JsonObject> handled;
    if ("TRANSACTIONS".equals(type)) {
      handled = store.requestForWebhook(itemId, settings.webhookCoalesceMs()).map(connectionId -> {
        if (connectionId != null) {
          vertx.setTimer(settings.webhookCoalesceMs() + 10, id -> vertx.eventBus().publish(Addresses.SYNC_WAKE, new JsonObject()));
        }
        return new JsonObject().put("connection_id", connectionId);
      });
    } else if ("ITEM".equals(type)) {
      handled = itemWebhook(itemId, code, body);
    } else {
      handled = Future.succeededFuture(new JsonObject());
    }
    return handled.map(result -> (Object) result.put("handled", result.getString("connection_id") != null));
  }

  private Future<JsonObject> itemWebhook(String itemId, String code, JsonObject body) {
    JsonObject error = body.getJsonObject("error");
    String errorCode = error == null ? null : error.getString("error_code");
    boolean park = switch (code) {
      case "LOGIN_REPAIRED", "USER_PERMISSION_REVOKED", "USER_ACCOUNT_REVOKED" -> true;
      case "ERROR" -> "ITEM_LOGIN_REQUIRED".equals(errorCode);
      default -> false;
    };
    String paused = switch (code) {
      case "USER_PERMISSION_REVOKED", "USER_ACCOUNT_REVOKED" -> "stopped";
      case "ERROR" -> "needs_user";
      default -> null;
    };
    JsonObject detail = body.copy();
    detail.remove("item_id");
    // the change and the event health must hear of commit together, before Plaid is answered
    return store.itemWebhook(itemId, park, paused, Addresses.CONNECTION_ITEM_EVENT,
            row -> itemEvent(SyncEvent.ITEM, row, code, detail))
        .map(told -> {
          if (told == null) {
            return new JsonObject();
          }
          relay.tell(told);
          if ("LOGIN_REPAIRED".equals(code)) {
            vertx.eventBus().publish(Addresses.SYNC_WAKE, new JsonObject());
          }
          return new JsonObject().put("connection_id", told.event().connectionId());
        });
  }

  private static SyncEvent itemEvent(String kind, JsonObject view, String webhookCode, JsonObject detail) {
    return new SyncEvent(kind, view.getString("connection_id"), view.getString("user_id"), view.getString("item_id"),
        view.getString("institution_id"), view.getString("institution_name"), null, null, null,
        OffsetDateTime.now().toInstant().toString(), null, null, null, null, null, view.getString("paused"), webhookCode,
        null, null, detail);
  }

  // --- institutions (asked by health tracking) -----------------------------------------------------------

  private Future<Object> pauseInstitution(JsonObject body) {
    String institutionId = required(body, "institution_id");
    String reason = body.getString("reason", "down");
    OffsetDateTime until = null;
    if (body.getString("until") != null) {
      try {
        until = OffsetDateTime.parse(body.getString("until"));
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("until must be an ISO-8601 time with an offset");
      }
    }
    return store.pauseInstitution(institutionId, reason, until)
        .map(v -> new JsonObject().put("institution_id", institutionId).put("paused", true));
  }

  private Future<Object> resumeInstitution(JsonObject body) {
    String institutionId = required(body, "institution_id");
    return store.resumeInstitution(institutionId, settings.resumeSpreadMs()).map(count -> {
      vertx.eventBus().publish(Addresses.SYNC_WAKE, new JsonObject());
      return new JsonObject().put("institution_id", institutionId).put("resumed", count);
    });
  }

  /** Health knows a maintenance window is coming: the bank's connections sync before it begins. */
  private Future<Object> aheadInstitution(JsonObject body) {
    String institutionId = required(body, "institution_id");
    long spreadMs = Math.max(0, Math.min(settings.resumeSpreadMs() * 10, body.getLong("spread_ms", 0L)));
    return store.aheadInstitution(institutionId, spreadMs).map(count -> {
      vertx.eventBus().publish(Addresses.SYNC_WAKE, new JsonObject());
      return new JsonObject().put("institution_id", institutionId).put("queued", count);
    });
  }

  private Future<Object> probeInstitution(JsonObject body) {
    String institutionId = required(body, "institution_id");
    return store.probeInstitution(institutionId).map(connectionId -> {
      vertx.eventBus().publish(Addresses.SYNC_WAKE, new JsonObject());
      return new JsonObject().put("institution_id", institutionId).put("connection_id", connectionId);
    });
  }

  private static String randomId() {
    byte[] bytes = new byte[12];
    RANDOM.nextBytes(bytes);
    StringBuilder out = new StringBuilder();
    for (byte b : bytes) {
      out.append(String.format("%02x", b));
    }
    return out.toString();
  }
}
