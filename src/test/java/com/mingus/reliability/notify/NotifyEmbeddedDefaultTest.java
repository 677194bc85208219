package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.NotifySendTest;
import com.mingus.reliability.bus.NotifyTestResult;
import com.mingus.reliability.bus.PingReply;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestApp;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The whole application with no SMTP server configured: mail goes to the embedded sink the dashboard lists. */
class NotifyEmbeddedDefaultTest {

  @Test
  void withoutAnSmtpHostMailIsCaughtByTheEmbeddedSinkAndListedWithoutItsBody() {
    try (Application app = TestApp.start(NotifyEmbeddedDefaultTest.class)) {
      PingReply ping = NotifyVerticleTest.await(Bus.request(app.vertx(), Addresses.ping("notify"), new JsonObject(), 5_000));
      assertThat(ping.healthy()).isTrue();
      assertThat(Http.get(app.httpPort(), "/api/reliability/health").json().getJsonObject("checks").fieldNames())
          .contains("notify");

      NotifyTestResult result = NotifyVerticleTest.await(Bus.request(app.vertx(), Addresses.NOTIFY_SEND_TEST,
          new NotifySendTest("demo-user", "bank_maintenance", List.of("email", "in_app"), "Dana", "dana@example.com", null),
          15_000));
      assertThat(result.success()).as(result.toJson().encode()).isTrue();
      assertThat(result.deliveryResults()).extracting(r -> r.message())
          .containsExactly("Email sent successfully", "In-app notification created");

      JsonObject sink = NotifyVerticleTest.await(Bus.request(app.vertx(), Addresses.NOTIFY_SINK_MESSAGES,
          new JsonObject().put("limit", 10), 5_000));
      assertThat(sink.getBoolean("enabled")).isTrue();
      assertThat(sink.getJsonArray("messages")).hasSize(1);
      JsonObject mail = sink.getJsonArray("messages").getJsonObject(0);
      assertThat(mail.getString("subject")).isEqualTo("Bank Maintenance - Temporary Service Interruption");
      assertThat(mail.getJsonArray("to").getString(0)).isEqualTo("dana@example.com");
      assertThat(mail.fieldNames()).doesNotContain("body", "text", "html");
    }
  }
}
