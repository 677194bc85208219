package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The wire formats against their specifications' published vectors, and the template rules. */
class NotifyFormatsTest {
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  @Test
  void webPushEncryptionReproducesTheRfc8291AppendixAMessage() {
    byte[] asPrivate = WebPush.decode("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw");
    byte[] asPublic = WebPush.decode(
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8");
    KeyPair ephemeral = new KeyPair(WebPush.decodePoint(asPublic), WebPush.privateKey(asPrivate));
    byte[] body = WebPush.encrypt("When I grow up, I want to be a watermelon".getBytes(StandardCharsets.UTF_8),
        WebPush.decode("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
        WebPush.decode("BTBZMqHH6r4Tts7J_aSIgg"), ephemeral, WebPush.decode("DGv6ra1nlYgDCS1FRnbzlw"));
    // RFC 8291 uses a record size of 4096 as we do, so the whole message must match byte for byte
    assertThat(B64URL.encodeToString(body)).isEqualTo("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZI"
        + "IgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN");
  }

  @Test
  void webhookSignatureMatchesTheStandardWebhooksTestVector() {
    assertThat(StandardWebhooks.sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330, "{\"test\": 2432232314}")).isEqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assertThat(StandardWebhooks.validSecret(StandardWebhooks.newSecret())).isTrue();
    assertThat(StandardWebhooks.validSecret("whsec_c2hvcnQ=")).isFalse();
    assertThat(StandardWebhooks.validSecret("whsec_not base64!")).isFalse();
  }

  @Test
  void vapidJwtIsAnEs256TokenForThePushServiceOrigin() throws Exception {
    WebPush.Vapid vapid = WebPush.Vapid.generate("mailto:ops@example.com");
    WebPush.Vapid reparsed = WebPush.Vapid.parse(vapid.publicKeyText(), vapid.privateKeyText(), "mailto:ops@example.com");
    String header = reparsed.authorization("https://push.example.net:8443/wpush/abc?x=1", 1_000, 3_600);
    assertThat(header).startsWith("vapid t=").contains(", k=" + vapid.publicKeyText());
    String jwt = header.substring("vapid t=".length(), header.indexOf(", k="));
    String[] parts = jwt.split("\\.");
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    assertThat(claims.getString("aud")).isEqualTo("https://push.example.net:8443");
    assertThat(claims.getLong("exp")).isEqualTo(4_600L);
    java.security.Signature verifier = java.security.Signature.getInstance("SHA256withECDSAinP1363Format");
    verifier.initVerify(vapid.publicKey());
    verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    assertThat(verifier.verify(Base64.getUrlDecoder().decode(parts[2]))).isTrue();
  }

  @Test
  void htmlValuesAreEscapedAndMissingPlaceholdersTakeTheirFallback() {
    JsonObject values = new JsonObject().put("user_name", "<script>alert('x')</script> & Co")
        .put("institution_name", "{user_name}");
    String html = TemplateRenderer.render("<p>Hello {user_name}, {institution_name} {completion_time}</p>", values,
        TemplateRenderer.Mode.HTML);
    assertThat(html).isEqualTo("<p>Hello &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co, {user_name} not yet known</p>");

    String text = TemplateRenderer.render("Issue with {institution_name}. {action_required_text}", new JsonObject(),
        TemplateRenderer.Mode.TEXT);
    assertThat(text).isEqualTo("Issue with your bank.");

    String subject = TemplateRenderer.render("Alert for {user_name}", new JsonObject().put("user_name", "Eve\r\nBcc: x@y"),
        TemplateRenderer.Mode.LINE);
    assertThat(subject).doesNotContain("\r").doesNotContain("\n").isEqualTo("Alert for Eve Bcc: x@y");

    assertThat(TemplateRenderer.render("Hi {favourite_colour}", values, TemplateRenderer.Mode.TEXT))
        .isEqualTo("Hi {favourite_colour}");
    assertThat(TemplateRenderer.unknownPlaceholders("{user_name} {favourite_colour}")).containsExactly("favourite_colour");
  }

  @Test
  void everyDefaultTemplateUsesOnlyKnownPlaceholdersAndTheSeedsPrioritiesAndChannels() {
    DefaultTemplates.ALL.values().forEach(t -> t.texts().forEach(text ->
        assertThat(TemplateRenderer.unknownPlaceholders(text)).as(t.type() + ": " + text).isEmpty()));
    assertThat(DefaultTemplates.ALL).hasSize(8);
    Template issue = DefaultTemplates.ALL.get(com.mingus.reliability.bus.NotificationType.PLAID_CONNECTION_ISSUE);
    assertThat(issue.priority().wire()).isEqualTo("medium");
    assertThat(issue.channels()).extracting(c -> c.wire()).containsExactly("email", "in_app", "push");
    Template maintenance = DefaultTemplates.ALL.get(com.mingus.reliability.bus.NotificationType.BANK_MAINTENANCE);
    assertThat(maintenance.priority().wire()).isEqualTo("low");
    assertThat(maintenance.channels()).extracting(c -> c.wire()).containsExactly("email", "in_app");
    assertThat(maintenance.inApp()).isEqualTo(
        "Bank maintenance in progress for {institution_name}. Expected completion: {completion_time}");
  }

  @Test
  void quietHoursAcrossMidnightEndAtTheNextMorningInTheUsersZone() {
    java.time.ZoneId zone = java.time.ZoneId.of("Europe/Berlin");
    Preferences prefs = new Preferences("u", zone, java.time.LocalTime.of(22, 0), java.time.LocalTime.of(7, 0),
        new JsonObject(), null, null, java.util.List.of(), null, null, null);
    java.time.Instant lateEvening = java.time.ZonedDateTime.of(2026, 3, 28, 23, 30, 0, 0, zone).toInstant();
    // the night the clocks go forward: 07:00 local on the 29th is 05:00 UTC
    assertThat(prefs.quietUntil(lateEvening)).isEqualTo(java.time.Instant.parse("2026-03-29T05:00:00Z"));
    java.time.Instant earlyMorning = java.time.ZonedDateTime.of(2026, 3, 29, 6, 0, 0, 0, zone).toInstant();
    assertThat(prefs.quietUntil(earlyMorning)).isEqualTo(java.time.Instant.parse("2026-03-29T05:00:00Z"));
    assertThat(prefs.quietUntil(java.time.ZonedDateTime.of(2026, 3, 29, 12, 0, 0, 0, zone).toInstant())).isNull();
  }

  @Test
  void webhooksRetryOnTheStandardWebhooksScheduleScaledByTheTimeScale() {
    RetrySchedule schedule = new RetrySchedule(new JsonObject().put("time_scale", 0.001));
    com.mingus.reliability.bus.NotificationChannel webhook = com.mingus.reliability.bus.NotificationChannel.WEBHOOK;
    assertThat(schedule.maxAttempts(webhook)).isEqualTo(8);
    long[] delays = new long[9];
    for (int i = 0; i < 9; i++) {
      delays[i] = schedule.delayMs(webhook, i);
    }
    // immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then the dead letter
    assertThat(delays).containsExactly(0, 5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, -1);
  }
}
