package com.mingus.reliability.cluster;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Benchmarks of docs/bench/cluster.md, each node a separate JVM on this machine:
 * <ul>
 *   <li>{@code syncs}: end-to-end syncs per second with 1, 2 and 3 nodes. Plaid's budgets are set far
 *       above what the machine can do, so the figure is the cluster's own: sync-now for every connection
 *       (each with new transactions at the sandbox), until every connection has synced again;</li>
 *   <li>{@code budget}: how much of one cluster-wide budget 3 nodes use under load: /transactions/sync
 *       limited (ours and the sandbox's, the same) well below what the nodes could send, many pages per
 *       sync; the sandbox's count of requests over whole windows against the budget, and its 429s.</li>
 * </ul>
 * Run: {@code java -cp ... com.mingus.reliability.cluster.ClusterThroughput syncs|budget}.
 */
public final class ClusterThroughput {
  private static final Logger log = LoggerFactory.getLogger(ClusterThroughput.class);

  private ClusterThroughput() {}

  public static void main(String[] args) {
    String what = args.length == 0 ? "syncs" : args[0];
    if (what.equals("budget")) {
      budget(Integer.parseInt(System.getProperty("nodes", "3")), Integer.parseInt(System.getProperty("budget", "600")),
          Double.parseDouble(System.getProperty("window_scale", "0.25")), Integer.parseInt(System.getProperty("windows", "4")));
    } else {
      int connections = Integer.parseInt(System.getProperty("connections", "400"));
      List<String> lines = new ArrayList<>();
      for (String n : System.getProperty("nodes", "1,2,3").split(",")) {
        lines.add(syncs(Integer.parseInt(n.trim()), connections));
      }
      lines.forEach(line -> log.info("RESULT {}", line));
    }
    System.exit(0);
  }

  private static JsonObject config(int syncPerWindow, int perItem, double windowScale, int pageCount) {
    JsonObject limits = com.mingus.reliability.config.ConfigLoader.bundledDefaults().getJsonObject("plaid")
        .getJsonObject("rate_limits").copy();
    limits.put("/transactions/sync", new JsonObject().put("per_minute", syncPerWindow).put("per_item_per_minute", perItem));
    limits.put("/accounts/get", new JsonObject().put("per_minute", 100_000).put("per_item_per_minute", 1000));
    return new JsonObject().put("plaid", new JsonObject().put("rate_limits", limits))
        .put("ratelimit", new JsonObject().put("window_scale", windowScale))
        .put("sync", new JsonObject().put("page_count", pageCount).put("poll_interval_ms", 500).put("max_concurrent", 32))
        .put("http", new JsonObject().put("instances", 1));
  }

  private static JsonObject sandboxLimits(JsonObject config) {
    JsonObject out = new JsonObject();
    config.getJsonObject("plaid").getJsonObject("rate_limits").forEach(entry -> {
      JsonObject limit = (JsonObject) entry.getValue();
      JsonObject copy = new JsonObject();
      if (limit.containsKey("per_minute")) {
        copy.put("per_minute", limit.getValue("per_minute"));
      }
      if (limit.containsKey("per_item_per_minute")) {
        copy.put("per_item_per_minute", limit.getValue("per_item_per_minute"));
      }
      out.put(entry.getKey(), copy);
    });
    return out;
  }

  /** Registers the connections and waits for their first sync; answers their ids, and the Items in order. */
  private static List<String[]> populate(ClusterHarness cluster, int connections, int transactions) {
    cluster.sandbox.institution("ins_bench", "Bench Bank");
    List<String[]> out = java.util.Collections.synchronizedList(new ArrayList<>());
    Semaphore inFlight = new Semaphore(16);
    List<Future<JsonObject>> all = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      String user = "user-" + i;
      JsonObject item = cluster.sandbox.item("ins_bench", user, transactions);
      inFlight.acquireUninterruptibly();
      all.add(register(cluster, user, item.getString("public_token"), 5)
          .onSuccess(reply -> out.add(new String[] {reply.getString("connection_id"), item.getString("item_id"), user}))
          .onComplete(done -> inFlight.release()));
    }
    Await.result(Future.all(all), Duration.ofSeconds(300));
    return out;
  }

  /**
   * Registers as a user's app would: a node that answers UNAVAILABLE ("too busy to reach Plaid now; try
   * again in a moment", as three JVMs warming up on two cores can be) is asked again after a pause.
   */
  private static Future<JsonObject> register(ClusterHarness cluster, String user, String publicToken, int tries) {
    return Bus.<JsonObject>request(cluster.bus, Addresses.SYNC_REGISTER, new JsonObject().put("user_id", user)
            .put("public_token", publicToken), 30_000)
        .recover(failure -> {
          if (tries <= 1 || !(failure instanceof Bus.BusException busy) || busy.failure().code() != FailureCodes.UNAVAILABLE) {
            return Future.failedFuture(failure);
          }
          io.vertx.core.Promise<Void> pause = io.vertx.core.Promise.promise();
          cluster.bus.setTimer(500, t -> pause.complete());
          return pause.future().compose(v -> register(cluster, user, publicToken, tries - 1));
        });
  }

  static String syncs(int nodes, int connections) {
    JsonObject config = config(100_000, 1_000, 1.0, 100);
    try (ClusterHarness cluster = ClusterHarness.create("syncs-" + nodes, nodes, config,
        new JsonObject().put("rate_limits", sandboxLimits(config)).put("today", "2026-11-27"), Map.of())) {
      cluster.startAll();
      List<String[]> population = populate(cluster, connections, 50);
      Await.until(() -> Sql.number(cluster.db, "SELECT count(*) FROM sync_schedule WHERE last_success_at IS NOT NULL")
          >= connections, Duration.ofSeconds(600), "first syncs");
      double best = 0;
      List<Double> rounds = new ArrayList<>();
      for (int round = 0; round < 3; round++) {
        for (String[] connection : population) {
          cluster.sandbox.mutate(connection[1], 5, 2, 1);
        }
        long from = System.currentTimeMillis();
        long begin = System.nanoTime();
        Semaphore inFlight = new Semaphore(64);
        List<Future<JsonObject>> all = new ArrayList<>();
        for (String[] connection : population) {
          inFlight.acquireUninterruptibly();
          all.add(Bus.<JsonObject>request(cluster.bus, Addresses.SYNC_NOW, new JsonObject().put("user_id", connection[2])
              .put("connection_id", connection[0]), 30_000).onComplete(done -> inFlight.release()));
        }
        Future.join(all).toCompletionStage().toCompletableFuture().join();
        Await.until(() -> Sql.number(cluster.db, "SELECT count(*) FROM sync_schedule WHERE last_success_at > "
            + "to_timestamp(?::double precision / 1000)", (Object) Long.toString(from)) >= connections,
            Duration.ofSeconds(600), "every connection synced again");
        double seconds = (System.nanoTime() - begin) / 1e9;
        double rate = connections / seconds;
        rounds.add(rate);
        best = Math.max(best, rate);
        log.info("{} node(s): {} syncs in {} s = {} syncs/s", nodes, connections, String.format("%.2f", seconds),
            String.format("%.1f", rate));
      }
      long rateLimited = cluster.sandbox.stats().getJsonObject("total").getLong("rate_limited");
      return String.format("nodes=%d connections=%d syncs/s rounds=%s best=%.1f sandbox_429=%d", nodes, connections,
          rounds.stream().map(r -> String.format("%.1f", r)).toList(), best, rateLimited);
    }
  }

  static void budget(int nodes, int budget, double windowScale, int windows) {
    long windowMs = Math.round(60_000 * windowScale);
    JsonObject config = config(budget, 50, windowScale, 10);
    JsonObject sandbox = new JsonObject().put("rate_limits", sandboxLimits(config)).put("rate_limit_window_ms", windowMs)
        .put("rate_limit_window_kind", "fixed").put("today", "2026-11-27");
    try (ClusterHarness cluster = ClusterHarness.create("budget-" + nodes, nodes, config, sandbox, Map.of())) {
      cluster.startAll();
      // 20 pages a sync and more connections than the budget can serve in the run: saturated throughout
      int connections = Integer.parseInt(System.getProperty("connections", "400"));
      populate(cluster, connections, 200);
      ClusterHarness.pause(windowMs);
      long first = requests(cluster);
      long begin = System.nanoTime();
      ClusterHarness.pause(windowMs * windows);
      long last = requests(cluster);
      double seconds = (System.nanoTime() - begin) / 1e9;
      double allowed = budget * seconds * 1000 / windowMs;
      long rateLimited = cluster.sandbox.stats().getJsonObject("total").getLong("rate_limited");
      long stillDue = Sql.number(cluster.db, "SELECT count(*) FROM sync_schedule WHERE last_success_at IS NULL");
      log.info("RESULT nodes={} budget={} per {} ms: {} /transactions/sync requests served in {} s of {} allowed = "
              + "{}% of the budget; sandbox 429s {}; connections still waiting for their first sync {}", nodes, budget,
          windowMs, last - first, String.format("%.1f", seconds), String.format("%.0f", allowed),
          String.format("%.1f", 100.0 * (last - first) / allowed), rateLimited, stillDue);
    }
  }

  private static long requests(ClusterHarness cluster) {
    JsonObject endpoint = cluster.sandbox.stats().getJsonObject("endpoints").getJsonObject("/transactions/sync");
    return endpoint == null ? 0 : endpoint.getLong("requests");
  }
}
