package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.DeliveryStatus;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.NotificationCreated;
import com.mingus.reliability.bus.NotificationPage;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotificationView;
import com.mingus.reliability.bus.NotifyDeliveries;
import com.mingus.reliability.bus.NotifyList;
import com.mingus.reliability.bus.NotifyMarkRead;
import com.mingus.reliability.bus.NotifyPreferences;
import com.mingus.reliability.bus.NotifyPreferencesGet;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.NotifySendResult;
import com.mingus.reliability.bus.NotifySendTest;
import com.mingus.reliability.bus.NotifyTestResult;
import com.mingus.reliability.bus.PushSubscription;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.mail.internet.MimeMessage;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The notify verticle through its bus contract, against real servers on loopback: GreenMail for SMTP, a Web
 * Push service that decrypts, a Twilio-compatible SMS API and a webhook endpoint that verifies signatures.
 */
class NotifyVerticleTest {
  private static Vertx vertx;
  private static GreenMail greenMail;
  private static int smtpPort;
  private static Receivers.PushService pushService;
  private static Receivers.SmsApi smsApi;
  private static Receivers.WebhookEndpoint webhooks;
  private static JsonObject config;
  private static com.mingus.reliability.config.DatabaseTarget db;
  private static final List<NotificationCreated> created = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    MessageCodecs.register(vertx.eventBus());
    try (ServerSocket socket = new ServerSocket(0)) {
      smtpPort = socket.getLocalPort();
    }
    greenMail = startGreenMail();
    pushService = new Receivers.PushService(vertx);
    smsApi = new Receivers.SmsApi(vertx, "AC123", "token-xyz");
    webhooks = new Receivers.WebhookEndpoint(vertx);
    config = new JsonObject()
        .put("crypto", com.mingus.reliability.testsupport.TestApp.cryptoConfig())
        .put("database", Pools.connectionConfig(db = TestDatabase.fresh(NotifyVerticleTest.class), 4))
        .put("retention_days", 30)
        .put("cleanup_interval_ms", 200)
        .put("smtp", new JsonObject().put("host", "127.0.0.1").put("port", smtpPort).put("from", "MINGUS <no-reply@mingus.test>")
            .put("starttls", "DISABLED"))
        .put("poll_interval_ms", 50)
        .put("lease_s", 30)
        .put("send_test_wait_ms", 5000)
        // the mail server's outage below opens the provider breaker (docs/notify.md): probed again soon here
        .put("breaker", new JsonObject().put("reset_timeout_ms", 300))
        .put("retry", new JsonObject().put("time_scale", 1.0)
            .put("email", new JsonArray().add(0).add(0.2).add(0.4).add(0.8).add(1.6).add(3.2).add(5).add(5).add(5))
            .put("in_app", new JsonArray().add(0).add(0.1))
            .put("push", new JsonArray().add(0).add(0.1).add(0.2))
            .put("sms", new JsonArray().add(0).add(0.1).add(0.2))
            .put("webhook", new JsonArray().add(0).add(0.05).add(0.1)))
        .put("sms", new JsonObject().put("base_url", smsApi.baseUrl()).put("account_sid", "AC123")
            .put("auth_token", "token-xyz").put("from", "+15550001111"))
        .put("webhook", new JsonObject().put("allow_loopback", true));
    vertx.eventBus().<NotificationCreated>consumer(Addresses.NOTIFICATION_CREATED, m -> created.add(m.body()));
    await(vertx.deployVerticle(new NotifyVerticle(), new DeploymentOptions().setConfig(config)));
  }

  private static GreenMail startGreenMail() {
    GreenMail server = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    server.start();
    return server;
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      await(vertx.close());
    }
    if (greenMail != null) {
      greenMail.stop();
    }
  }

  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static <T> T ask(String address, Object body) {
    return await(Bus.request(vertx, address, body, 20_000));
  }

  static void eventually(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout + ": " + what);
      }
      Thread.sleep(25);
    }
  }

  static NotifyPreferences prefs(String user, String email, String phone, List<PushSubscription> push, String webhookUrl,
      JsonObject channels) {
    return new NotifyPreferences(user, "UTC", null, null, channels, email, phone, push, webhookUrl, null, false, null);
  }

  static List<DeliveryStatus> deliveries(String notificationId) {
    NotifyDeliveries answer = ask(Addresses.NOTIFY_DELIVERIES, NotifyDeliveries.query(null, notificationId));
    return answer.deliveries();
  }

  static DeliveryStatus delivery(String notificationId, String channel) {
    return deliveries(notificationId).stream().filter(d -> d.channel().equals(channel)).findFirst().orElseThrow();
  }

  static List<MimeMessage> mailsTo(String address) {
    return Arrays.stream(greenMail.getReceivedMessages()).filter(m -> {
      try {
        return Arrays.stream(m.getAllRecipients()).anyMatch(a -> a.toString().equals(address));
      } catch (Exception e) {
        return false;
      }
    }).toList();
  }

  @Test
  void aBodyThatIsNotTheAddressesRecordIsRefusedAtOnceAndSendsNothing() {
    long start = System.nanoTime();
    // notify.send takes a NotifySend record, never its JSON: the answer is INVALID_REQUEST, not a timeout
    assertThatThrownBy(() -> ask(Addresses.NOTIFY_SEND, NotifySend.of("user-wrong-body", NotificationType.PLAID_CONNECTION_ISSUE,
        "conn-1", null, new JsonObject()).toJson()))
        .isInstanceOfSatisfying(Bus.BusException.class, e -> {
          assertThat(e.failure().code()).isEqualTo(FailureCodes.INVALID_REQUEST);
          assertThat(e.failure().message()).isEqualTo("expected a NotifySend");
        });
    assertThatThrownBy(() -> ask(Addresses.NOTIFY_DEAD_LETTERS_LIST, "limit=5"))
        .isInstanceOfSatisfying(Bus.BusException.class,
            e -> assertThat(e.failure().code()).isEqualTo(FailureCodes.INVALID_REQUEST));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    NotificationPage page = ask(Addresses.NOTIFY_LIST, new NotifyList("user-wrong-body", 10, null, false));
    assertThat(page.notifications()).isEmpty();
  }

  @Test
  void everyMailIsDeliveredOnceWhenTheMailServerIsDownForAWhileThenBack() throws Exception {
    String user = "mail-outage";
    String address = "outage@example.com";
    ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, address, null, List.of(), null, null));
    greenMail.stop();
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      NotifySendResult result = ask(Addresses.NOTIFY_SEND, new NotifySend(user, "plaid_connection_issue", "conn-" + i,
          null, new JsonObject().put("institution_name", "Bank <" + i + ">"), null, null, "Ada & Bob", null));
      ids.add(result.notificationId());
    }
    eventually("first attempts failed", () -> ids.stream().allMatch(id -> delivery(id, "email").attemptCount() >= 1
        && delivery(id, "email").status().equals("retrying")), Duration.ofSeconds(10));
    Thread.sleep(300);
    greenMail = startGreenMail();
    eventually("five mails arrived", () -> mailsTo(address).size() >= 5, Duration.ofSeconds(15));
    eventually("all recorded as sent", () -> ids.stream().allMatch(id -> delivery(id, "email").status().equals("sent")),
        Duration.ofSeconds(15));
    com.mingus.reliability.testsupport.Await.holds(() -> mailsTo(address).size() == 5, Duration.ofMillis(500),
        "five mails and no more");
    List<MimeMessage> mails = mailsTo(address);
    assertThat(mails).hasSize(5);
    Set<String> messageIds = mails.stream().map(m -> {
      try {
        return m.getMessageID();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }).collect(Collectors.toSet());
    assertThat(messageIds).hasSize(5);
    for (String id : ids) {
      DeliveryStatus email = delivery(id, "email");
      assertThat(email.attemptCount()).isGreaterThanOrEqualTo(2);
      assertThat(email.attempts()).extracting(a -> a.outcome()).startsWith("retrying").endsWith("sent");
      assertThat(messageIds).contains(email.providerMessageId());
    }
    String html = htmlOf(mails.get(0));
    assertThat(html).contains("Hello Ada &amp; Bob").contains("Bank &lt;");
    assertThat(mails.get(0).getSubject()).isEqualTo("Bank Connection Issue - Action Required");
  }

  private static String htmlOf(MimeMessage message) throws Exception {
    Object content = message.getContent();
    if (content instanceof jakarta.mail.Multipart multipart) {
      for (int i = 0; i < multipart.getCount(); i++) {
        if (multipart.getBodyPart(i).isMimeType("text/html")) {
          return String.valueOf(multipart.getBodyPart(i).getContent());
        }
      }
    }
    return String.valueOf(content);
  }

  @Test
  void inAppNotificationsAreAnnouncedListedAndOnlyTheOwnerCanMarkThemRead() throws Exception {
    String user = "feed-owner";
    NotifySendResult first = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.BANK_MAINTENANCE, "conn-1",
        null, new JsonObject().put("institution_name", "Chase").put("completion_time", "18:00 UTC")));
    NotifySendResult second = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.DATA_SYNC_STATUS, "conn-1",
        null, new JsonObject().put("institution_name", "Chase").put("status", "up to date")));
    eventually("announced", () -> created.stream().filter(c -> c.userId().equals(user)).count() == 2, Duration.ofSeconds(15));
    NotificationView announced = created.stream().filter(c -> c.notification().id().equals(first.notificationId()))
        .findFirst().orElseThrow().notification();
    assertThat(announced.message()).isEqualTo("Bank maintenance in progress for Chase. Expected completion: 18:00 UTC");
    assertThat(announced.priority()).isEqualTo("low");

    NotificationPage page = ask(Addresses.NOTIFY_LIST, new NotifyList(user, 1, null, false));
    assertThat(page.total()).isEqualTo(2);
    assertThat(page.unreadCount()).isEqualTo(2);
    assertThat(page.notifications()).hasSize(1);
    assertThat(page.hasMore()).isTrue();
    assertThat(page.nextCursor()).isNotNull();
    assertThat(page.notifications().get(0).id()).isEqualTo(second.notificationId());
    assertThat(page.notifications().get(0).connectionId()).isEqualTo("conn-1");

    assertThatThrownBy(() -> ask(Addresses.NOTIFY_MARK_READ, new NotifyMarkRead("someone-else", first.notificationId())))
        .isInstanceOfSatisfying(Bus.BusException.class, e -> assertThat(e.failure().code()).isEqualTo(FailureCodes.NOT_FOUND));
    NotificationView read = ask(Addresses.NOTIFY_MARK_READ, new NotifyMarkRead(user, first.notificationId()));
    assertThat(read.read()).isTrue();
    NotificationPage after = ask(Addresses.NOTIFY_LIST, new NotifyList(user, 10, null, false));
    assertThat(after.unreadCount()).isEqualTo(1);
    assertThat(after.notifications()).extracting(NotificationView::read).containsExactly(false, true);
    assertThatThrownBy(() -> ask(Addresses.NOTIFY_DELIVERIES, NotifyDeliveries.query("someone-else", first.notificationId())))
        .isInstanceOfSatisfying(Bus.BusException.class, e -> assertThat(e.failure().code()).isEqualTo(FailureCodes.NOT_FOUND));
    NotifyDeliveries own = ask(Addresses.NOTIFY_DELIVERIES, NotifyDeliveries.query(user, first.notificationId()));
    assertThat(own.deliveries()).extracting(DeliveryStatus::channel).contains("in_app");
    NotificationPage stranger = ask(Addresses.NOTIFY_LIST, new NotifyList("someone-else", 10, null, false));
    assertThat(stranger.notifications()).isEmpty();
  }

  @Test
  void pushIsEncryptedForTheSubscriptionAndCarriesAValidVapidSignature() throws Exception {
    String user = "push-user";
    PushSubscription subscription = new PushSubscription(pushService.endpoint(user), pushService.p256dh(), pushService.authText());
    ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, null, null, List.of(subscription), null, null));
    NotifySendResult result = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.PLAID_CONNECTION_ISSUE,
        "conn-9", null, new JsonObject().put("institution_name", "Wells Fargo")
            .put("action_required_text", "Please reconnect your account.")));
    eventually("push received", () -> pushService.received.stream().anyMatch(r -> r.path().endsWith(user)), Duration.ofSeconds(15));
    Receivers.Received push = pushService.received.stream().filter(r -> r.path().endsWith(user)).findFirst().orElseThrow();
    assertThat(push.verified()).as(push.plaintext()).isTrue();
    JsonObject payload = new JsonObject(push.plaintext());
    assertThat(payload.getString("notification_id")).isEqualTo(result.notificationId());
    assertThat(payload.getString("body")).isEqualTo("Bank connection issue: Wells Fargo - Please reconnect your account.");
    assertThat(push.headers().get("Content-Encoding")).isEqualTo("aes128gcm");
    assertThat(push.headers().get("TTL")).isEqualTo("86400");
    assertThat(push.headers().get("Urgency")).isEqualTo("normal");
    assertThat(push.headers().get("Topic")).hasSize(32);

    JsonObject key = ask(Addresses.NOTIFY_VAPID_KEY, new JsonObject());
    String authorization = push.headers().get("Authorization");
    assertThat(authorization).endsWith(", k=" + key.getString("public_key"));
    String jwt = authorization.substring("vapid t=".length(), authorization.indexOf(", k="));
    com.nimbusds.jwt.SignedJWT signed = com.nimbusds.jwt.SignedJWT.parse(jwt);
    byte[] point = Base64.getUrlDecoder().decode(key.getString("public_key"));
    com.nimbusds.jose.jwk.ECKey ecKey = new com.nimbusds.jose.jwk.ECKey.Builder(com.nimbusds.jose.jwk.Curve.P_256,
        com.nimbusds.jose.util.Base64URL.encode(Arrays.copyOfRange(point, 1, 33)),
        com.nimbusds.jose.util.Base64URL.encode(Arrays.copyOfRange(point, 33, 65))).build();
    assertThat(signed.verify(new com.nimbusds.jose.crypto.ECDSAVerifier(ecKey))).isTrue();
    assertThat(signed.getJWTClaimsSet().getAudience()).containsExactly("http://127.0.0.1:" + pushService.server.actualPort());
    assertThat(signed.getJWTClaimsSet().getExpirationTime()).isInTheFuture();
    eventually("push recorded sent", () -> delivery(result.notificationId(), "push").status().equals("sent"), Duration.ofSeconds(15));
    assertThat(delivery(result.notificationId(), "push").providerMessageId()).startsWith("/messages/");

    // a second browser subscribes on its own and leaves the rest of the preferences alone
    PushSubscription other = new PushSubscription(pushService.endpoint(user + "-tablet"), pushService.p256dh(),
        pushService.authText());
    NotifyPreferences two = ask(Addresses.NOTIFY_PUSH_SUBSCRIBE, new JsonObject().put("user_id", user)
        .put("subscription", other.toJson()));
    assertThat(two.pushSubscriptions()).containsExactly(subscription, other);
    NotifyPreferences one = ask(Addresses.NOTIFY_PUSH_UNSUBSCRIBE, new JsonObject().put("user_id", user)
        .put("endpoint", other.endpoint()));
    assertThat(one.pushSubscriptions()).containsExactly(subscription);
    assertThatThrownBy(() -> ask(Addresses.NOTIFY_PUSH_SUBSCRIBE, new JsonObject().put("user_id", user)
        .put("subscription", new JsonObject().put("endpoint", "https://push.example/x")
            .put("keys", new JsonObject().put("p256dh", "bm90LWEta2V5").put("auth", "c2hvcnQ")))))
        .isInstanceOfSatisfying(Bus.BusException.class, e -> assertThat(e.failure().code()).isEqualTo(FailureCodes.INVALID_REQUEST));

    pushService.script.next.add(410);
    NotifySendResult gone = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.PLAID_CONNECTION_ISSUE,
        "conn-9", null, new JsonObject()));
    eventually("gone recorded", () -> delivery(gone.notificationId(), "push").status().equals("failed"), Duration.ofSeconds(15));
    assertThat(delivery(gone.notificationId(), "push").reason()).isEqualTo("endpoint_gone");
    NotifyPreferences after = ask(Addresses.NOTIFY_PREFERENCES_GET, new NotifyPreferencesGet(user));
    assertThat(after.pushSubscriptions()).isEmpty();
  }

  @Test
  void smsGoesToTheTwilioCompatibleApiWithBasicAuthAndRetriesA503() throws Exception {
    String user = "sms-user";
    ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, null, "+14155550100", List.of(), null, null));
    smsApi.script.next.add(503);
    NotifySendResult result = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.SECURITY_ALERT, null, null,
        new JsonObject().put("detail", "A new device signed in.")));
    eventually("sms sent", () -> delivery(result.notificationId(), "sms").status().equals("sent"), Duration.ofSeconds(15));
    List<Receivers.Received> mine = smsApi.received.stream().filter(r -> r.plaintext().contains("%2B14155550100")).toList();
    assertThat(mine).hasSize(2).allMatch(Receivers.Received::verified);
    String form = java.net.URLDecoder.decode(mine.get(1).plaintext(), StandardCharsets.UTF_8);
    assertThat(form).contains("To=+14155550100").contains("From=+15550001111")
        .contains("Body=MINGUS security alert: A new device signed in.");
    DeliveryStatus sms = delivery(result.notificationId(), "sms");
    assertThat(sms.providerMessageId()).startsWith("SM");
    assertThat(sms.attempts()).extracting(a -> a.outcome()).containsExactly("retrying", "sent");
    assertThat(sms.attempts().get(0).error()).contains("HTTP 503");
    assertThat(mine.get(0).headers().get("Idempotency-Key")).isEqualTo(mine.get(1).headers().get("Idempotency-Key"));
  }

  @Test
  void webhooksAreSignedRetriedWithTheSameIdAndVerifiedByTheReceiver() throws Exception {
    String user = "hook-user";
    NotifyPreferences saved = ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, null, null, List.of(),
        webhooks.url("/hooks/" + user), new JsonObject().put("*", new JsonObject().put("webhook", true))));
    assertThat(saved.webhookSecret()).startsWith("whsec_");
    webhooks.secret = saved.webhookSecret();
    NotifyPreferences fetched = ask(Addresses.NOTIFY_PREFERENCES_GET, new NotifyPreferencesGet(user));
    assertThat(fetched.webhookSecret()).isNull();
    assertThat(fetched.webhookSecretSet()).isTrue();
    // at rest the signing secret is sealed (AES-GCM), never the secret itself
    String stored = com.mingus.reliability.testsupport.Sql.strings(db,
        "SELECT webhook_secret FROM notify_preferences WHERE user_id = ?", user).get(0);
    assertThat(stored).startsWith("enc1:").doesNotContain(saved.webhookSecret().substring(6));

    webhooks.script.next.add(503);
    webhooks.script.next.add(500);
    NotifySendResult result = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.PLAID_CONNECTION_ISSUE,
        "conn-5", null, new JsonObject().put("institution_name", "Citi")));
    eventually("webhook sent", () -> delivery(result.notificationId(), "webhook").status().equals("sent"), Duration.ofSeconds(15));
    List<Receivers.Received> mine = webhooks.received.stream().filter(r -> r.path().endsWith(user)).toList();
    assertThat(mine).hasSize(3).allMatch(Receivers.Received::verified);
    assertThat(mine.stream().map(r -> r.headers().get("webhook-id")).distinct()).hasSize(1);
    assertThat(mine.get(0).headers().getAll("Host")).containsExactly("127.0.0.1:" + webhooks.server.actualPort());
    JsonObject body = new JsonObject(mine.get(2).plaintext());
    assertThat(body.getString("type")).isEqualTo("notification.plaid_connection_issue");
    assertThat(body.getJsonObject("data").getString("notification_id")).isEqualTo(result.notificationId());
    assertThat(body.getJsonObject("data").getString("connection_id")).isEqualTo("conn-5");
    assertThat(delivery(result.notificationId(), "webhook").attempts()).extracting(a -> a.outcome())
        .containsExactly("retrying", "retrying", "sent");
  }

  @Test
  void aWebhookThatAnswers410IsTurnedOffAndTheUserIsToldInApp() throws Exception {
    String user = "gone-user";
    NotifyPreferences saved = ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, null, null, List.of(),
        webhooks.url("/gone/" + user), new JsonObject().put("*", new JsonObject().put("webhook", true))));
    webhooks.secret = saved.webhookSecret();
    webhooks.script.next.add(410);
    NotifySendResult result = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.DATA_SYNC_STATUS, null,
        null, new JsonObject()));
    eventually("webhook failed", () -> delivery(result.notificationId(), "webhook").status().equals("failed"), Duration.ofSeconds(15));
    assertThat(delivery(result.notificationId(), "webhook").reason()).isEqualTo("endpoint_gone");
    NotifyPreferences after = ask(Addresses.NOTIFY_PREFERENCES_GET, new NotifyPreferencesGet(user));
    assertThat(after.webhookDisabled()).startsWith("410 Gone");
    eventually("user told", () -> created.stream().anyMatch(c -> c.userId().equals(user)
        && c.notification().type().equals("account_update")), Duration.ofSeconds(15));
    NotificationView notice = created.stream().filter(c -> c.userId().equals(user)
        && c.notification().type().equals("account_update")).findFirst().orElseThrow().notification();
    assertThat(notice.message()).contains("answered 410 Gone");

    int before = webhooks.received.size();
    NotifySendResult later = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.DATA_SYNC_STATUS, null,
        null, new JsonObject()));
    assertThat(later.deliveries()).anyMatch(d -> d.channel().equals("webhook") && d.status().equals("skipped")
        && d.reason().equals("webhook_disabled"));
    com.mingus.reliability.testsupport.Await.holds(() -> webhooks.received.size() == before, Duration.ofMillis(300),
        "no webhook to a disabled endpoint");
  }

  @Test
  void aDeliveryThatFailsEveryAttemptIsDeadLetteredAndAnOperatorCanRedriveIt() throws Exception {
    String user = "dead-user";
    NotifyPreferences saved = ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, null, null, List.of(),
        webhooks.url("/dead/" + user), new JsonObject().put("*", new JsonObject().put("webhook", true))));
    webhooks.secret = saved.webhookSecret();
    webhooks.script.next.addAll(List.of(500, 500, 500));
    NotifySendResult result = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.FEATURE_UPDATE, null, null,
        new JsonObject().put("detail", "Budgets")));
    eventually("dead-lettered", () -> delivery(result.notificationId(), "webhook").status().equals("failed"), Duration.ofSeconds(15));
    DeliveryStatus dead = delivery(result.notificationId(), "webhook");
    assertThat(dead.attemptCount()).isEqualTo(3);
    assertThat(dead.reason()).startsWith("dead_letter");
    JsonObject letters = ask(Addresses.NOTIFY_DEAD_LETTERS_LIST, new JsonObject().put("limit", 100));
    assertThat(letters.getJsonArray("dead_letters").stream().map(o -> ((JsonObject) o).getString("delivery_id")))
        .contains(dead.id());

    JsonObject redriven = ask(Addresses.NOTIFY_DEAD_LETTERS_REDRIVE, new JsonObject().put("delivery_id", dead.id()));
    assertThat(redriven.getInteger("redriven")).isEqualTo(1);
    eventually("sent after redrive", () -> delivery(result.notificationId(), "webhook").status().equals("sent"),
        Duration.ofSeconds(15));
    assertThat(webhooks.received.stream().filter(r -> r.path().endsWith(user))).hasSize(4);
  }

  @Test
  void quietHoursHoldEmailUntilTheyEndWhileInAppAndCriticalGoNow() throws Exception {
    String user = "quiet-user";
    ZoneId zone = ZoneId.of("America/New_York");
    LocalTime now = LocalTime.now(zone);
    NotifyPreferences quiet = new NotifyPreferences(user, zone.getId(), now.minusHours(1).withSecond(0).withNano(0).toString(),
        now.plusHours(2).withSecond(0).withNano(0).toString(), null, "quiet@example.com", null, List.of(), null, null, false, null);
    ask(Addresses.NOTIFY_PREFERENCES_PUT, quiet);
    NotifySendResult low = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.BANK_MAINTENANCE, null, null,
        new JsonObject()));
    DeliveryStatus held = low.deliveries().stream().filter(d -> d.channel().equals("email")).findFirst().orElseThrow();
    assertThat(held.status()).isEqualTo("pending");
    assertThat(held.reason()).isEqualTo("quiet_hours");
    assertThat(java.time.Instant.parse(held.nextAttemptAt())).isAfter(java.time.Instant.now().plusSeconds(3600));
    NotifySendResult critical = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.SECURITY_ALERT, null, null,
        new JsonObject().put("detail", "Password changed.")));
    eventually("critical mail sent", () -> delivery(critical.notificationId(), "email").status().equals("sent"),
        Duration.ofSeconds(15));
    eventually("in-app sent", () -> delivery(low.notificationId(), "in_app").status().equals("sent"), Duration.ofSeconds(15));
    com.mingus.reliability.testsupport.Await.holds(() -> delivery(low.notificationId(), "email").status().equals("pending")
        && mailsTo("quiet@example.com").size() == 1, Duration.ofMillis(300), "the low-priority mail waits for the quiet hours' end");
  }

  @Test
  void preferencesTurnDefaultChannelsOffAndOthersOnAndMissingContactsAreSkippedWithAReason() throws Exception {
    String user = "prefs-user";
    JsonObject channels = new JsonObject()
        .put("plaid_connection_issue", new JsonObject().put("email", false).put("sms", true))
        .put("*", new JsonObject().put("webhook", true));
    ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, "prefs@example.com", null, List.of(), null, channels));
    NotifySendResult result = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.PLAID_CONNECTION_ISSUE,
        null, null, new JsonObject()));
    assertThat(result.deliveries()).extracting(d -> d.channel() + ":" + d.status() + ":" + d.reason())
        .containsExactlyInAnyOrder("in_app:pending:null", "push:skipped:no_push_subscription",
            "sms:skipped:no_phone_number", "webhook:skipped:no_webhook_url", "email:skipped:disabled_by_preference");
    NotifySendResult other = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.BANK_MAINTENANCE,
        null, null, new JsonObject()));
    assertThat(other.deliveries()).extracting(d -> d.channel() + ":" + d.status())
        .contains("email:pending", "in_app:pending", "webhook:skipped");
    assertThatThrownBy(() -> ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, null, "555-1234", List.of(), null, null)))
        .isInstanceOfSatisfying(Bus.BusException.class, e -> assertThat(e.failure().code()).isEqualTo(FailureCodes.INVALID_REQUEST));
    assertThatThrownBy(() -> ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, null, null, List.of(), "gopher://x/", null)))
        .isInstanceOfSatisfying(Bus.BusException.class, e -> assertThat(e.failure().message()).contains("scheme"));
  }

  @Test
  void identicalRequestsForTheSameConnectionAndStateMergeWithinTheCooldown() throws Exception {
    String user = "dedupe-user";
    ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, "dedupe@example.com", null, List.of(), null, null));
    NotifySend request = NotifySend.of(user, NotificationType.PLAID_CONNECTION_ISSUE, "conn-7",
        "conn-7:plaid_connection_issue:ITEM_LOGIN_REQUIRED", new JsonObject().put("institution_name", "Ally"));
    List<NotifySendResult> results = await(Future.all(List.of(
        Bus.<NotifySendResult>request(vertx, Addresses.NOTIFY_SEND, request, 10_000),
        Bus.<NotifySendResult>request(vertx, Addresses.NOTIFY_SEND, request, 10_000),
        Bus.<NotifySendResult>request(vertx, Addresses.NOTIFY_SEND, request, 10_000)))).list();
    assertThat(results.stream().map(NotifySendResult::notificationId).distinct()).hasSize(1);
    assertThat(results.stream().filter(NotifySendResult::deduplicated)).hasSize(2);
    NotifySendResult otherState = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.PLAID_CONNECTION_ISSUE,
        "conn-7", "conn-7:plaid_connection_issue:INSTITUTION_DOWN", new JsonObject()));
    assertThat(otherState.deduplicated()).isFalse();
    eventually("two mails", () -> mailsTo("dedupe@example.com").size() >= 2, Duration.ofSeconds(15));
    com.mingus.reliability.testsupport.Await.holds(() -> mailsTo("dedupe@example.com").size() == 2, Duration.ofMillis(300),
        "two mails and no more");
    NotificationPage page = ask(Addresses.NOTIFY_LIST, new NotifyList(user, 10, null, false));
    assertThat(page.notifications()).hasSize(2);
    assertThat(page.notifications()).extracting(NotificationView::occurrences).containsExactlyInAnyOrder(3, 1);
  }

  @Test
  void sendTestTriesEachChannelAndReportsTheSeedsDeliveryResults() throws Exception {
    String user = "test-user";
    NotifyTestResult result = ask(Addresses.NOTIFY_SEND_TEST, new NotifySendTest(user, "plaid_connection_issue",
        List.of("email", "in_app", "sms"), "Tess", "tess@example.com", null));
    assertThat(result.deliveryResults()).extracting(r -> r.channel() + ":" + r.success())
        .containsExactly("email:true", "in_app:true", "sms:false");
    assertThat(result.deliveryResults().get(0).message()).isEqualTo("Email sent successfully");
    assertThat(result.deliveryResults().get(1).message()).isEqualTo("In-app notification created");
    assertThat(result.deliveryResults().get(2).message()).isEqualTo("Not sent: no_phone_number");
    assertThat(result.success()).isFalse();
    assertThat(mailsTo("tess@example.com")).hasSize(1);
    assertThat(mailsTo("tess@example.com").get(0).getContent().toString()).doesNotContain("{user_name}");
    assertThatThrownBy(() -> ask(Addresses.NOTIFY_SEND_TEST, new NotifySendTest(user, "no_such_type", List.of("email"),
        null, null, null))).isInstanceOf(Bus.BusException.class);
  }

  @Test
  void operatorsEditTemplatesWithoutARebuildAndUnknownPlaceholdersAreRefused() throws Exception {
    JsonObject sink = ask(Addresses.NOTIFY_SINK_MESSAGES, new JsonObject());
    assertThat(sink.getBoolean("enabled")).isFalse();
    JsonObject list = ask(Addresses.NOTIFY_TEMPLATES_LIST, new JsonObject());
    assertThat(list.getJsonArray("templates")).hasSize(8);
    assertThatThrownBy(() -> ask(Addresses.NOTIFY_TEMPLATES_PUT, new JsonObject().put("type", "feature_update")
        .put("in_app", "New: {detail} for {favourite_colour}")))
        .isInstanceOfSatisfying(Bus.BusException.class, e -> assertThat(e.failure().message()).contains("favourite_colour"));
    JsonObject saved = ask(Addresses.NOTIFY_TEMPLATES_PUT, new JsonObject().put("type", "feature_update")
        .put("in_app", "Fresh in MINGUS: {detail}").put("updated_by", "ops"));
    assertThat(saved.getInteger("version")).isEqualTo(2);
    NotifySendResult result = ask(Addresses.NOTIFY_SEND, NotifySend.of("template-user", NotificationType.FEATURE_UPDATE,
        null, null, new JsonObject().put("detail", "budgets")));
    NotificationPage page = ask(Addresses.NOTIFY_LIST, new NotifyList("template-user", 10, null, false));
    assertThat(page.notifications().get(0).id()).isEqualTo(result.notificationId());
    assertThat(page.notifications().get(0).message()).isEqualTo("Fresh in MINGUS: budgets");
  }

  @Test
  void severalInstancesOnTheSameDatabaseNeverSendTheSameDeliveryTwice() throws Exception {
    String id = await(vertx.deployVerticle(NotifyVerticle::new, new DeploymentOptions().setConfig(config).setInstances(3)));
    try {
      String user = "crowd-user";
      String address = "crowd@example.com";
      ask(Addresses.NOTIFY_PREFERENCES_PUT, prefs(user, address, null, List.of(), null, null));
      int n = 120;
      List<Future<NotifySendResult>> sends = new java.util.ArrayList<>();
      for (int i = 0; i < n; i++) {
        sends.add(Bus.request(vertx, Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.ACCOUNT_UPDATE, null, null,
            new JsonObject().put("detail", "change " + i)), 20_000));
      }
      await(Future.all(sends));
      eventually(n + " mails", () -> mailsTo(address).size() >= n, Duration.ofSeconds(30));
      com.mingus.reliability.testsupport.Await.holds(() -> mailsTo(address).size() == n, Duration.ofMillis(500),
          n + " mails and no more");
      long inApp = created.stream().filter(c -> c.userId().equals(user)).count();
      assertThat(inApp).isEqualTo(n);
    } finally {
      await(vertx.undeploy(id));
    }
  }

  @Test
  void notificationsPastTheRetentionAreRemovedUnlessADeliveryIsStillToSend() throws Exception {
    String user = "retention-user";
    NotifySendResult old = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.FEATURE_UPDATE, null, null,
        new JsonObject()));
    NotifySendResult waiting = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.FEATURE_UPDATE, null, null,
        new JsonObject()));
    NotifySendResult recent = ask(Addresses.NOTIFY_SEND, NotifySend.of(user, NotificationType.FEATURE_UPDATE, null, null,
        new JsonObject()));
    eventually("in-app sent", () -> delivery(old.notificationId(), "in_app").status().equals("sent")
        && delivery(waiting.notificationId(), "in_app").status().equals("sent"), Duration.ofSeconds(15));
    // the delivery still to send first, then the age: the clean-up runs every 200 ms and must never see
    // the old "waiting" notification without its pending delivery
    TestDatabase.execute(db, "UPDATE notify_deliveries SET status = 'retrying', next_attempt_at = now() + interval '1 day' "
        + "WHERE notification_id = '" + waiting.notificationId() + "'");
    TestDatabase.execute(db, "UPDATE notifications SET created_at = now() - interval '40 days' WHERE id IN ('"
        + old.notificationId() + "', '" + waiting.notificationId() + "')");
    eventually("old one removed", () -> ((NotificationPage) ask(Addresses.NOTIFY_LIST, new NotifyList(user, 10, null, false)))
        .notifications().size() == 2, Duration.ofSeconds(15));
    NotificationPage page = ask(Addresses.NOTIFY_LIST, new NotifyList(user, 10, null, false));
    assertThat(page.notifications()).extracting(NotificationView::id)
        .containsExactlyInAnyOrder(waiting.notificationId(), recent.notificationId());
  }
}
