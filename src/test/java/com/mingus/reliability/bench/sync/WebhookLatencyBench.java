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
 * <p>Where the time goes, per change: the webhook verified and handed to sync, recorded (the schedule row
 * written), the row due, the delivering sync's start and end, readable; plus the driver's lateness, the
 * hand-offs in flight and the webhooks queued at the sandbox, and the sandbox's record of its deliveries
 * (docs/bench/sync.md, "Webhook to readable").
 *
 * <p>Not part of {@code mvn verify}. Run: {@code mvn -B test -Dtest=WebhookLatencyBench
 * -Dsurefire.failIfNoSpecifiedTests=false} (knobs {@code -Dbench.connections=200 -Dbench.perMinute=1000
 * -Dbench.seconds=60}, {@code -Dbench.coalesceMs=} to run with another {@code sync.webhook_coalesce_ms} and
 * {@code -Dbench.sandboxWebhookConnections=} with another {@code sandbox.webhook_max_connections}).
 */
class WebhookLatencyBench {
  private static final int CONNECTIONS = Integer.getInteger("bench.connections", 200);
  private static final int PER_MINUTE = Integer.getInteger("bench.perMinute", 1_000);
  private static final int SECONDS = Integer.getInteger("bench.seconds", 60);
  private static final String COALESCE_MS = System.getProperty("bench.coalesceMs");
  private static final String SANDBOX_WEBHOOK_CONNECTIONS = System.getProperty("bench.sandboxWebhookConnections");
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
    if (SANDBOX_WEBHOOK_CONNECTIONS != null) {
      config.put("sandbox.webhook_max_connections", Integer.parseInt(SANDBOX_WEBHOOK_CONNECTIONS));
    }
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

