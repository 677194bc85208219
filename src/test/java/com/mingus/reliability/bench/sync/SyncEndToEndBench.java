package com.mingus.reliability.bench.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Connections fully synced per second, end to end: the whole application (TestApp, default sync settings)
 * against the in-process Plaid sandbox over real HTTP, N connections of M transactions registered at once,
 * rate limits raised on both sides so that they do not bind. Measured from the first registration request
 * to the last connection's first {@code sync.completed}.
 *
 * <p>Not part of {@code mvn verify}. Run: {@code mvn -B test -Dtest=SyncEndToEndBench
 * -Dsurefire.failIfNoSpecifiedTests=false} (knobs {@code -Dbench.connections=500 -Dbench.transactions=100}).
 */
class SyncEndToEndBench {
  private static final int CONNECTIONS = Integer.getInteger("bench.connections", 500);
  private static final int TRANSACTIONS = Integer.getInteger("bench.transactions", 100);

  @Test
  void connectionsFullySyncedPerSecond() {
    DatabaseTarget db = TestDatabase.fresh(SyncEndToEndBench.class);
    Map<String, Object> config = new HashMap<>();
    config.put("plaid.rate_limits", BenchConfig.unboundRateLimits());
    config.put("sandbox.rate_limits", BenchConfig.unboundSandboxLimits());
    try (Application app = TestApp.start(db, Map.of(), config)) {
      SandboxControl sandbox = new SandboxControl(app.sandboxPort());
      sandbox.put("/__control/rate-limits", BenchConfig.unboundSandboxLimits());
      sandbox.institution("ins_bench", "Bench Bank");

      Map<String, Long> completedAt = new ConcurrentHashMap<>();
      AtomicInteger failures = new AtomicInteger();
      AtomicLong added = new AtomicLong();
      app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_COMPLETED, message -> {
        if (completedAt.putIfAbsent(message.body().connectionId(), System.nanoTime()) == null) {
          added.addAndGet(message.body().added() == null ? 0 : message.body().added());
        }
      });
      app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_FAILED, message -> failures.incrementAndGet());

      // The Items exist before the clock starts: creating them is the sandbox's work, not ours.
      List<String> publicTokens = new ArrayList<>();
      for (int i = 0; i < CONNECTIONS; i++) {
        publicTokens.add(sandbox.item("ins_bench", "user-" + (i % 100), TRANSACTIONS).getString("public_token"));
      }

      CpuMeter.Sample cpu = CpuMeter.now();
      long started = System.nanoTime();
      List<Future<JsonObject>> registrations = new ArrayList<>();
      for (int i = 0; i < CONNECTIONS; i++) {
        registrations.add(Bus.request(app.vertx(), Addresses.SYNC_REGISTER, new JsonObject()
            .put("user_id", "user-" + (i % 100)).put("public_token", publicTokens.get(i)), 120_000));
      }
      Set<String> connections = ConcurrentHashMap.newKeySet();
      long lastRegistered = 0;
      for (Future<JsonObject> registration : registrations) {
        connections.add(Await.result(registration, Duration.ofMinutes(3)).getString("connection_id"));
        lastRegistered = Math.max(lastRegistered, System.nanoTime());
      }
      Await.until(() -> completedAt.keySet().containsAll(connections), Duration.ofMinutes(10),
          "every connection completes its first sync");
      long last = completedAt.values().stream().mapToLong(Long::longValue).max().orElseThrow();
      CpuMeter.Sample used = CpuMeter.now().minus(cpu);
      double seconds = (last - started) / 1e9;
      double registerSeconds = (lastRegistered - started) / 1e9;

      long stored = Sql.number(db, "SELECT count(*) FROM transactions");
      assertThat(stored).isEqualTo((long) CONNECTIONS * TRANSACTIONS);
      assertThat(added.get()).isEqualTo(stored);
      BenchResults.record("end-to-end", String.format(Locale.ROOT,
          "%d connections x %d transactions: registered in %.2f s, all synced %.2f s after the first registration: "
              + "%.1f syncs/s, %.0f transactions/s; %d failed attempts; CPU per connection (registration and "
              + "sync, the sandbox included): JVM %.1f ms + PostgreSQL %.1f ms; sandbox served %s",
          CONNECTIONS, TRANSACTIONS, registerSeconds, seconds, CONNECTIONS / seconds, stored / seconds,
          failures.get(), used.jvmNanos() / 1e6 / CONNECTIONS, used.postgresNanos() / 1e6 / CONNECTIONS, sandbox.stats().getJsonObject("endpoints").getJsonObject("/transactions/sync")));
    }
  }
}
