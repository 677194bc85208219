package com.mingus.reliability.sync;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ClassifyOutcome;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.PlaidFailure;
import com.mingus.reliability.bus.RateLimitReport;
import com.mingus.reliability.bus.RecoveryStep;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.chaos.CrashPoints;
import com.mingus.reliability.crypto.TokenCipher;
import com.mingus.reliability.plaid.Account;
import com.mingus.reliability.plaid.PlaidClient;
import com.mingus.reliability.plaid.PlaidException;
import com.mingus.reliability.plaid.SyncPage;
import com.mingus.reliability.plaid.Transaction;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one claimed sync: a permit before every Plaid call, /transactions/sync from the stored cursor to
 * the last page (restarting from the update's first cursor when Plaid reports a mutation during
 * pagination), balances when they are due, then one fenced transaction that stores every change, the
 * cursor and the log row. A failure is classified and its plan decides when the connection syncs next.
 */
final class SyncRunner {
  private static final Logger log = LoggerFactory.getLogger(SyncRunner.class);
  static final String SYNC = "/transactions/sync";
  static final String BALANCE = "/accounts/balance/get";

  private final Vertx vertx;
  private final SyncStore store;
  private final PlaidClient plaid;
  private final TokenCipher cipher;
  private final SyncSettings settings;
  private final String nodeId;
  private final Reconciler reconciler;
  /** Where reconciliation figures are counted ({@code mingus_reconcile_*}); null without metrics. */
  private final SyncMetrics metrics;
  private final EventRelay relay;

  SyncRunner(Vertx vertx, SyncStore store, PlaidClient plaid, TokenCipher cipher, SyncSettings settings, String nodeId,
      EventRelay relay, SyncMetrics metrics) {
    this.metrics = metrics;
    this.vertx = vertx;
    this.relay = relay;
    this.store = store;
    this.plaid = plaid;
    this.cipher = cipher;
    this.settings = settings;
    this.nodeId = nodeId;
    this.reconciler = new Reconciler(store, this, settings.reconcileHistoryDays());
  }

  private java.util.function.Consumer<Claim> unreadableToken = claim -> {};

  /** Told of every claim whose token does not open (key rotation marks the row). */
  void onUnreadableToken(java.util.function.Consumer<Claim> listener) {
    unreadableToken = listener;
  }

  /** Our own limiter said "not yet": nothing was sent to Plaid. */
  static final class Throttled extends RuntimeException {
    final long notBefore;
    final String blockedBy;

    Throttled(long notBefore, String blockedBy) {
      super("rate limit: not before " + Instant.ofEpochMilli(notBefore) + " (" + blockedBy + ")", null, false, false);
      this.notBefore = notBefore;
      this.blockedBy = blockedBy;
    }
  }

  Future<Void> run(Claim claim) {
    long startedNanos = System.nanoTime();
    OffsetDateTime startedAt = OffsetDateTime.now(ZoneOffset.UTC);
    publish(Addresses.SYNC_STARTED, event(SyncEvent.STARTED, claim, null, startedAt, null, null, null, null, null));
    String token;
    try {
      token = cipher.open(claim.token(), claim.userId(), claim.itemId());
    } catch (RuntimeException e) {
      log.error("Connection {}: its access token cannot be decrypted ({}); parked", claim.connectionId(), e.getMessage());
      unreadableToken.accept(claim);
      return finishFailure(claim, new SyncResult(), startedAt, startedNanos, null, null, e.getMessage(), "stopped",
          OffsetDateTime.now(ZoneOffset.UTC).plusHours(1), "failed");
    }
    PermitPriority priority = priorityOf(claim.trigger());
    SyncResult result = new SyncResult();
    result.full = claim.cursor() == null || claim.cursor().isEmpty();
    return page(claim, token, priority, claim.cursor(), result)
        .compose(done -> balances(claim, token))
        .compose(balancesOk -> reconcile(claim, token, result).map(balancesOk))
        .compose(balancesOk -> finishSuccess(claim, result, startedAt, startedNanos, balancesOk))
        .recover(failure -> failed(claim, result, startedAt, startedNanos, failure));
  }

