package com.mingus.reliability.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.RecoveryStep;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.bus.UserAction;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Health's batched apply path through its bus contract: a burst of events with duplicates among them,
 * batches that die midway (the database connection terminated inside the batch's UPDATE), and a sender
 * that delivers again what was not answered, as sync's outbox relay does.
 */
@ExtendWith(VertxExtension.class)
class HealthBatchTest {
  private static final int CONNECTIONS = 8;
  private static final int EVENTS = 400;

  private Vertx vertx;
  private DatabaseTarget db;

  @BeforeEach
  void deploy(Vertx vertx) {
    this.vertx = vertx;
    MessageCodecs.register(vertx.eventBus());
    db = TestDatabase.fresh("health_batch");
    Await.result(vertx.deployVerticle(new StandIns()));
    JsonObject config = new JsonObject()
        .put("database", Pools.connectionConfig(db, 4))
        .put("coalesce_ms", 200)
        // small batches, so the burst makes many of them and a dead one has neighbours
        .put("apply", new JsonObject().put("shards", 2).put("max_batch", 25).put("linger_ms", 5));
    Await.result(vertx.deployVerticle(new HealthVerticle(), new DeploymentOptions().setConfig(config)));
    for (int c = 0; c < CONNECTIONS; c++) {
      Await.result(vertx.eventBus().request(Addresses.HEALTH_APPLY, new SyncEvent(SyncEvent.REGISTERED, id(c),
          "user-" + c, "item-" + c, "ins_burst", "Burst Bank", null, null, null, Instant.now().toString(), null, null,
          null, null, null, null, null, null, null, null)));
    }
  }

  @Test
  void aBurstWithDuplicatesAndBatchesKilledMidwayCountsEachEventOnceAfterRedelivery() {
    // the first two batches that write conn_burst_3 past 20 events lose their database connection mid-UPDATE
    // (the sequence is not rolled back with them, so the third try goes through)
    Sql.execute(db, "CREATE SEQUENCE burst_kills");
    Sql.execute(db, """
        CREATE FUNCTION burst_kill() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.connection_id = 'conn_burst_3' AND NEW.sync_success_count + NEW.sync_failure_count >= 20 THEN
            IF nextval('burst_kills') <= 2 THEN
              PERFORM pg_terminate_backend(pg_backend_pid());
              PERFORM pg_sleep(10);
            END IF;
          END IF;
          RETURN NEW;
        END $$""");
    Sql.execute(db, "CREATE TRIGGER burst_kill BEFORE UPDATE ON health_connections FOR EACH ROW "
        + "EXECUTE FUNCTION burst_kill()");

    Random random = new Random(16);
    Instant base = Instant.now().minusSeconds(60);
    List<SyncEvent> events = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      events.add(random.nextBoolean() ? completed(i, base) : failed(i, base));
    }
    // each event once in order, some again two places later (another batch, or the same one), some twice in a row
    List<SyncEvent> sends = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      sends.add(events.get(i));
      if (i % 7 == 0) {
        sends.add(events.get(i));
      }
      if (i % 3 == 0 && i >= 2) {
        sends.add(events.get(i - 2));
      }
    }
    Map<String, AtomicInteger> appliedReplies = new ConcurrentHashMap<>();
    AtomicInteger failures = new AtomicInteger();
    AtomicInteger outstanding = new AtomicInteger(sends.size());
    vertx.runOnContext(v -> sends.forEach(event -> deliver(event, appliedReplies, failures, outstanding, 1)));
    Await.until(() -> outstanding.get() == 0, Duration.ofSeconds(90), "every delivery answered");

    assertThat(Sql.number(db, "SELECT last_value FROM burst_kills")).as("two batches were killed").isGreaterThanOrEqualTo(2);
    assertThat(failures.get()).as("the killed batches failed their events, which were delivered again").isPositive();
    for (SyncEvent event : events) {
      assertThat(appliedReplies.getOrDefault(event.syncId(), new AtomicInteger()).get())
          .as("event %s answered applied exactly once over all its copies and redeliveries", event.syncId())
          .isEqualTo(1);
    }
    for (int c = 0; c < CONNECTIONS; c++) {
      String id = id(c);
      long successes = events.stream().filter(e -> e.connectionId().equals(id) && SyncEvent.COMPLETED.equals(e.kind()))
          .count();
      long failed = events.stream().filter(e -> e.connectionId().equals(id) && SyncEvent.FAILED.equals(e.kind())).count();
      assertThat(Sql.number(db, "SELECT sync_success_count FROM health_connections WHERE connection_id = ?", id))
          .as("%s: each completed sync counted once", id).isEqualTo(successes);
      assertThat(Sql.number(db, "SELECT sync_failure_count FROM health_connections WHERE connection_id = ?", id))
          .as("%s: each failed sync counted once", id).isEqualTo(failed);
      // redeliveries arrive after newer events: they count, but the newest event decides the status
      SyncEvent newest = events.stream().filter(e -> e.connectionId().equals(id)).reduce((a, b) -> b).orElseThrow();
      assertThat(Sql.strings(db, "SELECT status FROM health_connections WHERE connection_id = ?", id))
          .as("%s: the newest event's status", id)
          .containsExactly(SyncEvent.COMPLETED.equals(newest.kind()) ? "active" : "degraded");
    }
    assertThat(Sql.number(db, "SELECT count(*) FROM health_applied_events WHERE event_key LIKE 'conn_burst_%|sync:%'"))
        .as("one claim per distinct event").isEqualTo(EVENTS);
  }

  /** As sync's outbox relay: hands the event to health and, while it is not answered, hands it again. */
  private void deliver(SyncEvent event, Map<String, AtomicInteger> appliedReplies, AtomicInteger failures,
      AtomicInteger outstanding, int attempt) {
    vertx.eventBus().<JsonObject>request(Addresses.HEALTH_APPLY, event, new DeliveryOptions().setSendTimeout(20_000))
        .onSuccess(reply -> {
          if (reply.body().getBoolean("applied")) {
            appliedReplies.computeIfAbsent(event.syncId(), k -> new AtomicInteger()).incrementAndGet();
          }
          outstanding.decrementAndGet();
        })
        .onFailure(failure -> {
          failures.incrementAndGet();
          if (attempt < 50) {
            vertx.setTimer(50, id -> deliver(event, appliedReplies, failures, outstanding, attempt + 1));
          }
        });
  }

  private static String id(int c) {
    return "conn_burst_" + c;
  }

  private static SyncEvent completed(int i, Instant base) {
    int c = i % CONNECTIONS;
    return new SyncEvent(SyncEvent.COMPLETED, id(c), "user-" + c, "item-" + c, "ins_burst", "Burst Bank", "b" + i,
        "periodic", "success", base.plusMillis(i * 10L).toString(), 5L, 0, 0, 0, null, null, null, null, null,
        new JsonObject());
  }

  private static SyncEvent failed(int i, Instant base) {
    int c = i % CONNECTIONS;
    Classification plan = new Classification(ErrorCategory.INTERNAL_ERROR, "API_ERROR", "INTERNAL_SERVER_ERROR", null,
        true, RecoveryStep.RETRY, 1_000, null, 1, 5, "internal_error", false, false, UserAction.NONE,
        ConnectionStatus.DEGRADED, Classification.Scope.PLAID, NotificationType.NONE, NotificationPriority.LOW, "m", "r");
    return new SyncEvent(SyncEvent.FAILED, id(c), "user-" + c, "item-" + c, "ins_burst", "Burst Bank", "b" + i,
        "periodic", "retrying", base.plusMillis(i * 10L).toString(), 5L, 0, 0, 0, null, null, null,
        new JsonObject().put("error_code", "INTERNAL_SERVER_ERROR"), plan.toJson(), new JsonObject());
  }
}
