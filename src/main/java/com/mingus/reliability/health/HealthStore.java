package com.mingus.reliability.health;

import com.mingus.reliability.bus.ConnectionHealth;
import com.mingus.reliability.bus.ConnectionStatus;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
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
  private final Pool pool;

  HealthStore(Pool pool) {
    this.pool = pool;
  }

  /** The outcome of applying one event: before, after, and the change a user must hear about (or null). */
  record Applied(ConnectionHealth before, ConnectionHealth after, HealthMachine.Notice notice, String noticeKey,
      boolean duplicate) {
    boolean changed() {
      return !duplicate && after != null && (before == null || before.status() != after.status()
          || !before.toJson().copy().put("updated_at", "").equals(after.toJson().copy().put("updated_at", "")));
    }
  }

  private static final String COLUMNS = """
      connection_id, user_id, item_id, institution_id, institution_name, status, status_since, last_successful_sync,
      last_error, sync_success_count, sync_failure_count, consecutive_failures, maintenance_until, retry_attempts,
      next_retry, consent_expiring, consent_expiration_time, updated_at""";

  private static final String UPSERT = "INSERT INTO health_connections (" + COLUMNS + """
      , last_event_key, notified_key)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
      ON CONFLICT (connection_id) DO UPDATE SET
        user_id = EXCLUDED.user_id, item_id = COALESCE(EXCLUDED.item_id, health_connections.item_id),
        institution_id = COALESCE(EXCLUDED.institution_id, health_connections.institution_id),
        institution_name = COALESCE(EXCLUDED.institution_name, health_connections.institution_name),
        status = EXCLUDED.status, status_since = EXCLUDED.status_since,
        last_successful_sync = EXCLUDED.last_successful_sync, last_error = EXCLUDED.last_error,
        sync_success_count = EXCLUDED.sync_success_count, sync_failure_count = EXCLUDED.sync_failure_count,
        consecutive_failures = EXCLUDED.consecutive_failures, maintenance_until = EXCLUDED.maintenance_until,
        retry_attempts = EXCLUDED.retry_attempts, next_retry = EXCLUDED.next_retry,
        consent_expiring = EXCLUDED.consent_expiring, consent_expiration_time = EXCLUDED.consent_expiration_time,
        updated_at = EXCLUDED.updated_at,
        last_event_key = COALESCE(EXCLUDED.last_event_key, health_connections.last_event_key),
        notified_key = COALESCE(EXCLUDED.notified_key, health_connections.notified_key)
      """;

  /**
   * Applies one event to one connection inside a transaction holding its row lock, so events for the same
   * connection from several instances or nodes are applied one at a time; an event whose key was the last
   * one applied is a replay and changes nothing. {@code absent} makes the row when health has not seen
   * the connection yet (null: ignore the event).
   */
  Future<Applied> apply(String connectionId, String eventKey, Supplier<ConnectionHealth> absent,
      Function<ConnectionHealth, ConnectionHealth> change) {
    return pool.withTransaction(conn -> conn
        .preparedQuery("SELECT " + COLUMNS + ", last_event_key, notified_key FROM health_connections "
            + "WHERE connection_id = $1 FOR UPDATE")
        .execute(Tuple.of(connectionId))
        .compose(rows -> {
          Row row = rows.size() == 0 ? null : rows.iterator().next();
          ConnectionHealth before = row == null ? null : health(row);
          if (row != null && eventKey != null && eventKey.equals(row.getString("last_event_key"))) {
            return Future.succeededFuture(new Applied(before, before, null, null, true));
          }
          ConnectionHealth base = before != null ? before : absent == null ? null : absent.get();
          if (base == null) {
            return Future.succeededFuture(new Applied(null, null, null, null, true));
          }
          ConnectionHealth after = change.apply(base);
          HealthMachine.Notice notice = HealthMachine.notice(base.status(), after.status());
          String key = notice == null ? null : connectionId + ":" + after.status().wire() + ":" + after.statusSince();
          if (notice != null && row != null && key.equals(row.getString("notified_key"))) {
            notice = null;
          }
          HealthMachine.Notice told = notice;
          return conn.preparedQuery(UPSERT).execute(tuple(after, eventKey, told == null ? null : key))
              .map(done -> new Applied(before, after, told, told == null ? null : key, false));
        }));
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
      batch.add(tuple(h, null, null));
    }
    String insert = UPSERT.substring(0, UPSERT.indexOf("ON CONFLICT")) + "ON CONFLICT (connection_id) DO NOTHING";
    return pool.preparedQuery(insert).executeBatch(batch).map(rows -> {
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

  private static Tuple tuple(ConnectionHealth h, String eventKey, String notifiedKey) {
    return Tuple.from(new Object[] {h.connectionId(), h.userId(), h.itemId(), h.institutionId(), h.institutionName(),
        h.status().wire(), time(h.statusSince()), time(h.lastSuccessfulSync()), h.lastError(), h.syncSuccessCount(),
        h.syncFailureCount(), h.consecutiveFailures(), time(h.maintenanceUntil()), h.retryAttempts(),
        time(h.nextRetry()), h.consentExpiring(), time(h.consentExpirationTime()), time(h.updatedAt()), eventKey,
        notifiedKey});
  }

  static OffsetDateTime time(Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  static Instant instant(OffsetDateTime time) {
    return time == null ? null : time.toInstant();
  }
}
