package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.plaid.PlaidClient;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Plaid's webhooks at POST /api/plaid/webhook, signed by the sandbox exactly as Plaid signs them: the real
 * ones are taken (once), a forged, altered, stale, wrong-algorithm or unknown-key one is refused with 401.
 */
class PlaidWebhookTest {
  private static Application app;
  private static com.mingus.reliability.config.DatabaseTarget db;
  private static SandboxControl sandbox;
  private static HttpServer capture;
  private static final AtomicReference<String[]> captured = new AtomicReference<>();
  /** Every signed delivery the capture server got, in order. */
  private static final java.util.concurrent.LinkedBlockingQueue<String[]> deliveries =
      new java.util.concurrent.LinkedBlockingQueue<>();
  private static String capturedItem;
  private static String capturedConnection;

  @BeforeAll
  static void start() {
    db = TestDatabase.fresh(PlaidWebhookTest.class);
    app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET),
        Map.of("sync.poll_interval_ms", 200, "sync.webhook_coalesce_ms", 200,
            "http.webhooks.handoff_attempt_ms", 500, "http.webhooks.handoff_total_ms", 1_500));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_hook", "Hook Bank");
    // a stand-in receiver, to capture one genuine signed delivery for the forgery tests
    capture = Await.result(app.vertx().createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      String[] delivery = {body.toString(StandardCharsets.UTF_8), request.getHeader("Plaid-Verification")};
      captured.compareAndSet(null, delivery);
      deliveries.add(delivery);
      request.response().setStatusCode(200).end();
    })).listen(0, "127.0.0.1"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static Http.Response deliver(String body, String verification) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + "/api/plaid/webhook"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (verification != null) {
      request.header("Plaid-Verification", verification);
    }
    return Http.send(request);
  }

  /** One genuine webhook about an Item registered by alice, delivered to the capture server instead of us. */
  private static String[] genuine() {
    if (captured.get() == null) {
      JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_hook")
          .put("user_id", "alice").put("transactions", 5)
          .put("webhook", "http://127.0.0.1:" + capture.actualPort() + "/hook"));
      ApiCaller alice = ApiCaller.user(app, "alice");
      String connection = alice.post("/api/reliability/connections", new JsonObject().put("public_token", item.getString("public_token")))
          .json().getJsonObject("connection").getString("connection_id");
      awaitFirstSync(alice, connection);
      capturedItem = item.getString("item_id");
      capturedConnection = connection;
      sandbox.mutate(item.getString("item_id"), 2, 0, 0);
      Await.until(() -> captured.get() != null, Duration.ofSeconds(10), "the sandbox delivers a signed webhook");
    }
    return captured.get();
  }

  /** A new genuine webhook about the same Item, never delivered to us yet. */
  private static String[] fresh() {
    genuine();
    deliveries.clear();
    sandbox.mutate(capturedItem, 1, 0, 0);
    try {
      String[] delivery = deliveries.poll(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(delivery).as("the sandbox delivers another signed webhook").isNotNull();
      return delivery;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void aWebhookSyncCannotRecordInTimeIsAnswered503SoPlaidSendsItAgainAndTheResendIsTaken() throws Exception {
    String[] hook = fresh();
    // the connection's schedule row is held by a slow writer: sync cannot record the webhook in time
    try (java.sql.Connection holder = java.sql.DriverManager.getConnection(db.jdbcUrl(), db.user(), "")) {
      holder.setAutoCommit(false);
      try (java.sql.Statement lock = holder.createStatement()) {
        lock.execute("SELECT 1 FROM sync_schedule WHERE connection_id = '" + capturedConnection + "' FOR UPDATE");
        Http.Response refused = deliver(hook[0], hook[1]);
        assertThat(refused.status()).as(refused.body()).isEqualTo(503);
        assertThat(refused.json().getBoolean("success")).isFalse();
        assertThat(ApiCaller.errorCode(refused)).isEqualTo("UNAVAILABLE");
      }
      holder.rollback();
    }
    // Plaid's next attempt: not a duplicate, since nothing was promised the first time
    Http.Response taken = deliver(hook[0], hook[1]);
    assertThat(taken.status()).as(taken.body()).isEqualTo(200);
    assertThat(taken.json().getBoolean("duplicate")).isFalse();
    assertThat(Sql.strings(db, "SELECT trigger FROM sync_schedule WHERE connection_id = ? AND requested_at > now() - interval '30 s'",
        capturedConnection)).as("the webhook's sync is recorded").hasSize(1);
  }

  @Test
  void aWebhookFromTheSandboxToOurEndpointIsVerifiedAndStartsASync() {
    ApiCaller alice = ApiCaller.user(app, "alice");
    JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_hook")
        .put("user_id", "alice").put("transactions", 5)
        .put("webhook", "http://127.0.0.1:" + app.httpPort() + "/api/plaid/webhook"));
    String connection = alice.post("/api/reliability/connections", new JsonObject().put("public_token", item.getString("public_token")))
        .json().getJsonObject("connection").getString("connection_id");
    awaitFirstSync(alice, connection);
    sandbox.mutate(item.getString("item_id"), 3, 0, 0);

    Await.until(() -> {
      JsonArray hooks = sandbox.get("/__control/items/" + item.getString("item_id") + "/webhooks").getJsonArray("webhooks");
      return hooks.stream().anyMatch(h -> "delivered".equals(((JsonObject) h).getString("state")));
    }, Duration.ofSeconds(10), "the sandbox's delivery is answered 200: "
        + sandbox.get("/__control/items/" + item.getString("item_id") + "/webhooks"));
    Await.until(() -> alice.get("/api/reliability/connections/" + connection + "/sync-status").body().contains("\"trigger\":\"webhook\""),
        Duration.ofSeconds(15), "the webhook's sync runs");
  }

  @Test
  void aNewDataWebhookIsTakenEveryTimeSincePlaidSendsTheSameBodyForEveryChangeButAReplayIsNot() {
    String[] hook = fresh();
    Http.Response first = deliver(hook[0], hook[1]);
    assertThat(first.status()).as(first.body()).isEqualTo(200);
    assertThat(first.json().getBoolean("duplicate")).isFalse();
    // the next change of the Item comes as the very same bytes, signed afresh: dropping it would lose it
    String[] next = fresh();
    assertThat(next[0]).isEqualTo(hook[0]);
    assertThat(next[1]).isNotEqualTo(hook[1]);
    Http.Response taken = deliver(next[0], next[1]);
    assertThat(taken.status()).isEqualTo(200);
    assertThat(taken.json().getBoolean("duplicate")).isFalse();
    // the same signed delivery again is a replay: answered 200 and not handed on
    Http.Response replay = deliver(hook[0], hook[1]);
    assertThat(replay.status()).isEqualTo(200);
    assertThat(replay.json().getBoolean("duplicate")).isTrue();
  }

  @Test
  void anItemWebhookIsTakenOnceAndItsDuplicateAnswered200WithoutBeingHandedOnAgain() {
    genuine();
    deliveries.clear();
    sandbox.post("/__control/items/" + capturedItem + "/pending-expiration", new JsonObject());
    String[] hook;
    try {
      hook = deliveries.poll(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    assertThat(hook).as("the sandbox sends PENDING_EXPIRATION").isNotNull();
    assertThat(hook[0]).contains("PENDING_EXPIRATION");
    Http.Response first = deliver(hook[0], hook[1]);
    assertThat(first.status()).as(first.body()).isEqualTo(200);
    assertThat(first.json().getBoolean("duplicate")).isFalse();
    Http.Response again = deliver(hook[0], hook[1]);
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.json().getBoolean("duplicate")).isTrue();
  }

  /** The next webhook of {@code code} about {@code itemId} the sandbox sends to the capture server after {@code action}. */
  private static String[] next(String itemId, String code, Runnable action) {
    deliveries.clear();
    action.run();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    try {
      while (System.nanoTime() < deadline) {
        String[] delivery = deliveries.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
        if (delivery != null && delivery[0].contains("\"" + code + "\"") && delivery[0].contains(itemId)) {
          return delivery;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    throw new AssertionError("the sandbox sends " + code + " for " + itemId);
  }

  @Test
  void aSecondLoginRepairedAfterASecondErrorIsTakenAndTheConnectionSyncsAgain() {
    JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_hook")
        .put("user_id", "alice").put("transactions", 5)
        .put("webhook", "http://127.0.0.1:" + capture.actualPort() + "/hook"));
    String itemId = item.getString("item_id");
    ApiCaller alice = ApiCaller.user(app, "alice");
    String connection = alice.post("/api/reliability/connections", new JsonObject().put("public_token", item.getString("public_token")))
        .json().getJsonObject("connection").getString("connection_id");
    awaitFirstSync(alice, connection);
    java.util.function.Supplier<String> paused = () -> String.valueOf(Sql.strings(db,
        "SELECT paused FROM sync_schedule WHERE connection_id = ?", connection).get(0));
    String[] repaired = null;
    for (int round = 1; round <= 2; round++) {
      String[] error = next(itemId, "ERROR", () -> sandbox.post("/__control/items/" + itemId + "/reset-login", new JsonObject()));
      Http.Response taken = deliver(error[0], error[1]);
      assertThat(taken.json().getBoolean("duplicate")).as("ERROR of round " + round).isFalse();
      Await.until(() -> "needs_user".equals(paused.get()), Duration.ofSeconds(10), "the ERROR parks the connection");
      String[] again = next(itemId, "LOGIN_REPAIRED",
          () -> sandbox.post("/__control/items/" + itemId + "/repair-login", new JsonObject()));
      if (repaired != null) {
        assertThat(again[0]).as("Plaid's LOGIN_REPAIRED is the same bytes every time").isEqualTo(repaired[0]);
      }
      repaired = again;
      Http.Response repair = deliver(again[0], again[1]);
      assertThat(repair.status()).isEqualTo(200);
      assertThat(repair.json().getBoolean("duplicate")).as("LOGIN_REPAIRED of round " + round).isFalse();
      Await.until(() -> "null".equals(paused.get()), Duration.ofSeconds(10),
          "LOGIN_REPAIRED of round " + round + " resumes the connection");
    }
    // the very same signed delivery again is a replay
    assertThat(deliver(repaired[0], repaired[1]).json().getBoolean("duplicate")).isTrue();
  }

  @Test
  void oneChangedByteOfTheBodyIsRefused() {
    String[] hook = genuine();
    String body = hook[0];
    int at = body.indexOf("SYNC_UPDATES_AVAILABLE");
    String altered = body.substring(0, at) + "X" + body.substring(at + 1);
    Http.Response response = deliver(altered, hook[1]);
    assertThat(response.status()).isEqualTo(401);
    assertThat(ApiCaller.errorCode(response)).isEqualTo("WEBHOOK_NOT_VERIFIED");
    assertThat(deliver(body + " ", hook[1]).status()).as("a trailing space").isEqualTo(401);
  }

  @Test
  void aWrongAlgorithmAnUnknownKeyOrNoHeaderIsRefused() {
    String[] hook = genuine();
    String[] parts = hook[1].split("\\.");
    JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
    assertThat(header.getString("alg")).isEqualTo("ES256");

    assertThat(deliver(hook[0], b64(header.copy().put("alg", "HS256")) + "." + parts[1] + "." + parts[2]).status()).as("HS256").isEqualTo(401);
    assertThat(deliver(hook[0], b64(header.copy().put("alg", "none")) + "." + parts[1] + ".").status()).as("none").isEqualTo(401);
    assertThat(deliver(hook[0], b64(header.copy().put("alg", "ES384")) + "." + parts[1] + "." + parts[2]).status()).as("ES384").isEqualTo(401);
    assertThat(deliver(hook[0], b64(header.copy().put("kid", "00000000-0000-0000-0000-000000000000")) + "." + parts[1] + "." + parts[2]).status())
        .as("unknown kid").isEqualTo(401);
    assertThat(deliver(hook[0], null).status()).as("no header").isEqualTo(401);
    assertThat(deliver(hook[0], "garbage").status()).as("not a JWT").isEqualTo(401);
    // claims re-signed by no one: iat moved, signature kept
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    assertThat(deliver(hook[0], parts[0] + "." + b64(claims.put("iat", claims.getLong("iat") + 1)) + "." + parts[2]).status())
        .as("claims altered").isEqualTo(401);
  }

  @Test
  void refusedWebhooksRequestNoSyncWhileTheGenuineOneDoes() {
    String[] hook = fresh();
    String[] parts = hook[1].split("\\.");
    JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    String since = Sql.strings(db, "SELECT now()::text").get(0);
    int at = hook[0].indexOf("SYNC_UPDATES_AVAILABLE");
    java.util.Map<String, Http.Response> forged = new java.util.LinkedHashMap<>();
    forged.put("changed body", deliver(hook[0].substring(0, at) + "X" + hook[0].substring(at + 1), hook[1]));
    forged.put("HS256", deliver(hook[0], b64(header.copy().put("alg", "HS256")) + "." + parts[1] + "." + parts[2]));
    forged.put("none", deliver(hook[0], b64(header.copy().put("alg", "none")) + "." + parts[1] + "."));
    forged.put("unknown kid", deliver(hook[0], b64(header.copy().put("kid", "ffffffff-0000-0000-0000-000000000000")) + "."
        + parts[1] + "." + parts[2]));
    forged.put("no header", deliver(hook[0], null));
    forged.put("iat moved back an hour", deliver(hook[0], parts[0] + "." + b64(claims.copy().put("iat", claims.getLong("iat") - 3_600))
        + "." + parts[2]));
    forged.put("body hash claim swapped", deliver("{}", parts[0] + "." + b64(claims.copy().put("request_body_sha256",
        PlaidWebhooks.sha256Hex("{}".getBytes(StandardCharsets.UTF_8)))) + "." + parts[2]));
    forged.forEach((what, response) -> {
      assertThat(response.status()).as(what).isEqualTo(401);
      assertThat(ApiCaller.errorCode(response)).as(what).isEqualTo("WEBHOOK_NOT_VERIFIED");
    });
    String requested = "SELECT count(*) FROM sync_schedule WHERE connection_id = ? AND requested_at > ?::timestamptz";
    Await.holds(() -> Sql.number(db, requested, capturedConnection, since) == 0, Duration.ofSeconds(2),
        "no refused webhook requests a sync");
    // the control: the genuine delivery of the same webhook does
    assertThat(deliver(hook[0], hook[1]).status()).isEqualTo(200);
    Await.until(() -> Sql.number(db, requested, capturedConnection, since) > 0, Duration.ofSeconds(10),
        "the genuine webhook requests a sync");
  }

  @Test
  void aWebhookSignedWithAnAttackersOwnKeyIsRefusedWhicheverKeyItNamesAndRequestsNoSync() throws Exception {
    String[] hook = fresh();
    JsonObject genuineHeader = new JsonObject(new String(Base64.getUrlDecoder().decode(hook[1].split("\\.")[0]),
        StandardCharsets.UTF_8));
    java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("EC");
    generator.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
    java.security.KeyPair mallory = generator.generateKeyPair();
    java.security.interfaces.ECPublicKey publicKey = (java.security.interfaces.ECPublicKey) mallory.getPublic();
    JsonObject jwk = new JsonObject().put("kty", "EC").put("crv", "P-256").put("alg", "ES256").put("use", "sig")
        .put("x", coordinate(publicKey.getW().getAffineX())).put("y", coordinate(publicKey.getW().getAffineY()));
    // everything a genuine delivery has (ES256, fresh iat, the body's hash), only the key is the attacker's
    JsonObject claims = new JsonObject().put("iat", System.currentTimeMillis() / 1000)
        .put("request_body_sha256", PlaidWebhooks.sha256Hex(hook[0].getBytes(StandardCharsets.UTF_8)));
    JsonObject base = new JsonObject().put("alg", "ES256").put("typ", "JWT");
    String since = Sql.strings(db, "SELECT now()::text").get(0);
    java.util.Map<String, Http.Response> forged = new java.util.LinkedHashMap<>();
    forged.put("unknown kid", deliver(hook[0], es256(mallory, base.copy().put("kid", java.util.UUID.randomUUID().toString()),
        claims)));
    forged.put("Plaid's own kid", deliver(hook[0], es256(mallory, base.copy().put("kid", genuineHeader.getString("kid")),
        claims)));
    forged.put("embedded jwk, unknown kid", deliver(hook[0], es256(mallory, base.copy()
        .put("kid", java.util.UUID.randomUUID().toString()).put("jwk", jwk), claims)));
    forged.put("embedded jwk, Plaid's kid", deliver(hook[0], es256(mallory, base.copy()
        .put("kid", genuineHeader.getString("kid")).put("jwk", jwk), claims)));
    forged.put("jku to the attacker's key set", deliver(hook[0], es256(mallory, base.copy()
        .put("kid", genuineHeader.getString("kid")).put("jku", "http://127.0.0.1:" + capture.actualPort() + "/jwks"), claims)));
    forged.put("an hour old, unknown kid", deliver(hook[0], es256(mallory, base.copy()
        .put("kid", java.util.UUID.randomUUID().toString()), claims.copy().put("iat", claims.getLong("iat") - 3_600))));
    forged.forEach((what, response) -> {
      assertThat(response.status()).as(what).isEqualTo(401);
      assertThat(ApiCaller.errorCode(response)).as(what).isEqualTo("WEBHOOK_NOT_VERIFIED");
    });
    String requested = "SELECT count(*) FROM sync_schedule WHERE connection_id = ? AND requested_at > ?::timestamptz";
    Await.holds(() -> Sql.number(db, requested, capturedConnection, since) == 0, Duration.ofSeconds(2),
        "no forged webhook requests a sync");
    // the control: the same body with Plaid's signature is taken
    assertThat(deliver(hook[0], hook[1]).status()).isEqualTo(200);
    Await.until(() -> Sql.number(db, requested, capturedConnection, since) > 0, Duration.ofSeconds(10),
        "the genuine webhook requests a sync");
  }

  /** A JWS signed with {@code key} as Plaid signs (ES256, JOSE R||S). */
  private static String es256(java.security.KeyPair key, JsonObject header, JsonObject claims) throws Exception {
    String input = b64(header) + "." + b64(claims);
    java.security.Signature signature = java.security.Signature.getInstance("SHA256withECDSAinP1363Format");
    signature.initSign(key.getPrivate());
    signature.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature.sign());
  }

  private static String coordinate(java.math.BigInteger value) {
    byte[] bytes = value.toByteArray();
    byte[] out = new byte[32];
    System.arraycopy(bytes, Math.max(0, bytes.length - 32), out, Math.max(0, 32 - bytes.length), Math.min(32, bytes.length));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
  }

  @Test
  void aWebhookOlderThanFiveMinutesIsRefused() {
    String[] hook = genuine();
    JsonObject plaid = app.settings().raw().getJsonObject("plaid").copy()
        .put("base_url", "http://127.0.0.1:" + app.sandboxPort())
        .put("client_id", app.settings().raw().getJsonObject("sandbox").getString("client_id"))
        .put("secret", app.settings().raw().getJsonObject("sandbox").getString("secret"));
    PlaidClient client = PlaidClient.create(app.vertx(), plaid);
    PlaidWebhooks webhooks = new PlaidWebhooks(app.vertx(), client, new JsonObject());
    byte[] body = hook[0].getBytes(StandardCharsets.UTF_8);
    long now = System.currentTimeMillis();
    assertThat(Await.result(webhooks.verify(hook[1], body, now))).isEqualTo(PlaidWebhooks.sha256Hex(body));
    Throwable stale = webhooks.verify(hook[1], body, now + 301_000).toCompletionStage().toCompletableFuture()
        .handle((ok, failure) -> failure).join();
    assertThat(stale).isNotNull();
    assertThat(stale.getMessage()).contains("outside the accepted window");
    Throwable early = webhooks.verify(hook[1], body, now - 120_000).toCompletionStage().toCompletableFuture()
        .handle((ok, failure) -> failure).join();
    assertThat(early).as("issued in the future").isNotNull();
    client.close();
  }

  /** The sandbox tells of new transactions only once an Item has been synced. */
  private static void awaitFirstSync(ApiCaller user, String connection) {
    Await.until(() -> user.get("/api/reliability/connections/" + connection + "/sync-status").body().contains("\"status\":\"success\""),
        Duration.ofSeconds(15), "the first sync completes");
  }

  private static String b64(JsonObject json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
  }
}
