package com.mingus.reliability.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sync scheduling end to end: the whole application against the Plaid sandbox over real HTTP. */
class SyncTest {
  private static DatabaseTarget db;
  private static Application app;
  private static SandboxControl sandbox;
  private static final List<SyncEvent> events = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    db = TestDatabase.fresh(SyncTest.class);
    app = TestApp.start(db, Map.of(), Map.of(
        "sync.page_count", 100,
        "sync.poll_interval_ms", 200,
        "sync.webhook_coalesce_ms", 500,
        "sync.outbox_redrive_every_ms", 200,
        "plaid.timeouts.total_ms", 3000));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_sync_test", "Sync Test Bank");
    for (String address : List.of(Addresses.SYNC_COMPLETED, Addresses.SYNC_FAILED, Addresses.SYNC_STARTED)) {
      app.vertx().eventBus().<SyncEvent>consumer(address, message -> events.add(message.body()));
    }
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static JsonObject register(String userId, int transactions) {
    JsonObject item = sandbox.item("ins_sync_test", userId, transactions);
    JsonObject connection = Await.result(Bus.request(app.vertx(), Addresses.SYNC_REGISTER,
        new JsonObject().put("user_id", userId).put("public_token", item.getString("public_token")), 15_000));
    return connection.put("item_id", item.getString("item_id"));
  }

  private static List<SyncEvent> completed(String connectionId) {
    return events.stream().filter(e -> e.kind().equals(SyncEvent.COMPLETED) && e.connectionId().equals(connectionId)).toList();
  }

