package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.mingus.reliability.app.Application;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, part 5: an operator's actions on notifications over real HTTP against the whole application,
 * with a real SMTP server (GreenMail) and a real webhook receiver on loopback: dead letters listed and
 * redriven, templates listed, previewed and edited (and the edit is what the next e-mail says, after a
 * restart too), any notification's deliveries, and the VAPID key a browser subscribes with.
 */
class OperatorActionsTest {
  private static final String DEAD_LETTERS = "/api/admin/notifications/dead-letters";
  private static final String TEMPLATES = "/api/admin/notifications/templates";

  private static DatabaseTarget db;
  private static GreenMail greenMail;
  private static int smtpPort;
  private static Vertx receivers;
  private static HttpServer hookServer;
  /** What the webhook receiver answers; 500 until a test "fixes" it. */
  private static volatile int hookStatus = 200;
  private static final List<String[]> hooks = new CopyOnWriteArrayList<>();
  private static Application app;

  @BeforeAll
  static void start() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      smtpPort = socket.getLocalPort();
    }
    greenMail = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    greenMail.start();
    receivers = Vertx.vertx();
    hookServer = receivers.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      int status = hookStatus;
      hooks.add(new String[] {request.path(), request.getHeader("webhook-id"), Integer.toString(status)});
      request.response().setStatusCode(status).end();
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    db = TestDatabase.fresh(OperatorActionsTest.class);
    app = startApp();
  }

  private static Application startApp() {
    Map<String, Object> config = new HashMap<>();
    config.put("smtp.starttls", "DISABLED");
    config.put("notify.poll_interval_ms", 100);
    config.put("notify.send_test_wait_ms", 3000);
    config.put("notify.webhook.allow_loopback", true);
    config.put("notify.retry.webhook", new JsonArray().add(0).add(0.05).add(0.05));
    config.put("http.rate_limit.per_second", 50);
    config.put("http.rate_limit.burst", 200);
    return TestApp.start(db, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET, "SMTP_HOST", "127.0.0.1",
        "SMTP_PORT", Integer.toString(smtpPort)), config);
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

  private static ApiCaller operator() {
    return ApiCaller.admin(app, "olga");
  }

  private static String hookUrl(String path) {
    return "http://127.0.0.1:" + hookServer.actualPort() + path;
  }

  private static List<String[]> hooksTo(String path) {
    return hooks.stream().filter(h -> h[0].equals(path)).toList();
  }

  private static JsonObject deadLetter(ApiCaller operator, String notificationId) {
    Http.Response list = operator.get(DEAD_LETTERS + "?limit=500");
    assertThat(list.status()).as(list.body()).isEqualTo(200);
    return list.json().getJsonArray("dead_letters").stream().map(JsonObject.class::cast)
        .filter(letter -> notificationId.equals(letter.getString("notification_id"))).findFirst().orElse(null);
  }

  private static JsonObject delivery(ApiCaller operator, String notificationId, String channel) {
    Http.Response response = operator.get("/api/admin/notifications/" + notificationId + "/deliveries");
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    return response.json().getJsonArray("deliveries").stream().map(JsonObject.class::cast)
        .filter(d -> channel.equals(d.getString("channel"))).findFirst().orElseThrow();
  }

  @Test
  void aDeadLetteredWebhookIsListedRedactedAndRedrivenOnceTheReceiverIsFixedThenDeliveredExactlyOnce() throws Exception {
    ApiCaller operator = operator();
    ApiCaller dora = ApiCaller.user(app, "dora");
    String path = "/hook/dora-" + UUID.randomUUID();
    Http.Response prefs = dora.put("/api/reliability/notifications/preferences",
        new JsonObject().put("webhook", new JsonObject().put("url", hookUrl(path))));
    assertThat(prefs.status()).as(prefs.body()).isEqualTo(200);

    hookStatus = 500;
    Http.Response sent = dora.post("/api/reliability/notifications/send-test",
        new JsonObject().put("type", "account_update").put("channels", new JsonArray().add("webhook")));
    assertThat(sent.status()).as(sent.body()).isEqualTo(200);
    String notificationId = sent.json().getString("notification_id");

    Await.until(() -> deadLetter(operator, notificationId) != null, Duration.ofSeconds(20), "the webhook is dead-lettered");
    JsonObject letter = deadLetter(operator, notificationId);
    assertThat(letter.fieldNames()).contains("id", "notification_id", "user_id", "channel", "target", "attempt_count",
        "last_error", "dead_lettered_at");
    assertThat(letter.getString("user_id")).isEqualTo("dora");
    assertThat(letter.getString("channel")).isEqualTo("webhook");
    assertThat(letter.getInteger("attempt_count")).isEqualTo(3);
    assertThat(letter.getString("last_error")).contains("500");
    assertThat(letter.getString("target")).isEqualTo("http://127.0.0.1:" + hookServer.actualPort() + "/***")
        .doesNotContain("dora");
    assertThat(hooksTo(path)).hasSize(3).allSatisfy(h -> assertThat(h[2]).isEqualTo("500"));

    // the operator's view of the notification's deliveries tells the same story, target redacted too
    JsonObject tracked = delivery(operator, notificationId, "webhook");
    assertThat(tracked.getString("id")).isEqualTo(letter.getString("id"));
    assertThat(tracked.getString("status")).isEqualTo("failed");
    assertThat(tracked.getString("target")).doesNotContain("dora");
    assertThat(tracked.getJsonArray("attempts")).hasSize(3);
    String key = tracked.getString("idempotency_key");
    assertThat(hooksTo(path)).allSatisfy(h -> assertThat(h[1]).isEqualTo(key));

    hookStatus = 200;
    Http.Response redriven = operator.post(DEAD_LETTERS + "/" + letter.getString("id") + "/redrive", null);
    assertThat(redriven.status()).as(redriven.body()).isEqualTo(202);
    assertThat(redriven.json().getString("delivery_id")).isEqualTo(letter.getString("id"));
    Await.until(() -> "sent".equals(delivery(operator, notificationId, "webhook").getString("status")),
        Duration.ofSeconds(15), "the redriven delivery is sent");
    assertThat(deadLetter(operator, notificationId)).as("a delivered redrive leaves the list").isNull();

    // a second redrive changes nothing: the delivery is not dead-lettered any more
    Http.Response again = operator.post(DEAD_LETTERS + "/" + letter.getString("id") + "/redrive", null);
    assertThat(again.status()).as(again.body()).isEqualTo(409);
    assertThat(ApiCaller.errorCode(again)).isEqualTo("CONFLICT");
    Await.holds(() -> hooksTo(path).stream().filter(h -> h[2].equals("200")).count() == 1, Duration.ofMillis(500),
        "delivered exactly once");
    List<String[]> delivered = hooksTo(path).stream().filter(h -> h[2].equals("200")).toList();
    assertThat(delivered.get(0)[1]).as("with the same idempotency key").isEqualTo(key);
    assertThat(hooksTo(path)).hasSize(4);
    JsonObject after = delivery(operator, notificationId, "webhook");
    assertThat(after.getString("status")).isEqualTo("sent");
    assertThat(after.getString("idempotency_key")).isEqualTo(key);
  }

  @Test
  void deadLetterAndDeliveryRoutesAnswerBadInputWithJsonErrorsAndChangeNothing() {
    ApiCaller operator = operator();
    Http.Response before = operator.get(DEAD_LETTERS);
    assertThat(before.status()).as(before.body()).isEqualTo(200);
    assertThat(before.json().fieldNames()).contains("dead_letters", "total", "limit", "next_cursor", "has_more");
    for (String query : List.of("?limit=0", "?limit=501", "?limit=ten", "?cursor=forged", "?cursor=WyIxIl0.AAAAAAAAAAA")) {
      Http.Response bad = operator.get(DEAD_LETTERS + query);
      assertThat(bad.status()).as(query).isEqualTo(400);
      assertThat(ApiCaller.errorCode(bad)).isEqualTo("INVALID_REQUEST");
    }
    Http.Response unknown = operator.post(DEAD_LETTERS + "/" + UUID.randomUUID() + "/redrive", null);
    assertThat(unknown.status()).as(unknown.body()).isEqualTo(404);
    assertThat(ApiCaller.errorCode(unknown)).isEqualTo("NOT_FOUND");
    Http.Response malformed = operator.post(DEAD_LETTERS + "/not-a-delivery/redrive", null);
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(ApiCaller.errorCode(malformed)).isEqualTo("INVALID_REQUEST");
    assertThat(ApiCaller.errorCode(operator.get("/api/admin/notifications/" + UUID.randomUUID() + "/deliveries")))
        .isEqualTo("NOT_FOUND");
    assertThat(ApiCaller.errorCode(operator.get("/api/admin/notifications/has%20space/deliveries")))
        .isEqualTo("INVALID_REQUEST");
    assertThat(operator.get(DEAD_LETTERS).json().getLong("total")).isEqualTo(before.json().getLong("total"));
  }

  @Test
  void anEditedTemplateIsWhatTheNextEmailSaysAndItSurvivesARestart() throws Exception {
    ApiCaller operator = operator();
    Http.Response list = operator.get(TEMPLATES);
    assertThat(list.status()).as(list.body()).isEqualTo(200);
    JsonArray templates = list.json().getJsonArray("templates");
    assertThat(templates).hasSize(8 * 4);
    assertThat(list.json().getJsonArray("variables").getList()).contains("user_name", "institution_name", "completion_time");
    JsonObject original = template(list, "bank_maintenance", "email");
    assertThat(original.fieldNames()).contains("subject", "body", "body_html", "variables", "version");
    assertThat(original.getJsonArray("variables").getList()).contains("institution_name", "completion_time");
    assertThat(template(list, "bank_maintenance", "sms").getString("body")).isNotBlank();

    // a preview renders a draft with sample variables (the caller's where given) and saves nothing
    Http.Response preview = operator.post(TEMPLATES + "/bank_maintenance/email/preview", new JsonObject()
        .put("subject", "Heads up: {institution_name}").put("body", "Hi {user_name}, back {completion_time}.")
        .put("variables", new JsonObject().put("institution_name", "Acme <Bank>")));
    assertThat(preview.status()).as(preview.body()).isEqualTo(200);
    JsonObject rendered = preview.json().getJsonObject("rendered");
    assertThat(rendered.getString("subject")).isEqualTo("Heads up: Acme <Bank>");
    assertThat(rendered.getString("body")).isEqualTo("Hi Alex, back in about an hour.");
    assertThat(rendered.getString("body_html")).contains("Acme &lt;Bank&gt;").doesNotContain("{");
    Http.Response stored = operator.post(TEMPLATES + "/bank_maintenance/sms/preview", null);
    assertThat(stored.status()).as(stored.body()).isEqualTo(200);
    assertThat(stored.json().getJsonObject("rendered").getString("body")).contains("Sample Bank");

    // bad edits and drafts: 400 with a JSON error, and nothing saved
    assertBad(operator.put(TEMPLATES + "/bank_maintenance/email", new JsonObject().put("body", "")), null);
    assertBad(operator.put(TEMPLATES + "/bank_maintenance/email", new JsonObject().put("body", "   ")), "body");
    assertBad(operator.put(TEMPLATES + "/bank_maintenance/email", new JsonObject()
        .put("body", "Hello {user_name}, your {favourite_colour} bank")), "favourite_colour");
    assertBad(operator.put(TEMPLATES + "/bank_maintenance/email", new JsonObject()
        .put("subject", "{nope}").put("body", "fine")), "nope");
    assertBad(operator.put(TEMPLATES + "/bank_maintenance/email", new JsonObject()), null);
    assertBad(operator.put(TEMPLATES + "/bank_maintenance/email", new JsonObject().put("body", "x").put("title", "y")), null);
    assertBad(operator.put(TEMPLATES + "/bank_maintenance/in_app", new JsonObject().put("body", "x").put("subject", "y")),
        "subject");
    assertBad(operator.put(TEMPLATES + "/bank_maintenance/webhook", new JsonObject().put("body", "x")), null);
    assertBad(operator.put(TEMPLATES + "/no_such_type/email", new JsonObject().put("body", "x")), null);
    assertBad(operator.raw("PUT", TEMPLATES + "/bank_maintenance/email", "not json"), null);
    assertBad(operator.post(TEMPLATES + "/bank_maintenance/email/preview", new JsonObject()
        .put("variables", new JsonObject().put("favourite_colour", "red"))), "favourite_colour");
    assertBad(operator.post(TEMPLATES + "/bank_maintenance/email/preview", new JsonObject().put("body", "{nope}")), "nope");
    assertThat(template(operator.get(TEMPLATES), "bank_maintenance", "email").encode()).isEqualTo(original.encode());

    Http.Response saved = operator.put(TEMPLATES + "/bank_maintenance/email", new JsonObject()
        .put("subject", "Operator edit: {institution_name} maintenance")
        .put("body", "Edited text for {user_name}: back {completion_time}."));
    assertThat(saved.status()).as(saved.body()).isEqualTo(200);
    assertThat(saved.json().getJsonObject("template").getInteger("version")).isEqualTo(original.getInteger("version") + 1);
    assertThat(saved.json().getJsonObject("template").getString("body_html")).isEqualTo(original.getString("body_html"));

    MimeMessage mail = sendTestMail("erin");
    assertThat(mail.getSubject()).isEqualTo("Operator edit: Test Bank maintenance");
    assertThat(text(mail)).contains("Edited text for Test erin: back in about an hour.");

    // the edit is in PostgreSQL: a restarted server lists it and sends it
    app.close();
    app = startApp();
    ApiCaller restarted = operator();
    JsonObject after = template(restarted.get(TEMPLATES), "bank_maintenance", "email");
    assertThat(after.getString("subject")).isEqualTo("Operator edit: {institution_name} maintenance");
    assertThat(after.getInteger("version")).isEqualTo(original.getInteger("version") + 1);
    MimeMessage second = sendTestMail("erin2");
    assertThat(second.getSubject()).isEqualTo("Operator edit: Test Bank maintenance");
    assertThat(text(second)).contains("Edited text for Test erin2: back in about an hour.");
  }

  private static MimeMessage sendTestMail(String user) {
    ApiCaller caller = ApiCaller.user(app, user);
    Http.Response sent = caller.post("/api/reliability/notifications/send-test",
        new JsonObject().put("type", "bank_maintenance").put("channels", new JsonArray().add("email")));
    assertThat(sent.status()).as(sent.body()).isEqualTo(200);
    String address = user + "@example.com";
    Await.until(() -> !mailsTo(address).isEmpty(), Duration.ofSeconds(15), "a mail to " + address);
    assertThat(mailsTo(address)).hasSize(1);
    return mailsTo(address).get(0);
  }

  private static void assertBad(Http.Response response, String mentioned) {
    assertThat(response.status()).as(response.body()).isEqualTo(400);
    assertThat(ApiCaller.errorCode(response)).isEqualTo("INVALID_REQUEST");
    if (mentioned != null) {
      assertThat(response.json().getJsonObject("error").getString("message")).contains(mentioned);
    }
  }

  private static JsonObject template(Http.Response list, String type, String channel) {
    assertThat(list.status()).as(list.body()).isEqualTo(200);
    return list.json().getJsonArray("templates").stream().map(JsonObject.class::cast)
        .filter(t -> type.equals(t.getString("type")) && channel.equals(t.getString("channel"))).findFirst().orElseThrow();
  }

  private static List<MimeMessage> mailsTo(String address) {
    return Arrays.stream(greenMail.getReceivedMessages()).filter(m -> {
      try {
        return Arrays.stream(m.getAllRecipients()).anyMatch(a -> a.toString().equals(address));
      } catch (Exception e) {
        return false;
      }
    }).toList();
  }

  /** Every text part of a mail, decoded. */
  private static String text(Part part) throws Exception {
    Object content = part.getContent();
    if (content instanceof Multipart multipart) {
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < multipart.getCount(); i++) {
        out.append(text(multipart.getBodyPart(i))).append('\n');
      }
      return out.toString();
    }
    return String.valueOf(content);
  }

  @Test
  void aUserGetsTheVapidPublicKeyAsTheUncompressedP256PointPushManagerSubscribeTakes() throws Exception {
    ApiCaller user = ApiCaller.user(app, "pat");
    Http.Response response = user.get("/api/reliability/notifications/push/vapid-public-key");
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    String key = response.json().getString("public_key");
    assertThat(key).matches("[A-Za-z0-9_-]{87}");
    byte[] point = Base64.getUrlDecoder().decode(key);
    assertThat(point).hasSize(65);
    assertThat(point[0]).isEqualTo((byte) 4);
    AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
    parameters.init(new ECGenParameterSpec("secp256r1"));
    ECParameterSpec curve = parameters.getParameterSpec(ECParameterSpec.class);
    BigInteger x = new BigInteger(1, Arrays.copyOfRange(point, 1, 33));
    BigInteger y = new BigInteger(1, Arrays.copyOfRange(point, 33, 65));
    BigInteger p = ((java.security.spec.ECFieldFp) curve.getCurve().getField()).getP();
    assertThat(y.modPow(BigInteger.TWO, p)).as("the point is on P-256")
        .isEqualTo(x.pow(3).add(curve.getCurve().getA().multiply(x)).add(curve.getCurve().getB()).mod(p));
    assertThat(KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y), curve))).isNotNull();
    assertThat(operator().get("/api/reliability/notifications/push/vapid-public-key").json().getString("public_key"))
        .as("one key for everyone, kept in the database").isEqualTo(key);
    Http.Response anonymous = new ApiCaller(app.httpPort(), null, null).get("/api/reliability/notifications/push/vapid-public-key");
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(ApiCaller.errorCode(anonymous)).isEqualTo("UNAUTHORIZED");
  }

  @Test
  void usersAreRefusedEveryOperatorActionWith403AndNothingChanges() {
    ApiCaller operator = operator();
    ApiCaller user = ApiCaller.user(app, "ursula");
    JsonObject before = template(operator.get(TEMPLATES), "feature_update", "in_app");
    String id = UUID.randomUUID().toString();
    List<Http.Response> refused = List.of(
        user.get(DEAD_LETTERS),
        user.post(DEAD_LETTERS + "/" + id + "/redrive", null),
        user.get(TEMPLATES),
        user.put(TEMPLATES + "/feature_update/in_app", new JsonObject().put("body", "Taken over: {detail}")),
        user.post(TEMPLATES + "/feature_update/in_app/preview", new JsonObject().put("body", "x")),
        user.get("/api/admin/notifications/" + id + "/deliveries"));
    for (Http.Response response : refused) {
      assertThat(response.status()).as(response.body()).isEqualTo(403);
      assertThat(ApiCaller.errorCode(response)).isEqualTo("FORBIDDEN");
    }
    assertThat(template(operator.get(TEMPLATES), "feature_update", "in_app").encode()).isEqualTo(before.encode());
  }
}