      // where the time goes, per change: stamped in this JVM as each stage happens (wall-clock ms)
      Map<String, ConcurrentLinkedQueue<Change>> awaitingRecord = new ConcurrentHashMap<>();
      Map<String, ConcurrentLinkedQueue<Change>> awaitingHand = new ConcurrentHashMap<>();
      Map<String, ConcurrentLinkedQueue<Long>> handedAt = new ConcurrentHashMap<>();
      ConcurrentLinkedQueue<Long> handOffMs = new ConcurrentLinkedQueue<>();
      AtomicInteger handOffs = new AtomicInteger();
      AtomicInteger recordedCount = new AtomicInteger();
      Map<String, long[]> running = new ConcurrentHashMap<>();
      Map<String, List<long[]>> syncsOf = new ConcurrentHashMap<>();
      // the webhook verified by our endpoint and handed to sync (each attempt of the hand-off)
      app.vertx().eventBus().addOutboundInterceptor(dc -> {
        if (Addresses.SYNC_WEBHOOK.equals(dc.message().address()) && dc.message().body() instanceof JsonObject body
            && body.getString("item_id") != null) {
          long now = System.currentTimeMillis();
          handOffs.incrementAndGet();
          handedAt.computeIfAbsent(body.getString("item_id"), k -> new ConcurrentLinkedQueue<>()).add(now);
          ConcurrentLinkedQueue<Change> waiting = awaitingHand.get(body.getString("item_id"));
          Change change = waiting == null ? null : waiting.poll();
          if (change != null) {
            change.handed = now;
          }
        }
        dc.next();
      });
      // sync has written the schedule row (the endpoint answers 200 now): the item's oldest change waiting for it
      app.vertx().eventBus().<JsonObject>consumer(Addresses.PLAID_WEBHOOK_RECEIVED, m -> {
        long now = System.currentTimeMillis();
        String item = m.body().getString("item_id");
        if (item == null || !"TRANSACTIONS".equals(m.body().getString("webhook_type"))) {
          return;
        }
        recordedCount.incrementAndGet();
        ConcurrentLinkedQueue<Long> handed = handedAt.get(item);
        Long at = handed == null ? null : handed.poll();
        if (at != null) {
          handOffMs.add(now - at);
        }
        ConcurrentLinkedQueue<Change> waiting = awaitingRecord.get(item);
        Change change = waiting == null ? null : waiting.poll();
        if (change != null) {
          change.recorded = now;
        }
      });
      app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_STARTED,
          m -> running.put(m.body().syncId(), new long[] {System.currentTimeMillis(), 0}));
      app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_COMPLETED, m -> {
        long[] sync = running.remove(m.body().syncId());
        if (sync != null) {
          sync[1] = System.currentTimeMillis();
          syncsOf.computeIfAbsent(m.body().connectionId(), k -> java.util.Collections.synchronizedList(new ArrayList<>()))
              .add(sync);
        }
      });
      List<Change> all = java.util.Collections.synchronizedList(new ArrayList<>());
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
      long deadlineNanos = System.nanoTime() + (SECONDS + 60) * 1_000_000_000L;
      long runStartMs = System.currentTimeMillis();
      // every 100 ms: webhooks sent by the sandbox and not yet verified by our endpoint, and hand-offs in flight
      int[] most = new int[2];
      ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
      sampler.scheduleAtFixedRate(() -> {
        int queued = 0;
        int handing = 0;
        synchronized (all) {
          for (Change c : all) {
            if (c.mutated > 0 && c.handed == 0) {
              queued++;
            } else if (c.handed > 0 && c.recorded == 0) {
              handing++;
            }
          }
        }
        most[0] = Math.max(most[0], queued);
        most[1] = Math.max(most[1], handing);
      }, 100, 100, TimeUnit.MILLISECONDS);
      for (int n = 0; n < changes; n++) {
        Linked target = linked.get(random.nextInt(linked.size()));
        String[] peer = peerItems.get(n % peerItems.size());
        long scheduledMs = runStartMs + n * periodNanos / 1_000_000;
        driver.schedule(() -> {
          long start = System.nanoTime();
          Change change = new Change(target.connectionId(), scheduledMs, System.currentTimeMillis());
          all.add(change);
          awaitingRecord.computeIfAbsent(target.itemId(), k -> new ConcurrentLinkedQueue<>()).add(change);
          awaitingHand.computeIfAbsent(target.itemId(), k -> new ConcurrentLinkedQueue<>()).add(change);
          JsonObject mutated = sandbox.mutate(target.itemId(), 1, 0, 0);
          change.mutated = System.currentTimeMillis();
          String added = mutated.getJsonArray("added").getString(0);
          watcher(watchers, http, pollers, app.httpPort(), target, deadlineNanos, ours, lost).expect(added, start, change);
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
      long driverDoneMs = all.stream().mapToLong(c -> c.t0).max().orElse(runStartMs);
      driver.shutdownNow();
      pollers.shutdownNow();
      sampler.shutdownNow();

      long[] o = sorted(ours);
      long[] f = sorted(floor);
      String line = String.format(Locale.ROOT,
          "%d webhooks at %d/min over %d connections (webhook_coalesce_ms %s): readable through the API p50 %.0f ms, "
              + "p90 %.0f ms, p99 %.0f ms, max %.0f ms; not readable within the run: %d. Peer (change known at once, "
              + "/transactions/sync until it is in hand): p50 %.1f ms, p99 %.1f ms. Ratio p50 ours/peer %.1f",
          changes, PER_MINUTE, CONNECTIONS, COALESCE_MS == null ? "default" : COALESCE_MS, ms(pct(o, 50)), ms(pct(o, 90)),
          ms(pct(o, 99)), ms(o[o.length - 1]), lost.get(), ms(pct(f, 50)), ms(pct(f, 99)), pct(o, 50) / (double) pct(f, 50));
      line += stages(all, syncsOf, COALESCE_MS == null ? 250 : Long.parseLong(COALESCE_MS), runStartMs, driverDoneMs);
      line += String.format(Locale.ROOT, ". Hand-off (verified webhook sent to sync until recorded) p50 %d ms p99 %d ms; "
              + "%d hand-off attempts, %d recorded, for %d changes", pctMs(handOffMs, 50), pctMs(handOffMs, 99),
          handOffs.get(), recordedCount.get(), changes);
      line += String.format(Locale.ROOT, "; at most %d webhooks sent and not yet verified by our endpoint, at most %d "
          + "hand-offs in flight (sampled every 100 ms); %d reads by the watchers", most[0], most[1], Watcher.READS.get());
      line += deliveries(sandbox, linked, runStartMs);
      line += ". Load average at the end: " + loadAverage();
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
    static final AtomicInteger READS = new AtomicInteger();
    private final HttpClient http;
    private final ScheduledExecutorService pollers;
    private final HttpRequest request;
    private final long deadlineNanos;
    private final ConcurrentLinkedQueue<Long> out;
    private final AtomicInteger lost;
    private final Map<String, Long> awaited = new HashMap<>();
    private final Map<String, Change> changes = new HashMap<>();
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

    synchronized void expect(String transactionId, long start, Change change) {
      awaited.put(transactionId, start);
      changes.put(transactionId, change);
      if (!polling) {
        polling = true;
        poll();
      }
    }

    private void poll() {
      READS.incrementAndGet();
      http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, failure) -> {
        long now = System.nanoTime();
        long nowMs = System.currentTimeMillis();
        Set<String> listed = failure == null && response.statusCode() == 200 ? ids(response.body()) : Set.of();
        synchronized (this) {
          awaited.entrySet().removeIf(entry -> {
            if (listed.contains(entry.getKey())) {
              out.add(now - entry.getValue());
              changes.remove(entry.getKey()).readable = nowMs;
              return true;
            }
            if (now > deadlineNanos) {
              lost.incrementAndGet();
              changes.remove(entry.getKey());
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

  /** One change of an Item and when each stage of its way to the API happened (wall-clock ms; 0: not seen). */
  private static final class Change {
    final String connectionId;
    final long scheduled;
    final long t0;
    volatile long mutated;
    volatile long handed;
    volatile long recorded;
    volatile long readable;

    Change(String connectionId, long scheduled, long t0) {
      this.connectionId = connectionId;
      this.scheduled = scheduled;
      this.t0 = t0;
    }
  }

  /**
   * Per-stage figures. The sync that made a change readable is the connection's last sync completed before
   * the first read that listed it; the schedule row was due {@code coalesceMs} after the webhook was
   * recorded, or, when the webhook came while a sync of the connection ran, when that sync ended (its
   * finish makes the follow-up due at once).
   */
  private static String stages(List<Change> all, Map<String, List<long[]>> syncsOf, long coalesceMs, long runStartMs,
      long driverDoneMs) {
    List<Long> late = new ArrayList<>();
    List<Long> mutate = new ArrayList<>();
    List<Long> handed = new ArrayList<>();
    List<Long> recorded = new ArrayList<>();
    List<Long> due = new ArrayList<>();
    List<Long> started = new ArrayList<>();
    List<Long> completed = new ArrayList<>();
    List<Long> readable = new ArrayList<>();
    List<Long> claimLag = new ArrayList<>();
    List<Long> syncMs = new ArrayList<>();
    List<Long> readerLag = new ArrayList<>();
    List<long[]> rows = new ArrayList<>();
    int duringSync = 0;
    int unexplained = 0;
    synchronized (all) {
      for (Change c : all) {
        late.add(c.t0 - c.scheduled);
        if (c.mutated > 0) {
          mutate.add(c.mutated - c.t0);
        }
        if (c.handed > 0) {
          handed.add(c.handed - c.t0);
        }
        if (c.readable == 0 || c.recorded == 0) {
          continue;
        }
        List<long[]> syncs = syncsOf.getOrDefault(c.connectionId, List.of());
        long[] delivering = null;
        long[] runningAtRecord = null;
        synchronized (syncs) {
          for (long[] sync : syncs) {
            if (sync[1] <= c.readable && sync[1] >= c.t0 && (delivering == null || sync[1] > delivering[1])) {
              delivering = sync;
            }
            if (sync[0] <= c.recorded && sync[1] > c.recorded) {
              runningAtRecord = sync;
            }
          }
        }
        if (delivering == null) {
          unexplained++;
          continue;
        }
        long dueAt = runningAtRecord != null ? runningAtRecord[1] : c.recorded + coalesceMs;
        if (runningAtRecord != null) {
          duringSync++;
        }
        recorded.add(c.recorded - c.t0);
        due.add(dueAt - c.t0);
        started.add(delivering[0] - c.t0);
        completed.add(delivering[1] - c.t0);
        readable.add(c.readable - c.t0);
        claimLag.add(delivering[0] - dueAt);
        syncMs.add(delivering[1] - delivering[0]);
        readerLag.add(c.readable - delivering[1]);
        rows.add(new long[] {c.readable - c.t0, c.recorded - c.t0, dueAt - c.recorded, delivering[0] - dueAt,
            delivering[1] - delivering[0], c.readable - delivering[1], runningAtRecord != null ? 1 : 0});
      }
    }
    // the slowest tenth: where their time went (medians of each part)
    rows.sort((a, b) -> Long.compare(b[0], a[0]));
    List<long[]> tail = rows.subList(0, Math.max(1, rows.size() / 10));
    long tailDuring = tail.stream().filter(r -> r[6] == 1).count();
    double seconds = (driverDoneMs - runStartMs) / 1000.0;
    return String.format(Locale.ROOT, ". Driver: %d changes made in %.1f s (%.0f/min), late to its schedule p50 %d ms "
            + "p99 %d ms max %d ms; sandbox mutate call p50 %d ms p99 %d ms"
            + ". Stages from the change (p50 / p99 / max ms): webhook handed to sync %s; recorded (schedule row written, "
            + "200) %s; row due %s; sync started %s; completed %s; readable %s. Between stages: due to started (claim) %s; "
            + "sync %s; completed to readable (reader) %s. Webhooks that came while the connection's sync ran: %d of %d "
            + "(%d not matched to a sync). Slowest tenth (%d, readable >= %d ms), medians: change to recorded %d, "
            + "recorded to due %d, due to started %d, sync %d, completed to readable %d; %d of them came during a sync",
        all.size(), seconds, all.size() / seconds * 60, pct(late, 50), pct(late, 99), pct(late, 100), pct(mutate, 50),
        pct(mutate, 99), three(handed), three(recorded), three(due), three(started), three(completed), three(readable),
        three(claimLag), three(syncMs), three(readerLag), duringSync, rows.size(), unexplained, tail.size(),
        tail.isEmpty() ? 0 : tail.get(tail.size() - 1)[0], col(tail, 1), col(tail, 2), col(tail, 3), col(tail, 4),
        col(tail, 5), tailDuring);
  }

  private static long col(List<long[]> rows, int column) {
    List<Long> values = new ArrayList<>();
    rows.forEach(r -> values.add(r[column]));
    return pct(values, 50);
  }

  private static String three(List<Long> values) {
    return pct(values, 50) + " / " + pct(values, 99) + " / " + pct(values, 100);
  }

  private static long pct(List<Long> values, int p) {
    if (values.isEmpty()) {
      return -1;
    }
    long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
    return sorted[Math.min(sorted.length - 1, Math.max(0, (int) Math.ceil(p / 100.0 * sorted.length) - 1))];
  }

  private static long pctMs(ConcurrentLinkedQueue<Long> values, int p) {
    return pct(new ArrayList<>(values), p);
  }

  /** The sandbox's own record of the run's webhook deliveries: attempts, statuses, failures. */
  private static String deliveries(SandboxControl sandbox, List<Linked> linked, long runStartMs) {
    int total = 0;
    int retried = 0;
    int undelivered = 0;
    Map<String, Integer> failures = new java.util.TreeMap<>();
    for (Linked l : linked) {
      JsonArray webhooks = sandbox.get("/__control/items/" + l.itemId() + "/webhooks").getJsonArray("webhooks");
      for (int i = 0; i < webhooks.size(); i++) {
        JsonObject delivery = webhooks.getJsonObject(i);
        JsonArray attempts = delivery.getJsonArray("attempts");
        if (attempts.isEmpty() || java.time.Instant.parse(attempts.getJsonObject(0).getString("at")).toEpochMilli() < runStartMs) {
          continue;
        }
        total++;
        if (attempts.size() > 1) {
          retried++;
        }
        if (!"delivered".equals(delivery.getString("state"))) {
          undelivered++;
        }
        for (int a = 0; a < attempts.size(); a++) {
          JsonObject attempt = attempts.getJsonObject(a);
          if (attempt.getInteger("status", 0) != 200) {
            String why = attempt.containsKey("status") ? "HTTP " + attempt.getInteger("status")
                : String.valueOf(attempt.getString("error"));
            failures.merge(why.length() > 60 ? why.substring(0, 60) : why, 1, Integer::sum);
          }
        }
      }
    }
    return String.format(Locale.ROOT, ". Sandbox deliveries in the run (its last 1,000 kept): %d, %d retried, %d not "
        + "delivered at the end; failed attempts %s", total, retried, undelivered, failures);
  }

  private static String loadAverage() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "unknown";
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
