package com.mingus.reliability.bench.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.plaid.PlaidClient;
import com.mingus.reliability.plaid.PublicTokenExchange;
import com.mingus.reliability.plaid.SyncPage;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Webhook to transactions readable through the API: the path a user's new purchase takes. The whole
 * application (TestApp, the sandbox at 0 latency) with N connections whose Items send their webhooks to
 * our {@code /api/plaid/webhook}. At a steady rate (default 1,000 a minute) the driver adds one transaction
 * to a random Item in the sandbox, which sends Plaid's signed {@code SYNC_UPDATES_AVAILABLE}; the time
 * counted is from just before that change to the first {@code GET /connections/:id/transactions} that
 * lists the new transaction (as the connection's user: one request in flight per connection with changes
 * awaited, every 50 ms).
 *
 * <p>The peer, in the same run and at the same rate: the floor of any webhook-driven design, a loop that
 * learns of the change at once (no webhook, no queue) and calls {@code /transactions/sync} with its cursor
 * until the transaction is in hand, through the same Plaid client against the same sandbox.
 *
 * <p>Not part of {@code mvn verify}. Run: {@code mvn -B test -Dtest=WebhookLatencyBench
 * -Dsurefire.failIfNoSpecifiedTests=false} (knobs {@code -Dbench.connections=200 -Dbench.perMinute=1000
 * -Dbench.seconds=60}, and {@code -Dbench.coalesceMs=} to run with another {@code sync.webhook_coalesce_ms}).
 */
class WebhookLatencyBench {
  private static final int CONNECTIONS = Integer.getInteger("bench.connections", 200);
  private static final int PER_MINUTE = Integer.getInteger("bench.perMinute", 1_000);
  private static final int SECONDS = Integer.getInteger("bench.seconds", 60);
  private static final String COALESCE_MS = System.getProperty("bench.coalesceMs");
  private static final String JWT_SECRET = "bench-jwt-secret-0123456789-0123456789";
  /** The embedded sandbox's credentials (conf/config.json, section sandbox). */
  private static final String SANDBOX_CLIENT = "mingus-sandbox-client";
  private static final String SANDBOX_SECRET = "mingus-sandbox-secret-0123456789";

  private record Linked(String connectionId, String userId, String itemId, String token) {}

  @Test
  void webhookToReadableThroughTheApi() throws Exception {
    DatabaseTarget db = TestDatabase.fresh(WebhookLatencyBench.class);
    Map<String, Object> config = new HashMap<>();
    config.put("plaid.rate_limits", BenchConfig.unboundRateLimits());
    config.put("sandbox.rate_limits", BenchConfig.unboundSandboxLimits());
    config.put("http.rate_limit.per_second", 10_000);
    config.put("http.rate_limit.burst", 10_000);
    if (COALESCE_MS != null) {
      config.put("sync.webhook_coalesce_ms", Long.parseLong(COALESCE_MS));
    }
    try (Application app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", JWT_SECRET), config)) {
      SandboxControl sandbox = new SandboxControl(app.sandboxPort());
      sandbox.put("/__control/rate-limits", BenchConfig.unboundSandboxLimits());
      sandbox.institution("ins_bench", "Bench Bank");
      String webhook = "http://127.0.0.1:" + app.httpPort() + "/api/plaid/webhook";

      Set<String> synced = ConcurrentHashMap.newKeySet();
      app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_COMPLETED, m -> synced.add(m.body().connectionId()));
      List<Linked> linked = new ArrayList<>();
      for (int i = 0; i < CONNECTIONS; i++) {
        String user = "bench-user-" + i;
        JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_bench")
            .put("user_id", user).put("transactions", 20).put("webhook", webhook));
        JsonObject registered = Await.result(Bus.request(app.vertx(), Addresses.SYNC_REGISTER, new JsonObject()
            .put("user_id", user).put("public_token", item.getString("public_token")), 60_000));
        String token = JwtIssuer.issue(app.vertx(), JWT_SECRET, user, List.of("user"), user, user + "@example.com", 7_200);
        linked.add(new Linked(registered.getString("connection_id"), user, item.getString("item_id"), token));
      }
      Await.until(() -> linked.stream().allMatch(l -> synced.contains(l.connectionId())), Duration.ofMinutes(5),
          "every connection's first sync");

