package com.mingus.reliability.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ConnectionHealth;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.InstitutionHealth;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.RecoveryStep;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.bus.UserAction;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/** The health verticle through its bus contract alone, with stand-ins for sync and notify on their addresses. */
@ExtendWith(VertxExtension.class)
class HealthVerticleTest {
  private Vertx vertx;
  private DatabaseTarget db;
  private JsonObject config;
  private String deploymentId;
  private StandIns standIns;
  private final List<ConnectionHealth> changes = new CopyOnWriteArrayList<>();
  private final java.util.Map<ConnectionHealth, Long> receivedAt = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<InstitutionHealth> banks = new CopyOnWriteArrayList<>();

  @BeforeEach
  void deploy(Vertx vertx, TestInfo info) {
    this.vertx = vertx;
    MessageCodecs.register(vertx.eventBus());
    db = TestDatabase.fresh("health_" + info.getTestMethod().orElseThrow().getName());
    standIns = new StandIns();
    standIns.registry.add(new JsonObject().put("connection_id", "conn_old").put("user_id", "user-1")
        .put("item_id", "item-old").put("institution_id", "ins_old").put("institution_name", "Old Bank")
        .put("last_successful_sync", "2026-01-01T00:00:00Z"));
    standIns.registry.add(new JsonObject().put("connection_id", "conn_parked").put("user_id", "user-1")
        .put("item_id", "item-parked").put("institution_id", "ins_old").put("institution_name", "Old Bank")
        .put("paused", "needs_user"));
    Await.result(vertx.deployVerticle(standIns));
    vertx.eventBus().<ConnectionHealth>consumer(Addresses.HEALTH_CHANGED, m -> {
      receivedAt.put(m.body(), System.nanoTime());
      changes.add(m.body());
    });
    vertx.eventBus().<InstitutionHealth>consumer(Addresses.INSTITUTION_CHANGED, m -> banks.add(m.body()));
    JsonObject config = new JsonObject()
        .put("database", Pools.connectionConfig(db, 4))
        .put("coalesce_ms", 400)
        .put("institution_coalesce_ms", 0)
        // reads kept for a minute: every test here then also shows that each write drops the read it changes
        .put("read_cache_ms", 60_000)
        .put("notice_redrive_after_ms", 1_000).put("notice_redrive_every_ms", 200)
        .put("circuit", new JsonObject().put("window_ms", 10_000).put("min_connections", 3).put("failure_ratio", 0.5)
            .put("open_ms", 300).put("probe_timeout_ms", 2_000));
    this.config = config;
    deploymentId = Await.result(vertx.deployVerticle(new HealthVerticle(), new DeploymentOptions().setConfig(config)));
    Await.until(() -> health(null, "conn_old") != null, Duration.ofSeconds(10), "health reconciles with sync");
  }

  // --- helpers ----------------------------------------------------------------------------------------

  private JsonObject ask(String address, JsonObject body) {
    return Await.result(Bus.<JsonObject>request(vertx, address, body, 5_000));
  }

  private int failureCode(String address, JsonObject body) {
    Throwable failure = Await.result(Bus.<JsonObject>request(vertx, address, body, 5_000)
        .map(ok -> (Throwable) null).recover(Future::succeededFuture));
    assertThat(failure).isInstanceOf(Bus.BusException.class);
    return ((Bus.BusException) failure).failure().code();
  }

  private JsonObject health(String userId, String connectionId) {
    JsonObject body = new JsonObject().put("connection_id", connectionId);
    if (userId != null) {
      body.put("user_id", userId);
    }
    return Await.result(Bus.<JsonObject>request(vertx, Addresses.HEALTH_CONNECTION, body, 5_000)
        .recover(failure -> Future.succeededFuture(null)));
  }

  private String status(String connectionId) {
    JsonObject health = health(null, connectionId);
    return health == null ? null : health.getString("status");
  }

  /** What sync's outbox relay does with an event committed at {@code address}: hands it to health.apply. */
  /**
   * Hands an event to health as sync's outbox relay does: to one instance (the bus takes turns), and again
   * while it is not acknowledged (an instance that could not apply it fails the request; the relay redelivers).
   */
  private void publish(String address, SyncEvent event) {
    deliver(event, 10);
  }

  private void deliver(SyncEvent event, int attempts) {
    vertx.eventBus().request(Addresses.HEALTH_APPLY, event).onFailure(failure -> {
      if (attempts > 1) {
        vertx.setTimer(50, id -> deliver(event, attempts - 1));
      }
    });
  }

  private static SyncEvent registered(String connectionId, String userId, String institutionId) {
    return new SyncEvent(SyncEvent.REGISTERED, connectionId, userId, "item-" + connectionId, institutionId,
        "Bank " + institutionId, null, null, null, Instant.now().toString(), null, null, null, null, null, null, null,
        null, null, null);
  }

