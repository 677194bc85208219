package com.mingus.reliability.sync;

import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.crypto.TokenCipher;
import com.mingus.reliability.db.Tenancy;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Every query of sync scheduling, in one place. Leases are fenced: a write that finishes a sync names the
 * lease token it claimed with, and changes nothing when the lease has passed to another node.
 */
final class SyncStore {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SyncStore.class);
  /** The pool; an unscoped store's transactions begin here, and {@link #asUser} scopes one of its connections. */
  private final Pool root;
  /** Where the queries go: the pool, or the connection of a user's or an operator's transaction (db/Tenancy). */
  private final SqlClient pool;
  /** That transaction's connection, or null for the unscoped store of background work (the login role). */
  private final SqlConnection scoped;
  /** How long an event may wait for health's acknowledgement before any node tells it again. */
  private final long redriveAfterMs;

  SyncStore(Pool pool) {
    this(pool, 15_000);
  }

  SyncStore(Pool pool, long redriveAfterMs) {
    this(pool, null, redriveAfterMs);
  }

  private SyncStore(Pool root, SqlConnection scoped, long redriveAfterMs) {
    this.root = root;
    this.pool = scoped == null ? root : scoped;
    this.scoped = scoped;
    this.redriveAfterMs = redriveAfterMs;
  }

  Pool pool() {
    return root;
  }

  /**
   * Runs {@code work} on a store whose every query is one transaction as that user, under row-level security
   * (V14): what serves a user's request. With a null user, as the operator role (operator routes).
   */
  <T> Future<T> asUser(String userId, Function<SyncStore, Future<T>> work) {
    return Tenancy.scoped(root, userId, conn -> work.apply(new SyncStore(root, conn, redriveAfterMs)));
  }

  /** A transaction of this store: the scoped one it already runs in, or a new one on the pool. */
  private <T> Future<T> transaction(Function<SqlConnection, Future<T>> work) {
    return scoped != null ? work.apply(scoped) : root.withTransaction(work);
  }

  /** Thrown inside a transaction when this node no longer holds the lease; the transaction rolls back. */
  static final class LeaseLost extends RuntimeException {
    LeaseLost(String connectionId) {
      super("lease on " + connectionId + " passed to another node", null, false, false);
    }
  }

  // --- claiming -------------------------------------------------------------------------------------

  /**
   * The claim of up to {@code %d} due connections. The batch size is written into the statement, not bound:
   * with {@code LIMIT $n} PostgreSQL cannot trust a generic plan (it guesses a tenth of the table) and plans
   * every claim anew, which cost as much as running it; with a literal, each size keeps one plan per
   * connection after five runs (at most {@code claim_batch} statements, in the prepared-statement cache).
   * The rows found are updated through their {@code ctid} (the version just locked, no second index
   * lookup) and the connection's columns come from the same join; a row whose locked version is newer
   * than the statement's snapshot (changed between the snapshot and the lock) is simply not claimed this
   * time, and the next claim takes it.
   */
  static final String CLAIM = """
      WITH due AS (
        SELECT s.ctid AS row_id, s.pending_sync_id, c.user_id, c.item_id, c.institution_id, c.institution_name,
               c.token_key_id, c.token_nonce, c.token_ciphertext, c.sync_cursor
        FROM sync_schedule s
        JOIN connections c ON c.connection_id = s.connection_id
        WHERE s.next_sync_at <= now()
          AND s.paused IS NULL
          AND (s.lease_until IS NULL OR s.lease_until < now())
          AND (s.trigger = 'probe' OR NOT EXISTS (
                SELECT 1 FROM institution_pauses p
                WHERE p.institution_id = c.institution_id AND (p.until_at IS NULL OR p.until_at > now())))
        ORDER BY s.priority, s.next_sync_at
        LIMIT %d
        FOR UPDATE OF s SKIP LOCKED
      )
      UPDATE sync_schedule s
      SET lease_owner = $1, lease_token = gen_random_uuid(), lease_until = now() + ($2::bigint * interval '1 millisecond'),
          claimed_at = now(), last_attempt_at = now(), pending_sync_id = NULL
      FROM due
      WHERE s.ctid = due.row_id
      RETURNING s.connection_id, s.lease_token, COALESCE(due.pending_sync_id, gen_random_uuid()) AS sync_id,
                s.trigger, s.priority, s.attempt, due.user_id, due.item_id, due.institution_id, due.institution_name,
                due.token_key_id, due.token_nonce, due.token_ciphertext, due.sync_cursor, s.next_balance_at,
                s.last_success_at, s.next_reconcile_at, s.next_sync_at
      """;

  static String claimSql(int batch) {
    if (batch < 1) {
      throw new IllegalArgumentException("claim batch " + batch);
    }
    return CLAIM.formatted(batch);
  }

  Future<List<Claim>> claim(String owner, int batch, long leaseMs) {
    return pool.preparedQuery(claimSql(batch)).execute(Tuple.of(owner, leaseMs)).map(rows -> {
      List<Claim> claims = new ArrayList<>(rows.size());
      for (Row row : rows) {
        claims.add(new Claim(row.getString("connection_id"), row.getUUID("lease_token"), row.getUUID("sync_id"),
            row.getString("trigger"), row.getInteger("priority"), row.getInteger("attempt"), row.getString("user_id"),
            row.getString("item_id"), row.getString("institution_id"), row.getString("institution_name"),
            sealed(row), row.getString("sync_cursor"), row.getOffsetDateTime("next_balance_at"),
            row.getOffsetDateTime("last_success_at"), row.getOffsetDateTime("next_reconcile_at"),
            row.getOffsetDateTime("next_sync_at")));
      }
      return claims;
    });
  }

  /** Connections due and claimable now (the claim's conditions), waiting for a claim loop: the queue's depth. */
  Future<Long> dueCount() {
    return pool.query("""
            SELECT count(*) FROM sync_schedule s JOIN connections c ON c.connection_id = s.connection_id
            WHERE s.next_sync_at <= now() AND s.paused IS NULL AND (s.lease_until IS NULL OR s.lease_until < now())
              AND (s.trigger = 'probe' OR NOT EXISTS (
                    SELECT 1 FROM institution_pauses p
                    WHERE p.institution_id = c.institution_id AND (p.until_at IS NULL OR p.until_at > now())))
            """).execute().map(rows -> rows.iterator().next().getLong(0));
  }

  /** Renews the leases this node holds; each is found by its connection's key and checked by its token. */
  Future<Integer> heartbeat(String owner, List<Claim> held, long leaseMs) {
    if (held.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return pool.preparedQuery("UPDATE sync_schedule SET lease_until = now() + ($4::bigint * interval '1 millisecond') "
            + "WHERE connection_id = ANY($2) AND lease_owner = $1 AND lease_token = ANY($3)")
        .execute(Tuple.of(owner, ids(held), tokens(held), leaseMs))
        .map(RowSet::rowCount);
  }

  private static String[] ids(List<Claim> claims) {
    return claims.stream().map(Claim::connectionId).toArray(String[]::new);
  }

  private static UUID[] tokens(List<Claim> claims) {
    return claims.stream().map(Claim::leaseToken).toArray(UUID[]::new);
  }

  /** Gives leases back without a result (this node is stopping): the connections are due again at once. */
  Future<Integer> release(String owner, List<Claim> held) {
    if (held.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return pool.preparedQuery("UPDATE sync_schedule SET lease_owner = NULL, lease_token = NULL, lease_until = NULL "
            + "WHERE connection_id = ANY($2) AND lease_owner = $1 AND lease_token = ANY($3)")
        .execute(Tuple.of(owner, ids(held), tokens(held)))
        .map(RowSet::rowCount);
  }

  // --- finishing a sync -----------------------------------------------------------------------------

  /** What the schedule becomes after an attempt. */
  record Next(OffsetDateTime at, String trigger, int priority, String paused, boolean success, boolean countsAsAttempt,
      OffsetDateTime nextBalanceAt) {}

  /** An event written to the outbox in the transaction that made it true; told to health after the commit. */
  record Outboxed(long id, String address, SyncEvent event) {}

  /** The event a finish tells, built once the schedule's next_sync_at is known. */
  record Tell(String address, Function<OffsetDateTime, SyncEvent> event) {}

  /** What a finish committed: when the connection syncs next, and the event to tell. */
  record Finished(OffsetDateTime nextAt, Outboxed told) {}

  static final String OUTBOX_INSERT = "INSERT INTO sync_outbox (connection_id, address, body, redrive_at) "
      + "VALUES ($1, $2, $3::jsonb, now() + ($4::bigint * interval '1 millisecond')) RETURNING id";

  /** Writes one event to the outbox inside the caller's transaction. */
  private Future<Outboxed> outbox(SqlConnection conn, String address, SyncEvent event) {
    return conn.preparedQuery(OUTBOX_INSERT)
        .execute(Tuple.of(event.connectionId(), address, event.toJson(), redriveAfterMs))
        .map(rows -> new Outboxed(rows.iterator().next().getLong("id"), address, event));
  }

  /** The sync log row of one attempt. */
  record Log(UUID syncId, String connectionId, String trigger, String status, OffsetDateTime startedAt, int durationMs,
      int pages, int restarts, int added, int modified, int removed, String errorType, String errorCode,
      String category, String message, String nodeId) {}

  private static final String FENCE = """
      UPDATE sync_schedule SET
        lease_owner = NULL, lease_token = NULL, lease_until = NULL,
        next_sync_at = CASE WHEN requested_at > claimed_at THEN LEAST($3, now()) ELSE $3 END,
        trigger = CASE WHEN requested_at > claimed_at THEN 'webhook' ELSE $4 END,
        priority = CASE WHEN requested_at > claimed_at THEN LEAST(priority, 1) ELSE $5 END,
        paused = $6,
        attempt = CASE WHEN $7 THEN 0 WHEN $8 THEN attempt + 1 ELSE attempt END,
        last_success_at = CASE WHEN $7 THEN now() ELSE last_success_at END,
        next_balance_at = COALESCE($9, next_balance_at)
      WHERE connection_id = $1 AND lease_token = $2
      RETURNING next_sync_at
      """;

  /**
   * Stores one attempt's outcome atomically: the fence (still our lease?), every change of the update,
   * the accounts, the new cursor and the log row commit together or not at all.
   */
  Future<Finished> finish(Claim claim, SyncResult result, Next next, Log log, Tell tell) {
    if (result == null || result.isEmpty()) {
      return finishWithoutChanges(claim, next, log, tell);
    }
    return transaction(conn -> conn.preparedQuery(FENCE)
        .execute(Tuple.from(new Object[] {claim.connectionId(), claim.leaseToken(), next.at(), next.trigger(),
            next.priority(), next.paused(), next.success(), next.countsAsAttempt(), next.nextBalanceAt()}))
        .compose(rows -> {
          if (rows.rowCount() == 0) {
            return Future.failedFuture(new LeaseLost(claim.connectionId()));
          }
          OffsetDateTime nextAt = rows.iterator().next().getOffsetDateTime("next_sync_at");
          return apply(conn, claim.connectionId(), result)
              .compose(v -> result.reconciliation == null ? Future.<Void>succeededFuture()
                  : reconciled(conn, claim, result.reconciliation, result.nextReconcileAt))
              .compose(v -> {
                // told after the changes are applied, so the event carries what applying found (a pruned count)
                SyncEvent event = tell.event().apply(nextAt);
                return insertLogAndTell(conn, log, tell.address(), event).map(told -> new Finished(nextAt, told));
              });
        }));
  }

  /** One attempt without changes waiting for the next batched finish. */
  private record Pending(Claim claim, Next next, Log log, Tell tell, Promise<Finished> done) {}

  private final List<Pending> pending = new ArrayList<>();
  private boolean flushScheduled;
  static final int FINISH_BATCH = 64;

  /**
   * Attempts that changed nothing are finished in batches: every such attempt that ends in the same
   * turn of the event loop (a claim batch of quiet periodic syncs, a burst of throttled ones) shares one
   * statement, one round trip and one commit. Each row is still fenced by its own lease token.
   */
  private Future<Finished> finishWithoutChanges(Claim claim, Next next, Log log, Tell tell) {
    Promise<Finished> done = Promise.promise();
    pending.add(new Pending(claim, next, log, tell, done));
    if (pending.size() >= FINISH_BATCH) {
      flush();
    } else if (!flushScheduled) {
      Context context = Vertx.currentContext();
      if (context == null) {
        flush();
      } else {
        flushScheduled = true;
        context.runOnContext(v -> flush());
      }
    }
    return done.future();
  }

  private static final String FINISH_MANY = """
      WITH input AS (
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::text[], $5::int[], $6::text[], $7::bool[],
                             $8::bool[], $9::timestamptz[], $10::uuid[], $11::text[], $12::text[], $13::timestamptz[],
                             $14::int[], $15::int[], $16::int[], $17::text[], $18::text[], $19::text[], $20::text[],
                             $21::text[], $22::text[], $23::text[])
          AS t(connection_id, lease_token, next_at, next_trigger, next_priority, paused, success, counts, next_balance,
               sync_id, log_trigger, status, started_at, duration_ms, pages, restarts, error_type, error_code,
               category, message, node_id, address, event)
      ), fenced AS (
        UPDATE sync_schedule s SET
          lease_owner = NULL, lease_token = NULL, lease_until = NULL,
          next_sync_at = CASE WHEN s.requested_at > s.claimed_at THEN LEAST(i.next_at, now()) ELSE i.next_at END,
          trigger = CASE WHEN s.requested_at > s.claimed_at THEN 'webhook' ELSE i.next_trigger END,
          priority = CASE WHEN s.requested_at > s.claimed_at THEN LEAST(s.priority, 1) ELSE i.next_priority END,
          paused = i.paused,
          attempt = CASE WHEN i.success THEN 0 WHEN i.counts THEN s.attempt + 1 ELSE s.attempt END,
          last_success_at = CASE WHEN i.success THEN now() ELSE s.last_success_at END,
          next_balance_at = COALESCE(i.next_balance, s.next_balance_at)
        FROM input i
        WHERE s.connection_id = i.connection_id AND s.lease_token = i.lease_token
        RETURNING s.connection_id, s.next_sync_at
      ), logged AS (
        INSERT INTO sync_logs (sync_id, connection_id, trigger, status, started_at, duration_ms, pages, restarts,
                               added, modified, removed, error_type, error_code, category, message, node_id)
        SELECT i.sync_id, i.connection_id, i.log_trigger, i.status, i.started_at, i.duration_ms, i.pages, i.restarts,
               0, 0, 0, i.error_type, i.error_code, i.category, i.message, i.node_id
        FROM input i JOIN fenced f ON f.connection_id = i.connection_id
      ), told AS (
        INSERT INTO sync_outbox (connection_id, address, body, redrive_at)
        SELECT i.connection_id, i.address, i.event::jsonb || jsonb_build_object('next_sync_at', f.next_sync_at),
               now() + ($24::bigint * interval '1 millisecond')
        FROM input i JOIN fenced f ON f.connection_id = i.connection_id
        RETURNING id, connection_id
      )
      SELECT f.connection_id, f.next_sync_at, t.id AS event_id FROM fenced f JOIN told t ON t.connection_id = f.connection_id
      """;

  private void flush() {
    flushScheduled = false;
    if (pending.isEmpty()) {
      return;
    }
    List<Pending> batch = new ArrayList<>(pending);
    pending.clear();
    int n = batch.size();
    String[] ids = new String[n];
    UUID[] tokens = new UUID[n];
    OffsetDateTime[] nextAt = new OffsetDateTime[n];
    String[] nextTrigger = new String[n];
    Integer[] nextPriority = new Integer[n];
    String[] paused = new String[n];
    Boolean[] success = new Boolean[n];
    Boolean[] counts = new Boolean[n];
    OffsetDateTime[] nextBalance = new OffsetDateTime[n];
    UUID[] syncIds = new UUID[n];
    String[] logTrigger = new String[n];
    String[] status = new String[n];
    OffsetDateTime[] startedAt = new OffsetDateTime[n];
    Integer[] duration = new Integer[n];
    Integer[] pages = new Integer[n];
    Integer[] restarts = new Integer[n];
    String[] errorType = new String[n];
    String[] errorCode = new String[n];
    String[] category = new String[n];
    String[] message = new String[n];
    String[] node = new String[n];
    String[] address = new String[n];
    String[] event = new String[n];
    for (int i = 0; i < n; i++) {
      Pending p = batch.get(i);
      ids[i] = p.claim().connectionId();
      tokens[i] = p.claim().leaseToken();
      nextAt[i] = p.next().at();
      nextTrigger[i] = p.next().trigger();
      nextPriority[i] = p.next().priority();
      paused[i] = p.next().paused();
      success[i] = p.next().success();
      counts[i] = p.next().countsAsAttempt();
      nextBalance[i] = p.next().nextBalanceAt();
      syncIds[i] = p.log().syncId();
      logTrigger[i] = p.log().trigger();
      status[i] = p.log().status();
      startedAt[i] = p.log().startedAt();
      duration[i] = p.log().durationMs();
      pages[i] = p.log().pages();
      restarts[i] = p.log().restarts();
      errorType[i] = p.log().errorType();
      errorCode[i] = p.log().errorCode();
      category[i] = p.log().category();
      message[i] = p.log().message();
      node[i] = p.log().nodeId();
      address[i] = p.tell().address();
      // next_sync_at is the statement's to decide (a request during the sync moves it): the outbox row gets
      // it there, and the event told at once gets it from the statement's answer
      event[i] = p.tell().event().apply(null).toJson().encode();
    }
    pool.preparedQuery(FINISH_MANY)
        .execute(Tuple.from(new Object[] {ids, tokens, nextAt, nextTrigger, nextPriority, paused, success, counts,
            nextBalance, syncIds, logTrigger, status, startedAt, duration, pages, restarts, errorType, errorCode,
            category, message, node, address, event, redriveAfterMs}))
        .onComplete(result -> {
          if (result.failed()) {
            batch.forEach(p -> p.done().tryFail(result.cause()));
            return;
          }
          Map<String, Row> finished = new java.util.HashMap<>();
          for (Row row : result.result()) {
            finished.put(row.getString("connection_id"), row);
          }
          for (Pending p : batch) {
            Row row = finished.get(p.claim().connectionId());
            if (row == null) {
              p.done().tryFail(new LeaseLost(p.claim().connectionId()));
            } else {
              OffsetDateTime at = row.getOffsetDateTime("next_sync_at");
              p.done().tryComplete(new Finished(at,
                  new Outboxed(row.getLong("event_id"), p.tell().address(), p.tell().event().apply(at))));
            }
          }
        });
  }

  /** A connection's stored transactions dated start..end (id to fingerprint) and its accounts' balances. */
  record Stored(Map<String, String> transactions, Map<String, String> balances) {}

  Future<Stored> storedForReconcile(String connectionId, LocalDate start, LocalDate end) {
    return pool.preparedQuery("SELECT transaction_id, amount, date, pending FROM transactions "
            + "WHERE connection_id = $1 AND date BETWEEN $2 AND $3")
        .execute(Tuple.of(connectionId, start, end))
        .compose(rows -> {
          Map<String, String> transactions = new java.util.HashMap<>();
          for (Row row : rows) {
            transactions.put(row.getString("transaction_id"), Reconciler.fingerprint(row.getBigDecimal("amount"),
                String.valueOf(row.getLocalDate("date")), Boolean.TRUE.equals(row.getBoolean("pending"))));
          }
          return pool.preparedQuery("SELECT account_id, balances FROM accounts WHERE connection_id = $1")
              .execute(Tuple.of(connectionId)).map(accounts -> {
                Map<String, String> balances = new java.util.HashMap<>();
                for (Row row : accounts) {
                  Object value = row.getValue("balances");
                  balances.put(row.getString("account_id"),
                      Reconciler.balance(value instanceof JsonObject json ? json : null));
                }
                return new Stored(transactions, balances);
              });
        });
  }

  private Future<Void> reconciled(SqlConnection conn, Claim claim, Reconciler.Run run, OffsetDateTime nextAt) {
    return conn.preparedQuery("""
            WITH kept AS (
              INSERT INTO reconciliations (connection_id, sync_id, trigger, status, started_at, start_date, end_date,
                                           plaid_calls, checked, missing, extra, changed, balances_checked,
                                           balances_changed, error_code, message)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            )
            UPDATE sync_schedule SET next_reconcile_at = $17
            WHERE connection_id = $1
            """)
        .execute(Tuple.from(new Object[] {claim.connectionId(), claim.syncId(), run.trigger(), run.status(),
            run.startedAt(), run.startDate(), run.endDate(), run.plaidCalls(), run.checked(), run.missing(), run.extra(),
            run.changed(), run.balancesChecked(), run.balancesChanged(), run.errorCode(), run.message(), nextAt}))
        .mapEmpty();
  }

  /** An operator asks for a reconciliation now: the connection syncs at once and reconciles with it. */
  Future<UUID> requestReconcile(String connectionId) {
    return pool.preparedQuery("""
            UPDATE sync_schedule SET next_sync_at = now(), priority = 0, trigger = 'reconcile', requested_at = now(),
                   next_reconcile_at = now(), pending_sync_id = COALESCE(pending_sync_id, gen_random_uuid())
            WHERE connection_id = $1
            RETURNING pending_sync_id
            """).execute(Tuple.of(connectionId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID("pending_sync_id"));
  }

  /** Every connection's reconciliations of the last {@code hours}: runs by status, drift found, Plaid calls spent. */
  Future<JsonObject> reconciliationTotals(int hours) {
    return pool.preparedQuery("""
            SELECT count(*) AS runs,
                   count(*) FILTER (WHERE status = 'clean') AS clean, count(*) FILTER (WHERE status = 'repaired') AS repaired,
                   count(*) FILTER (WHERE status = 'deferred') AS deferred, count(*) FILTER (WHERE status = 'failed') AS failed,
                   COALESCE(sum(missing), 0) AS missing, COALESCE(sum(extra), 0) AS extra,
                   COALESCE(sum(changed), 0) AS changed, COALESCE(sum(balances_changed), 0) AS balances_changed,
                   COALESCE(sum(plaid_calls), 0) AS plaid_calls, COALESCE(sum(checked), 0) AS checked
            FROM reconciliations WHERE finished_at > now() - ($1::int * interval '1 hour')
            """).execute(Tuple.of(hours)).map(rows -> {
          Row row = rows.iterator().next();
          JsonObject out = new JsonObject().put("hours", hours);
          for (String column : List.of("runs", "clean", "repaired", "deferred", "failed", "missing", "extra", "changed",
              "balances_changed", "plaid_calls", "checked")) {
            out.put(column, row.getLong(column));
          }
          return out;
        });
  }

  /**
   * A keyset page of the reconciliations of a connection (every connection's, with null), newest first: those
   * with an id below {@code beforeId} (null: from the newest).
   */
  Future<JsonArray> reconciliations(String connectionId, Long beforeId, int limit) {
    return pool.preparedQuery("""
            SELECT id, connection_id, sync_id, trigger, status, started_at, finished_at, start_date, end_date, plaid_calls, checked,
                   missing, extra, changed, balances_checked, balances_changed, error_code, message
            FROM reconciliations WHERE ($1::text IS NULL OR connection_id = $1) AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3
            """).execute(Tuple.of(connectionId, beforeId, limit)).map(rows -> {
          JsonArray out = new JsonArray();
          for (Row row : rows) {
            out.add(new JsonObject().put("id", row.getLong("id")).put("connection_id", row.getString("connection_id"))
                .put("sync_id", row.getUUID("sync_id").toString())
                .put("trigger", row.getString("trigger")).put("status", row.getString("status"))
                .put("started_at", text(row.getOffsetDateTime("started_at")))
                .put("finished_at", text(row.getOffsetDateTime("finished_at")))
                .put("start_date", row.getLocalDate("start_date").toString())
                .put("end_date", row.getLocalDate("end_date").toString())
                .put("plaid_calls", row.getInteger("plaid_calls")).put("checked", row.getInteger("checked"))
                .put("missing", row.getInteger("missing")).put("extra", row.getInteger("extra"))
                .put("changed", row.getInteger("changed")).put("balances_checked", row.getInteger("balances_checked"))
                .put("balances_changed", row.getInteger("balances_changed"))
                .put("error_code", row.getString("error_code")).put("message", row.getString("message")));
          }
          return out;
        });
  }

  private Future<Void> apply(SqlConnection conn, String connectionId, SyncResult result) {
    List<String> removedIds = new ArrayList<>();
    List<Tuple> upserts = new ArrayList<>();
    List<String> replacedPending = new ArrayList<>();
    for (Map.Entry<String, JsonObject> change : result.changes.entrySet()) {
      JsonObject tx = change.getValue();
      if (tx == null) {
        removedIds.add(change.getKey());
        continue;
      }
      String pendingId = tx.getString("pending_transaction_id");
      if (pendingId != null && !tx.getBoolean("pending", false)) {
        replacedPending.add(pendingId);
      }
      upserts.add(Tuple.from(new Object[] {change.getKey(), connectionId, tx.getString("account_id"), amount(tx),
          date(tx), tx.getBoolean("pending", false), pendingId, tx.getString("name"), tx}));
    }
    // A posted transaction replaces its pending one even if Plaid's removal of it was not seen.
    removedIds.addAll(replacedPending);
    Future<Void> chain = Future.succeededFuture();
    if (!removedIds.isEmpty()) {
      chain = chain.compose(v -> conn.preparedQuery(
              "DELETE FROM transactions WHERE connection_id = $1 AND transaction_id = ANY($2)")
          .execute(Tuple.of(connectionId, (Object) removedIds.toArray(new String[0]))).mapEmpty());
    }
    if (!upserts.isEmpty()) {
      chain = chain.compose(v -> conn.preparedQuery("""
              INSERT INTO transactions (transaction_id, connection_id, account_id, amount, date, pending,
                                        pending_transaction_id, name, data, updated_at)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
              ON CONFLICT (transaction_id) DO UPDATE SET account_id = EXCLUDED.account_id, amount = EXCLUDED.amount,
                date = EXCLUDED.date, pending = EXCLUDED.pending, pending_transaction_id = EXCLUDED.pending_transaction_id,
                name = EXCLUDED.name, data = EXCLUDED.data, updated_at = now()
              WHERE transactions.connection_id = EXCLUDED.connection_id
              """).executeBatch(upserts).map(rows -> {
            // a row not written is a transaction_id another connection holds: counted and reported, not silent
            int written = 0;
            for (RowSet<Row> batch = rows; batch != null; batch = batch.next()) {
              written += batch.rowCount();
            }
            result.conflicts = upserts.size() - written;
            if (result.conflicts > 0) {
              log.warn("Connection {}: {} transaction(s) already held by another connection were left with it",
                  connectionId, result.conflicts);
            }
            return (Void) null;
          }));
    }
    if (!result.accounts.isEmpty()) {
      List<Tuple> accounts = new ArrayList<>();
      result.accounts.forEach((id, account) -> accounts.add(Tuple.of(id, connectionId, account,
          account.getJsonObject("balances"))));
      chain = chain.compose(v -> conn.preparedQuery("""
              INSERT INTO accounts (account_id, connection_id, data, balances, balances_at, updated_at)
              VALUES ($1, $2, $3, $4, now(), now())
              ON CONFLICT (account_id) DO UPDATE SET data = EXCLUDED.data, balances = EXCLUDED.balances,
                balances_at = now(), updated_at = now()
              WHERE accounts.connection_id = EXCLUDED.connection_id
              """).executeBatch(accounts).mapEmpty());
    }
    if (result.full && result.nextCursor != null) {
      // the whole history, complete (it ended with a cursor): what is stored and not in it is gone at Plaid
      String[] kept = result.changes.entrySet().stream().filter(change -> change.getValue() != null)
          .map(Map.Entry::getKey).toArray(String[]::new);
      chain = chain.compose(v -> conn.preparedQuery(
              "DELETE FROM transactions WHERE connection_id = $1 AND NOT (transaction_id = ANY($2))")
          .execute(Tuple.of(connectionId, (Object) kept)).map(rows -> {
            result.pruned = rows.rowCount();
            return (Void) null;
          }));
    }
    if (result.nextCursor != null) {
      chain = chain.compose(v -> conn.preparedQuery(
              "UPDATE connections SET sync_cursor = $2, updated_at = now() WHERE connection_id = $1")
          .execute(Tuple.of(connectionId, result.nextCursor)).mapEmpty());
    }
    return chain;
  }

  private Future<Outboxed> insertLogAndTell(SqlConnection conn, Log log, String address, SyncEvent event) {
    return conn.preparedQuery("""
            WITH logged AS (
              INSERT INTO sync_logs (sync_id, connection_id, trigger, status, started_at, duration_ms, pages, restarts,
                                     added, modified, removed, error_type, error_code, category, message, node_id)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            )
            INSERT INTO sync_outbox (connection_id, address, body, redrive_at)
            VALUES ($2, $17, $18::jsonb, now() + ($19::bigint * interval '1 millisecond'))
            RETURNING id
            """)
        .execute(Tuple.from(new Object[] {log.syncId(), log.connectionId(), log.trigger(), log.status(),
            log.startedAt(), log.durationMs(), log.pages(), log.restarts(), log.added(), log.modified(), log.removed(),
            log.errorType(), log.errorCode(), log.category(), log.message(), log.nodeId(), address,
            event.toJson(), redriveAfterMs}))
        .map(rows -> new Outboxed(rows.iterator().next().getLong("id"), address, event));
  }

  /** Stores fresh balances from /accounts/balance/get (outside any sync's transaction). */
  Future<Void> storeBalances(String connectionId, List<JsonObject> accounts) {
    List<Tuple> rows = new ArrayList<>();
    for (JsonObject account : accounts) {
      rows.add(Tuple.of(account.getString("account_id"), connectionId, account, account.getJsonObject("balances")));
    }
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery("""
            INSERT INTO accounts (account_id, connection_id, data, balances, balances_at, updated_at)
            VALUES ($1, $2, $3, $4, now(), now())
            ON CONFLICT (account_id) DO UPDATE SET balances = EXCLUDED.balances, balances_at = now(), updated_at = now()
            WHERE accounts.connection_id = EXCLUDED.connection_id
            """).executeBatch(rows).mapEmpty();
  }

  // --- registry -------------------------------------------------------------------------------------

  /**
   * Registers a connection with its first sync due now, its first reconciliation due {@code reconcileMs} on
   * ({@code sync.reconcile_interval_s}, not the column's default of a day), and its {@code registered} event
   * in the same transaction; null when the Item is registered already.
   */
  Future<Outboxed> insertConnection(String connectionId, String userId, String itemId, String institutionId,
      String institutionName, TokenCipher.Sealed token, UUID firstSyncId, long reconcileMs, String address,
      SyncEvent registered) {
    return transaction(conn -> conn.preparedQuery("""
            INSERT INTO connections (connection_id, user_id, item_id, institution_id, institution_name,
                                     token_key_id, token_nonce, token_ciphertext)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (item_id) DO NOTHING
            """)
        .execute(Tuple.from(new Object[] {connectionId, userId, itemId, institutionId, institutionName, token.keyId(),
            Buffer.buffer(token.nonce()), Buffer.buffer(token.ciphertext())}))
        .compose(rows -> {
          if (rows.rowCount() == 0) {
            return Future.succeededFuture((Outboxed) null);
          }
          return conn.preparedQuery("""
                  INSERT INTO sync_schedule (connection_id, next_sync_at, priority, trigger, pending_sync_id, requested_at,
                                             next_reconcile_at)
                  VALUES ($1, now(), 0, 'initial', $2, now(), now() + ($3::bigint * interval '1 millisecond'))
                  """).execute(Tuple.of(connectionId, firstSyncId, reconcileMs))
              .compose(v -> outbox(conn, address, registered));
        }));
  }

  /** One connection of one user (or of anyone when userId is null), or null. */
  Future<JsonObject> connection(String userId, String connectionId) {
    return pool.preparedQuery(CONNECTION_VIEW + " WHERE c.connection_id = $1 AND ($2::text IS NULL OR c.user_id = $2)")
        .execute(Tuple.of(connectionId, userId))
        .map(rows -> rows.size() == 0 ? null : view(rows.iterator().next()));
  }

  Future<List<JsonObject>> connections(String userId) {
    return pool.preparedQuery(CONNECTION_VIEW + " WHERE ($1::text IS NULL OR c.user_id = $1) ORDER BY c.created_at, c.connection_id")
        .execute(Tuple.of(userId))
        .map(rows -> {
          List<JsonObject> out = new ArrayList<>(rows.size());
          rows.forEach(row -> out.add(view(row)));
          return out;
        });
  }

  private static final String CONNECTION_VIEW = """
      SELECT c.connection_id, c.user_id, c.item_id, c.institution_id, c.institution_name, c.created_at,
             s.next_sync_at, s.trigger, s.paused, s.attempt, s.retry_count, s.last_retry_at, s.last_success_at,
             s.last_attempt_at, s.lease_until > now() AS syncing
      FROM connections c JOIN sync_schedule s ON s.connection_id = c.connection_id
      """;

  private static JsonObject view(Row row) {
    return new JsonObject()
        .put("connection_id", row.getString("connection_id"))
        .put("user_id", row.getString("user_id"))
        .put("item_id", row.getString("item_id"))
        .put("institution_id", row.getString("institution_id"))
        .put("institution_name", row.getString("institution_name"))
        .put("created_at", text(row.getOffsetDateTime("created_at")))
        .put("next_sync_at", text(row.getOffsetDateTime("next_sync_at")))
        .put("trigger", row.getString("trigger"))
        .put("paused", row.getString("paused"))
        .put("attempt", row.getInteger("attempt"))
        .put("retry_count", row.getInteger("retry_count"))
        .put("last_retry_attempt", text(row.getOffsetDateTime("last_retry_at")))
        .put("last_successful_sync", text(row.getOffsetDateTime("last_success_at")))
        .put("last_attempt_at", text(row.getOffsetDateTime("last_attempt_at")))
        .put("syncing", Boolean.TRUE.equals(row.getBoolean("syncing")));
  }

  /** The sealed token of a connection the user owns, with its item id; null when there is none. */
  Future<Row> tokenRow(String userId, String connectionId) {
    return pool.preparedQuery("SELECT connection_id, user_id, item_id, institution_id, institution_name, token_key_id, "
            + "token_nonce, token_ciphertext FROM connections WHERE connection_id = $1 AND ($2::text IS NULL OR user_id = $2)")
        .execute(Tuple.of(connectionId, userId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }

  static TokenCipher.Sealed sealed(Row row) {
    return new TokenCipher.Sealed(row.getString("token_key_id"), row.getBuffer("token_nonce").getBytes(),
        row.getBuffer("token_ciphertext").getBytes());
  }

  /**
   * Deletes a connection and everything stored for it. The schedule row is locked first, in the order a
   * finishing sync takes its locks (schedule, then the connection through the foreign keys of what it
   * stores), so a removal during a sync waits for it instead of deadlocking with it; the sync's later
   * writes are then fenced out because the row is gone. The sync log has no foreign key (V8): its rows go
   * here, after the lock, so a finish that committed first loses its log row with the rest, and one that
   * comes later finds no schedule row and writes none.
   */
  Future<Outboxed> deleteConnection(String connectionId, String address, SyncEvent removed) {
    return transaction(conn -> conn.preparedQuery(
            "SELECT connection_id FROM sync_schedule WHERE connection_id = $1 FOR UPDATE")
        .execute(Tuple.of(connectionId))
        .compose(locked -> conn.preparedQuery("DELETE FROM sync_logs WHERE connection_id = $1")
            .execute(Tuple.of(connectionId)))
        .compose(logs -> conn.preparedQuery("DELETE FROM connections WHERE connection_id = $1")
            .execute(Tuple.of(connectionId)))
        .compose(rows -> rows.rowCount() > 0 ? outbox(conn, address, removed) : Future.succeededFuture((Outboxed) null)));
  }

  // --- requests for a sync --------------------------------------------------------------------------

  /** A user's sync-now: the highest priority, at once; answers the id the sync will log under. */
  Future<UUID> requestNow(String userId, String connectionId) {
    return pool.preparedQuery("""
            UPDATE sync_schedule s SET next_sync_at = now(), priority = 0, trigger = 'manual', requested_at = now(),
                   pending_sync_id = COALESCE(pending_sync_id, gen_random_uuid())
            FROM connections c
            WHERE s.connection_id = c.connection_id AND c.connection_id = $1 AND c.user_id = $2
            RETURNING s.pending_sync_id
            """).execute(Tuple.of(connectionId, userId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID("pending_sync_id"));
  }

  /** A manual retry: lifts a wait for the user, counts the retry, and syncs now. */
  Future<Row> requestRetry(String userId, String connectionId) {
    return pool.preparedQuery("""
            UPDATE sync_schedule s SET next_sync_at = now(), priority = 0, trigger = 'retry', requested_at = now(),
                   paused = NULL, retry_count = retry_count + 1, last_retry_at = now(),
                   pending_sync_id = COALESCE(pending_sync_id, gen_random_uuid())
            FROM connections c
            WHERE s.connection_id = c.connection_id AND c.connection_id = $1 AND c.user_id = $2
            RETURNING s.pending_sync_id, s.retry_count, s.last_retry_at
            """).execute(Tuple.of(connectionId, userId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }

  /** A webhook said new data is ready: one sync soon, however many webhooks arrive. */
  Future<String> requestForWebhook(String itemId, long coalesceMs) {
    return pool.preparedQuery("""
            UPDATE sync_schedule s SET requested_at = now(),
                   trigger = CASE WHEN s.next_sync_at > now() + ($2::bigint * interval '1 millisecond') THEN 'webhook' ELSE s.trigger END,
                   priority = LEAST(s.priority, 1),
                   next_sync_at = LEAST(s.next_sync_at, now() + ($2::bigint * interval '1 millisecond'))
            FROM connections c
            WHERE s.connection_id = c.connection_id AND c.item_id = $1
            RETURNING s.connection_id
            """).execute(Tuple.of(itemId, coalesceMs))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString("connection_id"));
  }

  /**
   * A Plaid ITEM webhook about a connection, and the event health must hear of it, in one transaction:
   * with {@code park} the connection is parked ({@code paused} set) or released ({@code paused} null:
   * it syncs now); without, only the event is written. Null when no connection has the Item.
   */
  Future<Outboxed> itemWebhook(String itemId, boolean park, String paused, String address,
      Function<JsonObject, SyncEvent> event) {
    return transaction(conn -> (park
            ? conn.preparedQuery("""
                UPDATE sync_schedule s SET paused = $2,
                       attempt = CASE WHEN $2::text IS NULL THEN 0 ELSE s.attempt END,
                       next_sync_at = CASE WHEN $2::text IS NULL THEN now() ELSE s.next_sync_at END,
                       trigger = CASE WHEN $2::text IS NULL THEN 'webhook' ELSE s.trigger END,
                       priority = CASE WHEN $2::text IS NULL THEN LEAST(s.priority, 1) ELSE s.priority END
                FROM connections c
                WHERE s.connection_id = c.connection_id AND c.item_id = $1
                RETURNING c.connection_id, c.user_id, c.institution_id, c.institution_name, s.paused
                """).execute(Tuple.of(itemId, paused))
            : conn.preparedQuery("""
                SELECT c.connection_id, c.user_id, c.institution_id, c.institution_name, s.paused
                FROM connections c JOIN sync_schedule s ON s.connection_id = c.connection_id WHERE c.item_id = $1
                """).execute(Tuple.of(itemId)))
        .compose(rows -> rows.size() == 0 ? Future.succeededFuture((Outboxed) null)
            : outbox(conn, address, event.apply(rows.iterator().next().toJson().put("item_id", itemId)))));
  }

  // --- institutions ---------------------------------------------------------------------------------

  Future<Void> pauseInstitution(String institutionId, String reason, OffsetDateTime until) {
    return pool.preparedQuery("""
            INSERT INTO institution_pauses (institution_id, reason, until_at) VALUES ($1, $2, $3)
            ON CONFLICT (institution_id) DO UPDATE SET reason = EXCLUDED.reason, until_at = EXCLUDED.until_at
            """).execute(Tuple.of(institutionId, reason, until)).mapEmpty();
  }

  /** Lifts a pause and spreads the institution's due connections over a window, so they do not stampede. */
  Future<Integer> resumeInstitution(String institutionId, long spreadMs) {
    return transaction(conn -> conn.preparedQuery("DELETE FROM institution_pauses WHERE institution_id = $1")
        .execute(Tuple.of(institutionId))
        .compose(v -> conn.preparedQuery("""
                UPDATE sync_schedule s SET next_sync_at = now() + (random() * $2::bigint * interval '1 millisecond'),
                       trigger = 'resume'
                FROM connections c
                WHERE s.connection_id = c.connection_id AND c.institution_id = $1 AND s.paused IS NULL
                  AND s.next_sync_at < now() + ($2::bigint * interval '1 millisecond')
                """).execute(Tuple.of(institutionId, spreadMs)))
        .map(RowSet::rowCount));
  }

  /**
   * Brings the institution's connections forward to sync within {@code spreadMs}, before a maintenance window:
   * not the paused ones, not a paused institution's, and not those already due by then.
   */
  Future<Integer> aheadInstitution(String institutionId, long spreadMs) {
    return pool.preparedQuery("""
            UPDATE sync_schedule s SET next_sync_at = now() + (random() * $2::bigint * interval '1 millisecond'),
                   trigger = 'ahead'
            FROM connections c
            WHERE s.connection_id = c.connection_id AND c.institution_id = $1 AND s.paused IS NULL
              AND s.next_sync_at > now() + ($2::bigint * interval '1 millisecond')
              AND NOT EXISTS (SELECT 1 FROM institution_pauses p
                              WHERE p.institution_id = $1 AND (p.until_at IS NULL OR p.until_at > now()))
            """).execute(Tuple.of(institutionId, spreadMs)).map(RowSet::rowCount);
  }

  /** Marks one connection of the institution for a probe sync now; null when it has none to probe. */
  Future<String> probeInstitution(String institutionId) {
    return pool.preparedQuery("""
            UPDATE sync_schedule SET next_sync_at = now(), trigger = 'probe', priority = 0
            WHERE connection_id = (
              SELECT s.connection_id FROM sync_schedule s JOIN connections c ON c.connection_id = s.connection_id
              WHERE c.institution_id = $1 AND s.paused IS NULL AND (s.lease_until IS NULL OR s.lease_until < now())
              ORDER BY s.last_success_at DESC NULLS LAST LIMIT 1)
            RETURNING connection_id
            """).execute(Tuple.of(institutionId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString("connection_id"));
  }

  // --- reading --------------------------------------------------------------------------------------

  Future<JsonArray> syncLogs(String connectionId, int limit) {
    return pool.preparedQuery("""
            SELECT sync_id, trigger, status, started_at, duration_ms, pages, restarts, added, modified, removed,
                   error_type, error_code, category, message
            FROM sync_logs WHERE connection_id = $1 ORDER BY started_at DESC LIMIT $2
            """).execute(Tuple.of(connectionId, limit))
        .map(rows -> {
          JsonArray out = new JsonArray();
          for (Row row : rows) {
            JsonObject json = row.toJson();
            json.put("sync_id", row.getUUID("sync_id").toString());
            json.put("started_at", text(row.getOffsetDateTime("started_at")));
            out.add(json);
          }
          return out;
        });
  }

  Future<JsonObject> reliabilityStats(String connectionId, int days) {
    return pool.preparedQuery("""
            SELECT count(*) AS total, count(*) FILTER (WHERE status = 'success') AS ok,
                   COALESCE(avg(duration_ms), 0) AS avg_ms, max(started_at) AS last_at
            FROM sync_logs WHERE connection_id = $1 AND started_at > now() - ($2::int * interval '1 day')
            """).execute(Tuple.of(connectionId, days))
        .map(rows -> {
          Row row = rows.iterator().next();
          long total = row.getLong("total");
          long ok = row.getLong("ok");
          double rate = total == 0 ? 0.0 : Math.round(ok * 10_000.0 / total) / 100.0;
          double avgSeconds = Math.round(row.getNumeric("avg_ms").doubleValue() / 10.0) / 100.0;
          return new JsonObject().put("total_syncs", total).put("successful_syncs", ok).put("failed_syncs", total - ok)
              .put("success_rate", rate).put("average_duration", avgSeconds).put("period_days", days)
              .put("last_sync_at", text(row.getOffsetDateTime("last_at")));
        });
  }

  /** Keyset page of stored transactions, newest first. */
  Future<List<JsonObject>> transactions(String connectionId, LocalDate since, LocalDate afterDate, String afterId, int limit) {
    return pool.preparedQuery("""
            SELECT transaction_id, date, data FROM transactions
            WHERE connection_id = $1 AND ($2::date IS NULL OR date >= $2)
              AND ($3::date IS NULL OR (date, transaction_id) < ($3, $4))
            ORDER BY date DESC, transaction_id DESC LIMIT $5
            """).execute(Tuple.of(connectionId, since, afterDate, afterId, limit))
        .map(rows -> {
          List<JsonObject> out = new ArrayList<>(rows.size());
          for (Row row : rows) {
            out.add(((JsonObject) row.getValue("data")).put("_date", row.getLocalDate("date").toString()));
          }
          return out;
        });
  }

  /**
   * A connection's accounts as Plaid last described them, each with its balances and when they were read
   * ({@code balances_at}: from /accounts/balance/get, or the cached ones a sync or reconciliation carried).
   */
  Future<JsonArray> accounts(String connectionId) {
    return pool.preparedQuery("SELECT data, balances, balances_at FROM accounts WHERE connection_id = $1 ORDER BY account_id")
        .execute(Tuple.of(connectionId)).map(rows -> {
          JsonArray out = new JsonArray();
          for (Row row : rows) {
            JsonObject data = (JsonObject) row.getValue("data");
            Object balances = row.getValue("balances");
            out.add(new JsonObject().put("account_id", data.getString("account_id")).put("name", data.getString("name"))
                .put("official_name", data.getString("official_name")).put("mask", data.getString("mask"))
                .put("type", data.getString("type")).put("subtype", data.getString("subtype"))
                .put("balances", balances instanceof JsonObject json ? json : data.getJsonObject("balances"))
                .put("balances_at", text(row.getOffsetDateTime("balances_at"))));
          }
          return out;
        });
  }

  // --- helpers --------------------------------------------------------------------------------------

  static String text(OffsetDateTime time) {
    return time == null ? null : time.toInstant().toString();
  }

  private static BigDecimal amount(JsonObject tx) {
    Object value = tx.getValue("amount");
    if (value instanceof Number number) {
      return new BigDecimal(number.toString());
    }
    return null;
  }

  private static LocalDate date(JsonObject tx) {
    String text = tx.getString("date");
    try {
      return text == null ? null : LocalDate.parse(text);
    } catch (RuntimeException e) {
      return null;
    }
  }
}
