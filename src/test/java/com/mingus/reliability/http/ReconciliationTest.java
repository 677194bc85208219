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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reconciliation end to end, as an operator uses it: drift put into the store behind the sync's back (rows
 * deleted, an amount changed, a transaction Plaid never had) is found against Plaid's full
 * history (the sandbox's /transactions/get over real HTTP), reported with its figures and repaired in the
 * same commit, so the store equals the sandbox's truth again; a second run finds nothing.
 */
class ReconciliationTest {
  private static DatabaseTarget db;
  private static Application app;
  private static SandboxControl sandbox;
  private static ApiCaller user;
  private static ApiCaller operator;

  @BeforeAll
  static void start() {
    db = TestDatabase.fresh(ReconciliationTest.class);
    app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET), Map.of("sync.poll_interval_ms", 200));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_reconcile", "Reconcile Bank");
    user = ApiCaller.user(app, "rita");
    operator = ApiCaller.admin(app, "olivia");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void driftBehindTheSyncsBackIsFoundReportedAndRepairedToPlaidsTruth() {
    JsonObject item = sandbox.item("ins_reconcile", "rita", 180);
    Http.Response created = user.post("/api/reliability/connections",
        new JsonObject().put("public_token", item.getString("public_token")));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String id = created.json().getJsonObject("connection").getString("connection_id");
    String itemId = item.getString("item_id");
    Await.until(() -> storedTruth(id).equals(sandbox.truth(itemId)), Duration.ofSeconds(30), "the first sync");

    List<String> stored = Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ? "
        + "AND pending = false ORDER BY transaction_id", id);
    Sql.execute(db, "DELETE FROM transactions WHERE transaction_id IN ('" + stored.get(0) + "', '" + stored.get(1) + "')");
    Sql.execute(db, "UPDATE transactions SET amount = amount + 5 WHERE transaction_id = '" + stored.get(2) + "'");
    Sql.execute(db, "INSERT INTO transactions (transaction_id, connection_id, account_id, amount, date, pending, name, data) "
        + "SELECT 'txn_never_at_plaid', connection_id, account_id, 1.23, date, false, 'ghost', data FROM transactions "
        + "WHERE transaction_id = '" + stored.get(3) + "'");
    Sql.execute(db, "UPDATE accounts SET balances = jsonb_set(balances, '{current}', '123456.78') WHERE account_id = "
        + "(SELECT account_id FROM accounts WHERE connection_id = '" + id + "' ORDER BY account_id LIMIT 1)");
    assertThat(storedTruth(id)).isNotEqualTo(sandbox.truth(itemId));
    long getsBefore = transactionsGets();

    Http.Response queued = operator.post("/api/admin/connections/" + id + "/reconcile", new JsonObject());
    assertThat(queued.status()).as(queued.body()).isEqualTo(202);
    assertThat(queued.json().getString("sync_id")).isNotBlank();
    JsonObject first = awaitReconciliations(id, 1).getJsonObject(0);
    assertThat(first.getString("trigger")).isEqualTo("operator");
    assertThat(first.getString("status")).isEqualTo("repaired");
    assertThat(first.getString("sync_id")).isEqualTo(queued.json().getString("sync_id"));
    assertThat(first.getInteger("missing")).isEqualTo(2);
    assertThat(first.getInteger("changed")).isEqualTo(1);
    assertThat(first.getInteger("extra")).isEqualTo(1);
    // the balance changed here is not drift by the time the run compares: the sync it rides with wrote the
    // accounts /transactions/sync carried, so the store it checks already holds Plaid's balances
    assertThat(first.getInteger("balances_changed")).isZero();
    assertThat(first.getInteger("balances_checked")).isPositive();
    assertThat(first.getInteger("checked")).isEqualTo(sandbox.truth(itemId).size());
    assertThat(first.getInteger("plaid_calls")).as("180 transactions fit one page of 500").isEqualTo(1);
    assertThat(transactionsGets() - getsBefore).as("the sandbox's count of /transactions/get").isEqualTo(1);
    assertThat(storedTruth(id)).isEqualTo(sandbox.truth(itemId));
    assertThat(Sql.number(db, "SELECT count(*) FROM accounts WHERE connection_id = ? AND balances->>'current' = '123456.78'",
        id)).isZero();

    // a second run finds the store equal to Plaid
    assertThat(operator.post("/api/admin/connections/" + id + "/reconcile", new JsonObject()).status()).isEqualTo(202);
    JsonObject second = awaitReconciliations(id, 2).getJsonObject(0);
    assertThat(second.getString("status")).isEqualTo("clean");
    assertThat(second.getInteger("missing") + second.getInteger("extra") + second.getInteger("changed")
        + second.getInteger("balances_changed")).isZero();
    // the user was told their data was corrected (account_update), once: the clean run told nothing
    Await.until(() -> accountUpdates().size() == 1, Duration.ofSeconds(20), "the user hears of the correction");
    assertThat(accountUpdates().getJsonObject(0).getString("message")).contains("corrected 4 transactions");
    Await.holds(() -> accountUpdates().size() == 1, Duration.ofMillis(500), "told once: the clean run told nothing");

    // the operator's overview: the last day's totals over every connection, and /metrics
    Http.Response all = operator.get("/api/admin/reconciliations");
    assertThat(all.status()).as(all.body()).isEqualTo(200);
    JsonObject totals = all.json().getJsonObject("totals");
    assertThat(totals.getLong("runs")).isEqualTo(2);
    assertThat(totals.getLong("repaired")).isEqualTo(1);
    assertThat(totals.getLong("clean")).isEqualTo(1);
    assertThat(totals.getLong("missing") + totals.getLong("extra") + totals.getLong("changed")).isEqualTo(4);
    assertThat(totals.getLong("plaid_calls")).isEqualTo(2);
    assertThat(all.json().getJsonArray("reconciliations").getJsonObject(0).getString("connection_id")).isEqualTo(id);
    String metrics = new ApiCaller(app.httpPort(), null, null).get("/metrics").body();
    assertThat(metrics).contains("mingus_reconcile_runs_total{status=\"repaired\"} 1.0",
        "mingus_reconcile_drift_total{kind=\"missing\"} 2.0", "mingus_reconcile_plaid_calls_total 2.0");

    // the next one is scheduled a day on (sync.reconcile_interval_s)
    assertThat(Sql.number(db, "SELECT count(*) FROM sync_schedule WHERE connection_id = ? "
        + "AND next_reconcile_at > now() + interval '23 hours'", id)).isEqualTo(1);
  }

  @Test
  void anUnknownConnectionIs404AndAUserIsRefused() {
    Http.Response unknown = operator.post("/api/admin/connections/conn_doesnotexist/reconcile", new JsonObject());
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(ApiCaller.errorCode(unknown)).isEqualTo("NOT_FOUND");
    Http.Response refused = user.get("/api/admin/connections/conn_doesnotexist/reconciliations");
    assertThat(refused.status()).isEqualTo(403);
    assertThat(ApiCaller.errorCode(refused)).isEqualTo("FORBIDDEN");
    Http.Response badLimit = operator.get("/api/admin/connections/conn_doesnotexist/reconciliations?limit=0");
    assertThat(badLimit.status()).isEqualTo(400);
    assertThat(ApiCaller.errorCode(badLimit)).isEqualTo("INVALID_REQUEST");
  }

  private static JsonArray awaitReconciliations(String id, int count) {
    JsonArray[] rows = {new JsonArray()};
    Await.until(() -> {
      Http.Response listed = operator.get("/api/admin/connections/" + id + "/reconciliations");
      assertThat(listed.status()).as(listed.body()).isEqualTo(200);
      rows[0] = listed.json().getJsonArray("reconciliations");
      return rows[0].size() >= count;
    }, Duration.ofSeconds(30), "reconciliation " + count);
    return rows[0];
  }

  private static JsonArray accountUpdates() {
    JsonArray all = user.get("/api/reliability/notifications").json().getJsonArray("notifications");
    JsonArray out = new JsonArray();
    for (int i = 0; i < all.size(); i++) {
      if ("account_update".equals(all.getJsonObject(i).getString("type"))) {
        out.add(all.getJsonObject(i));
      }
    }
    return out;
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