  // --- transactions ----------------------------------------------------------------------------------

  private Future<SyncResult> page(Claim claim, String token, PermitPriority priority, String cursor, SyncResult result) {
    String from = cursor == null || cursor.isEmpty() ? null : cursor;
    return call(SYNC, claim, priority, client -> client.syncTransactions(token, from, settings.pageCount()))
        .compose(page -> {
          fold(result, page);
          if (page.hasMore()) {
            return page(claim, token, priority, page.nextCursor(), result);
          }
          return Future.succeededFuture(result);
        }, failure -> {
          if (!(failure instanceof PlaidException plaidFailure)) {
            return Future.failedFuture(failure);
          }
          if (from != null && !result.full && plaidFailure.hasErrorCode("INVALID_FIELD")) {
            // the only field of ours that can be invalid is the stored cursor (lost, from another Item,
            // expired): the whole history from an empty cursor replaces what is stored, once
            log.warn("Connection {}: Plaid refused the stored cursor ({}); syncing the whole history again",
                claim.connectionId(), plaidFailure.getMessage());
            result.discard();
            result.full = true;
            result.resync = "invalid_cursor";
            return page(claim, token, priority, null, result);
          }
          return classify(claim, plaidFailure).compose(plan -> {
            if (plan.nextStep() == RecoveryStep.RESTART_PAGINATION && result.restarts < settings.maxPaginationRestarts()) {
              log.debug("Connection {}: data changed during pagination; restarting from the update's first cursor",
                  claim.connectionId());
              result.discard();
              return page(claim, token, priority, result.full ? null : claim.cursor(), result);
            }
            return Future.failedFuture(new Classified(plaidFailure, plan));
          });
        });
  }

  private static void fold(SyncResult result, SyncPage page) {
    result.fold(
        page.added().stream().map(Transaction::json).toList(),
        page.modified().stream().map(Transaction::json).toList(),
        page.removed().stream().map(removed -> removed.transactionId()).toList(),
        page.accounts().stream().map(Account::raw).toList());
    result.nextCursor = page.nextCursor() == null || page.nextCursor().isEmpty() ? null : page.nextCursor();
  }

  /** Balances on their own schedule and under their own stricter limit: never waited for, never fatal. */
  private Future<Boolean> balances(Claim claim, String token) {
    if (claim.nextBalanceAt() != null && claim.nextBalanceAt().isAfter(OffsetDateTime.now(ZoneOffset.UTC))) {
      return Future.succeededFuture(null);
    }
    return permit(BALANCE, claim.itemId(), PermitPriority.BACKGROUND, 0)
        .compose(permit -> !permit.reply().granted() ? Future.succeededFuture((Boolean) null)
            : permit.plaid().getBalances(token, null)
                .compose(accounts -> store.storeBalances(claim.connectionId(),
                    accounts.accounts().stream().map(Account::raw).toList()))
                .map(true))
        .recover(failure -> {
          if (failure instanceof PlaidClient.NotSentInTime) {
            // the permit lapsed before the call could go: not tried, not failed
            return Future.succeededFuture((Boolean) null);
          }
          if (failure instanceof PlaidException plaidFailure && plaidFailure.httpStatus() == 429) {
            report(BALANCE, claim.itemId(), plaidFailure);
          }
          log.debug("Connection {}: balances not refreshed: {}", claim.connectionId(), failure.getMessage());
          return Future.succeededFuture(false);
        });
  }

