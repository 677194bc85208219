package com.mingus.reliability.cluster;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.NotificationCreated;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.NotifySendResult;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.mail.Address;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chaos run: N clustered nodes sync many connections against the sandbox while it injects faults, the
 * data keeps changing, notifications are sent, and a random node is SIGKILLed every few seconds and
 * restarted. Afterwards it measures the promises of a single node: every connection equal to the
 * sandbox's ground truth, no duplicate transaction, no 429 from the sandbox (its limits are ours), every
 * notification delivered once, every orphaned sync lease taken over in time. Used by the short test in
 * the suite and by {@link #main} for the full run (docs/bench/cluster.md).
 */
public final class ClusterChaos {
  private static final Logger log = LoggerFactory.getLogger(ClusterChaos.class);
  private static final Pattern NODE_ID = Pattern.compile("Vert\\.x started \\(node ([0-9a-f]{8})\\)");

  /** What to run. */
  public record Plan(String name, int nodes, int connections, int transactions, Duration chaos, Duration killEvery,
      Duration restartAfter, int notifications, double windowScale, int syncPerWindow, int syncPerItemPerWindow,
      int pageCount, double faultProbability) {}

  /** What came out. */
  public record Outcome(int connections, int mismatched, long duplicates, long sandboxRequests, long rateLimited,
      int notifications, int emailsSent, int emailDuplicates, int inAppAnnounced, int inAppDuplicates,
      int undelivered, List<Long> recoveryMs, int kills, long syncsCompleted, double runSeconds,
      double budgetUse, int healthChanges, int healthRepeats, int healthConnections, int feedsOpen,
      int feedMissing, int webhookMismatched, long webhookSettleMs) {

    long worstRecoveryMs() {
      return recoveryMs.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    JsonObject toJson() {
      return new JsonObject().put("connections", connections).put("mismatched", mismatched)
          .put("duplicates", duplicates).put("sandbox_requests", sandboxRequests).put("rate_limited", rateLimited)
          .put("notifications", notifications).put("emails_sent", emailsSent).put("email_duplicates", emailDuplicates)
          .put("in_app_announced", inAppAnnounced).put("in_app_duplicates", inAppDuplicates)
          .put("undelivered", undelivered).put("kills", kills).put("recovery_ms", new JsonArray(List.copyOf(recoveryMs)))
          .put("worst_recovery_ms", worstRecoveryMs()).put("syncs_completed", syncsCompleted)
          .put("run_seconds", runSeconds).put("settle_budget_use", budgetUse)
          .put("health_changes_seen", healthChanges).put("health_changes_seen_twice", healthRepeats)
          .put("health_connections", healthConnections).put("feeds_open_to_the_end", feedsOpen)
          .put("feed_connections_missing", feedMissing).put("webhook_path_mismatched", webhookMismatched)
          .put("webhook_path_settle_ms", webhookSettleMs);
    }
  }

  private ClusterChaos() {}

  /** The rate limits both sides use: ours (plaid.rate_limits) and the sandbox's, per scaled window. */
  static JsonObject limits(Plan plan) {
    JsonObject limits = com.mingus.reliability.config.ConfigLoader.bundledDefaults().getJsonObject("plaid")
        .getJsonObject("rate_limits").copy();
    limits.put("/transactions/sync", new JsonObject().put("per_minute", plan.syncPerWindow())
        .put("per_item_per_minute", plan.syncPerItemPerWindow()));
    // the sandbox has no hour windows: leave ours only where they are, the sandbox counts per minute
    return limits;
  }

  public static Outcome run(Plan plan) {
    long windowMs = Math.round(60_000 * plan.windowScale());
    JsonObject limits = limits(plan);
    JsonObject sandboxLimits = new JsonObject();
    limits.forEach(entry -> {
      JsonObject limit = (JsonObject) entry.getValue();
      JsonObject copy = new JsonObject();
      if (limit.containsKey("per_minute")) {
        copy.put("per_minute", limit.getValue("per_minute"));
      }
      if (limit.containsKey("per_item_per_minute")) {
        copy.put("per_item_per_minute", limit.getValue("per_item_per_minute"));
      }
      sandboxLimits.put(entry.getKey(), copy);
    });
    JsonObject config = new JsonObject()
        .put("plaid", new JsonObject().put("rate_limits", limits))
        // the margin covers grant-to-Plaid latency: 1 s whatever the scale, since on this 2-core machine
        // nodes, PostgreSQL and the sandbox's own event loop (in the test JVM) stall for hundreds of ms
        // (production: 1 s per real minute)
        .put("ratelimit", new JsonObject().put("window_scale", plan.windowScale()).put("margin_ms", Math.round(1_000 / plan.windowScale()))
            .put("cooldown_ms", 5_000))
        .put("sync", new JsonObject().put("page_count", plan.pageCount()).put("lease_ms", 10_000)
            .put("heartbeat_ms", 3_000).put("poll_interval_ms", 500).put("max_concurrent", 32)
            .put("permit_wait_ms", 5_000))
        .put("notify", new JsonObject().put("lease_s", 10).put("poll_interval_ms", 500)
            .put("retry", new JsonObject().put("time_scale", 0.05)))
        .put("http", new JsonObject().put("instances", 1));
    JsonObject sandboxConfig = new JsonObject().put("rate_limits", sandboxLimits)
        .put("rate_limit_window_ms", windowMs).put("rate_limit_window_kind", "fixed")
        .put("webhook_time_scale", 0.01).put("today", "2026-11-27");

    GreenMail mail = new GreenMail(new ServerSetup(ClusterHarness.freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    mail.start();
    long begin = System.nanoTime();
    try (ClusterHarness cluster = ClusterHarness.create(plan.name(), plan.nodes(), config, sandboxConfig,
        Map.of("SMTP_HOST", "127.0.0.1", "SMTP_PORT", Integer.toString(mail.getSmtp().getPort())))) {
      Map<String, AtomicInteger> announced = new ConcurrentHashMap<>();
      cluster.startAll();
      Await.result(cluster.bus.eventBus().<Object>consumer(Addresses.NOTIFICATION_CREATED, message -> {
        if (message.body() instanceof NotificationCreated created) {
          announced.computeIfAbsent(created.notification().id(), id -> new AtomicInteger()).incrementAndGet();
        }
      }).completion());
      // what a browser on another node would be sent: every health change, whichever node made it
      Map<String, AtomicInteger> healthSeen = new ConcurrentHashMap<>();
      Set<String> healthIds = ConcurrentHashMap.newKeySet();
      Await.result(cluster.bus.eventBus().<Object>consumer(Addresses.HEALTH_CHANGED, message -> {
        String body = message.body() instanceof com.mingus.reliability.bus.BusMessage record
            ? record.toJson().encode() : String.valueOf(message.body());
        healthSeen.computeIfAbsent(body, key -> new AtomicInteger()).incrementAndGet();
        if (message.body() instanceof com.mingus.reliability.bus.ConnectionHealth health) {
          healthIds.add(health.connectionId());
        }
      }).completion());
      // and real browsers: an operator's WebSocket on every node's feed
      List<FeedWatcher> feeds = new ArrayList<>();
      for (int i = 0; i < plan.nodes(); i++) {
        feeds.add(FeedWatcher.open(i, cluster.httpPort(i), ClusterHarness.JWT_SECRET));
      }
      Map<Integer, String> nodeIds = new HashMap<>();
      for (int i = 0; i < plan.nodes(); i++) {
        nodeIds.put(i, nodeId(cluster, i));
      }
      log.info("{} nodes up in {} s", plan.nodes(), (System.nanoTime() - begin) / 1_000_000_000);

      // population: connections spread over a few banks, webhooks to every node in turn
      String[] banks = {"ins_chaos_1", "ins_chaos_2", "ins_chaos_3", "ins_chaos_4"};
      for (String bank : banks) {
        cluster.sandbox.institution(bank, "Chaos Bank " + bank.substring(bank.length() - 1));
      }
      List<String> items = new ArrayList<>();
      List<String> connections = Collections.synchronizedList(new ArrayList<>());
      Map<String, String> itemOf = new ConcurrentHashMap<>();
      long registerBegin = System.nanoTime();
      Semaphore inFlight = new Semaphore(16);
      List<Future<JsonObject>> registrations = new ArrayList<>();
      for (int i = 0; i < plan.connections(); i++) {
        String user = "user-" + i;
        String webhook = "http://127.0.0.1:" + cluster.httpPort(i % plan.nodes()) + "/api/plaid/webhook";
        JsonObject item = cluster.sandbox.post("/__control/items", new JsonObject().put("institution_id",
            banks[i % banks.length]).put("user_id", user).put("transactions", plan.transactions()).put("webhook", webhook));
        String itemId = item.getString("item_id");
        items.add(itemId);
        inFlight.acquireUninterruptibly();
        Future<JsonObject> registered = Bus.<JsonObject>request(cluster.bus, Addresses.SYNC_REGISTER, new JsonObject()
                .put("user_id", user).put("public_token", item.getString("public_token")), 30_000)
            .onSuccess(reply -> {
              connections.add(reply.getString("connection_id"));
              itemOf.put(reply.getString("connection_id"), itemId);
            })
            .onComplete(done -> inFlight.release());
        registrations.add(registered);
      }
      Await.result(Future.all(registrations), Duration.ofSeconds(120));
      log.info("{} connections registered in {} ms", connections.size(), (System.nanoTime() - registerBegin) / 1_000_000);

      cluster.sandbox.fault(new JsonObject().put("scope", new JsonObject().put("endpoint", "/transactions/sync"))
          .put("error_type", "API_ERROR").put("error_code", "INTERNAL_SERVER_ERROR").put("http_status", 500)
          .put("probability", plan.faultProbability()));
      cluster.sandbox.fault(new JsonObject().put("scope", new JsonObject().put("endpoint", "/transactions/sync"))
          .put("latency_ms", 300).put("probability", 0.1));

      // chaos: kills, restarts, mutations, notifications
      Random random = new Random(42);
      List<Long> recoveries = Collections.synchronizedList(new ArrayList<>());
      List<Thread> monitors = new ArrayList<>();
      List<String> notificationIds = Collections.synchronizedList(new ArrayList<>());
      Map<Integer, Long> restartAt = new HashMap<>();
      long chaosEnd = System.nanoTime() + plan.chaos().toNanos();
      long nextKill = System.nanoTime() + plan.killEvery().toNanos();
      int kills = 0;
      int sent = 0;
      // every notification asked for in the first 80% of the chaos, so kills land among them
      long notifyEvery = plan.chaos().toNanos() * 4 / 5 / Math.max(1, plan.notifications());
      long nextNotify = System.nanoTime();
      long saturatedFrom = 0;
      while (System.nanoTime() < chaosEnd) {
        long now = System.nanoTime();
        if (now >= nextKill) {
          // a victim only while at least one other node is up: with 2 nodes, one down at a time; with 3,
          // the next kill may come while the last victim is still starting
          List<Integer> live = cluster.upNodes();
          if (live.size() >= 2) {
            int victim = live.get(random.nextInt(live.size()));
            String dead = nodeIds.get(victim);
            cluster.kill(victim);
            kills++;
            long killedAt = System.currentTimeMillis();
            List<String> orphaned = Sql.strings(cluster.db, "SELECT connection_id FROM sync_schedule "
                + "WHERE lease_owner LIKE ? AND lease_until > now()", dead + "-%");
            log.info("Killed node {} ({}), holding {} leases", victim, dead, orphaned.size());
            monitors.add(monitorRecovery(cluster, dead, orphaned, killedAt, recoveries));
            restartAt.put(victim, now + plan.restartAfter().toNanos());
          }
          nextKill = now + plan.killEvery().toNanos();
        }
        for (Map.Entry<Integer, Long> entry : new HashMap<>(restartAt).entrySet()) {
          if (now >= entry.getValue()) {
            cluster.launch(entry.getKey());
            restartAt.remove(entry.getKey());
            int node = entry.getKey();
            Thread waiter = new Thread(() -> {
              cluster.awaitUp(node, Duration.ofSeconds(120));
              nodeIds.put(node, nodeId(cluster, node));
            }, "await-node-" + node);
            waiter.start();
            monitors.add(waiter);
          }
        }
        if (sent < plan.notifications() && now >= nextNotify) {
          int k = sent++;
          notifyOnce(cluster, k, notificationIds, 5);
          nextNotify = now + notifyEvery;
        }
        // data keeps changing: a few Items a second get new, modified and removed transactions
        for (int m = 0; m < 3; m++) {
          String item = items.get(random.nextInt(items.size()));
          cluster.sandbox.mutate(item, 3, 1, 1);
        }
        ClusterHarness.pause(200);
      }
      log.info("Chaos over after {} kills; restarting the dead and settling", kills);
      for (Integer node : new HashMap<>(restartAt).keySet()) {
        cluster.launch(node);
      }
      for (Thread monitor : monitors) {
        try {
          monitor.join(120_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      for (int i = 0; i < plan.nodes(); i++) {
        cluster.awaitUp(i, Duration.ofSeconds(120));
      }
      cluster.sandbox.clearFaults();

      // the path users take: one more change on every Item reaches the cluster only as Plaid's webhook (no
      // sync-now), and every connection must come to the ground truth (ids, amounts, dates, pending) by it
      Map<String, String> itemsByConnection = new HashMap<>();
      for (String connection : List.copyOf(connections)) {
        itemsByConnection.put(connection, itemOf.get(connection));
      }
      for (String item : items) {
        cluster.sandbox.mutate(item, 1, 1, 0);
      }
      long webhookBegin = System.nanoTime();
      Failover.Mismatch webhookPath = Failover.awaitTruth(cluster, itemsByConnection, Duration.ofSeconds(90));
      long webhookSettleMs = (System.nanoTime() - webhookBegin) / 1_000_000;
      log.info("Webhook path after the chaos: {} in {} ms", webhookPath.none() ? "every connection equal to the "
          + "ground truth" : webhookPath, webhookSettleMs);

      // settle: every connection syncs once more after the last change
      long settleFrom = System.currentTimeMillis();
      JsonObject before = cluster.sandbox.stats();
      long settleBegin = System.nanoTime();
      List<Future<JsonObject>> nows = new ArrayList<>();
      Semaphore settling = new Semaphore(32);
      for (String connection : List.copyOf(connections)) {
        settling.acquireUninterruptibly();
        nows.add(Bus.<JsonObject>request(cluster.bus, Addresses.SYNC_NOW, new JsonObject()
                .put("user_id", userOf(items, itemOf.get(connection))).put("connection_id", connection), 30_000)
            .onComplete(done -> settling.release()));
      }
      Future.join(nows).toCompletionStage().toCompletableFuture().join();
      Await.until(() -> Sql.number(cluster.db, "SELECT count(*) FROM sync_schedule WHERE last_success_at > "
              + "to_timestamp(?::double precision / 1000)", (Object) Long.toString(settleFrom)) >= connections.size(),
          Duration.ofSeconds(Math.max(120, connections.size() / 5)), "every connection synced after the chaos");
      double settleSeconds = (System.nanoTime() - settleBegin) / 1e9;
      JsonObject after = cluster.sandbox.stats();
      long settleRequests = endpointRequests(after, "/transactions/sync") - endpointRequests(before, "/transactions/sync");
      double budgetUse = settleRequests / (plan.syncPerWindow() * settleSeconds * 1000 / windowMs);

      // every notification out once
      int asked = sent;
      Await.until(() -> notificationIds.size() >= asked, Duration.ofSeconds(60), "every notification accepted");
      Await.until(() -> Sql.number(cluster.db, "SELECT count(*) FROM notify_deliveries WHERE status IN "
              + "('pending', 'retrying')") == 0, Duration.ofSeconds(120), "every delivery finished");
      ClusterHarness.pause(1_000);

      // measure
      ClusterHarness.pause(2_000);
      int feedsOpen = 0;
      int feedMissing = 0;
      for (FeedWatcher feed : feeds) {
        if (feed.open) {
          feedsOpen++;
          Set<String> missing = new HashSet<>(healthIds);
          missing.removeAll(feed.healthOf);
          feedMissing = Math.max(feedMissing, missing.size());
          log.info("Feed on node {} stayed open: told about {} connections, {} of the published ones missing",
              feed.node, feed.healthOf.size(), missing.size());
        }
        feed.close();
      }
      Map<String, Set<String>> stored = new HashMap<>();
      for (String row : Sql.strings(cluster.db, "SELECT connection_id || ' ' || transaction_id FROM transactions")) {
        int space = row.indexOf(' ');
        stored.computeIfAbsent(row.substring(0, space), id -> new HashSet<>()).add(row.substring(space + 1));
      }
      int mismatched = 0;
      for (String connection : connections) {
        Set<String> truth = cluster.sandbox.truthIds(itemOf.get(connection));
        if (!truth.equals(stored.getOrDefault(connection, Set.of()))) {
          mismatched++;
          log.warn("Connection {} differs from the ground truth", connection);
        }
      }
      long duplicates = Sql.number(cluster.db, "SELECT count(*) - count(DISTINCT transaction_id) FROM transactions");
      JsonObject allStats = cluster.sandbox.stats();
      JsonObject stats = allStats.getJsonObject("total");
      allStats.getJsonObject("endpoints", new JsonObject()).forEach(entry -> log.info("Sandbox {}: {}", entry.getKey(),
          entry.getValue()));
      Map<String, Integer> mails = new HashMap<>();
      for (MimeMessage message : mail.getReceivedMessages()) {
        for (String to : recipients(message)) {
          mails.merge(to, 1, Integer::sum);
        }
      }
      int emailDuplicates = (int) mails.values().stream().filter(n -> n > 1).count();
      int inAppDuplicates = (int) notificationIds.stream().filter(id -> announced.getOrDefault(id, new AtomicInteger())
          .get() > 1).count();
      int inApp = (int) notificationIds.stream().filter(announced::containsKey).count();
      long undelivered = Sql.number(cluster.db, "SELECT count(*) FROM notify_deliveries WHERE status <> 'sent'");
      long syncs = Sql.number(cluster.db, "SELECT count(*) FROM sync_logs WHERE status = 'success'");
      Outcome outcome = new Outcome(connections.size(), mismatched, duplicates, stats.getLong("requests"),
          stats.getLong("rate_limited"), notificationIds.size(), mails.size(), emailDuplicates, inApp, inAppDuplicates,
          (int) undelivered, List.copyOf(recoveries), kills, syncs, (System.nanoTime() - begin) / 1e9, budgetUse,
          healthSeen.size(), (int) healthSeen.values().stream().filter(n -> n.get() > 1).count(), healthIds.size(),
          feedsOpen, feedMissing, webhookPath.connections(), webhookSettleMs);
      log.info("Chaos outcome: {}", outcome.toJson().encode());
      return outcome;
    } finally {
      mail.stop();
    }
  }

  /**
   * Asks for notification k, and again when no answer comes (its node died holding the request): the
   * dedupe key makes the repeat the same notification, as health's own retries do.
   */
  private static void notifyOnce(ClusterHarness cluster, int k, List<String> ids, int triesLeft) {
    notifyOnce(cluster, "user-" + k, "user" + k + "@chaos.test", "chaos-" + k, ids, triesLeft);
  }

  /** The same for any user, recipient and dedupe key (the failover rounds). */
  static void notifyOnce(ClusterHarness cluster, String user, String email, String dedupeKey, List<String> ids,
      int triesLeft) {
    Bus.<NotifySendResult>request(cluster.bus, Addresses.NOTIFY_SEND, new NotifySend(user,
            "data_sync_status", null, dedupeKey, new JsonObject().put("institution_name", "Chaos Bank")
                .put("status", "checked " + dedupeKey), List.of("in_app", "email"), null, "User " + user, email), 5_000)
        .onSuccess(result -> {
          synchronized (ids) {
            if (!ids.contains(result.notificationId())) {
              ids.add(result.notificationId());
            }
          }
        })
        .onFailure(failure -> {
          log.warn("notify.send {} failed ({} tries left): {}", dedupeKey, triesLeft - 1, failure.getMessage());
          if (triesLeft > 1) {
            cluster.bus.setTimer(1_000, id -> notifyOnce(cluster, user, email, dedupeKey, ids, triesLeft - 1));
          }
        });
  }

  private static String userOf(List<String> items, String itemId) {
    return "user-" + items.indexOf(itemId);
  }

  private static long endpointRequests(JsonObject stats, String endpoint) {
    JsonObject one = stats.getJsonObject("endpoints", new JsonObject()).getJsonObject(endpoint);
    return one == null ? 0 : one.getLong("requests", 0L);
  }

  private static List<String> recipients(MimeMessage message) {
    List<String> out = new ArrayList<>();
    try {
      Address[] to = message.getRecipients(Message.RecipientType.TO);
      if (to != null) {
        for (Address address : to) {
          out.add(address.toString());
        }
      }
    } catch (MessagingException e) {
      out.add("unreadable");
    }
    return out;
  }

  /** The node id the process logged at start-up ("Vert.x started (node xxxxxxxx)"). */
  static String nodeId(ClusterHarness cluster, int node) {
    try {
      Matcher matcher = NODE_ID.matcher(java.nio.file.Files.readString(cluster.log(node)));
      if (matcher.find()) {
        return matcher.group(1);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    throw new AssertionError("node " + node + " logged no node id; see " + cluster.log(node));
  }

  /**
   * Watches a dead node's leases until each is claimed by a live node or finished after the kill, and
   * records how long the slowest took.
   */
  private static Thread monitorRecovery(ClusterHarness cluster, String dead, List<String> orphaned, long killedAt,
      List<Long> recoveries) {
    Thread thread = new Thread(() -> {
      if (orphaned.isEmpty()) {
        return;
      }
      long deadline = killedAt + 60_000;
      String[] ids = orphaned.toArray(new String[0]);
      while (System.currentTimeMillis() < deadline) {
        long open = Sql.number(cluster.db, "SELECT count(*) FROM sync_schedule WHERE connection_id = ANY(?) AND "
            + "(lease_owner LIKE ? OR (coalesce(claimed_at, 'epoch') < to_timestamp(?::double precision / 1000) "
            + "AND coalesce(last_success_at, 'epoch') < to_timestamp(?::double precision / 1000)))",
            ids, dead + "-%", Long.toString(killedAt), Long.toString(killedAt));
        if (open == 0) {
          recoveries.add(System.currentTimeMillis() - killedAt);
          log.info("{} leases of {} recovered in {} ms", ids.length, dead, System.currentTimeMillis() - killedAt);
          return;
        }
        ClusterHarness.pause(200);
      }
      recoveries.add(Long.MAX_VALUE);
    }, "lease-monitor-" + dead);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /** The full run of docs/bench/cluster.md. */
  public static void main(String[] args) {
    int nodes = Integer.parseInt(System.getProperty("nodes", "3"));
    Plan plan = new Plan("chaos-full", nodes, Integer.parseInt(System.getProperty("connections", "2000")),
        Integer.parseInt(System.getProperty("transactions", "40")),
        Duration.ofSeconds(Long.parseLong(System.getProperty("chaos_s", "180"))),
        Duration.ofSeconds(Long.parseLong(System.getProperty("kill_every_s", "20"))),
        Duration.ofSeconds(Long.parseLong(System.getProperty("restart_after_s", "5"))),
        Integer.parseInt(System.getProperty("notifications", "200")),
        Double.parseDouble(System.getProperty("window_scale", "0.25")),
        Integer.parseInt(System.getProperty("sync_per_window", "1000")),
        Integer.parseInt(System.getProperty("sync_per_item_per_window", "50")),
        Integer.parseInt(System.getProperty("page_count", "20")),
        Double.parseDouble(System.getProperty("fault_probability", "0.05")));
    Outcome outcome = run(plan);
    log.info("RESULT {}", outcome.toJson().encodePrettily());
    System.exit(0);
  }
}
