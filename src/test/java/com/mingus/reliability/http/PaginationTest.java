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
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One pagination convention for every list (docs/api.md, "Pagination"): limit and an opaque cursor in,
 * next_cursor and has_more out, keyset underneath. Each list is paged through, a few rows at a time, while new
 * rows are written between the pages: every row that was there when paging began is seen exactly once (an
 * offset would show some twice, as the new rows push the old ones down), and a cursor that was altered or
 * belongs to another list is 400 INVALID_REQUEST.
 */
class PaginationTest {
  private static DatabaseTarget db;
  private static Application app;
  private static ApiCaller pat;
  private static ApiCaller operator;
  private static String connection;

  @BeforeAll
  static void start() {
    db = TestDatabase.fresh(PaginationTest.class);
    app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET), Map.of("http.rate_limit.per_second", 200,
        "http.rate_limit.burst", 400));
    pat = ApiCaller.user(app, "pat");
    operator = ApiCaller.admin(app, "olga");
    SandboxControl sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_paging", "Paging Bank");
    JsonObject item = sandbox.item("ins_paging", "pat", 30);
    Http.Response created = pat.post("/api/reliability/connections",
        new JsonObject().put("public_token", item.getString("public_token")));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    connection = created.json().getJsonObject("connection").getString("connection_id");
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM transactions WHERE connection_id = ?", connection) == 30,
        Duration.ofSeconds(30), "the first sync stores the Item's 30 transactions");
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  /**
   * Pages through {@code path} {@code limit} rows at a time, calling {@code between} after each page, and
   * answers the ids seen, in order; fails at the first id seen twice. Also checks the last page's shape.
   */
  private static List<String> pageThrough(ApiCaller caller, String path, String list, String id, int limit,
      Runnable between) {
    List<String> seen = new ArrayList<>();
    Set<String> unique = new HashSet<>();
    String cursor = null;
    for (int pages = 0; pages < 100; pages++) {
      String query = path + (path.contains("?") ? "&" : "?") + "limit=" + limit
          + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8));
      Http.Response page = caller.get(query);
      assertThat(page.status()).as(query + ": " + page.body()).isEqualTo(200);
      JsonObject body = page.json();
      List<JsonObject> rows = body.getJsonArray(list).stream().map(JsonObject.class::cast).toList();
      assertThat(rows.size()).isLessThanOrEqualTo(limit);
      for (JsonObject row : rows) {
        String value = String.valueOf(row.getValue(id));
        assertThat(unique.add(value)).as("%s shown twice (page %d)", value, pages + 1).isTrue();
        seen.add(value);
      }
      boolean hasMore = body.getBoolean("has_more");
      cursor = body.getString("next_cursor");
      assertThat(cursor == null).as("next_cursor is null exactly on the last page").isEqualTo(!hasMore);
      if (!hasMore) {
        return seen;
      }
      assertThat(rows).hasSize(limit);
      between.run();
    }
    throw new AssertionError("more than 100 pages of " + path);
  }

  /** The next_cursor of the first page (of size 1), for tampering. */
  private static String firstCursor(ApiCaller caller, String path) {
    Http.Response page = caller.get(path + (path.contains("?") ? "&" : "?") + "limit=1");
    assertThat(page.status()).as(page.body()).isEqualTo(200);
    String cursor = page.json().getString("next_cursor");
    assertThat(cursor).as("a first page of one has a next page").isNotNull();
    return cursor;
  }

  /** An altered cursor, a cut one, one that is not a cursor at all and one of another list are each refused. */
  private static void refusesForeignCursors(ApiCaller caller, String path, String foreign) {
    String cursor = firstCursor(caller, path);
    char last = cursor.charAt(cursor.length() - 1);
    // the last character holds spare bits too: changing it may or may not change the bytes, either is refused
    String altered = cursor.substring(0, cursor.length() - 1) + (last == 'A' ? 'B' : 'A');
    int middle = cursor.length() - 5;
    String checkAltered = cursor.substring(0, middle) + (cursor.charAt(middle) == 'x' ? 'y' : 'x') + cursor.substring(middle + 1);
    String payloadAltered = (cursor.charAt(0) == 'W' ? 'X' : 'W') + cursor.substring(1);
    for (String bad : List.of(altered, checkAltered, payloadAltered, cursor.substring(0, cursor.length() / 2), "bm90LWEtY3Vyc29y", foreign)) {
      Http.Response response = caller.get(path + (path.contains("?") ? "&" : "?") + "cursor="
          + URLEncoder.encode(bad, StandardCharsets.UTF_8));
      assertThat(response.status()).as(path + " with cursor " + bad + ": " + response.body()).isEqualTo(400);
      assertThat(ApiCaller.errorCode(response)).isEqualTo("INVALID_REQUEST");
    }
  }

  private static String notificationsCursorOfAnotherUser() {
    ApiCaller quinn = ApiCaller.user(app, "quinn");
    insertNotifications("quinn", 2, "now()");
    return firstCursor(quinn, "/api/reliability/notifications");
  }

  private static void insertNotifications(String user, int count, String createdAt) {
    StringBuilder sql = new StringBuilder();
    for (int i = 0; i < count; i++) {
      sql.append("INSERT INTO notifications (id, user_id, type, priority, title, message, created_at) VALUES ('")
          .append(UUID.randomUUID()).append("', '").append(user).append("', 'account_update', 'low', 'Paging ").append(i)
          .append("', 'a row to page through', ").append(createdAt).append(");");
    }
    Sql.execute(db, sql.toString());
  }

  @Test
  void theNotificationsArePagedByCursorAndEachIsSeenOnceWhileNewOnesArrive() {
    // 20 at distinct times and 7 at one and the same time: the id breaks the tie
    for (int i = 0; i < 20; i++) {
      insertNotifications("pat", 1, "now() - interval '" + (i + 1) + " minutes'");
    }
    insertNotifications("pat", 7, "timestamptz '2026-01-01 00:00:00+00'");
    Set<String> before = new HashSet<>(Sql.strings(db, "SELECT id::text FROM notifications WHERE user_id = 'pat'"));
    assertThat(before).hasSize(27);
    AtomicInteger written = new AtomicInteger();
    List<String> seen = pageThrough(pat, "/api/reliability/notifications", "notifications", "id", 4, () -> {
      insertNotifications("pat", 2, "now()");
      written.addAndGet(2);
    });
    assertThat(written.get()).isGreaterThanOrEqualTo(12);
    assertThat(seen).hasSize(27);
    assertThat(new HashSet<>(seen)).isEqualTo(before);
    Http.Response first = pat.get("/api/reliability/notifications?limit=1");
    assertThat(first.json().getInteger("total")).isEqualTo(27 + written.get());
    assertThat(first.json().getInteger("unread_count")).isEqualTo(27 + written.get());

    refusesForeignCursors(pat, "/api/reliability/notifications", notificationsCursorOfAnotherUser());
  }

  private static int day = 0;

  private static void insertTransactions(int count) {
    StringBuilder sql = new StringBuilder();
    day++;
    for (int i = 0; i < count; i++) {
      String id = "txn_paging_" + UUID.randomUUID();
      sql.append("INSERT INTO transactions (transaction_id, connection_id, account_id, amount, date, name, data) VALUES ('")
          .append(id).append("', '").append(connection).append("', 'acc_paging', 1.00, current_date + ").append(365 + day)
          .append(", 'Paging', jsonb_build_object('transaction_id', '").append(id).append("', 'account_id', 'acc_paging', ")
          .append("'amount', 1.00, 'date', (current_date + ").append(365 + day).append(")::text, 'pending', false, 'name', 'Paging'));");
    }
    Sql.execute(db, sql.toString());
  }

  @Test
  void theTransactionsArePagedByCursorAndEachIsSeenOnceWhileNewOnesArrive() {
    String path = "/api/reliability/connections/" + connection + "/transactions";
    Set<String> before = new HashSet<>(Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ?",
        connection));
    assertThat(before).hasSizeGreaterThanOrEqualTo(30);
    List<String> seen = pageThrough(pat, path, "transactions", "transaction_id", 7, () -> insertTransactions(3));
    assertThat(new HashSet<>(seen)).isEqualTo(before);
    assertThat(seen).hasSize(before.size());

    ApiCaller rae = ApiCaller.user(app, "rae");
    SandboxControl sandbox = new SandboxControl(app.sandboxPort());
    JsonObject item = sandbox.item("ins_paging", "rae", 3);
    String other = rae.post("/api/reliability/connections", new JsonObject().put("public_token", item.getString("public_token")))
        .json().getJsonObject("connection").getString("connection_id");
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM transactions WHERE connection_id = ?", other) == 3,
        Duration.ofSeconds(30), "rae's transactions are stored");
    refusesForeignCursors(pat, path, firstCursor(rae, "/api/reliability/connections/" + other + "/transactions"));
  }

  private static void insertReconciliations(int count) {
    StringBuilder sql = new StringBuilder();
    for (int i = 0; i < count; i++) {
      sql.append("INSERT INTO reconciliations (connection_id, sync_id, trigger, status, started_at, start_date, end_date, "
          + "plaid_calls, checked, missing, extra, changed, balances_checked, balances_changed) VALUES ('")
          .append(connection).append("', '").append(UUID.randomUUID())
          .append("', 'operator', 'clean', now(), current_date - 30, current_date, 1, 0, 0, 0, 0, 0, 0);");
    }
    Sql.execute(db, sql.toString());
  }

  @Test
  void theReconciliationsArePagedByCursorAndEachIsSeenOnceWhileNewOnesArrive() {
    insertReconciliations(17);
    String mine = "/api/admin/connections/" + connection + "/reconciliations";
    Set<String> before = new HashSet<>(Sql.strings(db, "SELECT id::text FROM reconciliations WHERE connection_id = ?",
        connection));
    List<String> seen = pageThrough(operator, mine, "reconciliations", "id", 5, () -> insertReconciliations(2));
    assertThat(seen).hasSize(before.size());
    assertThat(new HashSet<>(seen)).isEqualTo(before);

    Set<String> all = new HashSet<>(Sql.strings(db, "SELECT id::text FROM reconciliations"));
    List<String> everyone = pageThrough(operator, "/api/admin/reconciliations", "reconciliations", "id", 6,
        () -> insertReconciliations(1));
    assertThat(new HashSet<>(everyone)).isEqualTo(all);
    // a cursor of one connection's list is not one of everyone's, and the other way round
    refusesForeignCursors(operator, mine, firstCursor(operator, "/api/admin/reconciliations"));
    refusesForeignCursors(operator, "/api/admin/reconciliations", firstCursor(operator, mine));
  }

  private static void insertDeadLetters(int count, String at) {
    StringBuilder sql = new StringBuilder();
    for (int i = 0; i < count; i++) {
      UUID notification = UUID.randomUUID();
      sql.append("INSERT INTO notifications (id, user_id, type, priority, title, message, in_app) VALUES ('")
          .append(notification).append("', 'dora', 'account_update', 'low', 'Dead', 'dead', false);")
          .append("INSERT INTO notify_deliveries (id, notification_id, user_id, channel, target, idempotency_key, status, ")
          .append("reason, priority, attempts, last_error, dead_lettered_at) VALUES ('").append(UUID.randomUUID())
          .append("', '").append(notification).append("', 'dora', 'webhook', 'https://hooks.example.com/x', '")
          .append(UUID.randomUUID()).append("', 'failed', 'dead_letter: paging', 'low', 8, 'HTTP 500', ").append(at).append(");");
    }
    Sql.execute(db, sql.toString());
  }

  @Test
  void theDeadLettersArePagedByCursorAndEachIsSeenOnceWhileNewOnesArrive() {
    insertDeadLetters(9, "now() - interval '1 hour'");
    insertDeadLetters(6, "timestamptz '2026-01-01 00:00:00+00'");
    String path = "/api/admin/notifications/dead-letters";
    Set<String> before = new HashSet<>(Sql.strings(db, "SELECT id::text FROM notify_deliveries WHERE dead_lettered_at IS NOT NULL"));
    List<String> seen = pageThrough(operator, path, "dead_letters", "id", 4, () -> insertDeadLetters(2, "now()"));
    assertThat(seen).hasSize(before.size());
    assertThat(new HashSet<>(seen)).isEqualTo(before);
    refusesForeignCursors(operator, path, firstCursor(operator, "/api/admin/alerts"));
  }

  private static void insertAlerts(String kind, int count, String at) {
    StringBuilder sql = new StringBuilder();
    for (int i = 0; i < count; i++) {
      sql.append("INSERT INTO operator_alerts (id, kind, dedupe_key, severity, title, message, created_at) VALUES ('")
          .append(UUID.randomUUID()).append("', '").append(kind).append("', '").append(UUID.randomUUID())
          .append("', 'warning', 'Paging', 'a row to page through', ").append(at).append(");");
    }
    Sql.execute(db, sql.toString());
  }

  @Test
  void theAlertsArePagedByCursorAndEachIsSeenOnceWhileNewOnesArrive() {
    insertAlerts("reconciliation_drift", 10, "now() - interval '2 hours'");
    insertAlerts("reconciliation_drift", 5, "timestamptz '2026-01-01 00:00:00+00'");
    insertAlerts("circuit_open", 3, "now() - interval '3 hours'");
    String drift = "/api/admin/alerts?kind=reconciliation_drift";
    Set<String> before = new HashSet<>(Sql.strings(db, "SELECT id::text FROM operator_alerts WHERE kind = 'reconciliation_drift'"));
    List<String> seen = pageThrough(operator, drift, "alerts", "id", 4,
        () -> insertAlerts("reconciliation_drift", 2, "now()"));
    assertThat(seen).hasSize(before.size());
    assertThat(new HashSet<>(seen)).isEqualTo(before);
    // a cursor holds to the kind it was issued for
    refusesForeignCursors(operator, drift, firstCursor(operator, "/api/admin/alerts?kind=circuit_open"));
    refusesForeignCursors(operator, "/api/admin/alerts", firstCursor(operator, drift));
  }
  private static int mails() {
    return operator.get("/api/admin/mail?limit=200").json().getJsonArray("messages").size();
  }

  private static void sendMail() {
    int before = mails();
    Http.Response sent = pat.post("/api/reliability/notifications/send-test", new JsonObject()
        .put("type", "account_update").put("channels", new io.vertx.core.json.JsonArray().add("email")));
    assertThat(sent.status()).as(sent.body()).isEqualTo(200);
    Await.until(() -> mails() > before, Duration.ofSeconds(20), "the test mail reaches the sink");
  }

  @Test
  void theMailSinksMessagesArePagedByCursorAndEachIsSeenOnceWhileNewOnesArrive() {
    for (int i = 0; i < 7; i++) {
      sendMail();
    }
    Set<String> before = new HashSet<>(operator.get("/api/admin/mail?limit=200").json().getJsonArray("messages").stream()
        .map(m -> ((JsonObject) m).getString("message_id")).toList());
    assertThat(before).hasSizeGreaterThanOrEqualTo(7);
    List<String> seen = pageThrough(operator, "/api/admin/mail", "messages", "message_id", 2, PaginationTest::sendMail);
    assertThat(seen).hasSize(before.size());
    assertThat(new HashSet<>(seen)).isEqualTo(before);
    refusesForeignCursors(operator, "/api/admin/mail",
        firstCursor(pat, "/api/reliability/connections/" + connection + "/transactions"));
  }
}
