package com.mingus.reliability.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.InstitutionHealth;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scheduled maintenance end to end: Plaid's institution status (polled under a background permit) shows a
 * SCHEDULED incident; users hear before it begins; when it begins the bank's circuit opens with the window's
 * end as maintenance_until; when it ends a probe closes the circuit and users hear that it is over.
 */
class HealthScheduledMaintenanceTest {
  private static final String BANK = "ins_scheduled";
  private static Application app;
  private static SandboxControl sandbox;
  private static final List<InstitutionHealth> bankEvents = new CopyOnWriteArrayList<>();
  private static final List<NotifySend> notifications = new CopyOnWriteArrayList<>();
  private static final Map<NotifySend, Instant> sentAt = new ConcurrentHashMap<>();

  @BeforeAll
  static void start() {
    DatabaseTarget db = TestDatabase.fresh(HealthScheduledMaintenanceTest.class);
    Map<String, Object> config = new HashMap<>();
    config.put("sync.poll_interval_ms", 200);
    config.put("sync.resume_spread_ms", 300);
    config.put("health.poll_interval_ms", 400);
    config.put("health.institution_coalesce_ms", 0);
    config.put("health.circuit.open_ms", 1_000);
    config.put("health.circuit.probe_timeout_ms", 5_000);
    app = TestApp.start(db, Map.of(), config);
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution(BANK, "Scheduled Bank");
    var bus = app.vertx().eventBus();
    bus.<InstitutionHealth>consumer(Addresses.INSTITUTION_CHANGED, m -> bankEvents.add(m.body()));
    // the real notify verticle answers notify.send; requests are counted as they leave
    bus.addOutboundInterceptor(context -> {
      if (Addresses.NOTIFY_SEND.equals(context.message().address()) && context.message().body() instanceof NotifySend send) {
        notifications.add(send);
        sentAt.put(send, Instant.now());
      }
      context.next();
    });
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static String register(String userId) {
    JsonObject item = sandbox.item(BANK, userId, 5);
    JsonObject connection = Await.result(Bus.request(app.vertx(), Addresses.SYNC_REGISTER,
        new JsonObject().put("user_id", userId).put("public_token", item.getString("public_token")), 15_000));
    return connection.getString("connection_id");
  }

  private static JsonObject health(String connectionId) {
    // a connection just registered may not be applied yet: an empty health until it is
    return Await.result(Bus.<JsonObject>request(app.vertx(), Addresses.HEALTH_CONNECTION,
        new JsonObject().put("connection_id", connectionId), 5_000)
        .recover(failure -> io.vertx.core.Future.succeededFuture(new JsonObject())));
  }

  private static List<String> kinds(String connectionId) {
    return notifications.stream().filter(n -> connectionId.equals(n.connectionId()))
        .map(n -> n.data().getString("kind")).toList();
  }

  @Test
  void scheduledMaintenanceIsKnownAndToldBeforeItBegins() {
    List<String> ids = List.of(register("sched-user-1"), register("sched-user-2"));
    Await.until(() -> ids.stream().allMatch(id -> health(id).getLong("sync_success_count", 0L) >= 1),
        Duration.ofSeconds(20), "first syncs complete");

    Instant from = Instant.now().plusSeconds(7).truncatedTo(ChronoUnit.SECONDS);
    Instant until = from.plusSeconds(4);
    sandbox.post("/__control/institutions/" + BANK + "/maintenance",
        new JsonObject().put("from", from.toString()).put("until", until.toString()));

    Await.until(() -> ids.stream().allMatch(id -> kinds(id).contains("maintenance_scheduled")), Duration.ofSeconds(6),
        "users hear about the scheduled maintenance");
    for (NotifySend told : notifications) {
      assertThat(sentAt.get(told)).as("told before it begins").isBefore(from);
      assertThat(told.type()).isEqualTo("bank_maintenance");
      assertThat(told.data().getString("completion_time")).isEqualTo(until.toString());
      assertThat(told.dedupeKey()).endsWith(":maintenance_scheduled:" + from);
    }
    InstitutionHealth scheduled = bankEvents.stream()
        .filter(e -> "scheduled".equals(e.maintenance().getString("state"))).findFirst().orElseThrow();
    assertThat(scheduled.maintenance().getString("from")).isEqualTo(from.toString());
    assertThat(scheduled.maintenance().getString("until")).isEqualTo(until.toString());
    assertThat(scheduled.circuit()).isEqualTo("closed");
    assertThat(health(ids.get(0)).getString("status")).as("nothing has happened yet").isEqualTo("active");

    Await.until(() -> ids.stream().allMatch(id -> "maintenance".equals(health(id).getString("status"))),
        Duration.ofSeconds(10), "when it begins, the connections are in maintenance");
    JsonObject during = health(ids.get(0));
    assertThat(during.getBoolean("maintenance_mode")).isTrue();
    assertThat(during.getString("maintenance_until")).as("from the incident").isEqualTo(until.toString());
    InstitutionHealth open = bankEvents.stream().filter(e -> "open".equals(e.circuit())).findFirst().orElseThrow();
    assertThat(open.circuitReason()).isEqualTo("maintenance");
    // opened by the window's own clock at its start, not by the next poll (which then sees Plaid's DOWN)
    assertThat(open.circuitSince()).isBetween(from, from.plusMillis(500));
    Await.until(() -> bankEvents.stream().anyMatch(e -> "open".equals(e.circuit()) && "DOWN".equals(e.plaidStatus())),
        Duration.ofSeconds(3), "the poll sees Plaid's DOWN");

    Await.until(() -> ids.stream().allMatch(id -> "active".equals(health(id).getString("status"))),
        Duration.ofSeconds(12), "when it ends, everyone is active again");
    assertThat(bankEvents.get(bankEvents.size() - 1).circuit()).isEqualTo("closed");
    List<String> told = List.of("maintenance_scheduled", "maintenance_started", "maintenance_ended");
    Await.until(() -> ids.stream().allMatch(id -> kinds(id).equals(told)), Duration.ofSeconds(5), "each change told");
    Await.holds(() -> ids.stream().allMatch(id -> kinds(id).equals(told)), Duration.ofMillis(500),
        "one notification per change, and no more");
    // notify took each request: the user's in-app list holds the three, for this connection
    for (int i = 0; i < ids.size(); i++) {
      String user = "sched-user-" + (i + 1);
      String id = ids.get(i);
      Await.until(() -> inApp(user).stream().filter(n -> id.equals(n.connectionId())).count() == 3,
          Duration.ofSeconds(10), "notify stored the three notifications of " + user);
      assertThat(inApp(user)).allMatch(n -> n.type().equals("bank_maintenance"));
    }
  }

  private static List<com.mingus.reliability.bus.NotificationView> inApp(String userId) {
    com.mingus.reliability.bus.NotificationPage page = Await.result(Bus.request(app.vertx(), Addresses.NOTIFY_LIST,
        new com.mingus.reliability.bus.NotifyList(userId, 50, null, false), 5_000));
    return page.notifications();
  }

}
