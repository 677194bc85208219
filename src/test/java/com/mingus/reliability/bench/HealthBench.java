package com.mingus.reliability.bench;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ConnectionHealth;
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
import com.mingus.reliability.health.HealthVerticle;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load driver: how many sync events per second the health verticle applies (in batches: one transaction of a
 * few statements claims, reads, computes and writes many events), beside its peer in the same run: the least any tracker must do,
 * one plain UPDATE of a counter per event through a pool of the same size. Also how many health.changed
 * events the coalescer lets out. Run (after mvn -B -q test-compile):
 *
 * <pre>java -cp target/classes:target/test-classes:$(mvn -B -q dependency:build-classpath -Dmdep.outputFile=/dev/stdout) \
 *     com.mingus.reliability.bench.HealthBench [connections] [events]</pre>
 */
public final class HealthBench {
  private HealthBench() {}

  public static void main(String[] args) {
    int connections = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
    int events = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    int poolSize = 8;
    DatabaseTarget db = TestDatabase.fresh("health_bench");
    Vertx vertx = Vertx.vertx();
    try {
      MessageCodecs.register(vertx.eventBus());
      // sync's registry stand-in: empty, so the reconciliation finds nothing
      vertx.eventBus().<JsonObject>consumer(Addresses.SYNC_CONNECTIONS,
          m -> m.reply(new JsonObject().put("connections", new JsonArray())));
      vertx.eventBus().consumer(Addresses.NOTIFY_SEND, m -> m.reply(new JsonObject()));
      AtomicLong published = new AtomicLong();
      vertx.eventBus().<ConnectionHealth>consumer(Addresses.HEALTH_CHANGED, m -> published.incrementAndGet());
      JsonObject config = new JsonObject().put("database", Pools.connectionConfig(db, poolSize))
          .put("coalesce_ms", 1_000).put("institution_coalesce_ms", 1_000)
          // one bank per 10 connections, a high threshold: the circuit never trips during the run
          .put("circuit", new JsonObject().put("min_connections", 1_000_000))
          // the batching settings (health.apply), e.g. -Dbench.apply='{"max_batch":2000}'; default: the verticle's
          .put("apply", new JsonObject(System.getProperty("bench.apply", "{}")));
      Await.result(vertx.deployVerticle(new HealthVerticle(), new DeploymentOptions().setConfig(config)));

      for (int c = 0; c < connections; c++) {
        vertx.eventBus().request(Addresses.HEALTH_APPLY, new SyncEvent(SyncEvent.REGISTERED, id(c), "user-" + c,
            "item-" + c, "ins_" + (c / 10), "Bank " + (c / 10), null, null, null, Instant.now().toString(), null, null,
            null, null, null, null, null, null, null, null));
      }
      waitFor(db, "SELECT count(*) FROM health_connections", connections);

      // warm-up, then the measured run; the events are built before the clock starts (they are sync's work)
      run(vertx, db, build(connections, events / 10), 0);
      long warm = events / 10;
      List<SyncEvent> measured = build(connections, events);
      published.set(0);
      long start = System.nanoTime();
      double sentSeconds = run(vertx, db, measured, warm);
      double healthSeconds = (System.nanoTime() - start) / 1e9;
      long changes = published.get();

      Pool pool = Pools.create(vertx, Pools.connectionConfig(db, poolSize), "peer");
      start = System.nanoTime();
      // at most as many statements in flight as there are connections, as with the verticle's per-connection chains
      io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
      AtomicLong issued = new AtomicLong();
      AtomicLong finished = new AtomicLong();
      Runnable[] next = new Runnable[1];
      next[0] = () -> {
        long i = issued.getAndIncrement();
        if (i >= events) {
          return;
        }
        pool.preparedQuery("UPDATE health_connections SET sync_success_count = sync_success_count + 1 "
            + "WHERE connection_id = $1").execute(Tuple.of(id((int) (i % connections)))).onComplete(r -> {
              if (finished.incrementAndGet() == events) {
                done.complete();
              } else {
                next[0].run();
              }
            });
      };
      vertx.runOnContext(v -> {
        for (int k = 0; k < Math.min(connections, events); k++) {
          next[0].run();
        }
      });
      Await.result(done.future(), Duration.ofMinutes(5));
      double peerSeconds = (System.nanoTime() - start) / 1e9;
      Await.result(pool.close());

      System.out.printf("connections=%d events=%d pool=%d%n", connections, events, poolSize);
      System.out.printf("health verticle: %.0f events/s (%.2f s; the bench's sending took %.2f s of it)%n",
          events / healthSeconds, healthSeconds, sentSeconds);
      System.out.printf("peer (plain UPDATE per event): %.0f events/s (%.2f s)%n", events / peerSeconds, peerSeconds);
      System.out.printf("ratio health/peer: %.2f%n", peerSeconds / healthSeconds);
      System.out.printf("health.changed published: %d for %d applied events (%.1f%%)%n", changes, events,
          changes * 100.0 / events);
    } finally {
      Await.result(vertx.close());
    }
  }

  private static List<SyncEvent> build(int connections, long events) {
    List<SyncEvent> out = new ArrayList<>();
    for (long i = 0; i < events; i++) {
      out.add(event((int) (i % connections), (i / connections) % 2 == 1));
    }
    return out;
  }

  /** Sends the events and waits until every one is counted; answers how long the sending itself took. */
  private static double run(Vertx vertx, DatabaseTarget db, List<SyncEvent> events, long before) {
    long start = System.nanoTime();
    for (SyncEvent event : events) {
      vertx.eventBus().request(Addresses.HEALTH_APPLY, event, new DeliveryOptions().setSendTimeout(300_000));
    }
    double sent = (System.nanoTime() - start) / 1e9;
    waitFor(db, "SELECT sum(sync_success_count + sync_failure_count) FROM health_connections", before + events.size());
    return sent;
  }

  private static SyncEvent event(int c, boolean fail) {
    Classification plan = fail ? new Classification(ErrorCategory.INTERNAL_ERROR, "API_ERROR", "INTERNAL_SERVER_ERROR",
        null, true, RecoveryStep.RETRY, 1_000, null, 1, 4, "internal_error", false, false, UserAction.NONE,
        ConnectionStatus.DEGRADED, Classification.Scope.PLAID, NotificationType.NONE, NotificationPriority.LOW, "m", "r")
        : null;
    return new SyncEvent(fail ? SyncEvent.FAILED : SyncEvent.COMPLETED, id(c), "user-" + c, "item-" + c,
        "ins_" + (c / 10), "Bank " + (c / 10), UUID.randomUUID().toString(), "periodic", fail ? "retrying" : "success",
        Instant.now().toString(), 5L, 0, 0, 0, Instant.now().plusSeconds(60).toString(), null, null,
        fail ? new JsonObject().put("error_code", "INTERNAL_SERVER_ERROR") : null, plan == null ? null : plan.toJson(),
        new JsonObject());
  }

  private static String id(int c) {
    return "conn_bench_" + c;
  }

  private static void waitFor(DatabaseTarget db, String sql, long expected) {
    Await.until(() -> Sql.number(db, sql) >= expected, Duration.ofMinutes(5), sql + " reaches " + expected);
  }
}