  /** When due (or asked by an operator), the sync reconciles before it commits, under the same lease. */
  private Future<Void> reconcile(Claim claim, String token, SyncResult result) {
    if (!Reconciler.due(claim)) {
      return Future.succeededFuture();
    }
    return reconciler.run(claim, token, result).onSuccess(done -> {
      Reconciler.Run run = result.reconciliation;
      long nextMs = switch (run.status()) {
        case "deferred" -> 300_000L;
        case "failed" -> 3_600_000L;
        default -> settings.reconcileIntervalMs();
      };
      result.nextReconcileAt = OffsetDateTime.now(ZoneOffset.UTC).plusNanos(nextMs * 1_000_000);
      if (run.drift() > 0) {
        log.warn("Connection {}: reconciliation found drift and repaired it: {}", claim.connectionId(), run.message());
      }
    });
  }

  // --- Plaid calls under permits ----------------------------------------------------------------------

  /** Sends of one call that may be kept off the wire (its permit expired before it could start) before giving up for now. */
  static final int SENDS = 3;

  /**
   * Makes a call under a fresh permit again while it is kept off the wire ({@link PlaidClient.NotSentInTime}: nothing
   * reached Plaid), at most {@code sends} times in all; any other outcome is the call's.
   */
  static <T> Future<T> untilSentInTime(Supplier<Future<T>> call, int sends) {
    return call.get().recover(failure -> failure instanceof PlaidClient.NotSentInTime && sends > 1
        ? untilSentInTime(call, sends - 1) : Future.failedFuture(failure));
  }

  private <T> Future<T> call(String endpoint, Claim claim, PermitPriority priority,
      Function<PlaidClient, Future<T>> request) {
    return untilSentInTime(() -> permit(endpoint, claim.itemId(), priority, settings.permitWaitMs()).compose(permit ->
            permit.reply().granted() ? request.apply(permit.plaid())
                : Future.failedFuture(new Throttled(permit.reply().notBefore(), permit.reply().blockedBy()))), SENDS)
        .onSuccess(ok -> vertx.eventBus().send(Addresses.CLASSIFY_OUTCOME,
            new ClassifyOutcome(claim.institutionId(), endpoint, claim.attempt() + 1)))
        .onFailure(failure -> {
          if (failure instanceof PlaidException plaidFailure && plaidFailure.httpStatus() == 429) {
            report(endpoint, claim.itemId(), plaidFailure);
          }
        })
        .recover(failure -> {
          if (!(failure instanceof PlaidClient.NotSentInTime)) {
            return Future.failedFuture(failure);
          }
          // nothing reached Plaid, several times: this node is too busy to keep its permits; try later
          log.debug("Connection {}: {}", claim.connectionId(), failure.getMessage());
          return Future.failedFuture(new Throttled(System.currentTimeMillis() + 1_000, "not_sent_in_time"));
        });
  }

  /** What a refusal says when no limiter answered (none reachable, or no budget owner during a take-over). */
  static final String NO_LIMITER = "limiter_unavailable";

  /** A permit's answer and, when granted, the Plaid client bound to send by the time the permit allows. */
  record Permit(PermitReply reply, PlaidClient plaid) {}

  /**
   * Asks the rate limiter for a permit. A granted one comes with {@code plaid} bound to its send-by time,
   * measured from when this asked (PermitReply#sendByNanos), so a call that cannot start in time is
   * kept off the wire. No permit, no call: a limiter that cannot answer is a refusal for 5 s.
   */
  Future<Permit> permit(String endpoint, String itemId, PermitPriority priority, long waitMs) {
    long askedAt = System.nanoTime();
    return Bus.<PermitReply>request(vertx, Addresses.RATELIMIT_ACQUIRE,
            new PermitRequest(endpoint, itemId, priority, waitMs), waitMs + settings.requestTimeoutMs())
        .recover(failure -> Future.succeededFuture(
            PermitReply.deny(System.currentTimeMillis() + 5_000, NO_LIMITER, 0)))
        .map(reply -> new Permit(reply, reply.granted() ? plaid.sendBy(reply.sendByNanos(askedAt)) : null));
  }

