package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.mail.internet.MimeMessage;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, "No silent failure": operators hear what no user can fix, and can tell users something themselves.
 * The whole application over real HTTP with the Plaid sandbox, GreenMail as the mail server and a real webhook
 * receiver on loopback that checks the Standard Webhooks signature: a bank's circuit opening, a dead-lettered
 * delivery and reconciliation drift each reach the operator webhook and the operator mailbox exactly once and are
 * listed at /api/admin/alerts; a broadcast reaches exactly its segment, once, however often it is posted.
 */
class OperatorAlertsTest {
  private static final String OPS_PATH = "/ops-alerts";
  private static final String OPS_EMAIL = "ops@mingus.test";
  private static final byte[] OPS_KEY = "operator-webhook-key-0123456789ab".getBytes(StandardCharsets.US_ASCII);
  private static final String OPS_SECRET = "whsec_" + Base64.getEncoder().encodeToString(OPS_KEY);
  private static final String BROADCAST = "/api/admin/notifications/broadcast";

  private static DatabaseTarget db;
  private static GreenMail greenMail;
  private static Vertx receivers;
  private static HttpServer hookServer;
  /** Every webhook received: path, webhook-id, verified, body. */
  private static final List<Object[]> hooks = new CopyOnWriteArrayList<>();
  private static Application app;
  private static SandboxControl sandbox;

