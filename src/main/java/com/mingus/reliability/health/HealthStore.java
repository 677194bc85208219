package com.mingus.reliability.health;

import com.mingus.reliability.bus.ConnectionHealth;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.db.Tenancy;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/** Every query of health tracking, in one place. */
final class HealthStore {
  /** The pool; {@link #asUser} scopes one of its connections. */
  private final Pool root;
  /** Where the queries go: the pool, or the connection of a user's or an operator's transaction (db/Tenancy). */
  private final SqlClient pool;
  /** The notify.send request of a change a user must hear about, written with the change (docs/cluster.md). */
  private final NoticeRequests notices;
  private final long redriveAfterMs;

  /** Builds the notify.send request (NotifySend JSON) of a notice; its dedupe key is the notice's key. */
  interface NoticeRequests {
    JsonObject request(ConnectionHealth health, HealthMachine.Notice notice, String key);
  }

  HealthStore(Pool pool, NoticeRequests notices, long redriveAfterMs) {
    this(pool, pool, notices, redriveAfterMs);
  }

  private HealthStore(Pool root, SqlClient client, NoticeRequests notices, long redriveAfterMs) {
    this.root = root;
    this.pool = client;
    this.notices = notices;
    this.redriveAfterMs = redriveAfterMs;
  }

  /**
   * Runs {@code work} on a store whose queries are one transaction as that user, under row-level security
   * (V14): what answers a user's request. With a null user, as the operator role (operator routes).
   */
  <T> Future<T> asUser(String userId, Function<HealthStore, Future<T>> work) {
    return Tenancy.scoped(root, userId, conn -> work.apply(new HealthStore(root, conn, notices, redriveAfterMs)));
  }

  /**
   * The outcome of applying one event: before, after, and the change a user must hear about (or null) with
   * its notify.send request, already stored as pending until notify accepts it.
   */
  record Applied(ConnectionHealth before, ConnectionHealth after, HealthMachine.Notice notice, String noticeKey,
      boolean duplicate, JsonObject noticeRequest, JsonObject eventNotice) {
    boolean changed() {
      if (duplicate || after == null) {
        return false;
      }
      if (before == null) {
        return true;
      }
      // everything but the write's own time stamp
      ConnectionHealth same = new ConnectionHealth(after.connectionId(), after.userId(), after.itemId(),
          after.institutionId(), after.institutionName(), after.status(), after.statusSince(),
          after.lastSuccessfulSync(), after.lastError(), after.syncSuccessCount(), after.syncFailureCount(),
          after.consecutiveFailures(), after.maintenanceUntil(), after.retryAttempts(), after.nextRetry(),
          after.consentExpiring(), after.consentExpirationTime(), before.updatedAt());
      return !same.equals(before);
    }
  }

  private static final String COLUMNS = """
      connection_id, user_id, item_id, institution_id, institution_name, status, status_since, last_successful_sync,
      last_error, sync_success_count, sync_failure_count, consecutive_failures, maintenance_until, retry_attempts,
      next_retry, consent_expiring, consent_expiration_time, updated_at""";

  /** A connection health has not seen, as the registry lists it (no event, no notice). */
  private static final String INSERT_MISSING = "INSERT INTO health_connections (" + COLUMNS + """
      , notified_key)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
      ON CONFLICT (connection_id) DO NOTHING
      """;

  /**
   * The rows a batch touches, locked in connection order (so two batches, or two nodes, never wait on each
   * other in a circle): the connection's events are claimed, computed and written only while this holds.
   */
  private static final String LOCK = "SELECT " + COLUMNS + """
      , notified_key, last_event_at FROM health_connections
      WHERE connection_id = ANY($1::text[]) ORDER BY connection_id FOR UPDATE
      """;

  /**
   * Claims a batch's event keys at once (sorted, so concurrent claims of overlapping keys cannot deadlock);
   * answers the keys nobody had claimed: the events to apply. A duplicate (a redelivery, another node's copy)
   * is not returned. The claim commits with the writes, or not at all.
   */
  private static final String CLAIM = """
      INSERT INTO health_applied_events (event_key) SELECT k FROM unnest($1::text[]) AS k ORDER BY k
      ON CONFLICT DO NOTHING RETURNING event_key
      """;