  private void report(String endpoint, String itemId, PlaidException failure) {
    String code = failure.error() == null ? null : failure.error().errorCode();
    vertx.eventBus().send(Addresses.RATELIMIT_REPORT, new RateLimitReport(endpoint, itemId, code, failure.retryAfter()));
  }

  // --- classification ----------------------------------------------------------------------------------

  /** A Plaid failure with the classifier's plan for it. */
  static final class Classified extends RuntimeException {
    final PlaidException failure;
    final Classification plan;

    Classified(PlaidException failure, Classification plan) {
      super(failure.getMessage(), null, false, false);
      this.failure = failure;
      this.plan = plan;
    }
  }

  private Future<Classification> classify(Claim claim, PlaidException failure) {
    JsonObject request = failure.toFailure().toJson()
        .put("attempt", claim.attempt() + 1)
        .put("institution_id", claim.institutionId())
        .put("item_id", claim.itemId())
        .put("connection_id", claim.connectionId());
    // a pure function on every node: this node's classifier first, another's only when it does not answer
    return Bus.<Classification>handOff(vertx, Addresses.CLASSIFY_ERROR, ClassifyRequest.fromJson(request),
        settings.requestTimeoutMs(), settings.requestTimeoutMs() * 2, true);
  }

  // --- finishing ---------------------------------------------------------------------------------------

  private Future<Void> finishSuccess(Claim claim, SyncResult result, OffsetDateTime startedAt, long startedNanos,
      Boolean balancesOk) {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    long interval = Math.min(jittered(settings.periodicIntervalMs()), settings.stalenessMs());
    // balances refreshed: next in an interval; not due, or failed (partial): as they were, so a failure is tried again next sync
    OffsetDateTime nextBalance = Boolean.TRUE.equals(balancesOk) ? now.plusNanos(settings.balanceIntervalMs() * 1_000_000) : null;
    String status = Boolean.FALSE.equals(balancesOk) ? "partial" : "success";
    OffsetDateTime nextSync = now.plusNanos(interval * 1_000_000);
    // a reconciliation rides a sync, so the connection syncs again by the time its next one is due (without
    // this it waited for the next periodic sync, up to periodic_interval_s late)
    OffsetDateTime reconcileAt = result.reconciliation != null ? result.nextReconcileAt : claim.nextReconcileAt();
    if (reconcileAt != null && reconcileAt.isBefore(nextSync)) {
      nextSync = reconcileAt.isBefore(now) ? now : reconcileAt;
    }
    SyncStore.Next next = new SyncStore.Next(nextSync, "periodic", 2, null, true, false, nextBalance);
    SyncStore.Log row = new SyncStore.Log(claim.syncId(), claim.connectionId(), claim.trigger(), status, startedAt,
        elapsedMs(startedNanos), result.pages, result.restarts, result.added, result.modified, result.removed, null,
        null, null, successMessage(result, balancesOk), nodeId);
    SyncStore.Tell tell = new SyncStore.Tell(Addresses.SYNC_COMPLETED, nextAt -> new SyncEvent(SyncEvent.COMPLETED,
        claim.connectionId(), claim.userId(), claim.itemId(), claim.institutionId(), claim.institutionName(),
        claim.syncId().toString(), claim.trigger(), status, startedAt.toInstant().toString(), (long) row.durationMs(),
        result.added, result.modified, result.removed, SyncStore.text(nextAt), null, null, null, null,
        successDetail(result)));
    return store.finish(claim, result, next, row, tell).map(finished -> {
      CrashPoints.reach("sync.committed");
      relay.tell(finished.told());
      metrics.finished(claim, status, row.durationMs());
      metrics.reconciled(result.reconciliation);
      return null;
    });
  }

