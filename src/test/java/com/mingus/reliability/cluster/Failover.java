package com.mingus.reliability.cluster;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failover as a user meets it: two clustered nodes (separate JVMs) on one PostgreSQL, connections
 * registered over HTTP, every change reaching the server only as Plaid's webhook (no sync-now, no
 * scheduled sync: the periodic interval is hours), and one node dying in each round. A round changes
 * every Item, kills a node at one of the instants where work is in flight (chaos/CrashPoints: after a
 * webhook is recorded and before its 200, after a sync's commit and before health is told, after a
 * notification is handed to SMTP and before that is written, after a permit is granted and before it is
 * answered) or by SIGKILL at a random moment, then changes every Item again and registers new
 * connections while the survivor takes over. It measures, against the sandbox's ground truth, what a
 * user would see 30 s after the kill: transactions missing, extra or stale (amount, date, pending), and
 * whether any registration was refused; then that nothing is left pending in an outbox and every
 * notification reached its recipient once (by Message-ID: a copy sent again after a death at
 * notify.sent carries the same one).
 */
public final class Failover {
  private static final Logger log = LoggerFactory.getLogger(Failover.class);
  static final Duration TRUTH_BOUND = Duration.ofSeconds(30);

  /** Where a round's victim dies. */
  enum Kill {
    WEBHOOK_INTAKE("webhook.recorded"),
    SYNC_COMMIT("sync.committed"),
    NOTIFY_SEND("notify.sent"),
    PERMIT_GRANT("ratelimit.granted"),
    SIGKILL(null);

    final String point;

    Kill(String point) {
      this.point = point;
    }
  }

  /**
   * What to run: {@code kills} one per round; {@code balanced} sends Plaid's webhooks through a balancer
   * in front of both nodes, otherwise to node 0 only (then node 1 is always the victim, the issue's case);
   * {@code registrations} new connections per round while the survivor takes over.
   */
  record Plan(String name, int connections, int transactions, List<Kill> kills, boolean balanced, int registrations,
      int notifications, long seed) {}

  /** One round's figures. */
  record Round(int number, Kill kill, int victim, boolean diedAtPoint, long truthAfterMs, int missing, int extra,
      int stale, int connections, int registered, int refused, long outboxLeft, long noticesPending,
      int notificationsAsked, int notificationsDelivered, int mailCopiesExtra, int mailMostCopies) {

    boolean clean() {
      return missing == 0 && extra == 0 && stale == 0 && refused == 0 && outboxLeft == 0 && noticesPending == 0
          && notificationsDelivered == notificationsAsked && truthAfterMs <= TRUTH_BOUND.toMillis();
    }

    JsonObject toJson() {
      return new JsonObject().put("round", number).put("kill", kill.name().toLowerCase()).put("victim", victim)
          .put("died_at_point", diedAtPoint).put("truth_after_ms", truthAfterMs).put("missing", missing)
          .put("extra", extra).put("stale", stale).put("connections", connections).put("registered", registered)
          .put("refused", refused).put("outbox_left", outboxLeft).put("notices_pending", noticesPending)
          .put("notifications_asked", notificationsAsked).put("notifications_delivered", notificationsDelivered)
          .put("mail_copies_extra", mailCopiesExtra).put("mail_most_copies", mailMostCopies);
    }
  }

  private Failover() {}

  /** The nodes' configuration: fast take-overs, so a round fits in seconds (production values in conf/). */
  static JsonObject nodeConfig() {
    return new JsonObject()
        .put("sync", new JsonObject().put("lease_ms", 5_000).put("heartbeat_ms", 1_500).put("poll_interval_ms", 250)
            .put("outbox_redrive_after_ms", 3_000).put("outbox_redrive_every_ms", 1_000)
            .put("webhook_coalesce_ms", 500).put("max_concurrent", 16))
        .put("health", new JsonObject().put("notice_redrive_after_ms", 3_000).put("notice_redrive_every_ms", 1_000))
        .put("notify", new JsonObject().put("lease_s", 5).put("poll_interval_ms", 250)
            .put("retry", new JsonObject().put("time_scale", 0.05)))
        .put("http", new JsonObject().put("instances", 1));
  }