  private static final String DELETE_ALL = "DELETE FROM health_connections WHERE connection_id = ANY($1::text[])";

  /** Every changed row of a batch in one statement; pending notices ($18, JSON arrays) are appended. */
  private static final String UPDATE_ALL = """
      UPDATE health_connections h SET
        institution_name = COALESCE(u.institution_name, h.institution_name), status = u.status,
        status_since = u.status_since, last_successful_sync = u.last_successful_sync, last_error = u.last_error::jsonb,
        sync_success_count = u.sync_success_count, sync_failure_count = u.sync_failure_count,
        consecutive_failures = u.consecutive_failures, maintenance_until = u.maintenance_until,
        retry_attempts = u.retry_attempts, next_retry = u.next_retry, consent_expiring = u.consent_expiring,
        consent_expiration_time = u.consent_expiration_time, updated_at = u.updated_at, notified_key = u.notified_key,
        last_event_at = u.last_event_at,
        pending_notices = CASE WHEN u.notices IS NULL THEN h.pending_notices
                               ELSE COALESCE(h.pending_notices, '[]'::jsonb) || u.notices::jsonb END,
        notices_redrive_at = CASE WHEN u.notices IS NULL THEN h.notices_redrive_at
                                  ELSE now() + ($19::bigint * interval '1 millisecond') END,
        version = h.version + 1
      FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::bigint[],
                  $8::bigint[], $9::int[], $10::timestamptz[], $11::int[], $12::timestamptz[], $13::boolean[],
                  $14::timestamptz[], $15::timestamptz[], $16::text[], $17::timestamptz[], $18::text[])
        AS u (connection_id, institution_name, status, status_since, last_successful_sync, last_error,
              sync_success_count, sync_failure_count, consecutive_failures, maintenance_until, retry_attempts,
              next_retry, consent_expiring, consent_expiration_time, updated_at, notified_key, last_event_at, notices)
      WHERE h.connection_id = u.connection_id
      """;

  /** Every row a batch creates (registrations) in one statement; answers the ones inserted. */
  private static final String INSERT_ALL = "INSERT INTO health_connections (" + COLUMNS + """
      , notified_key, last_event_at, pending_notices, notices_redrive_at)
      SELECT connection_id, user_id, item_id, institution_id, institution_name, status, status_since,
             last_successful_sync, last_error::jsonb, sync_success_count, sync_failure_count, consecutive_failures,
             maintenance_until, retry_attempts, next_retry, consent_expiring, consent_expiration_time, updated_at,
             notified_key, last_event_at, notices::jsonb,
             CASE WHEN notices IS NULL THEN NULL ELSE now() + ($22::bigint * interval '1 millisecond') END
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                  $8::timestamptz[], $9::text[], $10::bigint[], $11::bigint[], $12::int[], $13::timestamptz[],
                  $14::int[], $15::timestamptz[], $16::boolean[], $17::timestamptz[], $18::timestamptz[], $19::text[],
                  $20::timestamptz[], $21::text[])
        AS u (connection_id, user_id, item_id, institution_id, institution_name, status, status_since,
              last_successful_sync, last_error, sync_success_count, sync_failure_count, consecutive_failures,
              maintenance_until, retry_attempts, next_retry, consent_expiring, consent_expiration_time, updated_at,
              notified_key, last_event_at, notices)
      ON CONFLICT (connection_id) DO NOTHING
      RETURNING connection_id
      """;

  /**
   * One change of a batch: an event for one connection ({@code eventKey}: what makes it count once, e.g.
   * {@code sync:completed:<sync_id>}; {@code absent} makes the row when there is none, null: the event is
   * ignored then; {@code told}: a notice the event itself carries), or the connection's removal.
   */
  record Change(String connectionId, String eventKey, Instant eventAt, Supplier<ConnectionHealth> absent,
      BiFunction<ConnectionHealth, Boolean, ConnectionHealth> change, Function<ConnectionHealth, JsonObject> told,
      boolean removal) {
    static Change event(String connectionId, String eventKey, Instant eventAt, Supplier<ConnectionHealth> absent,
        BiFunction<ConnectionHealth, Boolean, ConnectionHealth> change, Function<ConnectionHealth, JsonObject> told) {
      return new Change(connectionId, eventKey, eventAt, absent, change, told, false);
    }

    static Change removal(String connectionId) {
      return new Change(connectionId, null, null, null, null, null, true);
    }

    /** The claim's key: one per connection and event. */
    String claimKey() {
      return eventKey == null ? null : connectionId + "|" + eventKey;
    }
  }

