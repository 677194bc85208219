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
import java.math.BigDecimal;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Balances as a user reads them (GET /connections/:id/accounts) against the sandbox's truth, and the
 * {@code partial} sync status: a balance refresh that fails keeps the transactions, says so in the sync
 * log, and is tried again at the next sync rather than an hour later.
 */
class AccountsTest {
  private static DatabaseTarget db;
  private static Application app;
  private static SandboxControl sandbox;
  private static ApiCaller user;

  @BeforeAll
  static void start() {
    db = TestDatabase.fresh(AccountsTest.class);
    app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET), Map.of("sync.poll_interval_ms", 200));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_accounts", "Accounts Bank");
    user = ApiCaller.user(app, "ada");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void accountsAndBalancesEqualTheSandboxAndAFailedBalanceRefreshIsPartialAndTriedAgain() {
    JsonObject item = sandbox.item("ins_accounts", "ada", 40);
    String itemId = item.getString("item_id");
    Http.Response created = user.post("/api/reliability/connections",
        new JsonObject().put("public_token", item.getString("public_token")));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String id = created.json().getJsonObject("connection").getString("connection_id");
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_logs WHERE connection_id = ? AND status = 'success'", id) > 0,
        Duration.ofSeconds(30), "the first sync");

    Http.Response accounts = user.get("/api/reliability/connections/" + id + "/accounts");
    assertThat(accounts.status()).as(accounts.body()).isEqualTo(200);
    JsonArray shown = accounts.json().getJsonArray("accounts");
    Map<String, String> truth = balances(sandbox.groundTruth(itemId).getJsonArray("accounts"));
    assertThat(balances(shown)).isEqualTo(truth).isNotEmpty();
    for (int i = 0; i < shown.size(); i++) {
      JsonObject account = shown.getJsonObject(i);
      assertThat(account.getString("name")).isNotBlank();
      assertThat(account.getString("balances_at")).as("when the balances were read").isNotBlank();
    }

    // another user's connection is not found, and says nothing of it
    Http.Response other = ApiCaller.user(app, "mallory").get("/api/reliability/connections/" + id + "/accounts");
    assertThat(other.status()).isEqualTo(404);
    assertThat(ApiCaller.errorCode(other)).isEqualTo("NOT_FOUND");
    assertThat(other.body()).doesNotContain("ada");

    // the balance refresh fails: the sync is partial, the transactions are still stored
    JsonObject fault = sandbox.fault(new JsonObject().put("scope", new JsonObject().put("endpoint", "/accounts/balance/get"))
        .put("error_type", "API_ERROR").put("error_code", "INTERNAL_SERVER_ERROR").put("http_status", 500)
        .put("probability", 1.0));
    Sql.execute(db, "UPDATE sync_schedule SET next_balance_at = now() WHERE connection_id = '" + id + "'");
    sandbox.mutate(itemId, 3, 0, 0);
    assertThat(user.post("/api/reliability/connections/" + id + "/sync-now", new JsonObject()).status()).isEqualTo(202);
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_logs WHERE connection_id = ? AND status = 'partial'", id) == 1,
        Duration.ofSeconds(30), "a partial sync");
    Http.Response status = user.get("/api/reliability/connections/" + id + "/sync-status");
    JsonObject latest = status.json().getJsonArray("sync_logs").getJsonObject(0);
    assertThat(latest.getString("status")).isEqualTo("partial");
    assertThat(latest.encode()).contains("balances could not be refreshed");
    assertThat(Sql.number(db, "SELECT count(*) FROM transactions WHERE connection_id = ?", id))
        .isEqualTo(sandbox.truthIds(itemId).size());
    assertThat(Sql.number(db, "SELECT count(*) FROM sync_schedule WHERE connection_id = ? AND next_balance_at <= now()", id))
        .as("the balances are still due").isEqualTo(1);

    // the fault goes; the next sync refreshes the balances and is a success again
    sandbox.delete("/__control/faults/" + fault.getString("fault_id"));
    assertThat(user.post("/api/reliability/connections/" + id + "/sync-now", new JsonObject()).status()).isEqualTo(202);
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_logs WHERE connection_id = ? AND status = 'success'", id) == 2,
        Duration.ofSeconds(30), "a successful sync after the fault");
    assertThat(Sql.number(db, "SELECT count(*) FROM sync_schedule WHERE connection_id = ? "
        + "AND next_balance_at > now() + interval '30 minutes'", id)).as("balances next due in an interval").isEqualTo(1);
    assertThat(balances(user.get("/api/reliability/connections/" + id + "/accounts").json().getJsonArray("accounts")))
        .isEqualTo(balances(sandbox.groundTruth(itemId).getJsonArray("accounts")));
  }

  /** account_id → "current|available" as plain numbers. */
  private static Map<String, String> balances(JsonArray accounts) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < accounts.size(); i++) {
      JsonObject account = accounts.getJsonObject(i);
      JsonObject balances = account.getJsonObject("balances");
      out.put(account.getString("account_id"), plain(balances.getValue("current")) + "|" + plain(balances.getValue("available")));
    }
    return out;
  }

  private static String plain(Object value) {
    return value == null ? "null" : new BigDecimal(value.toString()).stripTrailingZeros().toPlainString();
  }
}