      // the peer's Items: the same bank and size, no webhook, read straight from the sandbox
      PlaidClient plaid = PlaidClient.create(app.vertx(), new JsonObject()
          .put("base_url", "http://127.0.0.1:" + app.sandboxPort()).put("client_id", SANDBOX_CLIENT)
          .put("secret", SANDBOX_SECRET).put("version", "2020-09-14"));
      int peers = Math.max(1, CONNECTIONS / 4);
      List<String[]> peerItems = new ArrayList<>();
      for (int i = 0; i < peers; i++) {
        JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_bench")
            .put("transactions", 20));
        PublicTokenExchange exchanged = Await.result(plaid.exchangePublicToken(item.getString("public_token")));
        String cursor = drain(plaid, exchanged.accessToken(), null, null);
        peerItems.add(new String[] {item.getString("item_id"), exchanged.accessToken(), cursor});
      }

      // where the time goes: from a change to its connection's next sync.started and sync.completed
      Map<String, Long> changedAt = new ConcurrentHashMap<>();
      ConcurrentLinkedQueue<Long> toStarted = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Long> toCompleted = new ConcurrentLinkedQueue<>();
      Map<String, Long> startedFor = new ConcurrentHashMap<>();
      app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_STARTED, m -> {
        Long at = changedAt.remove(m.body().connectionId());
        if (at != null) {
          toStarted.add(System.nanoTime() - at);
          startedFor.put(m.body().connectionId(), at);
        }
      });
      app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_COMPLETED, m -> {
        Long at = startedFor.remove(m.body().connectionId());
        if (at != null) {
          toCompleted.add(System.nanoTime() - at);
        }
      });
      HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(32)).build();
      ScheduledExecutorService driver = Executors.newScheduledThreadPool(4);
      ScheduledExecutorService pollers = Executors.newScheduledThreadPool(16);
      ConcurrentLinkedQueue<Long> ours = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Long> floor = new ConcurrentLinkedQueue<>();
      AtomicInteger lost = new AtomicInteger();
      Map<String, Watcher> watchers = new ConcurrentHashMap<>();
      Random random = new Random(7);
      long periodNanos = 60_000_000_000L / PER_MINUTE;
      int changes = PER_MINUTE * SECONDS / 60;
      AtomicInteger fired = new AtomicInteger();
      long deadlineNanos = System.nanoTime() + (SECONDS + 60) * 1_000_000_000L;
      for (int n = 0; n < changes; n++) {
        Linked target = linked.get(random.nextInt(linked.size()));
        String[] peer = peerItems.get(n % peerItems.size());
        driver.schedule(() -> {
          fired.incrementAndGet();
          long start = System.nanoTime();
          changedAt.putIfAbsent(target.connectionId(), start);
          JsonObject change = sandbox.mutate(target.itemId(), 1, 0, 0);
          String added = change.getJsonArray("added").getString(0);
          watcher(watchers, http, pollers, app.httpPort(), target, deadlineNanos, ours, lost).expect(added, start);
          synchronized (peer) {
            long peerStart = System.nanoTime();
            String peerAdded = sandbox.mutate(peer[0], 1, 0, 0).getJsonArray("added").getString(0);
            peer[2] = drain(plaid, peer[1], peer[2], peerAdded);
            floor.add(System.nanoTime() - peerStart);
          }
        }, n * periodNanos, TimeUnit.NANOSECONDS);
      }
      Await.until(() -> ours.size() + lost.get() >= changes && floor.size() >= changes,
          Duration.ofSeconds(SECONDS + 120), "every change readable or given up");
      driver.shutdownNow();
      pollers.shutdownNow();

      long[] o = sorted(ours);
      long[] f = sorted(floor);
      String line = String.format(Locale.ROOT,
          "%d webhooks at %d/min over %d connections (webhook_coalesce_ms %s): readable through the API p50 %.0f ms, "
              + "p90 %.0f ms, p99 %.0f ms, max %.0f ms; not readable within the run: %d. Peer (change known at once, "
              + "/transactions/sync until it is in hand): p50 %.1f ms, p99 %.1f ms. Ratio p50 ours/peer %.1f",
          changes, PER_MINUTE, CONNECTIONS, COALESCE_MS == null ? "default" : COALESCE_MS, ms(pct(o, 50)), ms(pct(o, 90)),
          ms(pct(o, 99)), ms(o[o.length - 1]), lost.get(), ms(pct(f, 50)), ms(pct(f, 99)), pct(o, 50) / (double) pct(f, 50));
      long[] st = sorted(toStarted);
      long[] co = sorted(toCompleted);
      line += String.format(Locale.ROOT, ". Stages from the change: sync.started p50 %.0f ms p99 %.0f ms; sync.completed "
          + "p50 %.0f ms p99 %.0f ms (%d syncs)", ms(pct(st, 50)), ms(pct(st, 99)), ms(pct(co, 50)), ms(pct(co, 99)),
          co.length);
      BenchResults.record("webhook-latency", line);
      assertThat(lost.get()).as("changes never readable").isZero();
    }
  }

  private static Watcher watcher(Map<String, Watcher> watchers, HttpClient http, ScheduledExecutorService pollers,
      int port, Linked target, long deadlineNanos, ConcurrentLinkedQueue<Long> out, AtomicInteger lost) {
    return watchers.computeIfAbsent(target.connectionId(),
        id -> new Watcher(http, pollers, port, target, deadlineNanos, out, lost));
  }

  /**
   * The connection's user reading their transactions while changes are awaited: one request in flight per
   * connection, every 50 ms, each answer settling every awaited transaction it lists (so the polls do not
   * grow with the number of changes in flight, and do not become the load they measure).
   */
  private static final class Watcher {
    private final HttpClient http;
    private final ScheduledExecutorService pollers;
    private final HttpRequest request;
    private final long deadlineNanos;
    private final ConcurrentLinkedQueue<Long> out;
    private final AtomicInteger lost;
    private final Map<String, Long> awaited = new HashMap<>();
    private boolean polling;

    Watcher(HttpClient http, ScheduledExecutorService pollers, int port, Linked target, long deadlineNanos,
        ConcurrentLinkedQueue<Long> out, AtomicInteger lost) {
      this.http = http;
      this.pollers = pollers;
      this.deadlineNanos = deadlineNanos;
      this.out = out;
      this.lost = lost;
      this.request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/reliability/connections/"
          + target.connectionId() + "/transactions?limit=500")).header("Authorization", "Bearer " + target.token())
          .timeout(Duration.ofSeconds(10)).GET().build();
    }

    synchronized void expect(String transactionId, long start) {
      awaited.put(transactionId, start);
      if (!polling) {
        polling = true;
        poll();
      }
    }

    private void poll() {
      http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, failure) -> {
        long now = System.nanoTime();
        Set<String> listed = failure == null && response.statusCode() == 200 ? ids(response.body()) : Set.of();
        synchronized (this) {
          awaited.entrySet().removeIf(entry -> {
            if (listed.contains(entry.getKey())) {
              out.add(now - entry.getValue());
              return true;
            }
            if (now > deadlineNanos) {
              lost.incrementAndGet();
              return true;
            }
            return false;
          });
          if (awaited.isEmpty()) {
            polling = false;
            return;
          }
        }
        pollers.schedule(this::poll, 50, TimeUnit.MILLISECONDS);
      });
    }
  }

  private static Set<String> ids(String body) {
    Set<String> ids = new java.util.HashSet<>();
    JsonArray transactions = new JsonObject(body).getJsonArray("transactions");
    for (int i = 0; i < transactions.size(); i++) {
      ids.add(transactions.getJsonObject(i).getString("transaction_id"));
    }
    return ids;
  }

  /** Pages /transactions/sync from {@code cursor} to the end (until {@code wanted} is seen, when given); the new cursor. */
  private static String drain(PlaidClient plaid, String token, String cursor, String wanted) {
    boolean seen = wanted == null;
    String at = cursor;
    while (true) {
      SyncPage page = Await.result(plaid.syncTransactions(token, at, 500));
      at = page.nextCursor();
      if (!seen && page.added().stream().anyMatch(t -> wanted.equals(t.transactionId()))) {
        seen = true;
      }
      if (!page.hasMore() && seen) {
        return at;
      }
    }
  }

  private static long[] sorted(ConcurrentLinkedQueue<Long> values) {
    long[] all = values.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(all);
    return all;
  }

  private static long pct(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
