package com.mingus.reliability.sync;

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
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * 200 connections against a sandbox that fails a third of /transactions/sync calls (HTTP 500, 429,
 * connection resets, hangs past the client timeout) while their data keeps changing between pages:
 * every connection ends equal to the sandbox's ground truth, with no transaction stored twice.
 */
class SyncUnderFaultsTest {
  private static final Logger log = LoggerFactory.getLogger(SyncUnderFaultsTest.class);
  private static final int CONNECTIONS = 200;

  @Test
  void twoHundredConnectionsEndEqualToGroundTruthThroughFaultsAndMutations() throws Exception {
    DatabaseTarget db = TestDatabase.fresh(SyncUnderFaultsTest.class);
    Map<String, Object> config = new HashMap<>();
    config.put("sync.page_count", 25);
    config.put("sync.poll_interval_ms", 200);
    config.put("sync.max_concurrent", 64);
    config.put("sync.webhook_coalesce_ms", 200);
    config.put("plaid.timeouts.total_ms", 1500);
    config.put("plaid.timeouts.idle_ms", 1500);
    config.put("ratelimit.cooldown_ms", 300);
    config.put("classify.retry_budget.enabled", false);
    for (String strategy : List.of("connection_failure", "rate_limit_exceeded", "internal_error", "unknown_error",
        "institution_error")) {
      config.put("classify.retry_strategies." + strategy, new JsonObject().put("max_retries", 10)
          .put("base_delay_s", 0.2).put("max_delay_s", 1.0).put("backoff_multiplier", 2.0).put("jitter", true)
          .put("fallback_interval_s", 1));
    }
    config.put("classify.pagination_backoff_s", 1);
    try (Application app = TestApp.start(db, Map.of(), config)) {
      SandboxControl sandbox = new SandboxControl(app.sandboxPort());
      sandbox.institution("ins_faults", "Faulty Bank");
      Map<String, String> lastSuccess = new ConcurrentHashMap<>();
      AtomicInteger failures = new AtomicInteger();
      app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_COMPLETED, m -> lastSuccess.put(m.body().connectionId(), m.body().at()));
      app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_FAILED, m -> failures.incrementAndGet());

      String sync = "/transactions/sync";
      sandbox.fault(new JsonObject().put("scope", new JsonObject().put("endpoint", sync)).put("error_type", "API_ERROR")
          .put("error_code", "INTERNAL_SERVER_ERROR").put("http_status", 500).put("probability", 0.2));
      sandbox.fault(new JsonObject().put("scope", new JsonObject().put("endpoint", sync))
          .put("error_type", "RATE_LIMIT_EXCEEDED").put("error_code", "TRANSACTIONS_SYNC_LIMIT").put("http_status", 429)
          .put("probability", 0.1));
      sandbox.fault(new JsonObject().put("scope", new JsonObject().put("endpoint", sync)).put("transport", "reset")
          .put("probability", 0.03));
      sandbox.fault(new JsonObject().put("scope", new JsonObject().put("endpoint", sync)).put("transport", "hang")
          .put("probability", 0.02));

      Random random = new Random(7);
      List<String> items = new ArrayList<>();
      Map<String, String> connectionOfItem = new HashMap<>();
      List<Future<JsonObject>> registrations = new ArrayList<>();
      for (int i = 0; i < CONNECTIONS; i++) {
        JsonObject item = sandbox.item("ins_faults", "user-" + (i % 40), 20 + random.nextInt(120));
        items.add(item.getString("item_id"));
        registrations.add(Bus.request(app.vertx(), Addresses.SYNC_REGISTER, new JsonObject()
            .put("user_id", "user-" + (i % 40)).put("public_token", item.getString("public_token")), 30_000));
      }
      for (int i = 0; i < CONNECTIONS; i++) {
        connectionOfItem.put(items.get(i), Await.result(registrations.get(i), Duration.ofSeconds(60)).getString("connection_id"));
      }

      // Data changes while the syncs page through it: mutation during pagination, then more to fetch.
      long mutateUntil = System.nanoTime() + Duration.ofSeconds(8).toNanos();
      int mutations = 0;
      while (System.nanoTime() < mutateUntil) {
        sandbox.mutate(items.get(random.nextInt(items.size())), 3, 1, 1);
        mutations++;
        Thread.sleep(20);
      }
      sandbox.clearFaults();
      Instant settled = Instant.now();
      // Plaid would send SYNC_UPDATES_AVAILABLE for each change; here every Item hears one.
      for (String item : items) {
        app.vertx().eventBus().send(Addresses.SYNC_WEBHOOK, new JsonObject().put("webhook_type", "TRANSACTIONS")
            .put("webhook_code", "SYNC_UPDATES_AVAILABLE").put("item_id", item));
      }
      Await.until(() -> connectionOfItem.values().stream().allMatch(id -> lastSuccess.containsKey(id)
              && Instant.parse(lastSuccess.get(id)).isAfter(settled)),
          Duration.ofSeconds(120), "every connection completes a sync after the last change");

      int mismatched = 0;
      for (String item : items) {
        Set<String> truth = sandbox.truthIds(item);
        Set<String> stored = new HashSet<>(Sql.strings(db,
            "SELECT transaction_id FROM transactions WHERE connection_id = ?", connectionOfItem.get(item)));
        if (!truth.equals(stored)) {
          mismatched++;
        }
      }
      long duplicates = Sql.number(db, "SELECT count(*) - count(DISTINCT transaction_id) FROM transactions");
      JsonObject stats = sandbox.stats();
      log.info("Faults run: {} connections, {} mutations, {} failed attempts, sandbox served {}",
          CONNECTIONS, mutations, failures.get(), stats.getJsonObject("endpoints").getJsonObject(sync));
      assertThat(failures.get()).as("faults actually happened").isPositive();
      assertThat(mismatched).as("connections differing from the ground truth").isZero();
      assertThat(duplicates).isZero();
      assertThat(Sql.number(db, "SELECT count(*) FROM sync_logs WHERE restarts > 0 OR error_code = "
          + "'TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION'")).as("mutation during pagination was met").isPositive();
    }
  }
}