  private static SyncEvent completed(String connectionId, String userId, String institutionId, String trigger) {
    return new SyncEvent(SyncEvent.COMPLETED, connectionId, userId, "item-" + connectionId, institutionId,
        "Bank " + institutionId, UUID.randomUUID().toString(), trigger, "success", Instant.now().toString(), 12L, 1, 0,
        0, Instant.now().plusSeconds(3600).toString(), null, null, null, null, new JsonObject());
  }

  private static SyncEvent failed(String connectionId, String userId, String institutionId, String trigger,
      String code, ErrorCategory category, ConnectionStatus status, Classification.Scope scope, RecoveryStep step,
      String syncId) {
    Classification plan = new Classification(category, "X", code, null, step == RecoveryStep.RETRY, step, 1_000, null,
        1, 5, category.wire(), false, false, UserAction.NONE, status, scope, NotificationType.NONE,
        NotificationPriority.LOW, "message for " + code, "req");
    return new SyncEvent(SyncEvent.FAILED, connectionId, userId, "item-" + connectionId, institutionId,
        "Bank " + institutionId, syncId, trigger, "failed", Instant.now().toString(), 12L, 0, 0, 0,
        Instant.now().plusSeconds(60).toString(), step == RecoveryStep.WAIT_FOR_USER ? "needs_user" : null, null,
        new JsonObject().put("error_code", code), plan.toJson(), new JsonObject());
  }

  private static SyncEvent loginRequired(String connectionId, String userId, String syncId) {
    return failed(connectionId, userId, "ins_a", "periodic", "ITEM_LOGIN_REQUIRED", ErrorCategory.AUTHENTICATION_ERROR,
        ConnectionStatus.REQUIRES_REAUTH, Classification.Scope.ITEM, RecoveryStep.WAIT_FOR_USER, syncId);
  }

  private static SyncEvent bankDown(String connectionId, String institutionId, String trigger) {
    return failed(connectionId, "user-" + connectionId, institutionId, trigger, "INSTITUTION_DOWN",
        ErrorCategory.BANK_MAINTENANCE, ConnectionStatus.MAINTENANCE, Classification.Scope.INSTITUTION,
        RecoveryStep.RETRY, UUID.randomUUID().toString());
  }

  private static SyncEvent item(String connectionId, String userId, String code) {
    return new SyncEvent(SyncEvent.ITEM, connectionId, userId, "item-" + connectionId, "ins_a", "Bank ins_a", null,
        null, null, Instant.now().toString(), null, null, null, null, null, null, code, null, null, new JsonObject());
  }

  // --- tests ------------------------------------------------------------------------------------------

  @Test
  void connectionsRegisteredBeforeHealthRanAreKnownFromSyncsRegistry() {
    JsonObject old = health("user-1", "conn_old");
    assertThat(old.getString("status")).isEqualTo("active");
    assertThat(old.getString("institution_name")).isEqualTo("Old Bank");
    assertThat(old.getString("last_successful_sync")).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(health("user-1", "conn_parked").getString("status")).isEqualTo("requires_reauth");
    assertThat(health("user-1", "conn_parked").getBoolean("requires_reauth")).isTrue();
    JsonObject list = ask(Addresses.HEALTH_CONNECTIONS, new JsonObject().put("user_id", "user-1"));
    assertThat(list.getInteger("total_connections")).isEqualTo(2);
    assertThat(list.getInteger("healthy_connections")).isEqualTo(1);
    assertThat(list.getInteger("error_connections")).isEqualTo(1);
    assertThat(list.getJsonArray("connections").getJsonObject(0).fieldNames()).contains("connection_id", "status",
        "last_successful_sync", "last_error", "sync_failure_count", "consecutive_failures", "maintenance_mode",
        "maintenance_until", "retry_attempts", "next_retry", "user_id", "institution_id", "institution_name",
        "requires_reauth", "updated_at");
  }

