package com.mingus.reliability.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile input against a server configured the common way (HS256 only): tokens of every wrong kind and
 * 1,000 random ones, bodies at and over the limits, and 2,000 bad feed connects. Each is refused with a 4xx
 * JSON error, none is accepted, none is a 5xx, nothing is written, and the server still serves afterwards.
 * http/JwtAttackTest covers the same attacks with an RS256 key configured beside the secret.
 */
class HostileInputTest {
  private static final String SECRET = "security-test-jwt-secret-0123456789abcdef";
  private static final String PREFERENCES = "/api/reliability/notifications/preferences";
  private static Application app;
  private static DatabaseTarget db;
  private static Vertx clients;

  @BeforeAll
  static void start() {
    db = TestDatabase.fresh(HostileInputTest.class);
    app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", SECRET), Map.of());
    clients = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    Await.result(clients.close());
    app.close();
  }

  private static String token(String user) {
    return JwtIssuer.issue(app.vertx(), SECRET, user, List.of("user"), "U", user + "@example.com", 600);
  }

  private static Http.Response send(String method, String path, String token, String contentType, byte[] body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    return Http.send(request);
  }

  /** Asserts a 4xx with the shared JSON error body; returns the error code. */
  private static String refused(String what, Http.Response response, int... statuses) {
    assertThat(response.status()).as(what + ": " + response.body()).isBetween(400, 499);
    if (statuses.length > 0) {
      assertThat(response.status()).as(what).isIn(java.util.Arrays.stream(statuses).boxed().toList());
    }
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getBoolean("success")).as(what).isFalse();
    assertThat(body.getJsonObject("error").getString("code")).as(what).isNotBlank();
    return body.getJsonObject("error").getString("code");
  }

  private static void stillServes() {
    assertThat(Http.get(app.httpPort(), "/api/reliability/health/live").status()).isEqualTo(200);
  }

  // --- tokens ----------------------------------------------------------------------------------------

  private static JWTClaimsSet.Builder claims() {
    return new JWTClaimsSet.Builder().subject("mallory").issuer("mingus").audience("mingus-reliability")
        .expirationTime(new Date(System.currentTimeMillis() + 600_000)).issueTime(new Date())
        .claim("roles", List.of("user", "admin"));
  }

  private static String hs256(JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
    return jwt.serialize();
  }

  private static void unauthorized(String what, String token) {
    Http.Response response = send("GET", "/api/reliability/connections/health", token, null, null);
    assertThat(response.status()).as(what + ": " + response.body()).isEqualTo(401);
    assertThat(refused(what, response)).isEqualTo("UNAUTHORIZED");
  }

  @Test
  void tokensOfAnotherAlgorithmOrWithAnEmbeddedKeyAreRefusedWhenOnlyHs256IsConfigured() throws Exception {
    assertThat(send("GET", "/api/reliability/connections/health", hs256(claims().build()), null, null).status())
        .as("the real kind is accepted").isEqualTo(200);
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    SignedJWT rs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).build(), claims().build());
    rs.sign(new RSASSASigner(generator.generateKeyPair().getPrivate()));
    unauthorized("RS256 by the attacker's key", rs.serialize());
    ECKey attacker = new ECKeyGenerator(Curve.P_256).generate();
    SignedJWT es = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).build(), claims().build());
    es.sign(new ECDSASigner(attacker));
    unauthorized("ES256 by the attacker's key", es.serialize());
    SignedJWT embedded = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).jwk(attacker.toPublicJWK()).build(),
        claims().build());
    embedded.sign(new ECDSASigner(attacker));
    unauthorized("ES256 with the attacker's key embedded as jwk", embedded.serialize());
    SignedJWT jku = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).jwkURL(URI.create("http://127.0.0.1:1/keys"))
        .keyID("../../../../dev/null").build(), claims().build());
    jku.sign(new MACSigner(new byte[32]));
    unauthorized("HS256 by an all-zero key, pointing at a kid path and a jku", jku.serialize());
  }

  @Test
  void expiredNotYetValidFutureIssuedAndWrongAudienceTokensAreRefused() throws Exception {
    long now = System.currentTimeMillis();
    unauthorized("expired a minute ago", hs256(claims().expirationTime(new Date(now - 60_000)).build()));
    unauthorized("not valid for ten minutes (nbf)", hs256(claims().notBeforeTime(new Date(now + 600_000)).build()));
    unauthorized("issued in ten minutes (iat)", hs256(claims().issueTime(new Date(now + 600_000)).build()));
    unauthorized("wrong audience", hs256(claims().audience("mingus-admin").build()));
    unauthorized("audience list without ours", hs256(claims().audience(List.of("a", "b")).build()));
    unauthorized("wrong issuer", hs256(claims().issuer("mingus-staging").build()));
    unauthorized("sub of 1,000 characters", hs256(claims().subject("x".repeat(1_000)).build()));
    unauthorized("sub not a string", hs256(claims().subject(null).claim("sub", 42).build()));
    String real = hs256(claims().build());
    String[] parts = real.split("\\.");
    JsonObject payload = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    unauthorized("payload tampered (sub changed)", parts[0] + "." + b64(payload.copy().put("sub", "alice").encode()) + "." + parts[2]);
    unauthorized("payload tampered (exp extended)", parts[0] + "." + b64(payload.copy().put("exp", payload.getLong("exp") + 86_400).encode())
        + "." + parts[2]);
    unauthorized("payload tampered (roles)", parts[0] + "." + b64(payload.copy().put("roles", List.of("admin")).encode()) + "." + parts[2]);
  }

  @Test
  void aThousandRandomTokensAreAllRefusedWith401() throws Exception {
    Random random = new Random(18);
    String real = hs256(claims().build());
    Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    int accepted = 0;
    for (int i = 0; i < 1_000; i++) {
      String token = switch (i % 5) {
        case 0 -> b64(randomBytes(random, 1 + random.nextInt(600)));
        case 1 -> b64(randomBytes(random, 20)) + "." + b64(randomBytes(random, 60)) + "." + b64(randomBytes(random, 32));
        case 2 -> b64(randomJson(random)) + "." + b64(randomJson(random)) + "." + b64(randomBytes(random, random.nextInt(80)));
        case 3 -> real.substring(0, 1 + random.nextInt(real.length() - 1));
        default -> flip(real, random);
      };
      Http.Response response = send("GET", "/api/reliability/connections/health", token, null, null);
      statuses.computeIfAbsent(response.status(), s -> new AtomicInteger()).incrementAndGet();
      if (response.status() == 200) {
        accepted++;
      } else {
        assertThat(refused("random token #" + i, response)).isEqualTo("UNAUTHORIZED");
      }
    }
    assertThat(accepted).as("accepted").isZero();
    assertThat(statuses.keySet()).as("statuses seen " + statuses).containsExactly(401);
    stillServes();
  }

  private static byte[] randomBytes(Random random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  private static byte[] randomJson(Random random) {
    String[] algs = {"HS256", "none", "RS256", "ES256", "HS512", "PS256", "", "hs256", null};
    JsonObject json = new JsonObject().put("alg", algs[random.nextInt(algs.length)]).put("typ", "JWT")
        .put("sub", "u" + random.nextInt(100)).put("iss", "mingus").put("aud", "mingus-reliability")
        .put("exp", System.currentTimeMillis() / 1000 + random.nextInt(10_000) - 5_000);
    if (random.nextBoolean()) {
      json.put("kid", "k" + random.nextInt());
    }
    return json.encode().getBytes(StandardCharsets.UTF_8);
  }

  /** The real token with one character of the header, payload or signature changed. */
  private static String flip(String token, Random random) {
    char[] chars = token.toCharArray();
    int at;
    do {
      at = random.nextInt(chars.length);
    } while (chars[at] == '.');
    char was = chars[at];
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    do {
      chars[at] = alphabet.charAt(random.nextInt(alphabet.length()));
    } while (chars[at] == was);
    // a change in the last character may only touch the unused low bits of the final base64 sextet
    if (at == chars.length - 1) {
      chars[at] = was == 'A' ? 'Q' : 'A';
    }
    return new String(chars);
  }

  private static String b64(String text) {
    return b64(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  // --- bodies ----------------------------------------------------------------------------------------

  private static long storedPreferences(String user) {
    return Sql.number(db, "SELECT count(*) FROM notify_preferences WHERE user_id = ?", user);
  }

  /** {"time_zone":"UTC"} padded with spaces to exactly {@code size} bytes: valid JSON. */
  private static byte[] paddedTo(int size) {
    String json = "{\"time_zone\":\"UTC\"}";
    return (json + " ".repeat(size - json.length())).getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void aBodyOneByteOverTheLimitIs413AndOneExactlyAtTheLimitIsAccepted() {
    String over = "over-limit";
    Http.Response tooLarge = send("PUT", PREFERENCES, token(over), "application/json", paddedTo(65_537));
    assertThat(tooLarge.status()).isEqualTo(413);
    assertThat(refused("64 KB + 1", tooLarge)).isEqualTo("BODY_TOO_LARGE");
    assertThat(storedPreferences(over)).isZero();
    Http.Response huge = send("PUT", PREFERENCES, token(over), "application/json", paddedTo(10 * 1024 * 1024));
    assertThat(huge.status()).as("10 MB").isEqualTo(413);
    assertThat(storedPreferences(over)).isZero();

    String exact = "at-limit";
    Http.Response atLimit = send("PUT", PREFERENCES, token(exact), "application/json", paddedTo(65_536));
    assertThat(atLimit.status()).as(atLimit.body()).isEqualTo(200);
    assertThat(storedPreferences(exact)).as("the valid body at the limit is stored").isOne();
  }

  @Test
  void deepMalformedOrWronglyTypedBodiesAre4xxAndWriteNothing() {
    Map<String, byte[]> bodies = new java.util.LinkedHashMap<>();
    bodies.put("depth 33", ("{\"time_zone\":\"UTC\",\"x\":" + "[".repeat(32) + "]".repeat(32) + "}").getBytes(StandardCharsets.US_ASCII));
    bodies.put("60,000 nested arrays", ("[".repeat(30_000) + "]".repeat(30_000)).getBytes(StandardCharsets.US_ASCII));
    bodies.put("30,000 nested objects", ("{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000)).getBytes(StandardCharsets.US_ASCII));
    bodies.put("unclosed 60,000 brackets", "[".repeat(60_000).getBytes(StandardCharsets.US_ASCII));
    bodies.put("a number of 60,000 digits", ("{\"time_zone\":" + "9".repeat(60_000) + "}").getBytes(StandardCharsets.US_ASCII));
    bodies.put("an exponent of a billion", "{\"time_zone\":1e1000000000}".getBytes(StandardCharsets.US_ASCII));
    bodies.put("a 60,000-character string", ("{\"time_zone\":\"" + "x".repeat(60_000) + "\"}").getBytes(StandardCharsets.US_ASCII));
    bodies.put("invalid UTF-8", concat("{\"time_zone\":\"".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xC3, (byte) 0x28,
        (byte) 0xFF, (byte) 0xFE}, "\"}".getBytes(StandardCharsets.US_ASCII)));
    bodies.put("an overlong UTF-8 quote", concat("{\"time_zone\":\"a".getBytes(StandardCharsets.US_ASCII),
        new byte[] {(byte) 0xC0, (byte) 0xA2}, "}".getBytes(StandardCharsets.US_ASCII)));
    bodies.put("a NUL in a string", "{\"time_zone\":\"UTC\u0000\"}".getBytes(StandardCharsets.UTF_8));
    bodies.put("not JSON", "time_zone=UTC".getBytes(StandardCharsets.US_ASCII));
    bodies.put("a JSON array", "[{\"time_zone\":\"UTC\"}]".getBytes(StandardCharsets.US_ASCII));
    bodies.put("empty", new byte[0]);
    int i = 0;
    for (Map.Entry<String, byte[]> body : bodies.entrySet()) {
      String user = "hostile-body-" + i++;
      refused(body.getKey(), send("PUT", PREFERENCES, token(user), "application/json", body.getValue()), 400, 413);
      assertThat(storedPreferences(user)).as(body.getKey()).isZero();
    }
    byte[] valid = "{\"time_zone\":\"UTC\"}".getBytes(StandardCharsets.US_ASCII);
    for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", "application/xml", null}) {
      String user = "hostile-type-" + i++;
      refused("Content-Type " + type, send("PUT", PREFERENCES, token(user), type, valid), 400, 415);
      assertThat(storedPreferences(user)).as(String.valueOf(type)).isZero();
    }
    stillServes();
  }

  @Test
  void aHundredThousandNestedArraysAreRefusedWhereverTheyCanBeSentAndNothingOverflows() throws Exception {
    byte[] arrays = ("[".repeat(100_000) + "]".repeat(100_000)).getBytes(StandardCharsets.US_ASCII);
    byte[] objects = ("{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000)).getBytes(StandardCharsets.US_ASCII);
    String user = "deep-json";
    // the API: over the 64 KB limit, refused before any parser runs, with a length or chunked without one
    assertThat(refused("100,000 nested arrays", send("PUT", PREFERENCES, token(user), "application/json", arrays), 413))
        .isEqualTo("BODY_TOO_LARGE");
    Http.Response chunked = Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + PREFERENCES))
        .header("Authorization", "Bearer " + token(user)).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(arrays))));
    assertThat(refused("100,000 nested arrays, chunked", chunked, 413)).isEqualTo("BODY_TOO_LARGE");
    assertThat(refused("100,000 nested objects to the Plaid webhook", send("POST", "/api/plaid/webhook", null,
        "application/json", objects), 413)).isEqualTo("BODY_TOO_LARGE");
    // the deepest that fits in 64 KB: 32,768 arrays, refused by the depth check on the raw bytes (no parser)
    byte[] deepest = ("[".repeat(32_768) + "]".repeat(32_768)).getBytes(StandardCharsets.US_ASCII);
    refused("32,768 nested arrays", send("PUT", PREFERENCES, token(user), "application/json", deepest), 400);
    refused("32,768 nested arrays to the Plaid webhook", send("POST", "/api/plaid/webhook", null, "application/json",
        deepest), 400);
    assertThat(storedPreferences(user)).isZero();

    // the feed: 100,000 arrays are over its 16 KB frame limit; 8,000 (16,000 bytes) reach the parser as the
    // auth message and are answered like any other bad first message
    WebSocketClient ws = clients.createWebSocketClient();
    assertThat(feedAnswerTo(ws, new String(arrays, StandardCharsets.US_ASCII))).as("100,000 arrays").isIn((short) 1009, (short) 1006);
    assertThat(feedAnswerTo(ws, "[".repeat(8_000) + "]".repeat(8_000))).as("8,000 arrays").isEqualTo((short) 4401);
    assertThat(feedAnswerTo(ws, "{\"type\":\"auth\",\"token\":" + "[".repeat(7_000) + "]".repeat(7_000) + "}"))
        .as("a token of 7,000 arrays").isEqualTo((short) 4401);

    // the sandbox, which takes bodies up to 1 MB: both parse to a Plaid INVALID_REQUEST, not a stack overflow
    for (byte[] body : List.of(arrays, objects)) {
      Http.Response plaid = Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.sandboxPort()
          + "/transactions/sync")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
      assertThat(plaid.status()).as(plaid.body()).isEqualTo(400);
      assertThat(plaid.json().getString("error_type")).isEqualTo("INVALID_REQUEST");
    }
    assertThat(Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.sandboxPort() + "/__control/stats")))
        .status()).as("the sandbox still serves").isEqualTo(200);
    stillServes();
  }

  /** Opens the feed, sends one text message and waits for the close; the close code (1006 if none was sent). */
  private static short feedAnswerTo(WebSocketClient ws, String message) {
    return Await.result(ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(app.httpPort())
        .setURI("/api/reliability/feed")).compose(socket -> {
          io.vertx.core.Promise<Short> closed = io.vertx.core.Promise.promise();
          socket.textMessageHandler(text -> {
            if (text.contains("\"snapshot\"")) {
              closed.tryFail("accepted: " + text.substring(0, Math.min(80, text.length())));
            }
          });
          socket.closeHandler(v -> closed.tryComplete(socket.closeStatusCode() == null ? (short) 1006 : socket.closeStatusCode()));
          socket.writeTextMessage(message);
          return closed.future();
        }), Duration.ofSeconds(20));
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  // --- the feed --------------------------------------------------------------------------------------

  @Test
  void twoThousandBadFeedConnectsAreRefusedAndTheServerStillServes() {
    WebSocketClient ws = clients.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(10_000));
    AtomicInteger snapshots = new AtomicInteger();
    AtomicInteger serverErrors = new AtomicInteger();
    AtomicInteger refusedBeforeUpgrade = new AtomicInteger();
    AtomicInteger closedAfterBadAuth = new AtomicInteger();
    String badToken = token("mallory").substring(0, 40) + "x.y";
    for (int batch = 0; batch < 10; batch++) {
      List<Future<?>> attempts = new ArrayList<>();
      for (int k = 0; k < 200; k++) {
        int kind = k % 4;
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(app.httpPort())
            .setURI(kind == 0 ? "/api/reliability/feed?ticket=forged-" + k : "/api/reliability/feed");
        if (kind == 1) {
          options.addHeader("Origin", "https://evil.example");
        }
        if (kind == 2) {
          options.addHeader("Origin", "null");
        }
        attempts.add(ws.connect(options).compose(socket -> {
          io.vertx.core.Promise<Void> closed = io.vertx.core.Promise.promise();
          socket.textMessageHandler(text -> {
            if (text.contains("\"snapshot\"")) {
              snapshots.incrementAndGet();
            }
          });
          socket.closeHandler(v -> {
            if (socket.closeStatusCode() != null && socket.closeStatusCode() == 4401) {
              closedAfterBadAuth.incrementAndGet();
            }
            closed.tryComplete();
          });
          socket.writeTextMessage(new JsonObject().put("type", "auth").put("token", badToken).encode());
          return closed.future();
        }, failure -> {
          if (failure instanceof UpgradeRejectedException rejected) {
            if (rejected.getStatus() >= 500) {
              serverErrors.incrementAndGet();
            } else {
              refusedBeforeUpgrade.incrementAndGet();
            }
          }
          return Future.succeededFuture();
        }).otherwiseEmpty());
      }
      Await.result(Future.join(new ArrayList<>(attempts)), Duration.ofSeconds(60));
      assertThat(Http.get(app.httpPort(), "/api/reliability/health/live").status()).as("served between batches").isEqualTo(200);
    }
    assertThat(snapshots.get()).as("accepted").isZero();
    assertThat(serverErrors.get()).as("5xx").isZero();
    // a forged ticket, a foreign origin and the "null" origin are refused before the upgrade; a bad token after it
    assertThat(refusedBeforeUpgrade.get()).isEqualTo(1_500);
    assertThat(closedAfterBadAuth.get()).isEqualTo(500);
    Await.until(() -> Http.get(app.httpPort(), "/api/reliability/health").json().getInteger("feed_clients", -1) == 0,
        Duration.ofSeconds(10), "no feed client is left");
    // and a real client still gets its snapshot
    WebSocket good = Await.result(ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(app.httpPort())
        .setURI("/api/reliability/feed")));
    List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
    good.textMessageHandler(messages::add);
    good.writeTextMessage(new JsonObject().put("type", "auth").put("token", token("alice")).encode());
    Await.until(() -> messages.stream().anyMatch(m -> m.contains("\"snapshot\"")), Duration.ofSeconds(10), "snapshot");
    Await.result(good.close());
  }
}