  static List<Round> run(Plan plan) {
    GreenMail mail = new GreenMail(new ServerSetup(ClusterHarness.freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    mail.start();
    JsonObject sandboxConfig = new JsonObject().put("webhook_time_scale", 0.01).put("today", "2026-11-27");
    Map<String, String> env = Map.of("SMTP_HOST", "127.0.0.1", "SMTP_PORT", Integer.toString(mail.getSmtp().getPort()),
        "CLUSTER_MEMBER_TIMEOUT_MS", "3000");
    ExecutorService callers = Executors.newFixedThreadPool(16);
    try (ClusterHarness cluster = ClusterHarness.create(plan.name(), 2, nodeConfig(), sandboxConfig, env);
         LoadBalancer balancer = new LoadBalancer(List.<IntSupplier>of(() -> cluster.httpPort(0),
             () -> cluster.httpPort(1)))) {
      cluster.startAll();
      Random random = new Random(plan.seed());
      int webhookPort = plan.balanced() ? balancer.port() : cluster.httpPort(0);
      Users users = new Users(cluster, webhookPort, callers);
      cluster.sandbox.institution("ins_failover", "Failover Bank");
      List<Registration> first = users.register(plan.connections(), plan.transactions(),
          plan.balanced() ? balancer.port() : cluster.httpPort(0));
      long refusedAtStart = first.stream().filter(r -> r.connectionId == null).count();
      if (refusedAtStart > 0) {
        throw new AssertionError(refusedAtStart + " registrations refused before any kill: " + first);
      }
      Mismatch initial = awaitTruth(cluster, users.connections, Duration.ofSeconds(120));
      if (!initial.none()) {
        throw new AssertionError("the first syncs did not reach the ground truth: " + initial);
      }
      log.info("{} connections registered and synced", users.connections.size());

      List<Round> rounds = new ArrayList<>();
      for (int number = 1; number <= plan.kills().size(); number++) {
        Kill kill = plan.kills().get(number - 1);
        Round round = round(cluster, users, mail, balancer, plan, number, kill, random);
        log.info("Failover round {}: {}", number, round.toJson().encode());
        rounds.add(round);
      }
      return rounds;
    } finally {
      callers.shutdownNow();
      mail.stop();
    }
  }

  private static Round round(ClusterHarness cluster, Users users, GreenMail mail, LoadBalancer balancer, Plan plan,
      int number, Kill kill, Random random) {
    int victim = victim(cluster, plan, kill, random);
    int survivor = 1 - victim;
    if (kill.point != null) {
      // a random arrival, so the death lands anywhere among the round's work
      int arrival = 1 + random.nextInt(kill == Kill.PERMIT_GRANT ? 20 : 4);
      cluster.arm(victim, kill.point + ":" + arrival);
      ClusterHarness.pause(300);
    }
    List<String> notificationIds = Collections.synchronizedList(new ArrayList<>());
    int asked = 0;
    if (kill == Kill.NOTIFY_SEND || plan.notifications() > 0) {
      asked = Math.max(plan.notifications(), kill == Kill.NOTIFY_SEND ? 6 : 0);
      for (int j = 0; j < asked; j++) {
        ClusterChaos.notifyOnce(cluster, "round" + number + "-" + j, "u" + j + "@round" + number + ".failover",
            "failover-" + number + "-" + j, notificationIds, 10);
      }
    }
    for (String item : users.connections.values()) {
      cluster.sandbox.mutate(item, 2, 1, 1);
    }
    boolean diedAtPoint = false;
    if (kill.point != null) {
      diedAtPoint = cluster.awaitExit(victim, Duration.ofSeconds(8));
      if (!diedAtPoint) {
        log.warn("Round {}: node {} did not reach {}; killed instead", number, victim, kill.point);
      }
    } else {
      ClusterHarness.pause(200 + random.nextInt(2_300));
    }
    if (!diedAtPoint) {
      cluster.kill(victim);
    }
    long killedAt = System.nanoTime();
    cluster.disarm(victim);
    log.info("Round {} ({}): node {} is dead{}", number, kill, victim,
        diedAtPoint ? " at " + kill.point + " (exit " + cluster.exitCode(victim) + ")" : "");

    // the take-over: one more transaction on every Item, and new users linking their banks
    for (String item : users.connections.values()) {
      cluster.sandbox.mutate(item, 1, 0, 0);
    }
    int port = plan.balanced() ? balancer.port() : cluster.httpPort(survivor);
    List<Registration> registered = users.register(plan.registrations(), plan.transactions(), port);
    int refused = (int) registered.stream().filter(r -> r.connectionId == null).count();
    registered.stream().filter(r -> r.connectionId == null)
        .forEach(r -> log.warn("Round {}: registration refused: {} {}", number, r.status, r.body));

    Mismatch mismatch = awaitTruth(cluster, users.connections, TRUTH_BOUND.minusNanos(System.nanoTime() - killedAt));
    long truthAfterMs = (System.nanoTime() - killedAt) / 1_000_000;
    if (!mismatch.none()) {
      truthAfterMs = Long.MAX_VALUE;
      log.warn("Round {}: {} 30 s after the kill", number, mismatch);
    }
    // what is left in flight once the survivor has re-driven the dead node's share
    long[] left = new long[2];
    long settleUntil = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    do {
      left[0] = Sql.number(cluster.db, "SELECT count(*) FROM sync_outbox");
      left[1] = Sql.number(cluster.db, "SELECT count(*) FROM health_connections WHERE pending_notices IS NOT NULL");
      if (left[0] == 0 && left[1] == 0) {
        break;
      }
      ClusterHarness.pause(250);
    } while (System.nanoTime() < settleUntil);
    if (left[0] > 0) {
      Sql.strings(cluster.db, "SELECT id || ' ' || address || ' attempts=' || attempts || ' ' || (body->>'kind') || ' ' "
          + "|| coalesce(body->>'connection_id', '-') || ' health_row=' || EXISTS (SELECT 1 FROM health_connections h "
          + "WHERE h.connection_id = o.body->>'connection_id') FROM sync_outbox o ORDER BY id")
          .forEach(row -> log.warn("Round {}: still in sync_outbox: {}", number, row));
    }
    int delivered = 0;
    int extraCopies = 0;
    int mostCopies = 0;
    if (asked > 0) {
      int want = asked;
      long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < until && (notificationIds.size() < want || Sql.number(cluster.db,
          "SELECT count(*) FROM notify_deliveries WHERE status IN ('pending', 'retrying')") > 0)) {
        ClusterHarness.pause(250);
      }
      Map<String, Integer> copies = mailCopies(mail, "@round" + number + ".failover");
      delivered = copies.size();
      extraCopies = copies.values().stream().mapToInt(n -> n - 1).sum();
      mostCopies = copies.values().stream().mapToInt(n -> n).max().orElse(0);
    }

    cluster.launch(victim);
    cluster.awaitUp(victim, Duration.ofSeconds(120));
    return new Round(number, kill, victim, diedAtPoint, truthAfterMs, mismatch.missing, mismatch.extra, mismatch.stale,
        users.connections.size(), registered.size(), refused, left[0], left[1], asked, delivered, extraCopies,
        mostCopies);
  }

  /**
   * The round's victim: for a permit grant the node deciding the sync budget (the only one that grants);
   * with webhooks to node 0 only, node 1 (the issue's scenario); otherwise either.
   */
  private static int victim(ClusterHarness cluster, Plan plan, Kill kill, Random random) {
    if (!plan.balanced()) {
      return 1;
    }
    if (kill == Kill.PERMIT_GRANT) {
      for (int node = 0; node < 2; node++) {
        try {
          if (Files.readString(cluster.log(node)).contains("now owns the cluster-wide Plaid budget of /transactions/sync")) {
            return node;
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    }
    return random.nextInt(2);
  }

  /** One connection's difference from the ground truth, summed over connections. */
  record Mismatch(int missing, int extra, int stale, int connections) {
    boolean none() {
      return missing == 0 && extra == 0 && stale == 0;
    }

    @Override
    public String toString() {
      return connections + " connections differ: " + missing + " transactions missing, " + extra + " extra, " + stale
          + " stale";
    }
  }

  /** Polls until every connection holds exactly its Item's transactions, or the time is up; the last difference. */
  static Mismatch awaitTruth(ClusterHarness cluster, Map<String, String> connections, Duration within) {
    long deadline = System.nanoTime() + Math.max(0, within.toNanos());
    Mismatch last;
    do {
      last = compare(cluster, connections);
      if (last.none()) {
        return last;
      }
      ClusterHarness.pause(300);
    } while (System.nanoTime() < deadline);
    return last;
  }

  static Mismatch compare(ClusterHarness cluster, Map<String, String> connections) {
    Map<String, Map<String, String>> stored = new HashMap<>();
    for (String row : Sql.strings(cluster.db, "SELECT connection_id || ' ' || transaction_id || ' ' || amount::text "
        + "|| ' ' || coalesce(date::text, '-') || ' ' || pending::text FROM transactions")) {
      String[] parts = row.split(" ");
      stored.computeIfAbsent(parts[0], id -> new HashMap<>())
          .put(parts[1], SandboxControl.fingerprint(parts[2], parts[3], Boolean.parseBoolean(parts[4])));
    }
    int missing = 0;
    int extra = 0;
    int stale = 0;
    int differing = 0;
    for (Map.Entry<String, String> connection : connections.entrySet()) {
      Map<String, String> truth = cluster.sandbox.truth(connection.getValue());
      Map<String, String> held = stored.getOrDefault(connection.getKey(), Map.of());
      int before = missing + extra + stale;
      for (Map.Entry<String, String> txn : truth.entrySet()) {
        String have = held.get(txn.getKey());
        if (have == null) {
          missing++;
        } else if (!have.equals(txn.getValue())) {
          stale++;
        }
      }
      for (String id : held.keySet()) {
        if (!truth.containsKey(id)) {
          extra++;
        }
      }
      if (missing + extra + stale > before) {
        differing++;
      }
    }
    return new Mismatch(missing, extra, stale, differing);
  }

  /** Copies received per Message-ID, of the mails to recipients ending in {@code domain}. */
  private static Map<String, Integer> mailCopies(GreenMail mail, String domain) {
    Map<String, Integer> copies = new HashMap<>();
    for (MimeMessage message : mail.getReceivedMessages()) {
      try {
        if (message.getAllRecipients() != null && message.getAllRecipients()[0].toString().endsWith(domain)) {
          copies.merge(message.getMessageID(), 1, Integer::sum);
        }
      } catch (MessagingException e) {
        throw new IllegalStateException(e);
      }
    }
    return copies;
  }

  /** A registration over HTTP: the connection it made, or the refusal. */
  record Registration(String connectionId, String itemId, int status, String body) {}

  /** The users of the run: each links one Item over HTTP, with their own token. */
  static final class Users {
    /** Connection id to the Item behind it. */
    final Map<String, String> connections = new ConcurrentHashMap<>();
    private final ClusterHarness cluster;
    private final int webhookPort;
    private final ExecutorService callers;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private int next;

    Users(ClusterHarness cluster, int webhookPort, ExecutorService callers) {
      this.cluster = cluster;
      this.webhookPort = webhookPort;
      this.callers = callers;
    }

    /** {@code count} new users each link a new Item through {@code port}, all at once; waits for every answer. */
    List<Registration> register(int count, int transactions, int port) {
      List<Future<Registration>> pending = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String user = "failover-user-" + (next++);
        JsonObject item = cluster.sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_failover")
            .put("user_id", user).put("transactions", transactions)
            .put("webhook", "http://127.0.0.1:" + webhookPort + "/api/plaid/webhook"));
        pending.add(callers.submit(() -> link(user, item, port)));
      }
      List<Registration> out = new ArrayList<>();
      for (Future<Registration> registration : pending) {
        try {
          out.add(registration.get(90, TimeUnit.SECONDS));
        } catch (Exception e) {
          out.add(new Registration(null, null, -1, String.valueOf(e)));
        }
      }
      return out;
    }

    private Registration link(String user, JsonObject item, int port) {
      String token = JwtIssuer.issue(cluster.bus, ClusterHarness.JWT_SECRET, user, List.of("user"), "Failover " + user,
          user + "@failover.test", 3_600);
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/reliability/connections"))
          .timeout(Duration.ofSeconds(75)).header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
          .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("public_token", item.getString("public_token"))
              .encode())).build();
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 201) {
          String connection = new JsonObject(response.body())
              .getJsonObject("connection", new JsonObject()).getString("connection_id");
          if (connection != null) {
            connections.put(connection, item.getString("item_id"));
            return new Registration(connection, item.getString("item_id"), 201, null);
          }
        }
        return new Registration(null, item.getString("item_id"), response.statusCode(), response.body());
      } catch (IOException e) {
        return new Registration(null, item.getString("item_id"), -1, String.valueOf(e));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Registration(null, item.getString("item_id"), -1, "interrupted");
      }
    }
  }

  /** Several rounds for docs/bench/cluster.md: {@code -Drounds=20 -Dconnections=50}. */
  public static void main(String[] args) {
    int rounds = Integer.parseInt(System.getProperty("rounds", "20"));
    List<Round> out = run(new Plan("failover-full", Integer.parseInt(System.getProperty("connections", "50")),
        Integer.parseInt(System.getProperty("transactions", "20")), kills(rounds, Long.getLong("seed", 7L)), true, 2, 0,
        Long.getLong("seed", 7L)));
    JsonArray all = new JsonArray();
    out.forEach(round -> all.add(round.toJson()));
    log.info("RESULT {}", all.encodePrettily());
    System.exit(out.stream().allMatch(Round::clean) ? 0 : 1);
  }

  /** {@code rounds} kill instants, every kind equally often, in a random order. */
  static List<Kill> kills(int rounds, long seed) {
    List<Kill> kills = new ArrayList<>();
    for (int i = 0; i < rounds; i++) {
      kills.add(Kill.values()[i % Kill.values().length]);
    }
    Collections.shuffle(kills, new Random(seed));
    return kills;
  }

  static Set<Kill> kinds(List<Round> rounds) {
    Set<Kill> kinds = new HashSet<>();
    rounds.stream().filter(Round::diedAtPoint).forEach(round -> kinds.add(round.kill()));
    return kinds;
  }
}
