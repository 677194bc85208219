package com.mingus.reliability.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.InstitutionHealth;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A bank outage end to end: the whole application against the sandbox, the bank put into maintenance through
 * the control surface. Its connections' syncs fail with INSTITUTION_DOWN, health opens the bank's circuit,
 * sync pauses the bank, only probes reach the sandbox, and when the bank returns everyone resumes.
 * Plaid's status is not polled here (a long poll interval), so it is our own failures that open the circuit.
 */
class HealthOutageTest {
  private static final String BANK = "ins_outage";
  private static Application app;
  private static SandboxControl sandbox;
  private static final List<SyncEvent> syncs = new CopyOnWriteArrayList<>();
  private static final List<InstitutionHealth> bankEvents = new CopyOnWriteArrayList<>();
  private static final List<NotifySend> notifications = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    DatabaseTarget db = TestDatabase.fresh(HealthOutageTest.class);
    Map<String, Object> config = new HashMap<>();
    config.put("sync.poll_interval_ms", 200);
    config.put("sync.resume_spread_ms", 500);
    config.put("plaid.timeouts.total_ms", 3000);
    // Without the pause, a failed connection would be retried every 1-2 s: the sandbox would see it.
    config.put("classify.retry_strategies.bank_maintenance.base_delay_s", 1);
    config.put("classify.retry_strategies.bank_maintenance.max_delay_s", 2);
    config.put("health.poll_interval_ms", 600_000);
    config.put("health.coalesce_ms", 100);
    config.put("health.institution_coalesce_ms", 0);
    config.put("health.circuit.window_ms", 30_000);
    config.put("health.circuit.min_connections", 3);
    config.put("health.circuit.open_ms", 1_500);
    config.put("health.circuit.probe_timeout_ms", 5_000);
    config.put("health.metrics_interval_ms", 300);
    app = TestApp.start(db, Map.of(), config);
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution(BANK, "Outage Bank");
    var bus = app.vertx().eventBus();
    for (String address : List.of(Addresses.SYNC_STARTED, Addresses.SYNC_COMPLETED, Addresses.SYNC_FAILED)) {
      bus.<SyncEvent>consumer(address, m -> syncs.add(m.body()));
    }
    bus.<InstitutionHealth>consumer(Addresses.INSTITUTION_CHANGED, m -> bankEvents.add(m.body()));
    // the real notify verticle answers notify.send; requests are counted as they leave
    bus.addOutboundInterceptor(context -> {
      if (Addresses.NOTIFY_SEND.equals(context.message().address()) && context.message().body() instanceof NotifySend send) {
        notifications.add(send);
      }
      context.next();
    });
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static JsonObject register(String userId) {
    JsonObject item = sandbox.item(BANK, userId, 5);
    JsonObject connection = Await.result(Bus.request(app.vertx(), Addresses.SYNC_REGISTER,
        new JsonObject().put("user_id", userId).put("public_token", item.getString("public_token")), 15_000));
    return connection.put("item_id", item.getString("item_id"));
  }

  private static JsonObject health(String connectionId) {
    // a connection just registered may not be applied yet: an empty health until it is
    return Await.result(Bus.<JsonObject>request(app.vertx(), Addresses.HEALTH_CONNECTION,
        new JsonObject().put("connection_id", connectionId), 5_000)
        .recover(failure -> io.vertx.core.Future.succeededFuture(new JsonObject())));
  }

  private static boolean circuitWas(String state) {
    return bankEvents.stream().anyMatch(e -> e.institutionId().equals(BANK) && e.circuit().equals(state));
  }

  @Test
  void aBankInMaintenanceIsOneEventPausedProbedAndResumed() {
    List<JsonObject> connections = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      connections.add(register("outage-user-" + i));
    }
    List<String> ids = connections.stream().map(c -> c.getString("connection_id")).toList();
    Await.until(() -> ids.stream().allMatch(id -> health(id).getLong("sync_success_count", 0L) >= 1),
        Duration.ofSeconds(20), "every connection's first sync completes");