  @BeforeAll
  static void start() throws Exception {
    int smtpPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      smtpPort = socket.getLocalPort();
    }
    greenMail = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    greenMail.start();
    receivers = Vertx.vertx();
    hookServer = receivers.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      String id = request.getHeader("webhook-id");
      String timestamp = request.getHeader("webhook-timestamp");
      boolean verified = id != null && timestamp != null
          && ("v1," + sign(id + "." + timestamp + "." + body.toString())).equals(request.getHeader("webhook-signature"));
      hooks.add(new Object[] {request.path(), id, verified, body.toString()});
      // a user's endpoint under /failing always fails; the operators' answers
      request.response().setStatusCode(request.path().startsWith("/failing") ? 500 : 200).end();
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    db = TestDatabase.fresh(OperatorAlertsTest.class);
    Map<String, Object> config = new HashMap<>();
    config.put("smtp.starttls", "DISABLED");
    config.put("notify.poll_interval_ms", 100);
    config.put("notify.send_test_wait_ms", 2000);
    config.put("notify.webhook.allow_loopback", true);
    config.put("notify.retry.webhook", new JsonArray().add(0).add(0.05).add(0.05));
    config.put("notify.operator.dead_letter_sweep_ms", 300);
    config.put("notify.operator.catch_up_ms", 1_000);
    config.put("http.rate_limit.per_second", 100);
    config.put("http.rate_limit.burst", 400);
    config.put("sync.poll_interval_ms", 200);
    config.put("sync.resume_spread_ms", 500);
    config.put("plaid.timeouts.total_ms", 3000);
    config.put("classify.retry_strategies.bank_maintenance.base_delay_s", 1);
    config.put("classify.retry_strategies.bank_maintenance.max_delay_s", 2);
    config.put("health.poll_interval_ms", 600_000);
    config.put("health.coalesce_ms", 100);
    config.put("health.institution_coalesce_ms", 0);
    config.put("health.circuit.window_ms", 30_000);
    config.put("health.circuit.min_connections", 3);
    config.put("health.circuit.open_ms", 1_000);
    config.put("health.circuit.probe_timeout_ms", 5_000);
    app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET, "SMTP_HOST", "127.0.0.1",
        "SMTP_PORT", Integer.toString(smtpPort),
        "NOTIFY_OPERATOR_WEBHOOK_URL", "http://127.0.0.1:" + hookServer.actualPort() + OPS_PATH,
        "NOTIFY_OPERATOR_WEBHOOK_SECRET", OPS_SECRET, "NOTIFY_OPERATOR_EMAIL", OPS_EMAIL), config);
    sandbox = new SandboxControl(app.sandboxPort());
  }

  @AfterAll
  static void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    if (receivers != null) {
      receivers.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (greenMail != null) {
      greenMail.stop();
    }
  }

  private static String sign(String content) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(OPS_KEY, "HmacSHA256"));
      return Base64.getEncoder().encodeToString(mac.doFinal(content.getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static ApiCaller operator() {
    return ApiCaller.admin(app, "olga");
  }

  /** The operator webhooks received of one alert kind whose data matches. */
  private static List<JsonObject> opsHooks(String kind, String field, String value) {
    List<JsonObject> out = new ArrayList<>();
    for (Object[] hook : hooks) {
      if (!OPS_PATH.equals(hook[0])) {
        continue;
      }
      JsonObject body = new JsonObject((String) hook[3]);
      JsonObject data = body.getJsonObject("data").getJsonObject("data");
      if (("operator." + kind).equals(body.getString("type")) && value.equals(data.getString(field))) {
        assertThat((Boolean) hook[2]).as("the operator webhook is signed with the operator secret").isTrue();
        out.add(body);
      }
    }
    return out;
  }

  private static List<MimeMessage> opsMails(String subjectPart) throws Exception {
    List<MimeMessage> out = new ArrayList<>();
    for (MimeMessage message : greenMail.getReceivedMessages()) {
      if (Arrays.stream(message.getAllRecipients()).anyMatch(a -> a.toString().contains(OPS_EMAIL))
          && message.getSubject().contains(subjectPart)) {
        out.add(message);
      }
    }
    return out;
  }

  /** The operator mails whose subject has the text; none when the mailbox cannot be read. */
  private static int mailCount(String subjectPart) {
    try {
      return opsMails(subjectPart).size();
    } catch (Exception e) {
      return -1;
    }
  }

  /** Told exactly once by webhook and by e-mail, and nothing more arrives for a while. */
  private static void toldOnce(java.util.function.IntSupplier hooks, String mailSubject, String what) {
    Await.until(() -> hooks.getAsInt() >= 1 && mailCount(mailSubject) >= 1, Duration.ofSeconds(15), what + " is told");
    Await.holds(() -> hooks.getAsInt() == 1 && mailCount(mailSubject) == 1, Duration.ofMillis(700),
        what + " is told once by webhook and once by e-mail");
  }

  private static List<JsonObject> alerts(String kind) {
    Http.Response response = operator().get("/api/admin/alerts?limit=500&kind=" + kind);
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    return response.json().getJsonArray("alerts").stream().map(JsonObject.class::cast).toList();
  }

  private static String connect(ApiCaller user, String bank, int transactions) {
    JsonObject item = sandbox.item(bank, user.userId, transactions);
    Http.Response created = user.post("/api/reliability/connections",
        new JsonObject().put("public_token", item.getString("public_token")));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    return created.json().getJsonObject("connection").getString("connection_id");
  }

  private static boolean synced(ApiCaller user, String connectionId) {
    Http.Response health = user.get("/api/reliability/connections/" + connectionId + "/health");
    return health.status() == 200 && health.json().getJsonObject("connection").getValue("last_successful_sync") != null;
  }

  @Test
  void aBanksCircuitOpeningAlertsTheOperatorsOnceByWebhookAndEmailNamingTheBank() throws Exception {
    String bank = "ins_ops_outage";
    sandbox.institution(bank, "Ops Outage Bank");
    List<ApiCaller> users = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      ApiCaller user = ApiCaller.user(app, "outage-" + i);
      users.add(user);
      ids.add(connect(user, bank, 5));
    }
    for (int i = 0; i < 3; i++) {
      int n = i;
      Await.until(() -> synced(users.get(n), ids.get(n)), Duration.ofSeconds(20), "the first sync of " + ids.get(n));
    }
    sandbox.post("/__control/institutions/" + bank + "/maintenance",
        new JsonObject().put("until", Instant.now().plusSeconds(6).toString()));
    for (int i = 0; i < 3; i++) {
      Http.Response now = users.get(i).post("/api/reliability/connections/" + ids.get(i) + "/sync-now", null);
      assertThat(now.status()).as(now.body()).isEqualTo(202);
    }
    Await.until(() -> opsHooks("circuit_open", "institution_id", bank).size() == 1, Duration.ofSeconds(20),
        "the operator webhook hears of the open circuit");
    Await.until(() -> {
      try {
        return opsMails("Ops Outage Bank").size() == 1;
      } catch (Exception e) {
        return false;
      }
    }, Duration.ofSeconds(10), "the operator mailbox hears of it");
    JsonObject hook = opsHooks("circuit_open", "institution_id", bank).get(0);
    assertThat(hook.getJsonObject("data").getString("title")).contains("Ops Outage Bank");
    assertThat(hook.getJsonObject("data").getString("message")).contains("Ops Outage Bank", bank);
    MimeMessage mail = opsMails("Ops Outage Bank").get(0);
    assertThat(mail.getSubject()).contains("Bank circuit open: Ops Outage Bank");

    // the outage goes on through failed half-open probes (each re-opens the circuit) and ends: still one alert
    Await.until(() -> {
      Http.Response list = operator().get("/api/reliability/institutions");
      return list.status() == 200 && list.json().getJsonArray("institutions").stream().map(JsonObject.class::cast)
          .anyMatch(b -> bank.equals(b.getString("institution_id")) && "closed".equals(b.getString("circuit")));
    }, Duration.ofSeconds(25), "the circuit closes once the bank is back");
    toldOnce(() -> opsHooks("circuit_open", "institution_id", bank).size(), "Ops Outage Bank", "the outage");
    List<JsonObject> listed = alerts("circuit_open").stream().filter(a -> bank.equals(a.getString("institution_id"))).toList();
    assertThat(listed).hasSize(1);
    assertThat(listed.get(0).getString("severity")).isEqualTo("critical");
    assertThat(listed.get(0).getJsonArray("deliveries").stream().map(JsonObject.class::cast)
        .map(d -> d.getString("channel") + ":" + d.getString("status"))).containsExactlyInAnyOrder("email:sent", "webhook:sent");
  }

  @Test
  void aDeadLetteredDeliveryAlertsTheOperatorsOnceWithTheTargetRedacted() throws Exception {
    ApiCaller dana = ApiCaller.user(app, "dana-dead");
    String path = "/failing/dana-" + UUID.randomUUID();
    Http.Response prefs = dana.put("/api/reliability/notifications/preferences", new JsonObject()
        .put("webhook", new JsonObject().put("url", "http://127.0.0.1:" + hookServer.actualPort() + path)));
    assertThat(prefs.status()).as(prefs.body()).isEqualTo(200);
    Http.Response sent = dana.post("/api/reliability/notifications/send-test",
        new JsonObject().put("type", "account_update").put("channels", new JsonArray().add("webhook")));
    assertThat(sent.status()).as(sent.body()).isEqualTo(200);
    String notificationId = sent.json().getString("notification_id");

    Await.until(() -> opsHooks("dead_letter", "notification_id", notificationId).size() == 1, Duration.ofSeconds(20),
        "the operator webhook hears of the dead letter");
    Await.until(() -> {
      try {
        return opsMails("dana-dead").size() == 1;
      } catch (Exception e) {
        return false;
      }
    }, Duration.ofSeconds(10), "the operator mailbox hears of it");
    JsonObject data = opsHooks("dead_letter", "notification_id", notificationId).get(0).getJsonObject("data");
    assertThat(data.getJsonObject("data").getInteger("attempts")).isEqualTo(3);
    assertThat(data.getJsonObject("data").getString("last_error")).contains("500");
    assertThat(data.encode()).as("the user's webhook URL is shown redacted").doesNotContain(path).doesNotContain("failing");
    toldOnce(() -> opsHooks("dead_letter", "notification_id", notificationId).size(), "dana-dead", "the dead letter");
    assertThat(alerts("dead_letter").stream().filter(a -> notificationId.equals(a.getJsonObject("data")
        .getString("notification_id")))).hasSize(1);
  }

  @Test
  void reconciliationDriftAlertsTheOperatorsOnceWithTheFigures() throws Exception {
    sandbox.institution("ins_ops_drift", "Drift Bank");
    ApiCaller rita = ApiCaller.user(app, "rita-drift");
    String id = connect(rita, "ins_ops_drift", 60);
    Await.until(() -> synced(rita, id), Duration.ofSeconds(20), "the first sync");
    List<String> stored = Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ? "
        + "AND pending = false ORDER BY transaction_id", id);
    Sql.execute(db, "DELETE FROM transactions WHERE transaction_id IN ('" + stored.get(0) + "', '" + stored.get(1) + "')");
    Sql.execute(db, "UPDATE transactions SET amount = amount + 5 WHERE transaction_id = '" + stored.get(2) + "'");
    Http.Response queued = operator().post("/api/admin/connections/" + id + "/reconcile", new JsonObject());
    assertThat(queued.status()).as(queued.body()).isEqualTo(202);
    String syncId = queued.json().getString("sync_id");

    Await.until(() -> opsHooks("reconciliation_drift", "sync_id", syncId).size() == 1, Duration.ofSeconds(30),
        "the operator webhook hears of the drift");
    JsonObject figures = opsHooks("reconciliation_drift", "sync_id", syncId).get(0).getJsonObject("data").getJsonObject("data");
    assertThat(figures.getString("connection_id")).isEqualTo(id);
    assertThat(figures.getInteger("missing")).isEqualTo(2);
    assertThat(figures.getInteger("changed")).isEqualTo(1);
    assertThat(figures.getInteger("drift")).isEqualTo(3);
    Await.until(() -> {
      try {
        return opsMails("connection " + id).size() == 1;
      } catch (Exception e) {
        return false;
      }
    }, Duration.ofSeconds(10), "the operator mailbox hears of it");
    assertThat(opsHooks("reconciliation_drift", "sync_id", syncId).get(0).encode()).as("no access token in an alert")
        .doesNotContain("access-").doesNotContain("access_token");

    // a clean second run alerts nobody
    Http.Response again = operator().post("/api/admin/connections/" + id + "/reconcile", new JsonObject());
    assertThat(again.status()).isEqualTo(202);
    String cleanSync = again.json().getString("sync_id");
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM reconciliations WHERE sync_id = ?::uuid", cleanSync) == 1,
        Duration.ofSeconds(30), "the second reconciliation");
    Await.holds(() -> opsHooks("reconciliation_drift", "sync_id", cleanSync).isEmpty(), Duration.ofMillis(700),
        "a clean run alerts nobody");
    assertThat(alerts("reconciliation_drift").stream().filter(a -> id.equals(a.getString("connection_id")))).hasSize(1);
  }

  /** Connections whose sync.completed publishes this node loses, as a restarting node would. */
  private static final java.util.Set<String> lostPublishes = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Test
  void driftWhosePublishIsLostIsAlertedOnceByTheCatchUp() throws Exception {
    sandbox.institution("ins_ops_lost", "Lost Event Bank");
    ApiCaller ruth = ApiCaller.user(app, "ruth-lost");
    String id = connect(ruth, "ins_ops_lost", 40);
    Await.until(() -> synced(ruth, id), Duration.ofSeconds(20), "the first sync");
    app.vertx().eventBus().addInboundInterceptor(context -> {
      Object body = context.message().body();
      String connection = body instanceof com.mingus.reliability.bus.SyncEvent event ? event.connectionId()
          : body instanceof JsonObject json ? json.getString("connection_id") : null;
      if (Addresses.SYNC_COMPLETED.equals(context.message().address()) && lostPublishes.contains(connection)) {
        return;
      }
      context.next();
    });
    lostPublishes.add(id);
    String victim = Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ? "
        + "AND pending = false ORDER BY transaction_id LIMIT 1", id).get(0);
    Sql.execute(db, "DELETE FROM transactions WHERE transaction_id = '" + victim + "'");
    Http.Response queued = operator().post("/api/admin/connections/" + id + "/reconcile", new JsonObject());
    assertThat(queued.status()).as(queued.body()).isEqualTo(202);
    String syncId = queued.json().getString("sync_id");
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM reconciliations WHERE sync_id = ?::uuid AND missing = 1",
        syncId) == 1, Duration.ofSeconds(30), "the reconciliation repairs the drift");

    // no event reached notify: sync's own record of the run, asked for on catch-up, does
    Await.until(() -> opsHooks("reconciliation_drift", "sync_id", syncId).size() == 1, Duration.ofSeconds(15),
        "the catch-up alerts the operators");
    JsonObject figures = opsHooks("reconciliation_drift", "sync_id", syncId).get(0).getJsonObject("data")
        .getJsonObject("data");
    assertThat(figures.getString("connection_id")).isEqualTo(id);
    assertThat(figures.getInteger("missing")).isEqualTo(1);
    Await.holds(() -> opsHooks("reconciliation_drift", "sync_id", syncId).size() == 1, Duration.ofMillis(2_500),
        "later catch-ups repeat nothing");
    assertThat(alerts("reconciliation_drift").stream().filter(a -> id.equals(a.getString("connection_id")))).hasSize(1);
  }

  private static List<JsonObject> notificationsWith(ApiCaller user, String text) {
    Http.Response list = user.get("/api/reliability/notifications?limit=100");
    assertThat(list.status()).as(list.body()).isEqualTo(200);
    return list.json().getJsonArray("notifications").stream().map(JsonObject.class::cast)
        .filter(n -> n.getString("message").contains(text)).toList();
  }

  @Test
  void aBroadcastReachesExactlyItsSegmentOnceAndBadInputWritesNothing() {
    sandbox.institution("ins_bc_a", "Broadcast Bank A");
    sandbox.institution("ins_bc_b", "Broadcast Bank B");
    ApiCaller ann = ApiCaller.user(app, "bc-ann");
    ApiCaller ben = ApiCaller.user(app, "bc-ben");
    ApiCaller cid = ApiCaller.user(app, "bc-cid");
    ApiCaller nobody = ApiCaller.user(app, "bc-no-connection");
    connect(ann, "ins_bc_a", 1);
    connect(ben, "ins_bc_a", 1);
    connect(cid, "ins_bc_b", 1);
    ApiCaller ops = operator();

    // by institution: the two users of bank A
    String atBankA = "Bank A maintenance tonight " + UUID.randomUUID();
    Http.Response byBank = ops.post(BROADCAST, new JsonObject().put("type", "system_maintenance").put("message", atBankA)
        .put("segment", new JsonObject().put("institution_id", "ins_bc_a")));
    assertThat(byBank.status()).as(byBank.body()).isEqualTo(202);
    assertThat(byBank.json().getInteger("recipients")).isEqualTo(2);
    assertThat(byBank.json().getString("broadcast_id")).isNotBlank();
    Await.until(() -> notificationsWith(ann, atBankA).size() == 1 && notificationsWith(ben, atBankA).size() == 1,
        Duration.ofSeconds(10), "both users of bank A see it");
    assertThat(notificationsWith(cid, atBankA)).isEmpty();
    assertThat(notificationsWith(ann, atBankA).get(0).getString("type")).isEqualTo("system_maintenance");

    // by user ids, a title of the operator's, and re-posted under the same id: once
    String feature = "Budgets are here " + UUID.randomUUID();
    JsonObject byIds = new JsonObject().put("broadcast_id", "feature-" + UUID.randomUUID()).put("type", "feature_update")
        .put("title", "New: budgets").put("message", feature)
        .put("segment", new JsonObject().put("user_ids", new JsonArray().add("bc-cid").add("bc-no-connection")));
    Http.Response first = ops.post(BROADCAST, byIds);
    assertThat(first.status()).as(first.body()).isEqualTo(202);
    assertThat(first.json().getInteger("recipients")).isEqualTo(2);
    assertThat(first.json().getBoolean("duplicate")).isFalse();
    Http.Response repeat = ops.post(BROADCAST, byIds);
    assertThat(repeat.status()).as(repeat.body()).isEqualTo(202);
    assertThat(repeat.json().getBoolean("duplicate")).isTrue();
    assertThat(repeat.json().getInteger("recipients")).isEqualTo(2);
    Http.Response conflicting = ops.post(BROADCAST, byIds.copy().put("message", "something else"));
    assertThat(conflicting.status()).as(conflicting.body()).isEqualTo(409);
    Await.until(() -> notificationsWith(cid, feature).size() == 1 && notificationsWith(nobody, feature).size() == 1,
        Duration.ofSeconds(10), "both named users see it");
    assertThat(notificationsWith(cid, feature).get(0).getString("title")).isEqualTo("New: budgets");
    assertThat(notificationsWith(ann, feature)).isEmpty();
    assertThat(Sql.number(db, "SELECT count(*) FROM notifications WHERE data->>'broadcast_id' = ?",
        byIds.getString("broadcast_id"))).as("a re-post writes nothing").isEqualTo(2);

    // everyone with a connection
    String everyone = "Our terms changed " + UUID.randomUUID();
    Http.Response all = ops.post(BROADCAST, new JsonObject().put("type", "compliance_update").put("message", everyone)
        .put("segment", new JsonObject().put("all", true)));
    assertThat(all.status()).as(all.body()).isEqualTo(202);
    long users = Sql.number(db, "SELECT count(DISTINCT user_id) FROM connections");
    assertThat(all.json().getInteger("recipients")).isEqualTo((int) users);
    Await.until(() -> List.of(ann, ben, cid).stream().allMatch(u -> notificationsWith(u, everyone).size() == 1),
        Duration.ofSeconds(10), "every user with a connection sees it");
    assertThat(notificationsWith(nobody, everyone)).isEmpty();

    // bad input: 400 with the JSON error body, and nothing written
    long broadcasts = Sql.number(db, "SELECT count(*) FROM operator_broadcasts");
    long notifications = Sql.number(db, "SELECT count(*) FROM notifications");
    List<JsonObject> bad = List.of(
        new JsonObject().put("type", "security_alert").put("message", "x").put("segment", new JsonObject().put("all", true)),
        new JsonObject().put("type", "no_such_type").put("message", "x").put("segment", new JsonObject().put("all", true)),
        new JsonObject().put("type", "feature_update").put("segment", new JsonObject().put("all", true)),
        new JsonObject().put("type", "feature_update").put("message", "").put("segment", new JsonObject().put("all", true)),
        new JsonObject().put("type", "feature_update").put("message", "x".repeat(501))
            .put("segment", new JsonObject().put("all", true)),
        new JsonObject().put("type", "feature_update").put("message", "x").put("segment", new JsonObject()),
        new JsonObject().put("type", "feature_update").put("message", "x"),
        new JsonObject().put("type", "feature_update").put("message", "x").put("segment", new JsonObject().put("all", false)),
        new JsonObject().put("type", "feature_update").put("message", "x")
            .put("segment", new JsonObject().put("user_ids", new JsonArray())),
        new JsonObject().put("type", "feature_update").put("message", "x")
            .put("segment", new JsonObject().put("status", "sleepy")),
        new JsonObject().put("type", "feature_update").put("message", "x")
            .put("segment", new JsonObject().put("all", true).put("institution_id", "ins_bc_a")));
    for (JsonObject body : bad) {
      Http.Response refused = ops.post(BROADCAST, body);
      assertThat(refused.status()).as(body.encode() + " → " + refused.body()).isEqualTo(400);
      assertThat(ApiCaller.errorCode(refused)).isEqualTo("INVALID_REQUEST");
    }
    for (String raw : List.of("{not json", "[]", "\"text\"")) {
      Http.Response refused = ops.raw("POST", BROADCAST, raw);
      assertThat(refused.status()).as(raw + " → " + refused.body()).isEqualTo(400);
      assertThat(ApiCaller.errorCode(refused)).isEqualTo("INVALID_REQUEST");
    }
    Http.Response user = ann.post(BROADCAST, new JsonObject().put("type", "feature_update").put("message", "x")
        .put("segment", new JsonObject().put("all", true)));
    assertThat(user.status()).isEqualTo(403);
    assertThat(ApiCaller.errorCode(user)).isEqualTo("FORBIDDEN");
    assertThat(ann.get("/api/admin/alerts").status()).isEqualTo(403);
    assertThat(Sql.number(db, "SELECT count(*) FROM operator_broadcasts")).isEqualTo(broadcasts);
    assertThat(Sql.number(db, "SELECT count(*) FROM notifications")).isEqualTo(notifications);
  }

  @Test
  void theAlertListIsPagedAndChecksItsParameters() {
    ApiCaller ops = operator();
    Http.Response page = ops.get("/api/admin/alerts?limit=1");
    assertThat(page.status()).as(page.body()).isEqualTo(200);
    assertThat(page.json().fieldNames()).contains("alerts", "total", "limit", "next_cursor", "has_more");
    for (String query : List.of("?limit=0", "?limit=501", "?cursor=forged", "?kind=nonsense")) {
      Http.Response bad = ops.get("/api/admin/alerts" + query);
      assertThat(bad.status()).as(query).isEqualTo(400);
      assertThat(ApiCaller.errorCode(bad)).isEqualTo("INVALID_REQUEST");
    }
  }
}
