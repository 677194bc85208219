package com.mingus.reliability.bench.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.crypto.TokenCipher;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonObject;
import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.net.http.HttpRequest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import javax.management.ListenerNotFoundException;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.junit.jupiter.api.Test;

/**
 * 100,000 registered connections: the heap of the whole application, and how late due connections are
 * claimed. The connections and their schedules are written with SQL (tokens sealed with the test key
 * around real sandbox access tokens, a few hundred connections per sandbox Item), every connection due
 * once at a steady rate from T0 on, with the default sync settings (poll every 1 s, batches of 16, at most
 * 32 at once); the syncs are real – the claim, a permit, /transactions/sync against the sandbox, the fenced
 * finish. Lag = {@code sync_schedule.claimed_at} (the database clock when the CLAIM ran) minus the
 * connection's {@code next_sync_at}, for every connection due in the measured window; a due connection not
 * yet claimed at the end counts with its lag so far.
 *
 * <p>Not part of {@code mvn verify}. Run: {@code mvn -B test -Dtest=SyncScaleBench
 * -Dsurefire.failIfNoSpecifiedTests=false} (knobs {@code -Dbench.registered=100000 -Dbench.dueRate=50
 * -Dbench.windowSeconds=60 -Dbench.items=100 -Dbench.pollMs=1000}; {@code -DargLine=-Xmx512m} caps the heap).
 */
class SyncScaleBench {
  private static final int REGISTERED = Integer.getInteger("bench.registered", 100_000);
  private static final int DUE_RATE = Integer.getInteger("bench.dueRate", 50);
  private static final int WINDOW_S = Integer.getInteger("bench.windowSeconds", 60);
  private static final int ITEMS = Integer.getInteger("bench.items", 100);
  /** sync.poll_interval_ms; unset keeps the application's default (1,000 ms). */
  private static final Integer POLL_MS = Integer.getInteger("bench.pollMs");
  private static final int SETUP_S = 30;

  @Test
  void heapAndSchedulingLagWithOneHundredThousandConnections() throws Exception {
    DatabaseTarget db = TestDatabase.fresh(SyncScaleBench.class);
    Map<String, Object> config = new HashMap<>();
    // Only the client-wide /transactions/sync budget would bind (1,000 a minute); per-Item limits stay.
    config.put("plaid.rate_limits./transactions/sync.per_minute", 100_000);
    config.put("sandbox.rate_limits./transactions/sync.per_minute", 100_000);
    if (POLL_MS != null) {
      config.put("sync.poll_interval_ms", POLL_MS);
    }
    try (Application app = TestApp.start(db, Map.of(), config)) {
      SandboxControl sandbox = new SandboxControl(app.sandboxPort());
      sandbox.put("/__control/rate-limits", new JsonObject().put("/transactions/sync",
          new JsonObject().put("per_minute", 100_000)));
      sandbox.institution("ins_bench", "Bench Bank");
      long baseline = heapAfterFullGc();

      List<String> tokens = new ArrayList<>();
      JsonObject sandboxConfig = app.settings().raw().getJsonObject("sandbox");
      for (int i = 0; i < ITEMS; i++) {
        String publicToken = sandbox.item("ins_bench", "bench-user", 0).getString("public_token");
        tokens.add(exchange(app.sandboxPort(), sandboxConfig, publicToken));
      }

      long insertStarted = System.nanoTime();
      Instant t0 = Instant.now().plusSeconds(SETUP_S);
      insertConnections(db, tokens);
      Sql.execute(db, "CREATE TABLE bench_due (connection_id TEXT PRIMARY KEY, due_at TIMESTAMPTZ NOT NULL)");
      // Connection n is due at T0 + n / rate: a steady stream of due connections, the rest further ahead.
      Sql.execute(db, """
          INSERT INTO bench_due (connection_id, due_at)
          SELECT 'conn_bench_' || n, '%s'::timestamptz + (n * interval '1 second') / %d
          FROM generate_series(0, %d) n""".formatted(t0, DUE_RATE, REGISTERED - 1));
      Sql.execute(db, "INSERT INTO sync_schedule (connection_id, next_sync_at, priority, trigger, next_balance_at) "
          + "SELECT connection_id, due_at, 2, 'periodic', now() + interval '1 day' FROM bench_due");
      Sql.execute(db, "VACUUM ANALYZE");
      double insertSeconds = (System.nanoTime() - insertStarted) / 1e9;
      assertThat(Instant.now()).as("set-up finished before T0; raise SETUP_S").isBefore(t0);

      AtomicLong maxAfterGc = new AtomicLong();
      AtomicLong collections = new AtomicLong();
      Runnable stopWatching = watchHeapAfterEachGc(used -> {
        maxAfterGc.accumulateAndGet(used, Math::max);
        collections.incrementAndGet();
      });
      Instant end = t0.plusSeconds(WINDOW_S);
      while (Instant.now().isBefore(end.plusSeconds(2))) {
        Thread.sleep(200);
      }
      stopWatching.run();
      long finalHeap = heapAfterFullGc();

      String window = "due_at BETWEEN '%s' AND '%s'".formatted(t0, end);
      List<String> lag = Sql.strings(db, """
          SELECT concat_ws(' ', count(*),
                 round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag)::numeric, 3),
                 round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lag)::numeric, 3),
                 round(max(lag)::numeric, 3), count(*) FILTER (WHERE claimed))
          FROM (SELECT extract(epoch FROM COALESCE(s.claimed_at, now()) - d.due_at) AS lag,
                       s.claimed_at IS NOT NULL AS claimed
                FROM bench_due d JOIN sync_schedule s USING (connection_id) WHERE d.%s) l""".formatted(window));
      String[] figures = lag.get(0).split(" ");
      long logged = Sql.number(db, "SELECT count(*) FROM sync_logs l JOIN bench_due d USING (connection_id) "
          + "WHERE l.status = 'success' AND d." + window);
      long early = Sql.number(db, "SELECT count(*) FROM sync_schedule s JOIN bench_due d USING (connection_id) "
          + "WHERE s.claimed_at < d.due_at");
      BenchResults.record("scale", String.format(Locale.ROOT,
          "%d registered (inserted in %.1f s), due at %d/s, poll %s ms, max heap %d MB, window %d s: %s due in the window, %s claimed, %d synced "
              + "successfully; lag p50 %s s, p99 %s s, max %s s; claimed early: %d; heap used after GC: %.0f MB "
              + "before the connections, at most %.0f MB after any of the %d collections from T0 on, %.0f MB after "
              + "a full GC at the end", REGISTERED, insertSeconds, DUE_RATE,
          app.settings().raw().getJsonObject("sync").getValue("poll_interval_ms"),
          Runtime.getRuntime().maxMemory() / 1_000_000, WINDOW_S, figures[0], figures[4],
          logged, figures[1], figures[2], figures[3], early, baseline / 1e6, maxAfterGc.get() / 1e6,
          collections.get(), finalHeap / 1e6));
      assertThat(early).isZero();
    }
  }

