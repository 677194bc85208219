package com.mingus.reliability.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.InstitutionHealth;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two notify deployments on one database stand for two nodes: each receives every publish of
 * {@code institution.changed} and {@code sync.completed}, and the operators hear of each thing once (the
 * alert's unique dedupe key decides who writes its outbox rows). A failed half-open probe re-opening the
 * circuit is the same outage and alerts nobody; a closed circuit opening again is a new one.
 */
class OperatorAlertsOnceTest {
  private static Vertx vertx;
  private static DatabaseTarget db;
  private static Receivers.WebhookEndpoint endpoint;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    MessageCodecs.register(vertx.eventBus());
    endpoint = new Receivers.WebhookEndpoint(vertx);
    endpoint.secret = StandardWebhooks.newSecret();
    int deadSmtp;
    try (ServerSocket socket = new ServerSocket(0)) {
      deadSmtp = socket.getLocalPort();
    }
    JsonObject config = new JsonObject()
        .put("crypto", TestApp.cryptoConfig())
        .put("database", Pools.connectionConfig(db = TestDatabase.fresh(OperatorAlertsOnceTest.class), 4))
        .put("smtp", new JsonObject().put("host", "127.0.0.1").put("port", deadSmtp).put("starttls", "DISABLED"))
        .put("poll_interval_ms", 50)
        .put("webhook", new JsonObject().put("allow_loopback", true))
        .put("operator", new JsonObject().put("webhook_url", endpoint.url("/ops")).put("webhook_secret", endpoint.secret));
    for (int node = 0; node < 2; node++) {
      Await.result(vertx.deployVerticle(new NotifyVerticle(), new DeploymentOptions().setConfig(config)));
    }
  }

  @AfterAll
  static void stop() {
    Await.result(vertx.close());
  }

  private static InstitutionHealth bank(String circuit, Instant since) {
    return new InstitutionHealth("ins_twice", "Twice Bank", circuit, since, "failures", null, new JsonObject(),
        new JsonObject().put("state", "none"), null, Instant.now());
  }

  private static List<Receivers.Received> hooks(String type) {
    return endpoint.received.stream().filter(r -> r.plaintext().contains("\"type\":\"" + type + "\"")).toList();
  }

  /** Nothing more is told for a while: each publish has reached both deployments and been decided. */
  private static void staysAt(String type, int count) {
    Await.holds(() -> hooks(type).size() == count, Duration.ofMillis(600), "exactly " + count + " " + type);
  }

  @Test
  void eachOpeningAndEachDriftIsToldOnceThoughEveryNodeHearsIt() throws Exception {
    Instant opened = Instant.parse("2026-01-01T10:00:00.123456Z");
    var bus = vertx.eventBus();
    bus.publish(Addresses.INSTITUTION_CHANGED, bank("open", opened));
    bus.publish(Addresses.INSTITUTION_CHANGED, bank("open", opened)); // the same state again (new success rates)
    Await.until(() -> hooks("operator.circuit_open").size() == 1, Duration.ofSeconds(10), "the opening is told");
    // a failed probe: half_open, then open with a new circuit_since; the same outage
    bus.publish(Addresses.INSTITUTION_CHANGED, bank("half_open", opened.plusSeconds(60)));
    bus.publish(Addresses.INSTITUTION_CHANGED, bank("open", opened.plusSeconds(61)));
    staysAt("operator.circuit_open", 1);
    assertThat(hooks("operator.circuit_open").get(0).verified()).isTrue();
    assertThat(Sql.number(db, "SELECT count(*) FROM operator_alerts WHERE kind = 'circuit_open'")).isEqualTo(1);

    // closed, then open again: a new outage, told once more
    bus.publish(Addresses.INSTITUTION_CHANGED, bank("closed", opened.plusSeconds(120)));
    Await.until(() -> Sql.strings(db, "SELECT circuit FROM operator_circuits WHERE institution_id = 'ins_twice'")
        .equals(java.util.List.of("closed")), Duration.ofSeconds(10), "the closing is recorded");
    bus.publish(Addresses.INSTITUTION_CHANGED, bank("open", opened.plusSeconds(600)));
    Await.until(() -> hooks("operator.circuit_open").size() == 2, Duration.ofSeconds(10), "the second outage is told");
    staysAt("operator.circuit_open", 2);

    JsonObject detail = new JsonObject().put("reconciliation", new JsonObject().put("trigger", "scheduled")
        .put("status", "repaired").put("start_date", "2025-01-01").put("end_date", "2026-01-01").put("checked", 10)
        .put("missing", 1).put("extra", 0).put("changed", 2).put("balances_changed", 0).put("balances_checked", 1));
    SyncEvent completed = new SyncEvent(SyncEvent.COMPLETED, "conn_twice", "user-twice", "item_twice", "ins_twice",
        "Twice Bank", "7d1f2b9e-6f35-4c1a-9c55-1b2a3c4d5e6f", "periodic", "success", Instant.now().toString(), 10L, 0, 0, 0,
        null, null, null, null, null, detail);
    bus.publish(Addresses.SYNC_COMPLETED, completed);
    bus.publish(Addresses.SYNC_COMPLETED, completed.toJson()); // as another node's publish arrives: JSON
    Await.until(() -> hooks("operator.reconciliation_drift").size() == 1, Duration.ofSeconds(10), "the drift is told");
    staysAt("operator.reconciliation_drift", 1);
    assertThat(hooks("operator.reconciliation_drift").get(0).plaintext()).contains("\"missing\":1", "\"changed\":2");
    // a clean reconciliation tells nobody
    JsonObject clean = detail.copy();
    clean.getJsonObject("reconciliation").put("missing", 0).put("changed", 0);
    bus.publish(Addresses.SYNC_COMPLETED, new SyncEvent(SyncEvent.COMPLETED, "conn_twice", "user-twice", "item_twice",
        "ins_twice", "Twice Bank", "0e0a7c53-0d8c-47a4-bb47-3c2b8f8e1a11", "periodic", "success", Instant.now().toString(),
        10L, 0, 0, 0, null, null, null, null, null, clean));
    Await.holds(() -> Sql.number(db, "SELECT count(*) FROM operator_alerts WHERE kind = 'reconciliation_drift'") == 1,
        Duration.ofMillis(600), "a clean reconciliation tells nobody");
  }
}