  private static final Applied DUPLICATE = new Applied(null, null, null, null, true, null, null);

  /** Another writer (the start-up reconciliation) inserted a row this batch meant to create: run it again. */
  private static final class RowAppeared extends RuntimeException {
    RowAppeared() {
      super("a connection row appeared under the batch", null, false, false);
    }
  }

  /**
   * Applies a batch of changes (in order; each connection's in the order given) in one transaction with a
   * constant number of statements, whatever its size: lock the rows, claim every event key, apply the
   * machine in memory, then one DELETE, one UPDATE and one INSERT for every row touched. Answers one
   * {@link Applied} per change, in order; a failure means nothing of the batch committed (claims included),
   * so each of its events may be delivered again and counts then. A deadlock or a row inserted meanwhile by
   * the reconciliation runs the batch again (nothing had committed).
   */
  Future<List<Applied>> applyBatch(List<Change> changes) {
    return applyBatch(changes, 0);
  }

  private Future<List<Applied>> applyBatch(List<Change> changes, int attempt) {
    return root.withTransaction(conn -> applyIn(conn, changes)).recover(failure -> {
      boolean again = failure instanceof RowAppeared || failure instanceof io.vertx.pgclient.PgException pg
          && ("40P01".equals(pg.getSqlState()) || "40001".equals(pg.getSqlState()));
      return again && attempt < 3 ? applyBatch(changes, attempt + 1) : Future.failedFuture(failure);
    });
  }

  /** One connection as the batch sees it: the row read (locked), and what the changes so far made of it. */
  private static final class Slot {
    boolean existed;
    ConnectionHealth health;
    String notifiedKey;
    Instant lastEventAt;
    boolean removed;
    boolean created;
    boolean dirty;
    io.vertx.core.json.JsonArray notices;
  }

  private Future<List<Applied>> applyIn(SqlConnection conn, List<Change> changes) {
    Map<String, Slot> slots = new TreeMap<>();
    Set<String> creating = new HashSet<>();
    for (Change c : changes) {
      slots.computeIfAbsent(c.connectionId(), id -> new Slot());
      if (c.absent() != null) {
        creating.add(c.connectionId());
      }
    }
    return conn.preparedQuery(LOCK).execute(Tuple.of(slots.keySet().toArray(new String[0]))).compose(rows -> {
      for (Row row : rows) {
        Slot slot = slots.get(row.getString("connection_id"));
        slot.existed = true;
        slot.health = health(row);
        slot.notifiedKey = row.getString("notified_key");
        slot.lastEventAt = instant(row.getOffsetDateTime("last_event_at"));
      }
      // only events that can apply are claimed: one for a connection health does not know is ignored, unclaimed
      Set<String> keys = new TreeSet<>();
      for (Change c : changes) {
        String key = c.claimKey();
        if (key != null && (slots.get(c.connectionId()).existed || creating.contains(c.connectionId()))) {
          keys.add(key);
        }
      }
      if (keys.isEmpty()) {
        return Future.succeededFuture(Set.<String>of());
      }
      return conn.preparedQuery(CLAIM).execute(Tuple.of(keys.toArray(new String[0]))).map(claimed -> {
        Set<String> fresh = new HashSet<>(claimed.size() * 2);
        claimed.forEach(row -> fresh.add(row.getString(0)));
        return fresh;
      });
    }).compose(fresh -> {
      Set<String> unapplied = new HashSet<>(fresh);
      List<Applied> out = new ArrayList<>(changes.size());
      for (Change c : changes) {
        out.add(applyInMemory(slots.get(c.connectionId()), c, unapplied));
      }
      return writeAll(conn, slots).map(out);
    });
  }