  private static HashSet<String> storedIds(String connectionId) {
    return new HashSet<>(Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ?", connectionId));
  }

  @Test
  void aRegisteredConnectionSyncsEveryPageToTheSandboxGroundTruth() {
    JsonObject connection = register("user-a", 350);
    String id = connection.getString("connection_id");
    assertThat(id).startsWith("conn_");
    assertThat(connection.getString("institution_name")).isEqualTo("Sync Test Bank");
    assertThat(connection.encode()).doesNotContain("access-");

    Await.until(() -> !completed(id).isEmpty(), Duration.ofSeconds(20), "the first sync completes");
    SyncEvent first = completed(id).get(0);
    assertThat(first.syncId()).isEqualTo(connection.getString("first_sync_id"));
    assertThat(first.detail().getInteger("pages")).isGreaterThanOrEqualTo(4);
    assertThat(storedIds(id)).isEqualTo(sandbox.truthIds(connection.getString("item_id")));
    assertThat(Sql.number(db, "SELECT count(*) FROM accounts WHERE connection_id = ?", id)).isPositive();
    assertThat(Sql.strings(db, "SELECT encode(token_ciphertext, 'escape') FROM connections WHERE connection_id = ?", id).get(0))
        .doesNotContain("access-");
  }

  @Test
  void aBurstOfTenWebhooksMakesOneSync() {
    JsonObject connection = register("user-b", 50);
    String id = connection.getString("connection_id");
    String itemId = connection.getString("item_id");
    Await.until(() -> completed(id).size() == 1, Duration.ofSeconds(20), "the first sync completes");

    sandbox.mutate(itemId, 5, 2, 1);
    for (int i = 0; i < 10; i++) {
      app.vertx().eventBus().request(Addresses.SYNC_WEBHOOK, new JsonObject().put("webhook_type", "TRANSACTIONS")
          .put("webhook_code", "SYNC_UPDATES_AVAILABLE").put("item_id", itemId));
    }
    Await.until(() -> completed(id).size() >= 2, Duration.ofSeconds(20), "the webhook sync completes");
    Await.holds(() -> completed(id).size() == 2, Duration.ofMillis(1_500), "the ten webhooks make one sync, no more");
    assertThat(completed(id).get(1).trigger()).isEqualTo("webhook");
    assertThat(storedIds(id)).isEqualTo(sandbox.truthIds(itemId));
  }

  @Test
  void aWebhookDuringARunningSyncIsStoredByOneFollowUpRightAfterItEnds() {
    // the first sync's balance call is held 2 s by the sandbox: its transaction pages are already read, so a
    // change made now is not in it and only a follow-up sync can store it
    JsonObject item = sandbox.item("ins_sync_test", "user-i", 30);
    String itemId = item.getString("item_id");
    String faultId = sandbox.fault(new JsonObject().put("scope", new JsonObject().put("item_id", itemId)
        .put("endpoint", "/accounts/balance/get")).put("latency_ms", 2_000).put("count", 1)).getString("fault_id");
    JsonObject connection = Await.result(Bus.request(app.vertx(), Addresses.SYNC_REGISTER,
        new JsonObject().put("user_id", "user-i").put("public_token", item.getString("public_token")), 15_000));
    String id = connection.getString("connection_id");
    Await.until(() -> sandbox.get("/__control/faults").getJsonArray("faults").stream()
            .map(JsonObject.class::cast).anyMatch(f -> faultId.equals(f.getString("fault_id")) && f.getLong("fired") == 1),
        Duration.ofSeconds(20), "the first sync is in its balance call");
    JsonObject change = sandbox.mutate(itemId, 2, 0, 0);
    Await.result(Bus.request(app.vertx(), Addresses.SYNC_WEBHOOK, new JsonObject().put("webhook_type", "TRANSACTIONS")
        .put("webhook_code", "SYNC_UPDATES_AVAILABLE").put("item_id", itemId), 5_000));
    assertThat(completed(id)).as("the webhook was recorded while the first sync ran").isEmpty();

    Await.until(() -> completed(id).size() >= 2, Duration.ofSeconds(20), "the follow-up sync completes");
    Await.holds(() -> completed(id).size() == 2, Duration.ofMillis(1_500), "one follow-up, no more");
    SyncEvent first = completed(id).get(0);
    SyncEvent followUp = completed(id).get(1);
    assertThat(followUp.trigger()).isEqualTo("webhook");
    SyncEvent followUpStarted = events.stream().filter(e -> e.kind().equals(SyncEvent.STARTED)
        && e.syncId().equals(followUp.syncId())).findFirst().orElseThrow();
    // due the moment the first one's finish commits (not at its next periodic time): claimed right after it
    java.time.Instant firstEnded = java.time.Instant.parse(first.at()).plusMillis(first.durationMs());
    assertThat(java.time.Duration.between(firstEnded, java.time.Instant.parse(followUpStarted.at())).toMillis())
        .isLessThan(1_000);
    assertThat(first.added()).isEqualTo(30);
    assertThat(followUp.added()).isEqualTo(2);

    JsonObject page = Await.result(Bus.request(app.vertx(), Addresses.SYNC_TRANSACTIONS,
        new JsonObject().put("user_id", "user-i").put("connection_id", id).put("limit", 500), 5_000));
    List<String> listed = page.getJsonArray("transactions").stream()
        .map(t -> ((JsonObject) t).getString("transaction_id")).toList();
    assertThat(listed).containsAll(change.getJsonArray("added").getList()).doesNotHaveDuplicates();
    assertThat(new HashSet<>(listed)).isEqualTo(sandbox.truthIds(itemId));
  }

  @Test
  void itemLoginRequiredParksTheConnectionUntilTheUserReconnects() {
    JsonObject connection = register("user-c", 20);
    String id = connection.getString("connection_id");
    String itemId = connection.getString("item_id");
    Await.until(() -> completed(id).size() == 1, Duration.ofSeconds(20), "the first sync completes");

    sandbox.post("/__control/items/" + itemId + "/reset-login", new JsonObject());
    JsonObject now = Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
        new JsonObject().put("user_id", "user-c").put("connection_id", id), 5_000));
    assertThat(now.getString("sync_id")).isNotBlank();
    Await.until(() -> events.stream().anyMatch(e -> e.kind().equals(SyncEvent.FAILED) && e.connectionId().equals(id)),
        Duration.ofSeconds(20), "the sync fails with ITEM_LOGIN_REQUIRED");
    SyncEvent failed = events.stream().filter(e -> e.kind().equals(SyncEvent.FAILED) && e.connectionId().equals(id))
        .findFirst().orElseThrow();
    assertThat(failed.paused()).isEqualTo("needs_user");
    assertThat(failed.classification().getString("user_action")).isEqualTo("reconnect");
    assertThat(failed.failure().getString("error_code")).isEqualTo("ITEM_LOGIN_REQUIRED");