  private static String successMessage(SyncResult result, Boolean balancesOk) {
    String resync = result.resync == null ? null
        : "Plaid refused the stored cursor (" + result.resync + "): the whole history was synced again";
    String balances = Boolean.FALSE.equals(balancesOk) ? "transactions stored; balances could not be refreshed" : null;
    return resync == null ? balances : balances == null ? resync : resync + "; " + balances;
  }

  /** Read when the commit tells its event, so a full update's pruned count is in it. */
  private static JsonObject successDetail(SyncResult result) {
    JsonObject detail = new JsonObject().put("pages", result.pages).put("restarts", result.restarts);
    if (result.resync != null) {
      detail.put("resync", result.resync);
    }
    if (result.pruned > 0) {
      detail.put("pruned", result.pruned);
    }
    if (result.reconciliation != null) {
      detail.put("reconciliation", result.reconciliation.toJson());
    }
    if (result.conflicts > 0) {
      detail.put("conflicts", result.conflicts);
    }
    return detail;
  }

  private Future<Void> failed(Claim claim, SyncResult result, OffsetDateTime startedAt, long startedNanos,
      Throwable failure) {
    if (failure instanceof SyncStore.LeaseLost) {
      log.info("Connection {}: another node took the lease over; this attempt's result is dropped", claim.connectionId());
      return Future.succeededFuture();
    }
    if (failure instanceof Throttled throttled) {
      OffsetDateTime at = OffsetDateTime.ofInstant(Instant.ofEpochMilli(throttled.notBefore), ZoneOffset.UTC);
      return finish(claim, result, startedAt, startedNanos, null, null, throttled.getMessage(), null, at,
          "rate_limited", false, null);
    }
    if (failure instanceof Classified classified) {
      return finishClassified(claim, result, startedAt, startedNanos, classified.failure, classified.plan);
    }
    if (failure instanceof PlaidException plaidFailure) {
      return classify(claim, plaidFailure)
          .recover(classifierDown -> Future.succeededFuture((Classification) null))
          .compose(plan -> finishClassified(claim, result, startedAt, startedNanos, plaidFailure, plan));
    }
    // Our own failure (the database, a bug): retry with a plain backoff, nothing was applied.
    log.warn("Connection {}: sync failed locally: {}", claim.connectionId(), failure.getMessage());
    return finishFailure(claim, result, startedAt, startedNanos, null, null, failure.getMessage(), null,
        OffsetDateTime.now(ZoneOffset.UTC).plusNanos(backoffMs(claim.attempt()) * 1_000_000), "failed");
  }

  private Future<Void> finishClassified(Claim claim, SyncResult result, OffsetDateTime startedAt, long startedNanos,
      PlaidException failure, Classification plan) {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    PlaidFailure plaidFailure = failure.toFailure();
    if (plan == null) {
      // The classifier did not answer: a conservative backoff, never a fast retry.
      return finish(claim, result, startedAt, startedNanos, plaidFailure, null, failure.getMessage(), null,
          now.plusNanos(backoffMs(claim.attempt()) * 1_000_000), "failed", true, null);
    }
    String paused = switch (plan.nextStep()) {
      case WAIT_FOR_USER -> "needs_user";
      case STOP -> "stopped";
      default -> null;
    };
    OffsetDateTime at = plan.nextRetryAt() != null
        ? OffsetDateTime.ofInstant(plan.nextRetryAt(), ZoneOffset.UTC)
        : now.plusNanos(Math.max(plan.delayMs(), 1_000) * 1_000_000);
    String status = plan.category() == ErrorCategory.RATE_LIMIT_EXCEEDED ? "rate_limited"
        : plan.category() == ErrorCategory.BANK_MAINTENANCE ? "maintenance"
        : plan.retryable() ? "retrying" : "failed";
    return finish(claim, result, startedAt, startedNanos, plaidFailure, plan, plan.message(), paused, at, status, true,
        plan.category().wire());
  }