  /** The machine's step for one change, on the slot (what the previous changes of the batch left). */
  private Applied applyInMemory(Slot slot, Change c, Set<String> unapplied) {
    if (c.removal()) {
      ConnectionHealth before = slot.health;
      slot.removed |= slot.existed;
      slot.created = false;
      slot.dirty = false;
      slot.health = null;
      slot.notifiedKey = null;
      slot.lastEventAt = null;
      slot.notices = null;
      return new Applied(before, null, null, null, false, null, null);
    }
    String key = c.claimKey();
    // claimed by this batch and not yet used: a second copy within the batch is a duplicate too
    if (key != null && !unapplied.remove(key)) {
      return DUPLICATE;
    }
    ConnectionHealth before = slot.health;
    ConnectionHealth base = before != null ? before : c.absent() == null ? null : c.absent().get();
    if (base == null) {
      return DUPLICATE;
    }
    Instant eventAt = c.eventAt();
    boolean stale = eventAt != null && slot.lastEventAt != null && eventAt.isBefore(slot.lastEventAt);
    ConnectionHealth after = c.change().apply(base, stale);
    HealthMachine.Notice notice = HealthMachine.notice(base.status(), after.status(), after.lastError());
    String noticeKey = notice == null ? null : c.connectionId() + ":" + after.status().wire() + ":" + after.statusSince();
    if (notice != null && before != null && noticeKey.equals(slot.notifiedKey)) {
      notice = null;
    }
    JsonObject request = notice == null ? null : notices.request(after, notice, noticeKey);
    JsonObject extra = c.told() == null ? null : c.told().apply(after);
    if (request != null || extra != null) {
      if (slot.notices == null) {
        slot.notices = new io.vertx.core.json.JsonArray();
      }
      if (request != null) {
        slot.notices.add(request);
      }
      if (extra != null) {
        slot.notices.add(extra);
      }
    }
    if (notice != null) {
      slot.notifiedKey = noticeKey;
    }
    if (eventAt != null && (slot.lastEventAt == null || eventAt.isAfter(slot.lastEventAt))) {
      slot.lastEventAt = eventAt;
    }
    if (before == null) {
      slot.created = true;
    } else if (!slot.created) {
      slot.dirty = true;
    }
    slot.health = after;
    return new Applied(before, after, notice, notice == null ? null : noticeKey, false, request, extra);
  }

  /** The batch's rows back: one DELETE, one UPDATE, one INSERT (each only when it has rows). */
  private Future<Void> writeAll(SqlConnection conn, Map<String, Slot> slots) {
    List<String> removed = new ArrayList<>();
    List<Slot> updated = new ArrayList<>();
    List<Slot> created = new ArrayList<>();
    for (Map.Entry<String, Slot> e : slots.entrySet()) {
      Slot slot = e.getValue();
      if (slot.removed) {
        removed.add(e.getKey());
      }
      if (slot.created) {
        created.add(slot);
      } else if (slot.dirty && !slot.removed) {
        updated.add(slot);
      }
    }
    Future<Void> chain = removed.isEmpty() ? Future.succeededFuture()
        : conn.preparedQuery(DELETE_ALL).execute(Tuple.of(removed.toArray(new String[0]))).mapEmpty();
    if (!updated.isEmpty()) {
      chain = chain.compose(v -> conn.preparedQuery(UPDATE_ALL).execute(updateTuple(updated)).mapEmpty());
    }
    if (!created.isEmpty()) {
      chain = chain.compose(v -> conn.preparedQuery(INSERT_ALL).execute(insertTuple(created)).compose(rows ->
          rows.rowCount() == created.size() ? Future.<Void>succeededFuture() : Future.failedFuture(new RowAppeared())));
    }
    return chain;
  }

