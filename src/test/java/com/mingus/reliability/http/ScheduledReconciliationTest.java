package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reconciliation on its schedule, as it runs in production, with no operator call: a connection linked over the
 * API is first reconciled one {@code sync.reconcile_interval_s} after linking, whatever else syncs it. Drift put
 * into the store behind the sync's back is found, counted (the run, GET reconciliations, /metrics) and repaired
 * to the sandbox's truth; {@code next_reconcile_at} moves on by the interval and the next scheduled run is clean.
 * A webhook-driven sync in between (the sandbox adds, changes and removes transactions and fires
 * SYNC_UPDATES_AVAILABLE at our endpoint) stores the update but does not reconcile early: reconciliation spends
 * the {@code /transactions/get} budget and stays on its schedule. The periodic sync is left at its production
 * interval (6 h), so every run here is due to the reconciliation schedule itself.
 */
class ScheduledReconciliationTest {
  private static final int INTERVAL_S = 4;
  /** How late after next_reconcile_at a scheduled run may start (poll interval 200 ms, one sync's pages). */
  private static final long LATE_MS = 3_000;

  private static DatabaseTarget db;
  private static Application app;
  private static SandboxControl sandbox;
  private static ApiCaller user;
  private static ApiCaller operator;

  @BeforeAll
  static void start() {
    db = TestDatabase.fresh(ScheduledReconciliationTest.class);
    app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET), Map.of("sync.poll_interval_ms", 200,
        "sync.reconcile_interval_s", INTERVAL_S, "sync.webhook_coalesce_ms", 200,
        "http.webhooks.handoff_attempt_ms", 500, "http.webhooks.handoff_total_ms", 1_500));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_scheduled", "Scheduled Bank");
    user = ApiCaller.user(app, "sam");
    operator = ApiCaller.admin(app, "oscar");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void theScheduledRunFindsAndRepairsDriftOnTimeAndAWebhookSyncDoesNotReconcileEarly() throws Exception {
    JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_scheduled")
        .put("user_id", "sam").put("transactions", 180)
        .put("webhook", "http://127.0.0.1:" + app.httpPort() + "/api/plaid/webhook"));
    String itemId = item.getString("item_id");
    Http.Response created = user.post("/api/reliability/connections",
        new JsonObject().put("public_token", item.getString("public_token")));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String id = created.json().getJsonObject("connection").getString("connection_id");
    Await.until(() -> storedTruth(id).equals(sandbox.truth(itemId)), Duration.ofSeconds(20), "the first sync");

    // the first reconciliation is due one configured interval after linking, not the migration's default day
    assertThat(Sql.number(db, "SELECT (extract(epoch FROM s.next_reconcile_at - c.created_at) * 1000)::bigint "
        + "FROM sync_schedule s JOIN connections c USING (connection_id) WHERE connection_id = ?", id))
        .as("next_reconcile_at - created_at (ms)").isEqualTo(INTERVAL_S * 1000L);
    long firstDue = reconcileDueMs(id);
    assertThat(nextSyncMs(id)).as("the connection syncs next when its reconciliation is due").isEqualTo(firstDue);
    assertThat(Sql.number(db, "SELECT count(*) FROM sync_schedule WHERE connection_id = ? "
        + "AND next_reconcile_at > now() + interval '1 second'", id))
        .as("precondition: the drift goes in well before the first run is due").isEqualTo(1);
    assertThat(reconciliations(id)).as("nothing reconciled before it is due").isEmpty();
    long getsBefore = transactionsGets();

    List<String> stored = Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ? "
        + "AND pending = false ORDER BY transaction_id", id);
    Sql.execute(db, "DELETE FROM transactions WHERE transaction_id IN ('" + stored.get(0) + "', '" + stored.get(1) + "')");
    Sql.execute(db, "UPDATE transactions SET amount = amount + 5 WHERE transaction_id = '" + stored.get(2) + "'");
    Sql.execute(db, "INSERT INTO transactions (transaction_id, connection_id, account_id, amount, date, pending, name, data) "
        + "SELECT 'txn_never_at_plaid', connection_id, account_id, 1.23, date, false, 'ghost', data FROM transactions "
        + "WHERE transaction_id = '" + stored.get(3) + "'");
    assertThat(storedTruth(id)).isNotEqualTo(sandbox.truth(itemId));
    assertThat(reconciliations(id)).as("the drift went in before any run").isEmpty();

    // --- the first scheduled run: no operator call, only the schedule
    JsonObject first = awaitReconciliations(id, 1).getJsonObject(0);
    assertThat(first.getString("trigger")).isEqualTo("scheduled");
    assertThat(first.getString("status")).isEqualTo("repaired");
    assertThat(first.getInteger("missing")).isEqualTo(2);
    assertThat(first.getInteger("changed")).isEqualTo(1);
    assertThat(first.getInteger("extra")).isEqualTo(1);
    assertThat(first.getInteger("balances_changed")).isZero();
    assertThat(first.getInteger("balances_checked")).isEqualTo(accounts(id));
    assertThat(first.getInteger("checked")).isEqualTo(sandbox.truth(itemId).size()).isEqualTo(180);
    assertThat(first.getInteger("plaid_calls")).as("180 transactions fit one page of 500").isEqualTo(1);
    assertThat(first.getString("message")).isEqualTo(
        "repaired 2 missing, 1 extra, 1 changed transaction(s) and 0 balance(s)");
    assertThat(millis(first.getString("started_at"))).as("started when due (" + firstDue + ")")
        .isBetween(firstDue - 1, firstDue + LATE_MS);
    assertThat(transactionsGets() - getsBefore).as("the sandbox's count of /transactions/get").isEqualTo(1);
    assertThat(storedTruth(id)).as("the store equals the sandbox's truth").isEqualTo(sandbox.truth(itemId));
    assertThat(Sql.strings(db, "SELECT status FROM sync_logs WHERE sync_id = ?::uuid", first.getString("sync_id")))
        .as("the sync the run rode with").containsExactly("success");
    // the next one is due an interval after this run (its end, just before the commit)
    assertThat(Sql.number(db, "SELECT (extract(epoch FROM s.next_reconcile_at - r.finished_at) * 1000)::bigint "
        + "FROM sync_schedule s JOIN reconciliations r USING (connection_id) WHERE r.id = ?", first.getLong("id")))
        .as("next_reconcile_at - finished_at (ms)").isBetween(INTERVAL_S * 1000L - 1_000, INTERVAL_S * 1000L);
    long secondDue = reconcileDueMs(id);
    assertThat(nextSyncMs(id)).as("the connection syncs next when its reconciliation is due").isEqualTo(secondDue);
    assertThat(secondDue - firstDue).as("next_reconcile_at moved on by about the interval")
        .isBetween(INTERVAL_S * 1000L, INTERVAL_S * 1000L + LATE_MS);

    Http.Response overview = operator.get("/api/admin/reconciliations");
    assertThat(overview.status()).as(overview.body()).isEqualTo(200);
    JsonObject totals = overview.json().getJsonObject("totals");
    assertThat(totals.getLong("runs")).isEqualTo(1);
    assertThat(totals.getLong("repaired")).isEqualTo(1);
    assertThat(totals.getLong("missing")).isEqualTo(2);
    assertThat(totals.getLong("changed")).isEqualTo(1);
    assertThat(totals.getLong("extra")).isEqualTo(1);
    assertThat(totals.getLong("plaid_calls")).isEqualTo(1);
    assertThat(metrics()).contains("mingus_reconcile_runs_total{status=\"repaired\"} 1.0",
        "mingus_reconcile_drift_total{kind=\"missing\"} 2.0", "mingus_reconcile_drift_total{kind=\"changed\"} 1.0",
        "mingus_reconcile_drift_total{kind=\"extra\"} 1.0", "mingus_reconcile_drift_total{kind=\"balance\"} 0.0",
        "mingus_reconcile_plaid_calls_total 1.0").doesNotContain("mingus_reconcile_runs_total{status=\"clean\"}");

    // --- a webhook-driven sync before the next run is due: it stores Plaid's update and does not reconcile
    JsonObject mutation = sandbox.mutate(itemId, 3, 1, 1);
    assertThat(mutation.getBoolean("webhook_fired")).as(mutation.encode()).isTrue();
    String[] webhookSync = new String[1];
    Await.until(() -> {
      List<String> rows = Sql.strings(db, "SELECT sync_id::text FROM sync_logs WHERE connection_id = ? "
          + "AND trigger = 'webhook' AND status = 'success'", id);
      webhookSync[0] = rows.isEmpty() ? null : rows.get(0);
      return webhookSync[0] != null;
    }, Duration.ofSeconds(15), "the webhook's sync runs");
    assertThat(Sql.number(db, "SELECT (extract(epoch FROM started_at + duration_ms * interval '1 millisecond') * 1000)"
        + "::bigint FROM sync_logs WHERE sync_id = ?::uuid", webhookSync[0]))
        .as("precondition: the webhook's sync ended before the next reconciliation was due").isLessThan(secondDue);
    assertThat(storedTruth(id)).as("the webhook's sync stored the update").isEqualTo(sandbox.truth(itemId));
    assertThat(Sql.number(db, "SELECT count(*) FROM reconciliations WHERE sync_id = ?::uuid", webhookSync[0]))
        .as("the webhook's sync reconciled nothing").isZero();
    assertThat(reconcileDueMs(id)).as("next_reconcile_at is untouched by the webhook's sync").isEqualTo(secondDue);
    assertThat(nextSyncMs(id)).as("after the webhook's sync, the next sync is still the reconciliation's")
        .isEqualTo(secondDue);

    // --- the next scheduled run finds the store equal to Plaid
    int truthSize = sandbox.truth(itemId).size();
    JsonObject second = awaitReconciliations(id, 2).getJsonObject(0);
    assertThat(second.getString("trigger")).isEqualTo("scheduled");
    assertThat(second.getString("status")).isEqualTo("clean");
    assertThat(second.getInteger("missing")).isZero();
    assertThat(second.getInteger("changed")).isZero();
    assertThat(second.getInteger("extra")).isZero();
    assertThat(second.getInteger("balances_changed")).isZero();
    assertThat(second.getInteger("checked")).isEqualTo(truthSize).isEqualTo(182);
    assertThat(second.getInteger("plaid_calls")).isEqualTo(1);
    assertThat(second.getString("message")).isNull();
    assertThat(second.getString("sync_id")).isNotEqualTo(webhookSync[0]).isNotEqualTo(first.getString("sync_id"));
    assertThat(millis(second.getString("started_at"))).as("started when due (" + secondDue + ")")
        .isBetween(secondDue - 1, secondDue + LATE_MS);
    assertThat(Sql.number(db, "SELECT count(*) FROM reconciliations WHERE connection_id = ?", id))
        .as("exactly the two scheduled runs").isEqualTo(2);
    assertThat(transactionsGets() - getsBefore).as("one /transactions/get a run, none for the webhook's sync")
        .isEqualTo(2);
    assertThat(storedTruth(id)).isEqualTo(sandbox.truth(itemId));
    assertThat(metrics()).contains("mingus_reconcile_runs_total{status=\"repaired\"} 1.0",
        "mingus_reconcile_runs_total{status=\"clean\"} 1.0", "mingus_reconcile_drift_total{kind=\"missing\"} 2.0",
        "mingus_reconcile_drift_total{kind=\"changed\"} 1.0", "mingus_reconcile_drift_total{kind=\"extra\"} 1.0",
        "mingus_reconcile_plaid_calls_total 2.0");
    assertThat(operator.get("/api/admin/reconciliations").json().getJsonObject("totals").getLong("runs")).isEqualTo(2);

    // the Grafana dashboard shipped in docs/grafana charts only series this server exports
    String scraped = metrics();
    JsonObject dashboard = new JsonObject(java.nio.file.Files.readString(
        java.nio.file.Path.of("docs", "grafana", "mingus-reliability.json")));
    java.util.Set<String> charted = new java.util.TreeSet<>();
    java.util.regex.Pattern series = java.util.regex.Pattern.compile("\\b((?:mingus|jvm)_[a-z_]+)\\b");
    for (Object panel : dashboard.getJsonArray("panels")) {
      for (Object target : ((JsonObject) panel).getJsonArray("targets")) {
        java.util.regex.Matcher names = series.matcher(((JsonObject) target).getString("expr"));
        while (names.find()) {
          charted.add(names.group(1));
        }
      }
    }
    assertThat(charted).as("the dashboard's series").hasSizeGreaterThan(10);
    assertThat(charted).allSatisfy(name -> assertThat(scraped).as(name + " in /metrics")
        .containsPattern("(?m)^" + name + "[{ ]"));
  }

  private static JsonArray reconciliations(String id) {
    Http.Response listed = operator.get("/api/admin/connections/" + id + "/reconciliations");
    assertThat(listed.status()).as(listed.body()).isEqualTo(200);
    return listed.json().getJsonArray("reconciliations");
  }

  private static JsonArray awaitReconciliations(String id, int count) {
    JsonArray[] rows = {new JsonArray()};
    Await.until(() -> {
      rows[0] = reconciliations(id);
      return rows[0].size() >= count;
    }, Duration.ofSeconds(15), "scheduled reconciliation " + count + " (no operator call)");
    return rows[0];
  }

  private static long reconcileDueMs(String id) {
    return Sql.number(db, "SELECT (extract(epoch FROM next_reconcile_at) * 1000)::bigint FROM sync_schedule "
        + "WHERE connection_id = ?", id);
  }

  private static long nextSyncMs(String id) {
    return Sql.number(db, "SELECT (extract(epoch FROM next_sync_at) * 1000)::bigint FROM sync_schedule "
        + "WHERE connection_id = ?", id);
  }

  private static int accounts(String id) {
    return (int) Sql.number(db, "SELECT count(*) FROM accounts WHERE connection_id = ?", id);
  }

  private static long millis(String timestamp) {
    return Instant.parse(timestamp).toEpochMilli();
  }

  private static String metrics() {
    return new ApiCaller(app.httpPort(), null, null).get("/metrics").body();
  }

  private static long transactionsGets() {
    JsonObject endpoint = sandbox.stats().getJsonObject("endpoints", new JsonObject()).getJsonObject("/transactions/get");
    return endpoint == null ? 0 : endpoint.getLong("requests", 0L);
  }

  private static Map<String, String> storedTruth(String connectionId) {
    Map<String, String> out = new HashMap<>();
    for (String row : Sql.strings(db, "SELECT transaction_id || '|' || amount || '|' || date || '|' || pending "
        + "FROM transactions WHERE connection_id = ?", connectionId)) {
      String[] parts = row.split("\\|");
      out.put(parts[0], SandboxControl.fingerprint(parts[1], parts[2], Boolean.parseBoolean(parts[3])));
    }
    return out;
  }
}
