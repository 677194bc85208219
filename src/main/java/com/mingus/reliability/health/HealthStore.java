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
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
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
   * The first row of a connection, the event's claim ($20) and its pending notices ($21, an array) in one statement:
   * all of it commits, or none.
   */
  private static final String INSERT_NEW = "WITH inserted AS (INSERT INTO health_connections (" + COLUMNS + """
      , notified_key, pending_notices, notices_redrive_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                $21::jsonb,
                CASE WHEN $21::jsonb IS NULL THEN NULL ELSE now() + ($22::bigint * interval '1 millisecond') END)
        ON CONFLICT (connection_id) DO NOTHING
        RETURNING connection_id
      ), claimed AS (
        INSERT INTO health_applied_events (event_key) SELECT $20 FROM inserted WHERE $20::text IS NOT NULL
        ON CONFLICT DO NOTHING RETURNING 1
      )
      SELECT count(*) AS n FROM inserted
      """;

  /**
   * The change, the event's claim ($22) and its pending notices ($23, an array) in one statement, only if the row is
   * still the version this read ($20): a node that dies mid-way leaves the event unclaimed, and its
   * redelivery applies it; one that committed leaves it claimed, and a redelivery is a duplicate.
   */
  private static final String UPDATE = """
      WITH updated AS (
        UPDATE health_connections SET
          institution_name = COALESCE($5, institution_name), status = $6, status_since = $7,
          last_successful_sync = $8, last_error = $9, sync_success_count = $10, sync_failure_count = $11,
          consecutive_failures = $12, maintenance_until = $13, retry_attempts = $14, next_retry = $15,
          consent_expiring = $16, consent_expiration_time = $17, updated_at = $18,
          notified_key = COALESCE($19, notified_key),
          last_event_at = GREATEST(last_event_at, $21),
          pending_notices = CASE WHEN $23::jsonb IS NULL THEN pending_notices
                                 ELSE COALESCE(pending_notices, '[]'::jsonb) || $23::jsonb END,
          notices_redrive_at = CASE WHEN $23::jsonb IS NULL THEN notices_redrive_at
                                    ELSE now() + ($24::bigint * interval '1 millisecond') END,
          version = version + 1
        WHERE connection_id = $1 AND version = $20
        RETURNING connection_id
      ), claimed AS (
        INSERT INTO health_applied_events (event_key) SELECT $22 FROM updated WHERE $22::text IS NOT NULL
        ON CONFLICT DO NOTHING RETURNING 1
      )
      SELECT count(*) AS n FROM updated
      """;

  /** The row (columns null when there is none) and whether the event was applied already. */
  private static final String READ = "SELECT " + prefixed("h.") + """
      , h.notified_key, h.version, h.last_event_at,
        EXISTS (SELECT 1 FROM health_applied_events WHERE event_key = $2) AS claimed
      FROM (VALUES (1)) AS one (x) LEFT JOIN health_connections h ON h.connection_id = $1
      """;

  private static String prefixed(String alias) {
    StringBuilder out = new StringBuilder();
    for (String column : COLUMNS.split(",")) {
      out.append(out.length() == 0 ? "" : ", ").append(alias).append(column.trim());
    }
    return out.toString();
  }

  /**
   * Applies one event to one connection, at most once however often it is delivered: the event's key is
   * claimed in {@code health_applied_events} by the same statement that writes the change, so the claim
   * exists exactly when the change committed. The write is optimistic (read the row, its version and
   * whether the event is claimed; compute; write only if the version held, else read again), so two
   * statements and no lock per event. {@code absent} makes the row when health has not seen the
   * connection (null: the event is ignored).
   */
  Future<Applied> apply(String connectionId, String eventKey, Instant eventAt, Supplier<ConnectionHealth> absent,
      java.util.function.BiFunction<ConnectionHealth, Boolean, ConnectionHealth> change) {
    return apply(connectionId, eventKey, eventAt, absent, change, null);
  }

  /**
   * As above, with a notice the event itself carries ({@code told}: the connection after the change → a
   * notify.send request with its own dedupe key, or null), pending in the same statement as the change.
   */
  Future<Applied> apply(String connectionId, String eventKey, Instant eventAt, Supplier<ConnectionHealth> absent,
      java.util.function.BiFunction<ConnectionHealth, Boolean, ConnectionHealth> change,
      java.util.function.Function<ConnectionHealth, JsonObject> told) {
    String key = eventKey == null ? null : connectionId + "|" + eventKey;
    return read(connectionId, key).compose(row -> write(connectionId, key, row, eventAt, absent, change, told, 0));
  }

  private Future<Row> read(String connectionId, String key) {
    return pool.preparedQuery(READ).execute(Tuple.of(connectionId, key)).map(rows -> rows.iterator().next());
  }

  private static final Applied DUPLICATE = new Applied(null, null, null, null, true, null, null);

  private Future<Applied> write(String connectionId, String eventKey, Row read, Instant eventAt,
      Supplier<ConnectionHealth> absent, java.util.function.BiFunction<ConnectionHealth, Boolean, ConnectionHealth> change,
      java.util.function.Function<ConnectionHealth, JsonObject> eventNotice, int attempt) {
    if (eventKey != null && Boolean.TRUE.equals(read.getBoolean("claimed"))) {
      return Future.succeededFuture(DUPLICATE);
    }
    Row row = read.getString("connection_id") == null ? null : read;
    ConnectionHealth before = row == null ? null : health(row);
    ConnectionHealth base = before != null ? before : absent == null ? null : absent.get();
    if (base == null) {
      return Future.succeededFuture(DUPLICATE);
    }
    Instant newest = row == null ? null : instant(row.getOffsetDateTime("last_event_at"));
    boolean stale = eventAt != null && newest != null && eventAt.isBefore(newest);
    ConnectionHealth after = change.apply(base, stale);
    HealthMachine.Notice notice = HealthMachine.notice(base.status(), after.status(), after.lastError());
    String key = notice == null ? null : connectionId + ":" + after.status().wire() + ":" + after.statusSince();
    if (notice != null && row != null && key.equals(row.getString("notified_key"))) {
      notice = null;
    }
    HealthMachine.Notice told = notice;
    JsonObject request = told == null ? null : notices.request(after, told, key);
    JsonObject extra = eventNotice == null ? null : eventNotice.apply(after);
    io.vertx.core.json.JsonArray pending = new io.vertx.core.json.JsonArray();
    if (request != null) {
      pending.add(request);
    }
    if (extra != null) {
      pending.add(extra);
    }
    Object pendingParam = pending.isEmpty() ? null : pending;
    Tuple values = tuple(after, told == null ? null : key);
    Future<Integer> written = row == null
        ? pool.preparedQuery(INSERT_NEW).execute(values.addValue(eventKey).addValue(pendingParam).addLong(redriveAfterMs))
            .map(rows -> rows.iterator().next().getLong("n").intValue())
        : pool.preparedQuery(UPDATE).execute(values.addLong(row.getLong("version")).addValue(time(eventAt))
                .addValue(eventKey).addValue(pendingParam).addLong(redriveAfterMs))
            .map(rows -> rows.iterator().next().getLong("n").intValue());
    return written.compose(count -> {
      if (count == 1) {
        return Future.succeededFuture(new Applied(before, after, told, told == null ? null : key, false, request, extra));
      }
      // every retry means another writer committed, so the loop ends; the bound only guards a bug
      if (attempt >= 200) {
        return Future.failedFuture(new IllegalStateException("connection " + connectionId
            + " kept changing under this update"));
      }
      // another writer got there first: apply this event to what it wrote (or see that it was this event)
      return read(connectionId, eventKey)
          .compose(fresh -> write(connectionId, eventKey, fresh, eventAt, absent, change, eventNotice, attempt + 1));
    });
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

  Future<Void> delete(String connectionId) {
    return pool.preparedQuery("DELETE FROM health_connections WHERE connection_id = $1").execute(Tuple.of(connectionId))
        .mapEmpty();
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