    long requestsWhileParked = sandbox.itemRequests(itemId);
    Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
        new JsonObject().put("user_id", "user-c").put("connection_id", id), 5_000));
    Await.holds(() -> sandbox.itemRequests(itemId) == requestsWhileParked, Duration.ofSeconds(2),
        "no Plaid call while the user must act");

    sandbox.post("/__control/items/" + itemId + "/repair-login", new JsonObject());
    Await.result(Bus.request(app.vertx(), Addresses.SYNC_WEBHOOK, new JsonObject().put("webhook_type", "ITEM")
        .put("webhook_code", "LOGIN_REPAIRED").put("item_id", itemId), 5_000));
    Await.until(() -> completed(id).size() == 2, Duration.ofSeconds(20), "a sync succeeds after LOGIN_REPAIRED");
  }

  @Test
  void anEventCommittedByANodeThatDiedBeforeHealthAppliedItIsToldAgainAndAppliedOnce() {
    JsonObject connection = register("user-e", 5);
    String id = connection.getString("connection_id");
    Await.until(() -> completed(id).size() == 1, Duration.ofSeconds(20), "the first sync completes");
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_outbox") == 0, Duration.ofSeconds(10),
        "every event so far applied and forgotten");
    Await.until(() -> successes(id) == 1, Duration.ofSeconds(10), "health counted the first sync");

    // what a node leaves behind when it dies between a sync's commit and health's answer: the event, in the outbox
    SyncEvent orphan = new SyncEvent(SyncEvent.COMPLETED, id, "user-e", connection.getString("item_id"), "ins_sync_test",
        "Sync Test Bank", java.util.UUID.randomUUID().toString(), "webhook", "success", java.time.Instant.now().toString(),
        10L, 0, 0, 0, null, null, null, null, null, new JsonObject());
    String insert = "INSERT INTO sync_outbox (connection_id, address, body, redrive_at) VALUES ('" + id + "', '"
        + Addresses.SYNC_COMPLETED + "', '" + orphan.toJson().encode() + "'::jsonb, now() - interval '1 s')";
    Sql.execute(db, insert);
    Await.until(() -> successes(id) == 2, Duration.ofSeconds(10), "the relay tells health again");
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_outbox") == 0, Duration.ofSeconds(10),
        "and forgets it once applied");

    // told a second time (the first answer lost): a duplicate, counted once
    Sql.execute(db, insert);
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_outbox") == 0, Duration.ofSeconds(10), "told again");
    Await.holds(() -> successes(id) == 2, Duration.ofMillis(500), "the duplicate is counted once");

    // a row whose body is the event as a JSON string (how a String bound to a jsonb parameter is stored,
    // which the registration and failure paths once did): read and applied all the same, not stuck
    SyncEvent another = new SyncEvent(SyncEvent.COMPLETED, id, "user-e", connection.getString("item_id"),
        "ins_sync_test", "Sync Test Bank", java.util.UUID.randomUUID().toString(), "webhook", "success",
        java.time.Instant.now().toString(), 10L, 0, 0, 0, null, null, null, null, null, new JsonObject());
    Sql.execute(db, "INSERT INTO sync_outbox (connection_id, address, body, redrive_at) VALUES ('" + id + "', '"
        + Addresses.SYNC_COMPLETED + "', to_jsonb('" + another.toJson().encode() + "'::text), now() - interval '1 s')");
    Await.until(() -> successes(id) == 3, Duration.ofSeconds(10), "a string-bodied event is applied");
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_outbox") == 0, Duration.ofSeconds(10),
        "and forgotten");
  }

  private static long successes(String connectionId) {
    List<String> count = Sql.strings(db, "SELECT sync_success_count FROM health_connections WHERE connection_id = ?",
        connectionId);
    return count.isEmpty() ? -1 : Long.parseLong(count.get(0));
  }

  /**
   * A stored cursor Plaid no longer accepts (INVALID_FIELD) does not park the connection: the sync goes
   * back to the whole history, and what is stored becomes exactly Plaid's set again, repairing drift a
   * cursor could never deliver (a transaction deleted here, one Plaid never had, an amount changed here).
   */
  @Test
  void aCursorPlaidRefusesMakesAFullResyncThatRepairsTheStoredSet() {
    JsonObject connection = register("user-f", 120);
    String id = connection.getString("connection_id");
    String itemId = connection.getString("item_id");
    Await.until(() -> completed(id).size() == 1, Duration.ofSeconds(20), "the first sync completes");
    assertThat(completed(id).get(0).detail().containsKey("pruned")).as("a first sync prunes nothing").isFalse();

    List<String> stored = Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ? "
        + "ORDER BY transaction_id", id);
    Sql.execute(db, "UPDATE connections SET sync_cursor = 'bm90LWEtY3Vyc29y' WHERE connection_id = '" + id + "'");
    Sql.execute(db, "DELETE FROM transactions WHERE transaction_id IN ('" + stored.get(0) + "', '" + stored.get(1) + "')");
    Sql.execute(db, "UPDATE transactions SET amount = amount + 1 WHERE transaction_id = '" + stored.get(2) + "'");
    Sql.execute(db, "INSERT INTO transactions (transaction_id, connection_id, account_id, amount, date, pending, name, data) "
        + "SELECT 'txn_never_at_plaid', connection_id, account_id, 9.99, date, false, 'ghost', data FROM transactions "
        + "WHERE transaction_id = '" + stored.get(3) + "'");
    sandbox.mutate(itemId, 2, 1, 1);
    HashSet<String> before = storedIds(id);
    before.removeAll(sandbox.truthIds(itemId));
    assertThat(before).contains("txn_never_at_plaid");

    Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
        new JsonObject().put("user_id", "user-f").put("connection_id", id), 5_000));
    Await.until(() -> completed(id).size() == 2, Duration.ofSeconds(20), "the resync completes");
    SyncEvent resync = completed(id).get(1);
    assertThat(resync.detail().getString("resync")).isEqualTo("invalid_cursor");
    // the ghost at least, and what Plaid removed meanwhile (a full history has no removals, only absences;
    // a pending transaction that posted goes as replaced, not as pruned)
    assertThat(resync.detail().getInteger("pruned")).isBetween(1, before.size());
    assertThat(events.stream().filter(e -> e.kind().equals(SyncEvent.FAILED) && e.connectionId().equals(id)))
        .as("the refused cursor is not reported as a failure").isEmpty();
    assertThat(storedTruth(id)).isEqualTo(sandbox.truth(itemId));
    assertThat(Sql.strings(db, "SELECT sync_cursor FROM connections WHERE connection_id = ?", id).get(0))
        .isNotEqualTo("bm90LWEtY3Vyc29y");
    assertThat(Sql.strings(db, "SELECT message FROM sync_logs WHERE sync_id = '" + resync.syncId() + "'").get(0))
        .contains("refused the stored cursor");

    // and the cursor it stored is good: the next change arrives incrementally
    sandbox.mutate(itemId, 1, 0, 0);
    Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
        new JsonObject().put("user_id", "user-f").put("connection_id", id), 5_000));
    Await.until(() -> completed(id).size() == 3, Duration.ofSeconds(20), "the next sync completes");
    assertThat(completed(id).get(2).added()).isEqualTo(1);
    assertThat(completed(id).get(2).detail().containsKey("resync")).isFalse();
    assertThat(storedTruth(id)).isEqualTo(sandbox.truth(itemId));
  }

  /**
   * The same transaction id on two connections (the store keys transactions by Plaid's id): the one
   * already held stays with its connection, and the sync that met it counts and reports it.
   */
  @Test
  void aTransactionIdAnotherConnectionHoldsIsLeftWithItAndCounted() {
    JsonObject first = register("user-g", 10);
    String firstId = first.getString("connection_id");
    Await.until(() -> completed(firstId).size() == 1, Duration.ofSeconds(20), "the first connection syncs");

    JsonObject item = sandbox.item("ins_sync_test", "user-g", 25);
    String taken = sandbox.truthIds(item.getString("item_id")).iterator().next();
    Sql.execute(db, "INSERT INTO transactions (transaction_id, connection_id, account_id, amount, date, pending, name, data) "
        + "SELECT '" + taken + "', connection_id, account_id, amount, date, pending, name, data FROM transactions "
        + "WHERE connection_id = '" + firstId + "' LIMIT 1");
    JsonObject second = Await.result(Bus.request(app.vertx(), Addresses.SYNC_REGISTER,
        new JsonObject().put("user_id", "user-g").put("public_token", item.getString("public_token")), 15_000));
    String secondId = second.getString("connection_id");
    Await.until(() -> completed(secondId).size() == 1, Duration.ofSeconds(20), "the second connection syncs");
    assertThat(completed(secondId).get(0).detail().getInteger("conflicts")).isEqualTo(1);
    assertThat(storedIds(secondId)).hasSize(24).doesNotContain(taken);
    assertThat(Sql.strings(db, "SELECT connection_id FROM transactions WHERE transaction_id = ?", taken))
        .containsExactly(firstId);
  }

  /** A pending transaction that posts is replaced by the posted one, which points back to it; no pair is kept twice. */
  @Test
  void postedTransactionsReplaceTheirPendingOnes() {
    JsonObject connection = register("user-h", 60);
    String id = connection.getString("connection_id");
    String itemId = connection.getString("item_id");
    Await.until(() -> completed(id).size() == 1, Duration.ofSeconds(20), "the first sync completes");
    List<String> pending = Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ? AND pending", id);
    if (pending.isEmpty()) {
      sandbox.mutate(itemId, 10, 0, 0);
      Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
          new JsonObject().put("user_id", "user-h").put("connection_id", id), 5_000));
      Await.until(() -> completed(id).size() == 2, Duration.ofSeconds(20), "the added ones arrive");
      pending = Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ? AND pending", id);
    }
    assertThat(pending).as("pending transactions to post").isNotEmpty();
    int before = completed(id).size();

    sandbox.post("/__control/items/" + itemId + "/transactions", new JsonObject().put("post_pending", true));
    Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
        new JsonObject().put("user_id", "user-h").put("connection_id", id), 5_000));
    Await.until(() -> completed(id).size() == before + 1, Duration.ofSeconds(20), "the posting sync completes");
    assertThat(Sql.number(db, "SELECT count(*) FROM transactions WHERE connection_id = ? AND pending", id)).isZero();
    for (String pendingId : pending) {
      assertThat(Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ? "
          + "AND pending_transaction_id = '" + pendingId + "' AND NOT pending", id)).as("the posted one of " + pendingId)
          .hasSize(1);
    }
    assertThat(storedTruth(id)).isEqualTo(sandbox.truth(itemId));
  }

  private static Map<String, String> storedTruth(String connectionId) {
    Map<String, String> out = new java.util.HashMap<>();
    for (String row : Sql.strings(db, "SELECT transaction_id || '|' || amount || '|' || date || '|' || pending "
        + "FROM transactions WHERE connection_id = ?", connectionId)) {
      String[] parts = row.split("\\|");
      out.put(parts[0], SandboxControl.fingerprint(parts[1], parts[2], Boolean.parseBoolean(parts[3])));
    }
    return out;
  }

  @Test
  void anotherUsersConnectionIsNotFound() {
    JsonObject connection = register("user-d", 5);
    String id = connection.getString("connection_id");
    Throwable failure = Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
            new JsonObject().put("user_id", "someone-else").put("connection_id", id), 5_000)
        .map(ok -> (Throwable) null).recover(f -> io.vertx.core.Future.succeededFuture(f)));
    assertThat(failure).isInstanceOf(Bus.BusException.class);
    assertThat(((Bus.BusException) failure).failure().code()).isEqualTo(com.mingus.reliability.bus.FailureCodes.NOT_FOUND);
  }
}