  private Future<Void> finishFailure(Claim claim, SyncResult result, OffsetDateTime startedAt, long startedNanos,
      PlaidFailure failure, Classification plan, String message, String paused, OffsetDateTime at, String status) {
    return finish(claim, result, startedAt, startedNanos, failure, plan, message, paused, at, status, true, null);
  }

  private Future<Void> finish(Claim claim, SyncResult result, OffsetDateTime startedAt, long startedNanos,
      PlaidFailure failure, Classification plan, String message, String paused, OffsetDateTime at, String status,
      boolean countsAsAttempt, String category) {
    String trigger = paused == null && countsAsAttempt ? "retry" : claim.trigger();
    int priority = countsAsAttempt ? 2 : claim.priority();
    SyncStore.Next next = new SyncStore.Next(at, trigger, priority, paused, false, countsAsAttempt, null);
    SyncStore.Log row = new SyncStore.Log(claim.syncId(), claim.connectionId(), claim.trigger(), status, startedAt,
        elapsedMs(startedNanos), result.pages, result.restarts, 0, 0, 0,
        failure == null ? null : failure.errorType(), failure == null ? null : failure.errorCode(), category,
        message == null ? null : message.length() > 500 ? message.substring(0, 500) : message, nodeId);
    JsonObject detail = new JsonObject().put("pages", result.pages).put("restarts", result.restarts)
        .put("message", row.message());
    SyncStore.Tell tell = new SyncStore.Tell(Addresses.SYNC_FAILED, nextAt -> new SyncEvent(SyncEvent.FAILED,
        claim.connectionId(), claim.userId(), claim.itemId(), claim.institutionId(), claim.institutionName(),
        claim.syncId().toString(), claim.trigger(), status, startedAt.toInstant().toString(), (long) row.durationMs(),
        0, 0, 0, SyncStore.text(nextAt), paused, null, failure == null ? null : failure.toJson(),
        plan == null ? null : plan.toJson(), detail));
    return store.finish(claim, null, next, row, tell)
        .map(finished -> {
          CrashPoints.reach("sync.committed");
          relay.tell(finished.told());
          metrics.finished(claim, status, row.durationMs());
          return (Void) null;
        })
        .recover(lost -> {
          if (lost instanceof SyncStore.LeaseLost) {
            return Future.succeededFuture();
          }
          return Future.failedFuture(lost);
        });
  }

  // --- helpers -----------------------------------------------------------------------------------------

  static PermitPriority priorityOf(String trigger) {
    return switch (trigger == null ? "" : trigger) {
      case "manual", "initial", "probe" -> PermitPriority.MANUAL;
      case "webhook" -> PermitPriority.WEBHOOK;
      default -> PermitPriority.PERIODIC;
    };
  }

  private long jittered(long intervalMs) {
    double spread = settings.periodicJitter();
    return (long) (intervalMs * (1 - spread + 2 * spread * ThreadLocalRandom.current().nextDouble()));
  }

  /** For failures the classifier never saw: 30 s doubling per attempt, at most an hour. */
  private static long backoffMs(int attempt) {
    return Math.min(3_600_000L, 30_000L << Math.min(attempt, 7));
  }

  private static int elapsedMs(long startedNanos) {
    return (int) ((System.nanoTime() - startedNanos) / 1_000_000);
  }

  private SyncEvent event(String kind, Claim claim, String status, OffsetDateTime at, Long duration, Integer added,
      Integer modified, Integer removed, String nextSyncAt) {
    return new SyncEvent(kind, claim.connectionId(), claim.userId(), claim.itemId(), claim.institutionId(),
        claim.institutionName(), claim.syncId().toString(), claim.trigger(), status, at.toInstant().toString(), duration,
        added, modified, removed, nextSyncAt, null, null, null, null, null);
  }

  private void publish(String address, SyncEvent event) {
    vertx.eventBus().publish(address, event);
  }

  static List<String> ids(List<JsonObject> rows, String key) {
    return rows.stream().map(row -> row.getString(key)).toList();
  }
}