    sandbox.post("/__control/institutions/" + BANK + "/maintenance",
        new JsonObject().put("until", Instant.now().plusSeconds(9).toString()));
    Instant maintenanceEnds = Instant.now().plusSeconds(9);
    // Three of the four users ask for fresh data: each sync meets INSTITUTION_DOWN.
    for (int i = 0; i < 3; i++) {
      Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW, new JsonObject()
          .put("user_id", "outage-user-" + (i + 1)).put("connection_id", ids.get(i)), 5_000));
    }
    Await.until(() -> circuitWas("open"), Duration.ofSeconds(10), "the bank's circuit opens");
    InstitutionHealth opened = bankEvents.stream().filter(e -> e.circuit().equals("open")).findFirst().orElseThrow();
    assertThat(opened.circuitReason()).isEqualTo("failures");
    assertThat(opened.name()).isEqualTo("Outage Bank");

    // From here until the bank returns, only probes may reach the sandbox for this bank's Items.
    int fromEvent = syncs.size();
    Map<String, Long> before = new HashMap<>();
    for (JsonObject c : connections) {
      before.put(c.getString("item_id"), sandbox.itemRequests(c.getString("item_id")));
    }
    Await.until(() -> ids.stream().allMatch(id -> "maintenance".equals(health(id).getString("status"))),
        Duration.ofSeconds(5), "every connection of the bank is in maintenance, the fourth included");
    long untilEnd = Duration.between(Instant.now(), maintenanceEnds).toMillis() - 500;
    sleep(Math.max(0, untilEnd));
    Map<String, Long> during = new HashMap<>();
    for (JsonObject c : connections) {
      during.put(c.getString("item_id"), sandbox.itemRequests(c.getString("item_id")) - before.get(c.getString("item_id")));
    }
    List<SyncEvent> startedDuring = syncs.subList(fromEvent, syncs.size()).stream()
        .filter(e -> e.kind().equals(SyncEvent.STARTED) && ids.contains(e.connectionId())).toList();
    assertThat(startedDuring).as("syncs of the bank's connections while it was down").isNotEmpty()
        .allMatch(e -> "probe".equals(e.trigger()), "are all probes");
    assertThat(startedDuring.size()).as("the half-open state probed more than once").isGreaterThanOrEqualTo(2);
    long probeCalls = during.values().stream().mapToLong(Long::longValue).sum();
    assertThat(probeCalls).as("sandbox calls during the outage: one per probe at most")
        .isPositive().isLessThanOrEqualTo(startedDuring.size());
    for (JsonObject c : connections) {
      boolean probed = startedDuring.stream().anyMatch(e -> e.connectionId().equals(c.getString("connection_id")));
      if (!probed) {
        assertThat(during.get(c.getString("item_id"))).as("an unprobed connection is left alone").isZero();
      }
    }

    Await.until(() -> circuitWas("closed"), Duration.ofSeconds(15), "the circuit closes when the bank answers");
    Await.until(() -> ids.stream().allMatch(id -> "active".equals(health(id).getString("status"))),
        Duration.ofSeconds(10), "everyone is active again");
    // the three that failed were waiting to retry: the resume lets each of them sync (the fourth was not due)
    Await.until(() -> ids.subList(0, 3).stream().allMatch(id -> syncs.stream().anyMatch(e -> e.kind().equals(SyncEvent.COMPLETED)
            && e.connectionId().equals(id) && !e.at().isEmpty() && Instant.parse(e.at()).isAfter(maintenanceEnds.minusSeconds(1)))),
        Duration.ofSeconds(10), "every connection that waited syncs again after the resume");
    JsonObject after = health(ids.get(3));
    assertThat(after.getBoolean("maintenance_mode")).isFalse();
    assertThat(after.getValue("maintenance_until")).isNull();
    assertThat(after.getValue("last_error")).isNull();

    List<String> told = List.of("maintenance_started", "maintenance_ended");
    java.util.function.Predicate<String> toldOnce = id -> notifications.stream().filter(n -> id.equals(n.connectionId()))
        .map(n -> n.data().getString("kind")).toList().equals(told);
    Await.until(() -> ids.stream().allMatch(toldOnce), Duration.ofSeconds(5), "each change of state told");
    Await.holds(() -> ids.stream().allMatch(toldOnce), Duration.ofMillis(500),
        "exactly one notification per change of state, and no more");
    JsonObject institutions = Await.result(Bus.request(app.vertx(), Addresses.HEALTH_INSTITUTIONS, new JsonObject(), 5_000));
    JsonObject bank = institutions.getJsonArray("institutions").stream().map(JsonObject.class::cast)
        .filter(b -> b.getString("institution_id").equals(BANK)).findFirst().orElseThrow();
    assertThat(bank.getString("circuit")).isEqualTo("closed");
    assertThat(bank.getJsonObject("success_rates").getJsonObject("5m").getDouble("rate")).isBetween(1.0, 99.0);
    JsonObject overview = Await.result(Bus.request(app.vertx(), Addresses.HEALTH_OVERVIEW, new JsonObject(), 5_000));
    assertThat(overview.getJsonObject("connections").getLong("active")).isEqualTo(4);
    Await.until(() -> scrape().contains("mingus_health_connections{status=\"active\"} 4.0"),
        Duration.ofSeconds(5), "the Prometheus scrape shows the connections per status");
    String scrape = scrape();
    assertThat(scrape).contains("mingus_health_circuit_transitions_total{event=\"trip\",to=\"open\"} 1.0")
        .contains("mingus_health_institutions{circuit=\"closed\"}").contains("mingus_health_reliability_score");
  }

  private static String scrape() {
    try {
      // HTTP/1.1: the JDK client's h2c upgrade on a large plain-text body is what made this flaky
      return Http.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://127.0.0.1:" + app.httpPort() + "/metrics"))
          .version(java.net.http.HttpClient.Version.HTTP_1_1).GET()).body();
    } catch (IllegalStateException transientFailure) {
      return "";
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