  private Tuple updateTuple(List<Slot> slots) {
    int n = slots.size();
    String[] ids = new String[n];
    String[] names = new String[n];
    String[] statuses = new String[n];
    OffsetDateTime[] since = new OffsetDateTime[n];
    OffsetDateTime[] lastSuccess = new OffsetDateTime[n];
    String[] errors = new String[n];
    Long[] successes = new Long[n];
    Long[] failures = new Long[n];
    Integer[] consecutive = new Integer[n];
    OffsetDateTime[] maintenanceUntil = new OffsetDateTime[n];
    Integer[] retries = new Integer[n];
    OffsetDateTime[] nextRetry = new OffsetDateTime[n];
    Boolean[] consent = new Boolean[n];
    OffsetDateTime[] consentTime = new OffsetDateTime[n];
    OffsetDateTime[] updatedAt = new OffsetDateTime[n];
    String[] notified = new String[n];
    OffsetDateTime[] lastEvent = new OffsetDateTime[n];
    String[] pending = new String[n];
    for (int i = 0; i < n; i++) {
      Slot slot = slots.get(i);
      ConnectionHealth h = slot.health;
      ids[i] = h.connectionId();
      names[i] = h.institutionName();
      statuses[i] = h.status().wire();
      since[i] = time(h.statusSince());
      lastSuccess[i] = time(h.lastSuccessfulSync());
      errors[i] = h.lastError() == null ? null : h.lastError().encode();
      successes[i] = h.syncSuccessCount();
      failures[i] = h.syncFailureCount();
      consecutive[i] = h.consecutiveFailures();
      maintenanceUntil[i] = time(h.maintenanceUntil());
      retries[i] = h.retryAttempts();
      nextRetry[i] = time(h.nextRetry());
      consent[i] = h.consentExpiring();
      consentTime[i] = time(h.consentExpirationTime());
      updatedAt[i] = time(h.updatedAt());
      notified[i] = slot.notifiedKey;
      lastEvent[i] = time(slot.lastEventAt);
      pending[i] = slot.notices == null ? null : slot.notices.encode();
    }
    return Tuple.from(new Object[] {ids, names, statuses, since, lastSuccess, errors, successes, failures, consecutive,
        maintenanceUntil, retries, nextRetry, consent, consentTime, updatedAt, notified, lastEvent, pending,
        redriveAfterMs});
  }

  private Tuple insertTuple(List<Slot> slots) {
    int n = slots.size();
    String[][] text = new String[9][n];
    OffsetDateTime[][] times = new OffsetDateTime[7][n];
    Long[] successes = new Long[n];
    Long[] failures = new Long[n];
    Integer[] consecutive = new Integer[n];
    Integer[] retries = new Integer[n];
    Boolean[] consent = new Boolean[n];
    for (int i = 0; i < n; i++) {
      Slot slot = slots.get(i);
      ConnectionHealth h = slot.health;
      text[0][i] = h.connectionId();
      text[1][i] = h.userId();
      text[2][i] = h.itemId();
      text[3][i] = h.institutionId();
      text[4][i] = h.institutionName();
      text[5][i] = h.status().wire();
      text[6][i] = h.lastError() == null ? null : h.lastError().encode();
      text[7][i] = slot.notifiedKey;
      text[8][i] = slot.notices == null ? null : slot.notices.encode();
      times[0][i] = time(h.statusSince());
      times[1][i] = time(h.lastSuccessfulSync());
      times[2][i] = time(h.maintenanceUntil());
      times[3][i] = time(h.nextRetry());
      times[4][i] = time(h.consentExpirationTime());
      times[5][i] = time(h.updatedAt());
      times[6][i] = time(slot.lastEventAt);
      successes[i] = h.syncSuccessCount();
      failures[i] = h.syncFailureCount();
      consecutive[i] = h.consecutiveFailures();
      retries[i] = h.retryAttempts();
      consent[i] = h.consentExpiring();
    }
    return Tuple.from(new Object[] {text[0], text[1], text[2], text[3], text[4], text[5], times[0], times[1], text[6],
        successes, failures, consecutive, times[2], retries, times[3], consent, times[4], times[5], text[7], times[6],
        text[8], redriveAfterMs});
  }

  // --- notices waiting for notify -------------------------------------------------------------------

