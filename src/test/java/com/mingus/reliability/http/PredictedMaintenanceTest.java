package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.InstitutionHealth;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonArray;
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
 * Predictive maintenance end to end (docs/health.md, "Predicted maintenance"): a bank whose history shows the
 * same outage every day at the same time has its next window predicted and shown over the API; its connections
 * sync ahead of the window; at the window's start its circuit opens and its syncs pause, with no failure seen
 * and Plaid saying nothing (a user's sync-now waits); at the window's end a probe closes the circuit and the
 * held sync runs. And Plaid's own scheduled maintenance with no end time gets the learned window's end as
 * maintenance_until. The history is the rows health records when a circuit opens and closes, written for the
 * past days (no test can wait a week); everything after is the running server against the sandbox over HTTP.
 */
class PredictedMaintenanceTest {
  private static final long WINDOW_S = 6;
  private static DatabaseTarget db;
  private static Application app;
  private static SandboxControl sandbox;
  private static ApiCaller operator;
  private static final List<InstitutionHealth> bankEvents = new CopyOnWriteArrayList<>();
  private static final List<SyncEvent> syncs = new CopyOnWriteArrayList<>();
  private static final Map<SyncEvent, Instant> syncedAt = new ConcurrentHashMap<>();
  private static final List<SyncEvent> failures = new CopyOnWriteArrayList<>();
  private static final List<NotifySend> notifications = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    db = TestDatabase.fresh(PredictedMaintenanceTest.class);
    Map<String, Object> config = new HashMap<>();
    config.put("sync.poll_interval_ms", 200);
    config.put("sync.resume_spread_ms", 300);
    // Plaid's status is polled seldom here: a window's start is acted on by its clock, not found by a poll
    config.put("health.poll_interval_ms", 1_500);
    config.put("health.institution_coalesce_ms", 0);
    config.put("health.circuit.open_ms", 1_000);
    config.put("health.circuit.probe_timeout_ms", 5_000);
    config.put("health.maintenance.forecast_interval_ms", 500);
    config.put("health.maintenance.sync_ahead_ms", 4_000);
    app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET), config);
    sandbox = new SandboxControl(app.sandboxPort());
    operator = ApiCaller.admin(app, "olga");
    var bus = app.vertx().eventBus();
    bus.<InstitutionHealth>consumer(Addresses.INSTITUTION_CHANGED, m -> bankEvents.add(m.body()));
    bus.<SyncEvent>consumer(Addresses.SYNC_COMPLETED, m -> {
      syncs.add(m.body());
      syncedAt.put(m.body(), Instant.now());
    });
    bus.<SyncEvent>consumer(Addresses.SYNC_FAILED, m -> failures.add(m.body()));
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

  @Test
  void aLearnedDailyWindowIsShownSyncedAheadOfPausedAtItsStartAndResumedAtItsEnd() {
    String bank = "ins_predicted";
    sandbox.institution(bank, "Nightly Bank");
    ApiCaller user = ApiCaller.user(app, "pia");
    JsonObject first = sandbox.item(bank, "pia", 5);
    JsonObject second = sandbox.item(bank, "pia", 5);
    String a = register(user, first);
    String b = register(user, second);
    Await.until(() -> completed(a, null) >= 1 && completed(b, null) >= 1, Duration.ofSeconds(20), "first syncs");

    Instant from = Instant.now().plusSeconds(10).truncatedTo(ChronoUnit.SECONDS);
    Instant until = from.plusSeconds(WINDOW_S);
    recordDailyOutages(bank, from, 5);

    // shown: on the bus and over the API, with what it was learned from
    Await.until(() -> predicted(bank) != null, Duration.ofSeconds(5), "the window is predicted");
    JsonObject predicted = predicted(bank);
    assertThat(predicted.getString("from")).isEqualTo(from.toString());
    assertThat(predicted.getString("until")).isEqualTo(until.toString());
    assertThat(predicted.getString("period")).isEqualTo("day");
    assertThat(predicted.getInteger("occurrences")).isEqualTo(5);
    assertThat(bankEvents.stream().filter(e -> bank.equals(e.institutionId()) && e.predictedMaintenance() != null)
        .findFirst().orElseThrow().circuit()).isEqualTo("closed");

    // synced ahead: each connection once more before the window, with the trigger that says why
    Await.until(() -> completed(a, "ahead") == 1 && completed(b, "ahead") == 1, Duration.ofSeconds(12),
        "both connections sync ahead of the window");
    for (SyncEvent ahead : syncs.stream().filter(s -> "ahead".equals(s.trigger())
        && (a.equals(s.connectionId()) || b.equals(s.connectionId()))).toList()) {
      assertThat(syncedAt.get(ahead)).as("ahead of the window").isBefore(from);
      assertThat(syncedAt.get(ahead)).as("not before the lead time").isAfter(from.minusMillis(4_500));
    }
    assertThat(health(user, a).getString("status"))
        .as("nothing has happened yet").isEqualTo("active");

    // paused at its start: no failure, Plaid healthy, and still the circuit opens with the learned end
    Await.until(() -> "maintenance".equals(status(user, a)) && "maintenance".equals(status(user, b)),
        Duration.ofSeconds(12), "the connections are in maintenance when the window begins");
    Instant pausedAt = Instant.now();
    assertThat(pausedAt).as("at the window's start").isAfter(from).isBefore(from.plusMillis(1_500));
    JsonObject during = health(user, a);
    assertThat(during.getString("maintenance_until")).as("the learned end").isEqualTo(until.toString());
    JsonObject institution = institution(bank);
    assertThat(institution.getString("circuit")).isEqualTo("open");
    assertThat(institution.getString("circuit_reason")).isEqualTo("predicted_maintenance");
    assertThat(institution.getString("status")).as("Plaid said nothing").isNotEqualTo("DOWN");
    assertThat(failures.stream().filter(s -> a.equals(s.connectionId()) || b.equals(s.connectionId())))
        .as("no sync failed to find it").isEmpty();

    // a user's sync-now during the window is accepted and waits: the bank is not called
    long requestsBefore = sandbox.itemRequests(first.getString("item_id"));
    Http.Response now = user.post("/api/reliability/connections/" + a + "/sync-now", new JsonObject());
    assertThat(now.status()).as(now.body()).isEqualTo(202);
    Await.until(() -> Instant.now().isAfter(until.minusMillis(300)), Duration.ofSeconds(10), "the window's end nears");
    assertThat(sandbox.itemRequests(first.getString("item_id"))).as("no call to the bank in its window")
        .isEqualTo(requestsBefore);
    assertThat(status(user, a)).isEqualTo("maintenance");

    // resumed at its end: a probe closes the circuit, the held sync runs, users are active again
    Await.until(() -> "active".equals(status(user, a)) && "active".equals(status(user, b)), Duration.ofSeconds(15),
        "both active after the window");
    Await.until(() -> syncs.stream().anyMatch(s -> a.equals(s.connectionId()) && syncedAt.get(s).isAfter(until)),
        Duration.ofSeconds(10), "the held sync ran after the window");
    assertThat(sandbox.itemRequests(first.getString("item_id"))).isGreaterThan(requestsBefore);
    assertThat(institution(bank).getString("circuit")).isEqualTo("closed");
    for (String id : List.of(a, b)) {
      assertThat(kinds(id)).as("told once when it began, once when it ended: " + id)
          .containsExactly("maintenance_started", "maintenance_ended");
    }
    // and the pause is history, marked as one the prediction caused (not learned from)
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM health_institution_outages WHERE institution_id = ? "
        + "AND reason = 'predicted_maintenance' AND ended_at IS NOT NULL", bank) == 1, Duration.ofSeconds(5),
        "the predicted pause is recorded");
    assertThat(Sql.strings(db, "SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        + "FROM health_institution_outages WHERE institution_id = ? AND reason = 'predicted_maintenance'", bank))
        .containsExactly(from.toString().substring(0, 19));
  }

  @Test
  void plaidsScheduledMaintenanceWithNoEndGetsTheLearnedEnd() {
    String bank = "ins_learned_end";
    sandbox.institution(bank, "Open-ended Bank");
    ApiCaller user = ApiCaller.user(app, "quinn");
    String id = register(user, sandbox.item(bank, "quinn", 5));
    Await.until(() -> completed(id, null) >= 1, Duration.ofSeconds(20), "first sync");

    Instant from = Instant.now().plusSeconds(8).truncatedTo(ChronoUnit.SECONDS);
    Instant learnedUntil = from.plusSeconds(WINDOW_S);
    recordDailyOutages(bank, from, 4);
    Await.until(() -> predicted(bank) != null, Duration.ofSeconds(5), "the window is predicted");
    // Plaid schedules it and says nothing of its end
    sandbox.post("/__control/institutions/" + bank + "/maintenance", new JsonObject().put("from", from.toString()));

    Await.until(() -> kinds(id).contains("maintenance_scheduled"), Duration.ofSeconds(6), "the user is told ahead");
    NotifySend told = notifications.stream().filter(n -> id.equals(n.connectionId())).findFirst().orElseThrow();
    assertThat(told.data().getString("completion_time")).as("the learned end").isEqualTo(learnedUntil.toString());
    JsonObject maintenance = institution(bank).getJsonObject("maintenance");
    assertThat(maintenance.getString("state")).isEqualTo("scheduled");
    assertThat(maintenance.getString("until")).isEqualTo(learnedUntil.toString());
    assertThat(maintenance.getString("until_source")).isEqualTo("predicted");

    Await.until(() -> "maintenance".equals(status(user, id)), Duration.ofSeconds(10), "in maintenance when it begins");
    assertThat(Instant.now()).as("at its start, by the window's clock").isBefore(from.plusMillis(1_200));
    assertThat(health(user, id).getString("maintenance_until"))
        .isEqualTo(learnedUntil.toString());
    assertThat(institution(bank).getString("circuit_reason")).isEqualTo("maintenance");

    Await.until(() -> Instant.now().isAfter(learnedUntil), Duration.ofSeconds(10), "the learned end");
    sandbox.delete("/__control/institutions/" + bank + "/maintenance");
    Await.until(() -> "active".equals(status(user, id)), Duration.ofSeconds(15), "active once Plaid says it is over");
    // Plaid confirmed this one: it is history the forecast learns from
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM health_institution_outages WHERE institution_id = ? "
        + "AND reason = 'maintenance' AND ended_at IS NOT NULL AND started_at = ?::timestamptz", bank,
        from.toString()) == 1, Duration.ofSeconds(5), "recorded with Plaid's start");
  }

  // --- helpers ------------------------------------------------------------------------------------------

  /** What health records when a circuit opens and closes, for the {@code days} days before: same time, same length. */
  private static void recordDailyOutages(String bank, Instant from, int days) {
    StringBuilder sql = new StringBuilder("INSERT INTO health_institution_outages (institution_id, started_at, ended_at, "
        + "reason) VALUES ");
    for (int day = 1; day <= days; day++) {
      Instant start = from.minus(Duration.ofDays(day));
      sql.append(day == 1 ? "" : ", ").append("('").append(bank).append("', '").append(start).append("', '")
          .append(start.plusSeconds(WINDOW_S)).append("', 'failures')");
    }
    Sql.execute(db, sql.toString());
  }

  private static String register(ApiCaller user, JsonObject item) {
    Http.Response created = user.post("/api/reliability/connections",
        new JsonObject().put("public_token", item.getString("public_token")));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    return created.json().getJsonObject("connection").getString("connection_id");
  }

  private static long completed(String connectionId, String trigger) {
    return syncs.stream().filter(s -> connectionId.equals(s.connectionId()) && SyncEvent.COMPLETED.equals(s.kind())
        && (trigger == null || trigger.equals(s.trigger()))).count();
  }

  private static JsonObject health(ApiCaller user, String connectionId) {
    Http.Response health = user.get("/api/reliability/connections/" + connectionId + "/health");
    return health.status() == 200 ? health.json().getJsonObject("connection") : new JsonObject();
  }

  private static String status(ApiCaller user, String connectionId) {
    return health(user, connectionId).getString("status");
  }

  private static JsonObject institution(String bank) {
    JsonArray list = operator.get("/api/reliability/institutions").json().getJsonArray("institutions");
    for (int i = 0; i < list.size(); i++) {
      if (bank.equals(list.getJsonObject(i).getString("institution_id"))) {
        return list.getJsonObject(i);
      }
    }
    return new JsonObject();
  }

  private static JsonObject predicted(String bank) {
    return institution(bank).getJsonObject("predicted_maintenance");
  }

  private static List<String> kinds(String connectionId) {
    return notifications.stream().filter(n -> connectionId.equals(n.connectionId()))
        .map(n -> n.data().getString("kind")).toList();
  }
}