  @Test
  void requiresReauthIsToldOncePerChangeOfStateAndLoginRepairedClearsIt() {
    publish(Addresses.CONNECTION_REGISTERED, registered("conn_a", "user-a", "ins_a"));
    Await.until(() -> "active".equals(status("conn_a")), Duration.ofSeconds(5), "registered");

    SyncEvent first = loginRequired("conn_a", "user-a", "sync-1");
    publish(Addresses.SYNC_FAILED, first);
    publish(Addresses.SYNC_FAILED, first); // the same event again, as a second node would apply it
    publish(Addresses.SYNC_FAILED, loginRequired("conn_a", "user-a", "sync-2"));
    Await.until(() -> health(null, "conn_a").getInteger("sync_failure_count") == 2, Duration.ofSeconds(5),
        "two distinct failures applied, the replay ignored");
    JsonObject reauth = health("user-a", "conn_a");
    assertThat(reauth.getString("status")).isEqualTo("requires_reauth");
    assertThat(reauth.getBoolean("requires_reauth")).isTrue();
    assertThat(reauth.getJsonObject("last_error").getString("error_code")).isEqualTo("ITEM_LOGIN_REQUIRED");
    Await.until(() -> standIns.notificationsFor("conn_a").size() >= 1, Duration.ofSeconds(5), "the user is told");
    Await.holds(() -> standIns.notificationsFor("conn_a").size() == 1, Duration.ofMillis(500), "told once");
    NotifySend told = standIns.notificationsFor("conn_a").get(0);
    assertThat(told.userId()).isEqualTo("user-a");
    assertThat(told.type()).isEqualTo("plaid_connection_issue");
    assertThat(told.priority()).isEqualTo("high");
    assertThat(told.dedupeKey()).startsWith("conn_a:requires_reauth:");
    assertThat(told.data().getString("institution_name")).isEqualTo("Bank ins_a");

    publish(Addresses.CONNECTION_ITEM_EVENT, item("conn_a", "user-a", "LOGIN_REPAIRED"));
    Await.until(() -> "active".equals(status("conn_a")), Duration.ofSeconds(5), "LOGIN_REPAIRED clears it");
    JsonObject repaired = health("user-a", "conn_a");
    assertThat(repaired.getBoolean("requires_reauth")).isFalse();
    assertThat(repaired.getValue("last_error")).isNull();
    publish(Addresses.SYNC_COMPLETED, completed("conn_a", "user-a", "ins_a", "webhook"));
    Await.until(() -> health(null, "conn_a").getInteger("sync_success_count") == 1, Duration.ofSeconds(5), "success");

    publish(Addresses.SYNC_FAILED, loginRequired("conn_a", "user-a", "sync-3"));
    Await.until(() -> standIns.notificationsFor("conn_a").size() == 2, Duration.ofSeconds(5),
        "a new change of state is told again");
    assertThat(standIns.notificationsFor("conn_a").get(1).dedupeKey())
        .isNotEqualTo(standIns.notificationsFor("conn_a").get(0).dedupeKey());
  }

