package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.DeliveryStatus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotifyDeliveries;
import com.mingus.reliability.bus.NotifyPreferences;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.NotifySendResult;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The outbox across a process that stops: nothing committed is lost, and a dead instance's lease runs out. */
class NotifyOutboxRecoveryTest {

  @Test
  void deliveriesWrittenBeforeAStopAreSentOnceByTheNextProcessIncludingOneLeftLeasedByADeadInstance() throws Exception {
    DatabaseTarget db = TestDatabase.fresh(NotifyOutboxRecoveryTest.class);
    int smtpPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      smtpPort = socket.getLocalPort();
    }
    JsonObject config = new JsonObject()
        .put("crypto", com.mingus.reliability.testsupport.TestApp.cryptoConfig())
        .put("database", Pools.connectionConfig(db, 2))
        .put("smtp", new JsonObject().put("host", "127.0.0.1").put("port", smtpPort).put("starttls", "DISABLED"))
        .put("poll_interval_ms", 50)
        .put("lease_s", 1)
        .put("retry", new JsonObject().put("email", new JsonArray().add(0).add(0.3).add(0.3).add(0.3).add(0.3).add(0.3)));

    Vertx first = Vertx.vertx();
    MessageCodecs.register(first.eventBus());
    List<String> ids = new ArrayList<>();
    try {
      NotifyVerticleTest.await(first.deployVerticle(new NotifyVerticle(), new DeploymentOptions().setConfig(config)));
      NotifyVerticleTest.await(Bus.request(first, Addresses.NOTIFY_PREFERENCES_PUT, new NotifyPreferences("restart-user",
          "UTC", null, null, null, "restart@example.com", null, List.of(), null, null, false, null), 10_000));
      for (int i = 0; i < 3; i++) {
        NotifySendResult result = NotifyVerticleTest.await(Bus.request(first, Addresses.NOTIFY_SEND,
            new NotifySend("restart-user", NotificationType.ACCOUNT_UPDATE.wire(), null, null, new JsonObject(),
                List.of("email"), null, null, null), 10_000));
        ids.add(result.notificationId());
      }
    } finally {
      NotifyVerticleTest.await(first.close());
    }
    // one delivery as an instance leaves it when it dies mid-send: claimed, leased, never recorded
    TestDatabase.execute(db, "UPDATE notify_deliveries SET lease_owner = 'dead-instance', lease_until = now() + interval '1 second', "
        + "status = 'pending', next_attempt_at = now() WHERE notification_id = '" + ids.get(0) + "'");

    GreenMail greenMail = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    greenMail.start();
    Vertx second = Vertx.vertx();
    MessageCodecs.register(second.eventBus());
    try {
      NotifyVerticleTest.await(second.deployVerticle(new NotifyVerticle(), new DeploymentOptions().setConfig(config)));
      Await.until(() -> greenMail.getReceivedMessages().length >= 3, Duration.ofSeconds(15), "the three mails");
      Await.holds(() -> greenMail.getReceivedMessages().length == 3, Duration.ofMillis(500), "three mails, no copy");
      for (String id : ids) {
        NotifyDeliveries answer = NotifyVerticleTest.await(Bus.request(second, Addresses.NOTIFY_DELIVERIES,
            NotifyDeliveries.query("restart-user", id), 10_000));
        DeliveryStatus email = answer.deliveries().get(0);
        assertThat(email.status()).isEqualTo("sent");
        assertThat(email.attempts().get(email.attempts().size() - 1).outcome()).isEqualTo("sent");
      }
    } finally {
      NotifyVerticleTest.await(second.close());
      greenMail.stop();
    }
  }
}
