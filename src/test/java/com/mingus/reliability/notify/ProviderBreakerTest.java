package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.DeliveryAttempt;
import com.mingus.reliability.bus.DeliveryStatus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.NotifyDeliveries;
import com.mingus.reliability.bus.NotifyPreferences;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.NotifySendResult;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The mail server down for longer than the e-mail retry schedule lasts (four attempts in 1.5 s here): without
 * a breaker every mail would be dead-lettered within a fraction of a second. With the provider breaker (open
 * after 3 failures in a row) the mails wait in the outbox on their first attempt, none dead-lettered, none tried
 * again while the breaker is open; when the server is back a probe closes it and every mail arrives once.
 */
class ProviderBreakerTest {
  private static Vertx vertx;
  private static int smtpPort;
  private static GreenMail greenMail;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    MessageCodecs.register(vertx.eventBus());
    try (ServerSocket socket = new ServerSocket(0)) {
      smtpPort = socket.getLocalPort();
    }
    JsonObject config = new JsonObject()
        .put("crypto", TestApp.cryptoConfig())
        .put("database", Pools.connectionConfig(TestDatabase.fresh(ProviderBreakerTest.class), 4))
        .put("smtp", new JsonObject().put("host", "127.0.0.1").put("port", smtpPort)
            .put("from", "MINGUS <no-reply@mingus.test>").put("starttls", "DISABLED"))
        .put("poll_interval_ms", 50)
        .put("breaker", new JsonObject().put("max_failures", 3).put("reset_timeout_ms", 4_000))
        .put("retry", new JsonObject().put("time_scale", 1.0)
            .put("email", new JsonArray().add(0).add(0.5).add(0.5).add(0.5)));
    Await.result(vertx.deployVerticle(new NotifyVerticle(), new DeploymentOptions().setConfig(config)));
  }

  @AfterAll
  static void stop() {
    Await.result(vertx.close());
    if (greenMail != null) {
      greenMail.stop();
    }
  }

  @Test
  void mailWaitsBehindAnOpenBreakerInsteadOfSpendingItsRetriesThenArrivesOnce() throws Exception {
    String user = "breaker-user";
    String address = "breaker@example.com";
    Await.result(Bus.request(vertx, Addresses.NOTIFY_PREFERENCES_PUT, new NotifyPreferences(user, "UTC", null, null, null,
        address, null, List.of(), null, null, false, null), 10_000));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      NotifySendResult sent = Await.result(Bus.request(vertx, Addresses.NOTIFY_SEND, new NotifySend(user,
          "plaid_connection_issue", "conn-" + i, null, new JsonObject().put("institution_name", "Bank " + i),
          List.of("email"), null, "Ada", null), 10_000));
      ids.add(sent.notificationId());
    }
    // the first failures open the breaker; mails claimed before it opened were tried once, the rest wait untried
    Await.until(() -> ids.stream().filter(id -> email(id).attemptCount() >= 1).count() >= 3, Duration.ofSeconds(10),
        "the first mails fail until the breaker opens");
    // longer than the whole retry schedule (1.5 s): without the breaker each mail would spend its four attempts
    // and go dead; the first failures all come long before any retry is due, so none is tried twice
    Await.holds(() -> ids.stream().map(ProviderBreakerTest::email)
            .allMatch(waiting -> !"failed".equals(waiting.status()) && waiting.attemptCount() <= 1),
        Duration.ofMillis(1_600), "every mail waits, on its first attempt or untried; none failed, none tried again");

    greenMail = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    greenMail.start();
    Await.until(() -> ids.stream().allMatch(id -> "sent".equals(email(id).status())), Duration.ofSeconds(15),
        "the probe closes the breaker and every mail goes out");
    assertThat(Arrays.stream(greenMail.getReceivedMessages())).hasSize(8);
    for (String id : ids) {
      List<String> outcomes = email(id).attempts().stream().map(DeliveryAttempt::outcome).toList();
      // sent once, last; before it only waits: at most its first try and a probe that found the server still down
      assertThat(outcomes).last().isEqualTo("sent");
      assertThat(outcomes.subList(0, outcomes.size() - 1)).hasSizeLessThanOrEqualTo(2).isSubsetOf("retrying");
    }
  }

  private static DeliveryStatus email(String notificationId) {
    NotifyDeliveries answer = Await.result(Bus.request(vertx, Addresses.NOTIFY_DELIVERIES,
        NotifyDeliveries.query(null, notificationId), 10_000));
    return answer.deliveries().stream().filter(d -> d.channel().equals("email")).findFirst().orElseThrow();
  }
}