  @Test
  void aNoticeNotifyCouldNotTakeStaysPendingAndIsSentOnceNotifyIsBack() {
    publish(Addresses.CONNECTION_REGISTERED, registered("conn_n", "user-n", "ins_n"));
    Await.until(() -> "active".equals(status("conn_n")), Duration.ofSeconds(5), "registered");
    standIns.notifyDown.set(true);
    publish(Addresses.SYNC_FAILED, loginRequired("conn_n", "user-n", "n-1"));
    Await.until(() -> "requires_reauth".equals(status("conn_n")), Duration.ofSeconds(5), "applied");
    // the state changed and was committed with the notice it calls for, still pending
    assertThat(Sql.strings(db, "SELECT pending_notices -> 0 ->> 'dedupe_key' FROM health_connections "
        + "WHERE connection_id = 'conn_n'")).singleElement().asString().startsWith("conn_n:requires_reauth:");
    Await.holds(() -> standIns.notificationsFor("conn_n").isEmpty(), Duration.ofMillis(1_500),
        "nothing accepted while notify is down");

    standIns.notifyDown.set(false);
    Await.until(() -> standIns.notificationsFor("conn_n").size() == 1, Duration.ofSeconds(10),
        "the pending notice is sent again once notify takes it");
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM health_connections WHERE connection_id = 'conn_n' "
        + "AND pending_notices IS NULL") == 1, Duration.ofSeconds(5), "and forgotten once accepted");
    Await.holds(() -> standIns.notificationsFor("conn_n").size() == 1, Duration.ofMillis(1_500), "told once");
    assertThat(standIns.notificationsFor("conn_n").get(0).type()).isEqualTo("plaid_connection_issue");
  }

  @Test
  void eachErrorCategoryReachesItsStatusThroughTheBus() {
    record Case(String id, String code, ErrorCategory category, ConnectionStatus status, Classification.Scope scope,
        RecoveryStep step) {}
    List<Case> cases = List.of(
        new Case("conn_c1", null, ErrorCategory.CONNECTION_FAILURE, ConnectionStatus.DEGRADED, Classification.Scope.PLAID, RecoveryStep.RETRY),
        new Case("conn_c2", "INSTITUTION_DOWN", ErrorCategory.BANK_MAINTENANCE, ConnectionStatus.MAINTENANCE, Classification.Scope.INSTITUTION, RecoveryStep.RETRY),
        new Case("conn_c3", "TRANSACTIONS_SYNC_LIMIT", ErrorCategory.RATE_LIMIT_EXCEEDED, ConnectionStatus.RATE_LIMITED, Classification.Scope.CLIENT, RecoveryStep.RETRY),
        new Case("conn_c4", "ITEM_LOCKED", ErrorCategory.AUTHENTICATION_ERROR, ConnectionStatus.REQUIRES_REAUTH, Classification.Scope.ITEM, RecoveryStep.WAIT_FOR_USER),
        new Case("conn_c5", "INSTITUTION_NOT_RESPONDING", ErrorCategory.INSTITUTION_ERROR, ConnectionStatus.DEGRADED, Classification.Scope.INSTITUTION, RecoveryStep.RETRY),
        new Case("conn_c6", "ITEM_NOT_FOUND", ErrorCategory.ITEM_ERROR, ConnectionStatus.DISCONNECTED, Classification.Scope.ITEM, RecoveryStep.STOP),
        new Case("conn_c7", "PRODUCTS_NOT_SUPPORTED", ErrorCategory.PRODUCT_NOT_AVAILABLE, ConnectionStatus.ERROR, Classification.Scope.ITEM, RecoveryStep.STOP),
        new Case("conn_c8", "INVALID_FIELD", ErrorCategory.INVALID_REQUEST, ConnectionStatus.ERROR, Classification.Scope.ITEM, RecoveryStep.STOP),
        new Case("conn_c9", "INTERNAL_SERVER_ERROR", ErrorCategory.INTERNAL_ERROR, ConnectionStatus.DEGRADED, Classification.Scope.PLAID, RecoveryStep.RETRY),
        new Case("conn_c10", "NEW_CODE", ErrorCategory.UNKNOWN_ERROR, ConnectionStatus.DEGRADED, Classification.Scope.ITEM, RecoveryStep.RETRY));
    for (Case c : cases) {
      // each at its own bank, so no two count towards one circuit
      publish(Addresses.CONNECTION_REGISTERED, registered(c.id(), "user-c", "ins_" + c.id()));
    }
    Await.until(() -> cases.stream().allMatch(c -> "active".equals(status(c.id()))), Duration.ofSeconds(5), "registered");
    for (Case c : cases) {
      publish(Addresses.SYNC_FAILED, failed(c.id(), "user-c", "ins_" + c.id(), "periodic", c.code(), c.category(),
          c.status(), c.scope(), c.step(), "s-" + c.id()));
    }
    for (Case c : cases) {
      Await.until(() -> c.status().wire().equals(status(c.id())), Duration.ofSeconds(5), c.category() + " -> " + c.status());
      JsonObject health = health("user-c", c.id());
      assertThat(health.getJsonObject("last_error").getString("category")).isEqualTo(c.category().wire());
      assertThat(health.getInteger("consecutive_failures")).isEqualTo(1);
      assertThat(health.getBoolean("requires_reauth")).isEqualTo(c.status() == ConnectionStatus.REQUIRES_REAUTH);
      assertThat(health.getBoolean("maintenance_mode")).isEqualTo(c.status() == ConnectionStatus.MAINTENANCE);
    }
    List<String> expected = List.of("disconnected", "maintenance_started", "requires_reauth", "sync_failed",
        "sync_failed");
    java.util.function.Supplier<List<String>> told = () -> standIns.notifications.stream()
        .map(n -> n.data().getString("kind")).sorted().toList();
    Await.until(() -> told.get().equals(expected), Duration.ofSeconds(5), "each failure told: " + expected);
    Await.holds(() -> told.get().equals(expected), Duration.ofMillis(300), "each failure told once, nothing more");
    assertThat(standIns.pauses).as("one failing connection is no bank outage").isEmpty();
  }

  @Test
  void pendingExpirationAndRevokedAccessAreToldAndAnEndedOutageIsToo() {
    publish(Addresses.CONNECTION_REGISTERED, registered("conn_p", "user-p", "ins_a"));
    Await.until(() -> "active".equals(status("conn_p")), Duration.ofSeconds(5), "registered");
    SyncEvent pending = new SyncEvent(SyncEvent.ITEM, "conn_p", "user-p", "item-conn_p", "ins_a", "Bank ins_a", null,
        null, null, Instant.now().toString(), null, null, null, null, null, null, "PENDING_EXPIRATION", null, null,
        new JsonObject().put("consent_expiration_time", "2030-01-01T00:00:00Z"));
    publish(Addresses.CONNECTION_ITEM_EVENT, pending);
    Await.until(() -> "pending_expiration".equals(status("conn_p")), Duration.ofSeconds(5), "pending expiration");
    assertThat(health("user-p", "conn_p").getString("consent_expiration_time")).isEqualTo("2030-01-01T00:00:00Z");
    publish(Addresses.SYNC_FAILED, failed("conn_p", "user-p", "ins_a", "periodic", "INTERNAL_SERVER_ERROR",
        ErrorCategory.INTERNAL_ERROR, ConnectionStatus.ERROR, Classification.Scope.PLAID,
        RecoveryStep.FALL_BACK_TO_SCHEDULE, "s1"));
    Await.until(() -> "error".equals(status("conn_p")), Duration.ofSeconds(5), "error");
    publish(Addresses.SYNC_COMPLETED, completed("conn_p", "user-p", "ins_a", "retry"));
    Await.until(() -> "pending_expiration".equals(status("conn_p")), Duration.ofSeconds(5),
        "the consent warning outlives the error");
    publish(Addresses.CONNECTION_ITEM_EVENT, item("conn_p", "user-p", "USER_PERMISSION_REVOKED"));
    Await.until(() -> "disconnected".equals(status("conn_p")), Duration.ofSeconds(5), "revoked");
    List<String> told = List.of("pending_expiration", "sync_failed", "disconnected");
    Await.until(() -> kindsOf("conn_p").equals(told), Duration.ofSeconds(5), "each change told");
    Await.holds(() -> kindsOf("conn_p").equals(told), Duration.ofMillis(500), "each change told once, nothing more");
  }

  @Test
  void aFlappingConnectionIsCoalescedAndTheLatestStateWins() {
    publish(Addresses.CONNECTION_REGISTERED, registered("conn_f", "user-f", "ins_f"));
    Await.until(() -> "active".equals(status("conn_f")), Duration.ofSeconds(5), "registered");
    Await.until(() -> changes.stream().anyMatch(c -> c.connectionId().equals("conn_f")
        && c.status() == ConnectionStatus.ACTIVE), Duration.ofSeconds(5), "the registration is told");
    changes.clear();
    for (int i = 0; i < 20; i++) {
      publish(Addresses.SYNC_FAILED, failed("conn_f", "user-f", "ins_f", "periodic", "INTERNAL_SERVER_ERROR",
          ErrorCategory.INTERNAL_ERROR, ConnectionStatus.DEGRADED, Classification.Scope.PLAID, RecoveryStep.RETRY,
          "f" + i));
      publish(Addresses.SYNC_COMPLETED, completed("conn_f", "user-f", "ins_f", "retry"));
    }
    Await.until(() -> health(null, "conn_f").getInteger("sync_success_count") == 20, Duration.ofSeconds(10),
        "every event applied");
    java.util.function.Supplier<List<ConnectionHealth>> toldOfF = () -> changes.stream()
        .filter(c -> c.connectionId().equals("conn_f")).toList();
    Await.until(() -> !toldOfF.get().isEmpty() && toldOfF.get().get(toldOfF.get().size() - 1).syncSuccessCount() == 20
        && toldOfF.get().get(toldOfF.get().size() - 1).syncFailureCount() == 20, Duration.ofSeconds(5),
        "the latest state is told");
    int toldCount = toldOfF.get().size();
    Await.holds(() -> toldOfF.get().size() == toldCount, Duration.ofMillis(600), "nothing is told after the latest state");
    List<ConnectionHealth> mine = changes.stream().filter(c -> c.connectionId().equals("conn_f")).toList();
    assertThat(mine).as("40 changes make far fewer events").hasSizeBetween(1, 20);
    for (int i = 1; i < mine.size(); i++) {
      long gapMs = (receivedAt.get(mine.get(i)) - receivedAt.get(mine.get(i - 1))) / 1_000_000;
      assertThat(gapMs).as("at most one event per connection per 400 ms").isGreaterThanOrEqualTo(350);
    }
    ConnectionHealth last = mine.get(mine.size() - 1);
    assertThat(last.status()).isEqualTo(ConnectionStatus.ACTIVE);
    assertThat(last.syncSuccessCount()).isEqualTo(20);
    assertThat(last.syncFailureCount()).isEqualTo(20);
  }

  @Test
  void twoInstancesApplyingTheSameEventsCountEachOnceAndTellOnce() {
    // a second instance gets every event too, as a redelivery from another node's relay would
    JsonObject config = new JsonObject().put("database", Pools.connectionConfig(db, 4)).put("coalesce_ms", 400);
    Await.result(vertx.deployVerticle(new HealthVerticle(), new DeploymentOptions().setConfig(config)));
    publish(Addresses.CONNECTION_REGISTERED, registered("conn_t", "user-t", "ins_t"));
    Await.until(() -> "active".equals(status("conn_t")), Duration.ofSeconds(5), "registered");
    for (int i = 0; i < 30; i++) {
      SyncEvent ok = completed("conn_t", "user-t", "ins_t", "periodic");
      SyncEvent failed = failed("conn_t", "user-t", "ins_t", "periodic", "INTERNAL_SERVER_ERROR",
          ErrorCategory.INTERNAL_ERROR, ConnectionStatus.DEGRADED, Classification.Scope.PLAID, RecoveryStep.RETRY,
          "t" + i);
      // the bus takes turns between the two instances: each gets one copy of each event
      publish(Addresses.SYNC_COMPLETED, ok);
      publish(Addresses.SYNC_COMPLETED, ok);
      publish(Addresses.SYNC_FAILED, failed);
      publish(Addresses.SYNC_FAILED, failed);
    }
    SyncEvent reauth = loginRequired("conn_t", "user-t", "t-reauth");
    publish(Addresses.SYNC_FAILED, reauth);
    publish(Addresses.SYNC_FAILED, reauth);
    Await.until(() -> "requires_reauth".equals(status("conn_t")), Duration.ofSeconds(30), "the last state");
    // the two instances apply in parallel: the last state can be reached while copies of earlier events are
    // still being applied, so wait for the counts (each event once), then check none counts twice later
    Await.until(() -> health(null, "conn_t").getLong("sync_success_count") == 30
        && health(null, "conn_t").getLong("sync_failure_count") == 31, Duration.ofSeconds(30), "every event applied");
    Await.until(() -> standIns.notificationsFor("conn_t").size() >= 1, Duration.ofSeconds(10), "the user told");
    Await.holds(() -> standIns.notificationsFor("conn_t").size() == 1, Duration.ofMillis(500), "told once");
    JsonObject health = health(null, "conn_t");
    assertThat(health.getLong("sync_success_count")).isEqualTo(30);
    assertThat(health.getLong("sync_failure_count")).isEqualTo(31);
    assertThat(standIns.notificationsFor("conn_t")).hasSize(1);
  }

  @Test
  void anotherUsersConnectionIsNotFound() {
    assertThat(failureCode(Addresses.HEALTH_CONNECTION,
        new JsonObject().put("user_id", "someone-else").put("connection_id", "conn_old"))).isEqualTo(FailureCodes.NOT_FOUND);
    assertThat(failureCode(Addresses.HEALTH_CONNECTION_METRICS,
        new JsonObject().put("user_id", "someone-else").put("connection_id", "conn_old"))).isEqualTo(FailureCodes.NOT_FOUND);
    assertThat(failureCode(Addresses.HEALTH_CONNECTION, new JsonObject())).isEqualTo(FailureCodes.INVALID_REQUEST);
    JsonObject theirs = ask(Addresses.HEALTH_CONNECTIONS, new JsonObject().put("user_id", "someone-else"));
    assertThat(theirs.getJsonArray("connections")).isEmpty();
  }

  @Test
  void theOverviewHasTheSeedsShapeAndFormula() {
    publish(Addresses.CONNECTION_REGISTERED, registered("conn_o", "user-1", "ins_o"));
    Await.until(() -> "active".equals(status("conn_o")), Duration.ofSeconds(5), "registered");
    publish(Addresses.SYNC_COMPLETED, completed("conn_o", "user-1", "ins_o", "initial"));
    publish(Addresses.SYNC_COMPLETED, completed("conn_o", "user-1", "ins_o", "periodic"));
    publish(Addresses.SYNC_COMPLETED, completed("conn_o", "user-1", "ins_o", "periodic"));
    Await.until(() -> health(null, "conn_o").getInteger("sync_success_count") == 3, Duration.ofSeconds(5), "synced");
    publish(Addresses.SYNC_FAILED, failed("conn_o", "user-1", "ins_o", "periodic", "INTERNAL_SERVER_ERROR",
        ErrorCategory.INTERNAL_ERROR, ConnectionStatus.DEGRADED, Classification.Scope.PLAID, RecoveryStep.RETRY, "o1"));
    Await.until(() -> "degraded".equals(status("conn_o")), Duration.ofSeconds(5), "degraded");

    JsonObject overview = ask(Addresses.HEALTH_OVERVIEW, new JsonObject().put("user_id", "user-1"));
    JsonObject connections = overview.getJsonObject("connections");
    assertThat(connections.getLong("total")).isEqualTo(3);
    assertThat(connections.getLong("active")).isEqualTo(1);
    assertThat(connections.getLong("with_errors")).isEqualTo(1);
    assertThat(connections.getLong("in_maintenance")).isZero();
    assertThat(connections.getLong("require_reauth")).isEqualTo(1);
    assertThat(connections.getDouble("health_rate")).isEqualTo(33.33);
    JsonObject sync = overview.getJsonObject("sync");
    assertThat(sync.getLong("total_syncs")).isEqualTo(4);
    assertThat(sync.getLong("successful_syncs")).isEqualTo(3);
    assertThat(sync.getLong("failed_syncs")).isEqualTo(1);
    assertThat(sync.getDouble("success_rate")).isEqualTo(75.0);
    assertThat(overview.getDouble("reliability_score")).isEqualTo(Metrics.round(0.5 * 33.33 + 0.5 * 75.0));

    JsonObject operators = ask(Addresses.HEALTH_OVERVIEW, new JsonObject());
    assertThat(operators.getJsonObject("connections").getLong("total")).isEqualTo(3);
    JsonObject metrics = ask(Addresses.HEALTH_CONNECTION_METRICS,
        new JsonObject().put("user_id", "user-1").put("connection_id", "conn_o"));
    assertThat(metrics.getJsonObject("reliability_stats").getLong("total_syncs")).isEqualTo(4);
    assertThat(metrics.getJsonObject("reliability_stats").getDouble("success_rate")).isEqualTo(75.0);
  }

  @Test
  void aBankDownForManyConnectionsOpensItsCircuitProbesAndResumesEveryoneWhenItAnswers() {
    List<String> ids = List.of("conn_b1", "conn_b2", "conn_b3", "conn_b4");
    for (String id : ids) {
      publish(Addresses.CONNECTION_REGISTERED, registered(id, "user-" + id, "ins_b"));
    }
    Await.until(() -> ids.stream().allMatch(id -> "active".equals(status(id))), Duration.ofSeconds(5), "registered");
    standIns.probeConnection.set("conn_b1");

    publish(Addresses.SYNC_FAILED, bankDown("conn_b1", "ins_b", "periodic"));
    publish(Addresses.SYNC_FAILED, bankDown("conn_b2", "ins_b", "periodic"));
    Await.holds(() -> standIns.pauses.isEmpty(), Duration.ofMillis(300), "two connections are not yet the bank");
    publish(Addresses.SYNC_FAILED, bankDown("conn_b3", "ins_b", "periodic"));
    Await.until(() -> !standIns.pauses.isEmpty(), Duration.ofSeconds(5), "sync is asked to pause the bank");
    assertThat(standIns.pauses.get(0).getString("institution_id")).isEqualTo("ins_b");
    assertThat(standIns.pauses.get(0).getString("until")).isNotNull();
    Await.until(() -> "maintenance".equals(status("conn_b4")), Duration.ofSeconds(5),
        "a connection that never failed is shown in maintenance too");
    assertThat(health(null, "conn_b4").getBoolean("maintenance_mode")).isTrue();

    Await.until(() -> !standIns.probes.isEmpty(), Duration.ofSeconds(5), "half-open probes one connection");
    assertThat(institution("ins_b").getString("circuit")).isEqualTo("half_open");
    publish(Addresses.SYNC_FAILED, bankDown("conn_b1", "ins_b", "probe"));
    Await.until(() -> standIns.probes.size() >= 2, Duration.ofSeconds(5), "a failed probe re-opens and probes again");
    assertThat(standIns.resumes).isEmpty();
    Await.until(() -> "half_open".equals(institution("ins_b").getString("circuit")), Duration.ofSeconds(5), "half-open");
    publish(Addresses.SYNC_COMPLETED, completed("conn_b1", "user-conn_b1", "ins_b", "probe"));
    Await.until(() -> !standIns.resumes.isEmpty(), Duration.ofSeconds(5), "closing resumes everyone");
    Await.until(() -> ids.stream().allMatch(id -> "active".equals(status(id))), Duration.ofSeconds(5),
        "every connection is active again");
    assertThat(institution("ins_b").getString("circuit")).isEqualTo("closed");
    assertThat(banks.stream().filter(b -> b.institutionId().equals("ins_b")).map(InstitutionHealth::circuit))
        .contains("open", "half_open", "closed");
    List<String> toldBoth = List.of("maintenance_started", "maintenance_ended");
    Await.until(() -> ids.stream().allMatch(id -> kindsOf(id).equals(toldBoth)), Duration.ofSeconds(5), "both ends told");
    Await.holds(() -> ids.stream().allMatch(id -> kindsOf(id).equals(toldBoth)), Duration.ofMillis(300),
        "each end told once, nothing more");
    for (String id : ids) {
      assertThat(standIns.notificationsFor(id)).as(id).extracting(n -> n.data().getString("kind"))
          .containsExactly("maintenance_started", "maintenance_ended");
    }
    JsonObject rates = institution("ins_b").getJsonObject("success_rates");
    assertThat(rates.getJsonObject("5m").getLong("total")).isEqualTo(5);
    assertThat(rates.fieldNames()).containsExactly("5m", "1h", "24h");
  }

  @Test
  void aRestartKeepsAnOpenCircuitAndProbesAgain() {
    List<String> ids = List.of("conn_r1", "conn_r2", "conn_r3");
    for (String id : ids) {
      publish(Addresses.CONNECTION_REGISTERED, registered(id, "user-" + id, "ins_r"));
      // sync's registry has them too, or the reconciliation at each restart would forget them
      standIns.registry.add(new JsonObject().put("connection_id", id).put("user_id", "user-" + id)
          .put("item_id", "item-" + id).put("institution_id", "ins_r").put("institution_name", "Bank ins_r"));
    }
    Await.until(() -> ids.stream().allMatch(id -> "active".equals(status(id))), Duration.ofSeconds(5), "registered");
    JsonObject slow = config.copy().put("circuit", config.getJsonObject("circuit").copy().put("open_ms", 60_000));
    Await.result(vertx.undeploy(deploymentId));
    deploymentId = Await.result(vertx.deployVerticle(new HealthVerticle(), new DeploymentOptions().setConfig(slow)));
    for (String id : ids) {
      publish(Addresses.SYNC_FAILED, bankDown(id, "ins_r", "periodic"));
    }
    Await.until(() -> "open".equals(institution("ins_r").getString("circuit")), Duration.ofSeconds(5), "open");
    Await.until(() -> !standIns.pauses.isEmpty(), Duration.ofSeconds(5), "paused");
    Await.until(() -> Sql.strings(db, "SELECT circuit FROM health_institutions WHERE institution_id = 'ins_r'")
        .contains("open"), Duration.ofSeconds(5), "the open circuit is saved");

    Await.result(vertx.undeploy(deploymentId));
    deploymentId = Await.result(vertx.deployVerticle(new HealthVerticle(), new DeploymentOptions().setConfig(config)));
    JsonObject restored = institution("ins_r");
    assertThat(restored.getString("circuit")).as("restored from the database: " + restored).isEqualTo("open");
    assertThat(restored.getString("circuit_reason")).isEqualTo("failures");
    assertThat(restored.getString("name")).isEqualTo("Bank ins_r");
    standIns.probeConnection.set("conn_r1");
    Await.until(() -> !standIns.probes.isEmpty(), Duration.ofSeconds(5), "the restored open circuit probes");
    publish(Addresses.SYNC_COMPLETED, completed("conn_r1", "user-conn_r1", "ins_r", "probe"));
    Await.until(() -> !standIns.resumes.isEmpty(), Duration.ofSeconds(5), "and resumes the bank");
    try {
      Await.until(() -> ids.stream().allMatch(id -> "active".equals(status(id))), Duration.ofSeconds(5), "active");
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + ids.stream().map(id -> String.valueOf(Await.result(
          Bus.<JsonObject>request(vertx, Addresses.HEALTH_CONNECTION, new JsonObject().put("connection_id", id), 5_000)
              .map(JsonObject::encode).recover(f -> Future.succeededFuture(f.toString()))))).toList());
    }
  }

  private JsonObject institution(String id) {
    JsonArray all = ask(Addresses.HEALTH_INSTITUTIONS, new JsonObject()).getJsonArray("institutions");
    for (int i = 0; i < all.size(); i++) {
      if (id.equals(all.getJsonObject(i).getString("institution_id"))) {
        return all.getJsonObject(i);
      }
    }
    return new JsonObject(); // not seen yet
  }

  private List<String> kindsOf(String connectionId) {
    return standIns.notificationsFor(connectionId).stream().map(n -> n.data().getString("kind")).toList();
  }

  // --- the read cache (reads kept 60 s in this class) -----------------------------------------------------

  @Test
  void aReadAfterAnAppliedEventShowsTheEventNotTheKeptRead() {
    Await.result(Bus.request(vertx, Addresses.HEALTH_APPLY, registered("conn_k", "user-k", "ins_a"), 5_000));
    assertThat(health("user-k", "conn_k").getString("status")).isEqualTo("active");
    assertThat(health("user-k", "conn_k").getString("status")).as("kept").isEqualTo("active");
    // the apply's answer comes after the commit; the very next read must see it, not the kept one
    Await.result(Bus.request(vertx, Addresses.HEALTH_APPLY, loginRequired("conn_k", "user-k", "s-k1"), 5_000));
    assertThat(health("user-k", "conn_k").getString("status")).isEqualTo("requires_reauth");
    Await.result(Bus.request(vertx, Addresses.HEALTH_APPLY, completed("conn_k", "user-k", "ins_a", "webhook"), 5_000));
    assertThat(health("user-k", "conn_k").getString("status")).isEqualTo("active");
    Await.result(Bus.request(vertx, Addresses.HEALTH_APPLY, new SyncEvent(SyncEvent.REMOVED, "conn_k", "user-k",
        "item-conn_k", "ins_a", "Bank ins_a", null, null, null, Instant.now().toString(), null, null, null, null, null,
        null, null, null, null, null), 5_000));
    assertThat(health("user-k", "conn_k")).as("removed: not kept").isNull();
  }

  @Test
  void aReadKeptForItsOwnerIsNotShownToAnotherUser() {
    Await.result(Bus.request(vertx, Addresses.HEALTH_APPLY, registered("conn_o", "user-o", "ins_a"), 5_000));
    assertThat(health("user-o", "conn_o")).isNotNull();
    assertThat(health("user-o", "conn_o")).as("kept for user-o").isNotNull();
    assertThat(health("user-x", "conn_o")).as("user-x is not the owner").isNull();
    assertThat(health(null, "conn_o")).as("the operator reads it from the database").isNotNull();
    assertThat(health("user-x", "conn_o")).as("still not after the operator's read").isNull();
  }

  @Test
  void anotherNodesChangeDropsTheKeptRead() {
    Await.result(Bus.request(vertx, Addresses.HEALTH_APPLY, registered("conn_n2", "user-n2", "ins_a"), 5_000));
    assertThat(health("user-n2", "conn_n2").getString("status")).isEqualTo("active");
    // another node wrote the row and published the change; this node applied nothing
    Sql.execute(db, "UPDATE health_connections SET status = 'error', version = version + 1 "
        + "WHERE connection_id = 'conn_n2'");
    assertThat(health("user-n2", "conn_n2").getString("status")).as("kept until told").isEqualTo("active");
    vertx.eventBus().publish(Addresses.HEALTH_CHANGED, ConnectionHealth.fresh("conn_n2", "user-n2", "item-conn_n2",
        "ins_a", "Bank ins_a", Instant.now()));
    Await.until(() -> "error".equals(health("user-n2", "conn_n2").getString("status")), Duration.ofSeconds(5),
        "health.changed from another node drops the kept read");
  }

}