  /** Adds notices to connections' pending ones (bank-wide announcements), all in one statement. */
  Future<Integer> queueNotices(List<String> connectionIds, List<JsonObject> requests) {
    if (connectionIds.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return pool.preparedQuery("""
            UPDATE health_connections h SET
              pending_notices = COALESCE(h.pending_notices, '[]'::jsonb) || jsonb_build_array(q.request::jsonb),
              notices_redrive_at = now() + ($3::bigint * interval '1 millisecond')
            FROM unnest($1::text[], $2::text[]) AS q (connection_id, request)
            WHERE h.connection_id = q.connection_id
            """)
        .execute(Tuple.of(connectionIds.toArray(new String[0]),
            requests.stream().map(JsonObject::encode).toArray(String[]::new), redriveAfterMs))
        .map(RowSet::rowCount);
  }

  /** Forgets a notice notify has accepted (no version change: it is no part of the health state). */
  Future<Void> noticeAccepted(String connectionId, String dedupeKey) {
    return pool.preparedQuery("""
            UPDATE health_connections SET
              pending_notices = NULLIF((SELECT COALESCE(jsonb_agg(n), '[]'::jsonb) FROM jsonb_array_elements(pending_notices) n
                                        WHERE n ->> 'dedupe_key' IS DISTINCT FROM $2), '[]'::jsonb),
              notices_redrive_at = CASE WHEN jsonb_array_length(pending_notices) <= 1 THEN NULL ELSE notices_redrive_at END
            WHERE connection_id = $1 AND pending_notices IS NOT NULL
            """).execute(Tuple.of(connectionId, dedupeKey)).mapEmpty();
  }

  /** Claims notices nobody got accepted by their redrive time (pushing the next redrive back); any node may. */
  Future<List<JsonObject>> dueNotices(int limit) {
    return pool.preparedQuery("""
            UPDATE health_connections SET notices_redrive_at = now() + ($2::bigint * interval '1 millisecond')
            WHERE connection_id IN (SELECT connection_id FROM health_connections
                                    WHERE pending_notices IS NOT NULL AND notices_redrive_at <= now()
                                    ORDER BY notices_redrive_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING pending_notices
            """).execute(Tuple.of(limit, redriveAfterMs)).map(rows -> {
              List<JsonObject> out = new ArrayList<>();
              for (Row row : rows) {
                io.vertx.core.json.JsonArray list = (io.vertx.core.json.JsonArray) row.getValue("pending_notices");
                for (int i = 0; list != null && i < list.size(); i++) {
                  out.add(list.getJsonObject(i));
                }
              }
              return out;
            });
  }

  /** Forgets claims older than the given age (a replay older than that is no longer expected). */
  Future<Integer> forgetEvents(long olderThanMs) {
    return pool.preparedQuery("DELETE FROM health_applied_events WHERE event_key IN (SELECT event_key FROM "
            + "health_applied_events WHERE applied_at < now() - ($1::bigint * interval '1 millisecond') LIMIT 10000)")
        .execute(Tuple.of(olderThanMs)).map(RowSet::rowCount);
  }

  /** Adds connections health has not seen (registered before it ran); answers how many were new. */
  Future<Integer> insertMissing(List<ConnectionHealth> connections) {
    if (connections.isEmpty()) {
      return Future.succeededFuture(0);
    }
    List<Tuple> batch = new ArrayList<>();
    for (ConnectionHealth h : connections) {
      batch.add(tuple(h, null));
    }
    return pool.preparedQuery(INSERT_MISSING).executeBatch(batch).map(rows -> {
      int count = 0;
      for (RowSet<Row> set = rows; set != null; set = set.next()) {
        count += set.rowCount();
      }
      return count;
    });
  }

  /** Removes connections the registry no longer has; answers their ids. */
  Future<List<String>> deleteAbsent(List<String> present, Instant listedAt) {
    return pool.preparedQuery("DELETE FROM health_connections WHERE NOT (connection_id = ANY($1)) AND created_at < $2 "
            + "RETURNING connection_id")
        .execute(Tuple.of(present.toArray(new String[0]), time(listedAt)))
        .map(rows -> {
          List<String> out = new ArrayList<>();
          rows.forEach(row -> out.add(row.getString(0)));
          return out;
        });
  }

  Future<ConnectionHealth> get(String userId, String connectionId) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM health_connections WHERE connection_id = $1 "
            + "AND ($2::text IS NULL OR user_id = $2)")
        .execute(Tuple.of(connectionId, userId))
        .map(rows -> rows.size() == 0 ? null : health(rows.iterator().next()));
  }

  Future<List<ConnectionHealth>> list(String userId) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM health_connections WHERE ($1::text IS NULL OR user_id = $1) "
            + "ORDER BY created_at, connection_id")
        .execute(Tuple.of(userId))
        .map(HealthStore::all);
  }

  Future<List<String>> connectionsOf(String institutionId) {
    return pool.preparedQuery("SELECT connection_id FROM health_connections WHERE institution_id = $1 ORDER BY connection_id")
        .execute(Tuple.of(institutionId))
        .map(rows -> {
          List<String> out = new ArrayList<>();
          rows.forEach(row -> out.add(row.getString(0)));
          return out;
        });
  }

  Future<List<ConnectionHealth>> ofInstitution(String institutionId) {
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM health_connections WHERE institution_id = $1")
        .execute(Tuple.of(institutionId)).map(HealthStore::all);
  }

  /** Distinct banks with their name, for the status poll. */
  Future<List<JsonObject>> institutions() {
    return pool.query("SELECT institution_id, max(institution_name) AS name FROM health_connections "
            + "WHERE institution_id IS NOT NULL GROUP BY institution_id").execute()
        .map(rows -> {
          List<JsonObject> out = new ArrayList<>();
          rows.forEach(row -> out.add(row.toJson()));
          return out;
        });
  }

  /** Counts per status and sync totals, for one user or everyone. */
  Future<Row> counts(String userId) {
    return pool.preparedQuery("""
            SELECT count(*) AS total,
                   count(*) FILTER (WHERE status = 'active') AS active,
                   count(*) FILTER (WHERE status = 'degraded') AS degraded,
                   count(*) FILTER (WHERE status = 'error') AS error,
                   count(*) FILTER (WHERE status = 'rate_limited') AS rate_limited,
                   count(*) FILTER (WHERE status = 'maintenance') AS maintenance,
                   count(*) FILTER (WHERE status = 'requires_reauth') AS requires_reauth,
                   count(*) FILTER (WHERE status = 'pending_expiration') AS pending_expiration,
                   count(*) FILTER (WHERE status = 'disconnected') AS disconnected,
                   COALESCE(sum(sync_success_count), 0)::bigint AS successes,
                   COALESCE(sum(sync_failure_count), 0)::bigint AS failures
            FROM health_connections WHERE ($1::text IS NULL OR user_id = $1)
            """).execute(Tuple.of(userId)).map(rows -> rows.iterator().next());
  }

  // --- institutions -----------------------------------------------------------------------------------

  Future<List<Row>> loadInstitutions() {
    return pool.query("SELECT institution_id, name, circuit, circuit_since, circuit_reason, plaid_status, maintenance, "
        + "scheduled_notified_from FROM health_institutions").execute().map(rows -> {
          List<Row> out = new ArrayList<>();
          rows.forEach(out::add);
          return out;
        });
  }

  Future<Void> saveInstitution(String institutionId, String name, String circuit, Instant since, String reason,
      String plaidStatus, JsonObject maintenance, Instant scheduledNotifiedFrom) {
    return pool.preparedQuery("""
            INSERT INTO health_institutions (institution_id, name, circuit, circuit_since, circuit_reason, plaid_status,
                                             maintenance, scheduled_notified_from, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
            ON CONFLICT (institution_id) DO UPDATE SET name = COALESCE(EXCLUDED.name, health_institutions.name),
              circuit = EXCLUDED.circuit, circuit_since = EXCLUDED.circuit_since, circuit_reason = EXCLUDED.circuit_reason,
              plaid_status = EXCLUDED.plaid_status, maintenance = EXCLUDED.maintenance,
              scheduled_notified_from = EXCLUDED.scheduled_notified_from, updated_at = now()
            """).execute(Tuple.from(new Object[] {institutionId, name, circuit, time(since), reason, plaidStatus,
            maintenance, time(scheduledNotifiedFrom)}))
        .mapEmpty();
  }

  // --- outages: the forecast's history ------------------------------------------------------------------

  /**
   * Records that a bank's outage began, unless one is already recorded as open (or ended within the last
   * minute: another node's circuit saw the same outage a little earlier or later).
   */
  Future<Void> outageStarted(String institutionId, Instant startedAt, String reason) {
    return pool.preparedQuery("""
            INSERT INTO health_institution_outages (institution_id, started_at, reason)
            SELECT $1, $2::timestamptz, $3 WHERE NOT EXISTS (
              SELECT 1 FROM health_institution_outages
              WHERE institution_id = $1 AND (ended_at IS NULL OR ended_at > $2::timestamptz - interval '1 minute'))
            ON CONFLICT DO NOTHING
            """).execute(Tuple.of(institutionId, time(startedAt), reason)).mapEmpty();
  }

  /** The cause of a bank's open outage became known (Plaid's status says maintenance). */
  Future<Void> outageCause(String institutionId, String reason) {
    return pool.preparedQuery("UPDATE health_institution_outages SET reason = $2 "
            + "WHERE institution_id = $1 AND ended_at IS NULL")
        .execute(Tuple.of(institutionId, reason)).mapEmpty();
  }

  /** The bank's open outage ended. */
  Future<Void> outageEnded(String institutionId, Instant endedAt) {
    return pool.preparedQuery("UPDATE health_institution_outages SET ended_at = $2 "
            + "WHERE institution_id = $1 AND ended_at IS NULL AND started_at < $2")
        .execute(Tuple.of(institutionId, time(endedAt))).mapEmpty();
  }

  /**
   * Every bank's ended outages since {@code since} that the forecast learns from: the ones a prediction
   * caused (predicted_maintenance, Plaid never confirmed them) are left out, so a prediction cannot
   * confirm itself.
   */
  Future<java.util.Map<String, List<MaintenanceForecast.Outage>>> outagesSince(Instant since) {
    return pool.preparedQuery("""
            SELECT institution_id, started_at, ended_at FROM health_institution_outages
            WHERE started_at > $1 AND ended_at IS NOT NULL AND reason <> 'predicted_maintenance'
            ORDER BY institution_id, started_at
            """).execute(Tuple.of(time(since))).map(rows -> {
              java.util.Map<String, List<MaintenanceForecast.Outage>> out = new java.util.HashMap<>();
              for (Row row : rows) {
                out.computeIfAbsent(row.getString("institution_id"), id -> new ArrayList<>())
                    .add(new MaintenanceForecast.Outage(instant(row.getOffsetDateTime("started_at")),
                        instant(row.getOffsetDateTime("ended_at"))));
              }
              return out;
            });
  }

  // --- mapping ----------------------------------------------------------------------------------------

  private static List<ConnectionHealth> all(RowSet<Row> rows) {
    List<ConnectionHealth> out = new ArrayList<>(rows.size());
    rows.forEach(row -> out.add(health(row)));
    return out;
  }

  static ConnectionHealth health(Row row) {
    return new ConnectionHealth(row.getString("connection_id"), row.getString("user_id"), row.getString("item_id"),
        row.getString("institution_id"), row.getString("institution_name"),
        ConnectionStatus.fromWire(row.getString("status")), instant(row.getOffsetDateTime("status_since")),
        instant(row.getOffsetDateTime("last_successful_sync")), (JsonObject) row.getValue("last_error"),
        row.getLong("sync_success_count"), row.getLong("sync_failure_count"), row.getInteger("consecutive_failures"),
        instant(row.getOffsetDateTime("maintenance_until")), row.getInteger("retry_attempts"),
        instant(row.getOffsetDateTime("next_retry")), row.getBoolean("consent_expiring"),
        instant(row.getOffsetDateTime("consent_expiration_time")), instant(row.getOffsetDateTime("updated_at")));
  }

  private static Tuple tuple(ConnectionHealth h, String notifiedKey) {
    return Tuple.from(new Object[] {h.connectionId(), h.userId(), h.itemId(), h.institutionId(), h.institutionName(),
        h.status().wire(), time(h.statusSince()), time(h.lastSuccessfulSync()), h.lastError(), h.syncSuccessCount(),
        h.syncFailureCount(), h.consecutiveFailures(), time(h.maintenanceUntil()), h.retryAttempts(),
        time(h.nextRetry()), h.consentExpiring(), time(h.consentExpirationTime()), time(h.updatedAt()), notifiedKey});
  }

  static OffsetDateTime time(Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  static Instant instant(OffsetDateTime time) {
    return time == null ? null : time.toInstant();
  }
}