  /** Exchanges a sandbox public token for its access token, as the registration does. */
  private static String exchange(int port, JsonObject sandboxConfig, String publicToken) {
    JsonObject body = new JsonObject().put("client_id", sandboxConfig.getString("client_id"))
        .put("secret", sandboxConfig.getString("secret")).put("public_token", publicToken);
    Http.Response response = Http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/item/public_token/exchange"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())));
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    return response.json().getString("access_token");
  }

  /** The registry rows, with each access token sealed for its own (user, item) as registration seals it. */
  private static void insertConnections(DatabaseTarget db, List<String> tokens) throws SQLException {
    TokenCipher cipher = TokenCipher.parse(TestApp.TEST_KEYS, "TOKEN_ENCRYPTION_KEYS");
    try (Connection connection = DriverManager.getConnection(db.jdbcUrl() + "?reWriteBatchedInserts=true",
        db.user(), "")) {
      connection.setAutoCommit(false);
      try (PreparedStatement insert = connection.prepareStatement("""
          INSERT INTO connections (connection_id, user_id, item_id, institution_id, institution_name, token_key_id,
                                   token_nonce, token_ciphertext) VALUES (?, ?, ?, 'ins_bench', 'Bench Bank', ?, ?, ?)
          """)) {
        for (int n = 0; n < REGISTERED; n++) {
          String userId = "user-" + (n % 20_000);
          String itemId = "item_bench_" + n;
          TokenCipher.Sealed sealed = cipher.seal(tokens.get(n % tokens.size()), userId, itemId);
          insert.setString(1, "conn_bench_" + n);
          insert.setString(2, userId);
          insert.setString(3, itemId);
          insert.setString(4, sealed.keyId());
          insert.setBytes(5, sealed.nonce());
          insert.setBytes(6, sealed.ciphertext());
          insert.addBatch();
          if (n % 5_000 == 4_999) {
            insert.executeBatch();
          }
        }
        insert.executeBatch();
      }
      connection.commit();
    }
  }

  /** Calls back with the heap in use right after every collection (all heap pools); returns how to stop. */
  private static Runnable watchHeapAfterEachGc(LongConsumer afterGc) {
    Set<String> heapPools = new HashSet<>();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        heapPools.add(pool.getName());
      }
    }
    NotificationListener listener = (notification, handback) -> {
      if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
        return;
      }
      GarbageCollectionNotificationInfo info =
          GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
      long used = 0;
      for (Map.Entry<String, MemoryUsage> pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
        if (heapPools.contains(pool.getKey())) {
          used += pool.getValue().getUsed();
        }
      }
      afterGc.accept(used);
    };
    List<NotificationEmitter> emitters = new ArrayList<>();
    for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (collector instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(listener, null, null);
        emitters.add(emitter);
      }
    }
    return () -> {
      for (NotificationEmitter emitter : emitters) {
        try {
          emitter.removeNotificationListener(listener);
        } catch (ListenerNotFoundException e) {
          // already gone
        }
      }
    };
  }

  private static long heapAfterFullGc() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
