package com.mingus.reliability.notify;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/** The SQL of operator alerts and broadcasts, against the tables of {@code V12__operator_alerts.sql}. */
final class OperatorStore {
  /** Rows of one broadcast's notifications written per round trip inside its transaction. */
  private static final int BATCH = 500;

  private final Pool pool;

  OperatorStore(Pool pool) {
    this.pool = pool;
  }

  /** An alert as {@link OperatorAlerts} decided it; {@code notification} null when no operator channel is set. */
  record NewAlert(UUID id, String kind, String dedupeKey, String severity, String title, String message, JsonObject data,
      String institutionId, String connectionId, NotifyStore.NewNotification notification, String notificationType,
      List<NotifyStore.NewDelivery> deliveries) {}

  /**
   * Writes the alert and, only when this insert won its dedupe key, its notification and deliveries, in one
   * transaction: true when this call created it (every other node's and every replay's answer is false).
   */
  Future<Boolean> createAlert(NewAlert alert) {
    return pool.withTransaction(conn -> insertAlert(conn, alert));
  }

  private static Future<Boolean> insertAlert(SqlConnection conn, NewAlert alert) {
    return conn.preparedQuery("INSERT INTO operator_alerts (id, kind, dedupe_key, severity, title, message, data, "
            + "institution_id, connection_id, notification_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            + "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")
        .execute(Tuple.tuple(Arrays.asList(alert.id(), alert.kind(), alert.dedupeKey(), alert.severity(), alert.title(),
            alert.message(), alert.data(), alert.institutionId(), alert.connectionId(),
            alert.notification() == null ? null : alert.notification().id())))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(false);
          }
          if (alert.notification() == null) {
            return Future.succeededFuture(true);
          }
          return conn.preparedQuery(NotifyStore.CREATE)
              .execute(NotifyStore.createParams(alert.notification(), alert.notificationType(), alert.deliveries(), 0))
              .map(true);
        });
  }

  /**
   * Records the circuit state seen for a bank and answers the one seen before it ({@code null} when none), in
   * the alert's transaction: {@code decide} gets {previous, previous_since} and answers the alert to write, or null.
   */
  Future<Boolean> circuitChanged(String institutionId, String circuit, Instant since,
      java.util.function.BiFunction<String, OffsetDateTime, NewAlert> decide) {
    return pool.withTransaction(conn -> conn.preparedQuery("WITH old AS (SELECT circuit, circuit_since FROM "
            + "operator_circuits WHERE institution_id = $1), up AS (INSERT INTO operator_circuits (institution_id, "
            + "circuit, circuit_since, updated_at) VALUES ($1, $2, $3, now()) ON CONFLICT (institution_id) DO UPDATE "
            + "SET circuit = EXCLUDED.circuit, circuit_since = EXCLUDED.circuit_since, updated_at = now() "
            + "WHERE operator_circuits.circuit_since IS NULL OR EXCLUDED.circuit_since IS NULL "
            + "OR operator_circuits.circuit_since <= EXCLUDED.circuit_since RETURNING 1) "
            + "SELECT (SELECT circuit FROM old) AS previous, (SELECT circuit_since FROM old) AS previous_since")
        .execute(Tuple.of(institutionId, circuit, since == null ? null : since.atOffset(ZoneOffset.UTC)))
        .compose(rows -> {
          Row row = rows.iterator().next();
          NewAlert alert = decide.apply(row.getString("previous"), row.getOffsetDateTime("previous_since"));
          return alert == null ? Future.succeededFuture(false) : insertAlert(conn, alert);
        }));
  }

  /**
   * Dead letters of the last {@code lookbackSeconds} that have no alert yet (users' deliveries only: an
   * operator alert's own dead letter would alert about itself), oldest first, with the alert's dedupe key: the
   * delivery and the moment it was dead-lettered, so a redriven delivery that dies again alerts again.
   */
  Future<List<JsonObject>> unalertedDeadLetters(String operatorUser, double lookbackSeconds, int limit) {
    String key = "'dead_letter:' || d.id || ':' || to_char(d.dead_lettered_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')";
    return pool.preparedQuery("SELECT d.id, d.notification_id, d.user_id, d.channel, d.target, d.attempts, d.reason, "
            + "d.last_error, d.dead_lettered_at, n.type, " + key + " AS alert_key FROM notify_deliveries d "
            + "JOIN notifications n ON n.id = d.notification_id WHERE d.dead_lettered_at IS NOT NULL "
            + "AND d.dead_lettered_at > now() - make_interval(secs => $1) AND d.user_id <> $2 "
            + "AND NOT EXISTS (SELECT 1 FROM operator_alerts a WHERE a.dedupe_key = " + key + ") "
            + "ORDER BY d.dead_lettered_at, d.id LIMIT $3")
        .execute(Tuple.of(lookbackSeconds, operatorUser, limit)).map(rows -> {
          List<JsonObject> out = new ArrayList<>();
          for (Row row : rows) {
            out.add(new JsonObject().put("delivery_id", row.getUUID("id").toString())
                .put("notification_id", row.getUUID("notification_id").toString())
                .put("user_id", row.getString("user_id")).put("channel", row.getString("channel"))
                .put("target", row.getString("target")).put("attempts", row.getInteger("attempts"))
                .put("reason", row.getString("reason")).put("last_error", row.getString("last_error"))
                .put("dead_lettered_at", NotifyStore.iso(row.getOffsetDateTime("dead_lettered_at")))
                .put("type", row.getString("type")).put("alert_key", row.getString("alert_key")));
          }
          return out;
        });
  }

  /**
   * A keyset page of alerts, newest first (created_at, then id, both descending), after the row
   * {@code (beforeAt, beforeId)} of the previous page (null: from the newest), each with its deliveries' channel
   * and status; {@code kind} null for all.
   */
  Future<JsonObject> alerts(String kind, int limit, java.time.OffsetDateTime beforeAt, java.util.UUID beforeId) {
    Future<io.vertx.sqlclient.RowSet<Row>> page = pool.preparedQuery("SELECT a.id, a.kind, a.severity, a.title, "
            + "a.message, a.data, a.institution_id, a.connection_id, a.notification_id, a.created_at, "
            + "(SELECT COALESCE(jsonb_agg(jsonb_build_object('channel', d.channel, 'status', d.status, 'attempts', "
            + "d.attempts) ORDER BY d.channel), '[]'::jsonb) FROM notify_deliveries d "
            + "WHERE d.notification_id = a.notification_id) AS deliveries "
            + "FROM operator_alerts a WHERE ($1::text IS NULL OR a.kind = $1) "
            + "AND ($3::timestamptz IS NULL OR (a.created_at, a.id) < ($3, $4)) "
            + "ORDER BY a.created_at DESC, a.id DESC LIMIT $2")
        .execute(Tuple.of(kind, limit, beforeAt, beforeId));
    Future<io.vertx.sqlclient.RowSet<Row>> count = pool.preparedQuery(
        "SELECT count(*) AS total FROM operator_alerts WHERE ($1::text IS NULL OR kind = $1)").execute(Tuple.of(kind));
    return Future.all(page, count).map(both -> {
      JsonArray out = new JsonArray();
      for (Row row : page.result()) {
        out.add(new JsonObject().put("id", row.getUUID("id").toString()).put("kind", row.getString("kind"))
            .put("severity", row.getString("severity")).put("title", row.getString("title"))
            .put("message", row.getString("message")).put("data", row.getValue("data"))
            .put("institution_id", row.getString("institution_id")).put("connection_id", row.getString("connection_id"))
            .put("notification_id", row.getUUID("notification_id") == null ? null : row.getUUID("notification_id").toString())
            .put("deliveries", row.getValue("deliveries")).put("created_at", NotifyStore.iso(row.getOffsetDateTime("created_at"))));
      }
      long total = count.result().iterator().next().getLong("total");
      return new JsonObject().put("alerts", out).put("total", total);
    });
  }

  // ---- broadcasts

  /** A stored broadcast, or null. */
  Future<JsonObject> broadcast(String broadcastId) {
    return pool.preparedQuery("SELECT broadcast_id, type, title, message, segment, recipients, requested_by, created_at "
        + "FROM operator_broadcasts WHERE broadcast_id = $1").execute(Tuple.of(broadcastId))
        .map(rows -> rows.size() == 0 ? null : broadcastJson(rows.iterator().next()));
  }

  private static JsonObject broadcastJson(Row row) {
    return new JsonObject().put("broadcast_id", row.getString("broadcast_id")).put("type", row.getString("type"))
        .put("title", row.getString("title")).put("message", row.getString("message"))
        .put("segment", row.getValue("segment")).put("recipients", row.getInteger("recipients"))
        .put("requested_by", row.getString("requested_by"))
        .put("created_at", NotifyStore.iso(row.getOffsetDateTime("created_at")));
  }

  /** One recipient's notification of a broadcast, planned like any send. */
  record Planned(NotifyStore.NewNotification notification, List<NotifyStore.NewDelivery> deliveries) {}

  /**
   * Records the broadcast and writes every recipient's notification and deliveries in one transaction: true
   * when written, false when the broadcast id was already taken (then nothing is written).
   */
  Future<Boolean> createBroadcast(JsonObject broadcast, List<Planned> planned) {
    return pool.withTransaction(conn -> conn.preparedQuery("INSERT INTO operator_broadcasts (broadcast_id, type, title, "
            + "message, segment, recipients, requested_by) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            + "ON CONFLICT (broadcast_id) DO NOTHING RETURNING broadcast_id")
        .execute(Tuple.tuple(Arrays.asList(broadcast.getString("broadcast_id"), broadcast.getString("type"),
            broadcast.getString("title"), broadcast.getString("message"), broadcast.getJsonObject("segment"),
            planned.size(), broadcast.getString("requested_by"))))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(false);
          }
          Future<Void> chain = Future.succeededFuture();
          for (int from = 0; from < planned.size(); from += BATCH) {
            List<Tuple> batch = new ArrayList<>();
            for (Planned p : planned.subList(from, Math.min(planned.size(), from + BATCH))) {
              batch.add(NotifyStore.createParams(p.notification(), p.notification().type().wire(), p.deliveries(), 0));
            }
            chain = chain.compose(ignored -> conn.preparedQuery(NotifyStore.CREATE).executeBatch(batch).mapEmpty());
          }
          return chain.map(true);
        }));
  }
}
