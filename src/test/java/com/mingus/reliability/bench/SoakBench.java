package com.mingus.reliability.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.config.Settings;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The soak (issue #16): one node on the embedded default (the real {@link Application}: embedded PostgreSQL
 * in a fresh {@code DATA_DIR}, the in-process sandbox, every verticle) for {@code soak.minutes}. 200
 * connections registered through the API (sandbox public token, then {@code POST /api/reliability/connections}
 * as their user) sync on the schedule (periodic interval shortened to 5 minutes so it fires within the hour)
 * and on the sandbox's signed webhooks (new, modified and removed transactions at a steady rate), while
 * faults rotate: 429s, ITEM_LOGIN_REQUIRED then repaired, bank maintenance, 5xx, INSTITUTION_DOWN, hangs,
 * resets and latency, and a quiet phase. 1,000 authenticated feed clients stay connected throughout
 * (reconnecting when dropped, counted).
 *
 * <p>Every {@code soak.sampleSeconds} a row goes to target/bench/soak.csv: heap used, heap used after a full
 * GC (once a minute, by taking a live class histogram, which also says what grew), live threads, open file descriptors, database sessions of our
 * database ({@code pg_stat_activity}, the sampler's own included) and SQL pool connections in use, the
 * largest event-loop lag, syncs completed and failed, webhooks fired, feed messages received. The JVM
 * measured holds the server, the sandbox and the feed clients (PostgreSQL is its own process).
 *
 * <p>At the end faults stop, syncs settle, and the run checks that nothing was lost: every connection's
 * stored transactions equal the sandbox's ground truth (none missing, none extra, none stale), every
 * connection's health is back to active, every feed client is connected with its snapshot. Flat: for heap
 * after GC, threads, file descriptors and database sessions, the median of the last minutes within 10 %
 * plus a small absolute margin of the median of the first 10 minutes (docs/bench/soak.md).
 *
 * <p>Not part of {@code mvn verify}. Run: {@code mvn -B -q test -Dtest=SoakBench
 * -Dsurefire.failIfNoSpecifiedTests=false -Dsoak.minutes=60}, or {@code java -cp
 * target/test-classes:target/classes:$(cat target/cp.txt) -Dsoak.minutes=60 com.mingus.reliability.bench.SoakBench}.
 */
public final class SoakBench {
  private static final Logger log = LoggerFactory.getLogger(SoakBench.class);
  private static final String SECRET = "soak-jwt-secret-0123456789-0123456789";
  private static final Path OUT = Path.of("target", "bench");

  private final int minutes = Integer.getInteger("soak.minutes", 60);
  private final int connections = Integer.getInteger("soak.connections", 200);
  private final int users = Integer.getInteger("soak.users", 100);
  private final int sockets = Integer.getInteger("soak.sockets", 1_000);
  private final int institutions = Integer.getInteger("soak.institutions", 4);
  private final int transactions = Integer.getInteger("soak.transactions", 50);
  private final int webhooksPerMinute = Integer.getInteger("soak.webhooksPerMinute", 60);
  private final int phaseSeconds = Integer.getInteger("soak.phaseSeconds", 60);
  private final int sampleSeconds = Integer.getInteger("soak.sampleSeconds", 10);
  private final int periodicSeconds = Integer.getInteger("soak.periodicSeconds", 300);
  private final int settleMinutes = Integer.getInteger("soak.settleMinutes", 10);
  private final int loginReuseMinutes = Integer.getInteger("soak.loginReuseMinutes", 11);
  private final boolean durable = Boolean.parseBoolean(System.getProperty("soak.durable", "true"));

  private record Linked(String connectionId, String userId, String itemId, String institutionId) {}

  /** What a run found; {@link #passed()} is both verdicts. */
  public record Outcome(boolean flat, boolean nothingLost, String summary) {
    public boolean passed() {
      return flat && nothingLost;
    }
  }

  @Test
  void soakStaysFlatAndLosesNothing() throws Exception {
    Outcome outcome = new SoakBench().run();
    assertThat(outcome.nothingLost()).as(outcome.summary()).isTrue();
    assertThat(outcome.flat()).as(outcome.summary()).isTrue();
  }

  public static void main(String[] args) throws Exception {
    Outcome outcome = new SoakBench().run();
    System.exit(outcome.passed() ? 0 : 1);
  }

  // counters the sampler reads
  private final AtomicLong syncsCompleted = new AtomicLong();
  private final AtomicLong syncsFailed = new AtomicLong();
  private final AtomicLong webhooksFired = new AtomicLong();
  private final AtomicLong mutations = new AtomicLong();
  private final AtomicLong driverErrors = new AtomicLong();
  private final AtomicLong feedMessages = new AtomicLong();
  private final AtomicLong feedReconnects = new AtomicLong();
  private final Map<String, LongAdder> feedTypes = new ConcurrentHashMap<>();
  private final AtomicLong feedConnectFailures = new AtomicLong();
  private final AtomicLong maxLagNanos = new AtomicLong();
  private final Map<String, AtomicInteger> phaseCounts = new LinkedHashMap<>();
  private volatile String phase = "setup";
  private volatile boolean running = true;

  Outcome run() throws Exception {
    Files.createDirectories(OUT);
    Path dataDir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "soak-data-");
    Map<String, String> env = new HashMap<>();
    env.put("DATA_DIR", dataDir.toString());
    env.put("HTTP_PORT", "0");
    env.put("SANDBOX_PORT", "0");
    env.put("MINGUS_DEMO", "false");
    env.put("MINGUS_JWT_SECRET", SECRET);
    env.put("TOKEN_ENCRYPTION_KEYS", TestApp.TEST_KEYS);
    Settings settings = Settings.fromOverrides(env)
        .with("sync.periodic_interval_s", periodicSeconds)
        .with("database.embedded.durable", durable);
    log.info("Soak: {} min, {} connections of {} users at {} banks, {} feed clients, {} webhooks/min, faults "
            + "rotating every {} s, periodic sync every {} s, embedded PostgreSQL in {} (durable {})", minutes,
        connections, users, institutions, sockets, webhooksPerMinute, phaseSeconds, periodicSeconds, dataDir, durable);
    Application app = Application.start(settings);
    Vertx clients = Vertx.vertx();
    ScheduledExecutorService driver = Executors.newScheduledThreadPool(3);
    try {
      return soak(app, clients, driver);
    } finally {
      running = false;
      driver.shutdownNow();
      Await.result(clients.close(), Duration.ofSeconds(30));
      app.close();
    }
  }

  private Outcome soak(Application app, Vertx clients, ScheduledExecutorService driver) throws Exception {
    int httpPort = app.httpPort();
    SandboxControl sandbox = new SandboxControl(app.sandboxPort());
    List<String> banks = new ArrayList<>();
    for (int b = 0; b < institutions; b++) {
      banks.add("ins_soak_" + b);
      sandbox.institution("ins_soak_" + b, "Soak Bank " + b);
    }
    app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_COMPLETED, m -> syncsCompleted.incrementAndGet());
    app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_FAILED, m -> syncsFailed.incrementAndGet());
    long[] lastTick = {System.nanoTime()};
    app.vertx().setPeriodic(100, id -> {
      long now = System.nanoTime();
      maxLagNanos.accumulateAndGet(now - lastTick[0] - 100_000_000L, Math::max);
      lastTick[0] = now;
    });

    Map<String, String> tokens = new HashMap<>();
    int ttl = (minutes + settleMinutes) * 60 + 7_200;
    for (int u = 0; u < users; u++) {
      String user = "soak-user-" + u;
      tokens.put(user, JwtIssuer.issue(app.vertx(), SECRET, user, List.of("user"), user, user + "@example.com", ttl));
    }

    // registration through the API, as the app does it after Link: a public token, then POST /connections
    Set<String> firstSynced = ConcurrentHashMap.newKeySet();
    app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_COMPLETED, m -> firstSynced.add(m.body().connectionId()));
    String webhook = "http://127.0.0.1:" + httpPort + "/api/plaid/webhook";
    List<Linked> linked = new ArrayList<>();
    long registerStart = System.nanoTime();
    for (int i = 0; i < connections; i++) {
      String user = "soak-user-" + (i % users);
      String bank = banks.get(i % banks.size());
      JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", bank)
          .put("user_id", user).put("transactions", transactions).put("webhook", webhook));
      Http.Response created = api(httpPort, tokens.get(user), "POST", "/api/reliability/connections",
          new JsonObject().put("public_token", item.getString("public_token")));
      if (created.status() != 201) {
        throw new IllegalStateException("registration answered " + created.status() + ": " + created.body());
      }
      linked.add(new Linked(created.json().getJsonObject("connection").getString("connection_id"), user,
          item.getString("item_id"), bank));
    }
    log.info("Soak: {} connections registered in {} ms", connections, (System.nanoTime() - registerStart) / 1_000_000);
    Await.until(() -> linked.stream().allMatch(l -> firstSynced.contains(l.connectionId())), Duration.ofMinutes(5),
        "every connection's first sync");

    // the feed clients, each authenticated as one of the users
    WebSocketClient wsClient = clients.createWebSocketClient(new WebSocketClientOptions()
        .setMaxConnections(sockets + 10).setConnectTimeout(10_000));
    List<FeedClient> feeds = new ArrayList<>();
    for (int k = 0; k < sockets; k++) {
      String user = "soak-user-" + (k % users);
      feeds.add(new FeedClient(clients, wsClient, httpPort, tokens.get(user)));
    }
    for (int k = 0; k < feeds.size(); k += 100) {
      List<Future<?>> batch = new ArrayList<>();
      for (FeedClient feed : feeds.subList(k, Math.min(feeds.size(), k + 100))) {
        batch.add(feed.connect());
      }
      Await.result(Future.join(batch), Duration.ofSeconds(60));
    }
    Await.until(() -> feeds.stream().allMatch(f -> f.snapshot), Duration.ofSeconds(60), "every feed client's snapshot");
    feedReconnects.set(0);
    log.info("Soak: {} feed clients connected; the soak starts", sockets);

    // the soak: samples, webhooks at a steady rate, faults in rotation
    Path csv = OUT.resolve("soak.csv");
    Sampler sampler = new Sampler(app, feeds, csv);
    long start = System.nanoTime();
    driver.scheduleAtFixedRate(() -> sampler.sample(start), 0, sampleSeconds, TimeUnit.SECONDS);
    Random random = new Random(16);
    long period = 60_000_000L / webhooksPerMinute;
    driver.scheduleAtFixedRate(() -> {
      try {
        Linked target = linked.get(random.nextInt(linked.size()));
        // one change per webhook, in turn added, modified, added, removed: the ground truth grows slowly
        long n = mutations.incrementAndGet();
        int kind = (int) (n % 4);
        JsonObject change = sandbox.mutate(target.itemId(), kind == 0 || kind == 2 ? 1 : 0, kind == 1 ? 1 : 0,
            kind == 3 ? 1 : 0);
        if (change.getBoolean("webhook_fired", false)) {
          webhooksFired.incrementAndGet();
        }
      } catch (RuntimeException e) {
        driverErrors.incrementAndGet();
        log.warn("Soak: a sandbox change failed: {}", e.getMessage());
      }
    }, period, period, TimeUnit.MICROSECONDS);
    Faults faults = new Faults(sandbox, httpPort, tokens, linked, banks, new Random(42));
    driver.scheduleWithFixedDelay(faults::next, 0, phaseSeconds, TimeUnit.SECONDS);

    long end = start + minutes * 60_000_000_000L;
    while (System.nanoTime() < end) {
      Thread.sleep(Math.min(5_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
    }

    // faults stop; webhooks stop; the system settles on its own (schedule, webhooks, probes)
    driver.shutdownNow();
    driver.awaitTermination(30, TimeUnit.SECONDS);
    phase = "settle";
    faults.stopAll();
    ScheduledExecutorService settleSampler = Executors.newSingleThreadScheduledExecutor();
    settleSampler.scheduleAtFixedRate(() -> sampler.sample(start), sampleSeconds, sampleSeconds, TimeUnit.SECONDS);
    long settleStart = System.nanoTime();
    long settleEnd = settleStart + settleMinutes * 60_000_000_000L;
    Check check = check(app.database(), sandbox, linked);
    while (!check.settled() && System.nanoTime() < settleEnd) {
      Thread.sleep(15_000);
      check = check(app.database(), sandbox, linked);
      log.info("Soak settling: {}", check);
    }
    double settleSeconds = (System.nanoTime() - settleStart) / 1e9;
    boolean settledAlone = check.settled();
    int nudged = 0;
    if (!settledAlone) {
      // what the schedule did not fix within the settle window, sync-now (as the user) once, then look again
      for (Linked l : linked) {
        if (check.unsettled().contains(l.connectionId())) {
          api(httpPort, tokens.get(l.userId()), "POST", "/api/reliability/connections/" + l.connectionId() + "/sync-now", null);
          nudged++;
        }
      }
      long nudgeEnd = System.nanoTime() + 180_000_000_000L;
      while (!check.settled() && System.nanoTime() < nudgeEnd) {
        Thread.sleep(10_000);
        check = check(app.database(), sandbox, linked);
      }
    }
    int open = (int) feeds.stream().filter(FeedClient::openWithSnapshot).count();
    settleSampler.shutdownNow();
    sampler.close();

    Outcome outcome = summarise(csv, check, settledAlone, settleSeconds, nudged, open, sandbox.stats(),
        Histogram.growth(sampler.firstHistogram, sampler.lastHistogram, 15));
    SoakPlot.write(csv, OUT.resolve("soak.svg"));
    return outcome;
  }

  // ---------------------------------------------------------------------------------------------------------
  // faults

  /** The rotation: each call ends the current fault and starts the next. */
  private final class Faults {
    private final SandboxControl sandbox;
    private final int httpPort;
    private final Map<String, String> tokens;
    private final List<Linked> linked;
    private final List<String> banks;
    private final Random random;
    private final List<Linked> loggedOut = new ArrayList<>();
    private final Set<String> inMaintenance = new HashSet<>();
    private final Map<String, Long> loggedOutAt = new HashMap<>();
    private int step;

    Faults(SandboxControl sandbox, int httpPort, Map<String, String> tokens, List<Linked> linked, List<String> banks,
        Random random) {
      this.sandbox = sandbox;
      this.httpPort = httpPort;
      this.tokens = tokens;
      this.linked = linked;
      this.banks = banks;
      this.random = random;
    }

    synchronized void next() {
      try {
        end();
        String bank = banks.get((step / 7) % banks.size());
        String name = switch (step % 7) {
          case 0 -> {
            rule(endpoint().put("error_type", "RATE_LIMIT_EXCEEDED").put("error_code", "TRANSACTIONS_SYNC_LIMIT")
                .put("probability", 0.3));
            yield "rate_limit_429";
          }
          case 1 -> {
            // ten distinct Items, none logged out within the last soak.loginReuseMinutes: the server takes a
            // second LOGIN_REPAIRED of the same Item within its webhook duplicate window (10 min) for a replay
            // of the first (same bytes) and leaves the connection parked (docs/bench/soak.md, "Found")
            long now = System.nanoTime();
            for (int tries = 0; loggedOut.size() < 10 && tries < 1_000; tries++) {
              Linked l = linked.get(random.nextInt(linked.size()));
              Long last = loggedOutAt.get(l.itemId());
              if (loggedOut.contains(l) || (last != null && now - last < loginReuseMinutes * 60_000_000_000L)) {
                continue;
              }
              sandbox.post("/__control/items/" + l.itemId() + "/reset-login", new JsonObject());
              loggedOut.add(l);
              loggedOutAt.put(l.itemId(), now);
            }
            yield "item_login_required";
          }
          case 2 -> {
            sandbox.post("/__control/institutions/" + bank + "/maintenance",
                new JsonObject().put("until", Instant.now().plusSeconds(phaseSeconds).toString()));
            inMaintenance.add(bank);
            yield "maintenance";
          }
          case 3 -> {
            rule(endpoint().put("error_type", "API_ERROR").put("error_code", "INTERNAL_SERVER_ERROR")
                .put("http_status", 500).put("probability", 0.2));
            yield "5xx";
          }
          case 4 -> {
            rule(new JsonObject().put("scope", new JsonObject().put("institution_id", bank))
                .put("error_type", "INSTITUTION_ERROR").put("error_code", "INSTITUTION_DOWN"));
            yield "institution_down";
          }
          case 5 -> {
            rule(endpoint().put("transport", "hang").put("probability", 0.03));
            rule(endpoint().put("transport", "reset").put("probability", 0.05));
            rule(endpoint().put("latency_ms", 3_000).put("probability", 0.2));
            yield "timeouts";
          }
          default -> "quiet";
        };
        step++;
        phase = name;
        synchronized (phaseCounts) {
          phaseCounts.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
        }
        log.info("Soak fault phase {}: {}", step, name);
      } catch (RuntimeException e) {
        driverErrors.incrementAndGet();
        log.warn("Soak: a fault step failed: {}", e.getMessage());
      }
    }

    private JsonObject endpoint() {
      return new JsonObject().put("scope", new JsonObject().put("endpoint", "/transactions/sync"));
    }

    private void rule(JsonObject spec) {
      sandbox.fault(spec.put("duration_ms", phaseSeconds * 1_000L));
    }

    /** Ends whatever is on: rules cleared, maintenance over, logins repaired as the user would in Link. */
    synchronized void end() {
      sandbox.clearFaults();
      for (String bank : inMaintenance) {
        sandbox.delete("/__control/institutions/" + bank + "/maintenance");
      }
      inMaintenance.clear();
      for (Linked l : loggedOut) {
        // the user opens Link in update mode (our reconnect gives the token), and the login works again
        api(httpPort, tokens.get(l.userId()), "POST", "/api/reliability/connections/" + l.connectionId() + "/reconnect",
            new JsonObject());
        sandbox.post("/__control/items/" + l.itemId() + "/repair-login", new JsonObject());
      }
      loggedOut.clear();
    }

    synchronized void stopAll() {
      end();
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // the feed clients

  private final class FeedClient {
    private final Vertx vertx;
    private final WebSocketClient client;
    private final int port;
    private final String token;
    volatile WebSocket ws;
    volatile boolean snapshot;

    FeedClient(Vertx vertx, WebSocketClient client, int port, String token) {
      this.vertx = vertx;
      this.client = client;
      this.port = port;
      this.token = token;
    }

    Future<WebSocket> connect() {
      snapshot = false;
      return client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
              .setURI("/api/reliability/feed").setAllowOriginHeader(false))
          .onSuccess(socket -> {
            ws = socket;
            socket.textMessageHandler(text -> {
              feedMessages.incrementAndGet();
              int quote = text.startsWith("{\"type\":\"") ? text.indexOf('"', 9) : -1;
              feedTypes.computeIfAbsent(quote > 9 ? text.substring(9, quote) : "other", k -> new LongAdder()).increment();
              if (text.startsWith("{\"type\":\"snapshot\"")) {
                snapshot = true;
              }
            });
            socket.closeHandler(v -> {
              ws = null;
              if (running) {
                feedReconnects.incrementAndGet();
                log.info("Soak: a feed client was closed ({} {}); reconnecting", socket.closeStatusCode(), socket.closeReason());
                vertx.setTimer(1_000, t -> connect());
              }
            });
            socket.writeTextMessage(new JsonObject().put("type", "auth").put("token", token).encode());
          })
          .onFailure(failure -> {
            if (running) {
              feedConnectFailures.incrementAndGet();
              vertx.setTimer(1_000, t -> connect());
            }
          });
    }

    boolean openWithSnapshot() {
      return ws != null && !ws.isClosed() && snapshot;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // sampling

  static final String HEADER = "t_s,phase,heap_used_mb,heap_after_gc_mb,gc_ms,threads,fds,db_connections,db_active,"
      + "pool_in_use,pools,event_loop_lag_max_ms,syncs_completed,syncs_failed,webhooks_fired,feed_messages,"
      + "feed_open,feed_reconnects,load_average,sandbox_txns";

  private final class Sampler {
    private final Application app;
    private final List<FeedClient> feeds;
    private final BufferedWriter out;
    private final Connection db;
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private long samples;
    private long lastGcAt = Long.MIN_VALUE;
    private long sandboxTxns = -1;
    volatile Map<String, long[]> firstHistogram;
    volatile Map<String, long[]> lastHistogram;

    Sampler(Application app, List<FeedClient> feeds, Path csv) throws IOException, SQLException {
      this.app = app;
      this.feeds = feeds;
      DatabaseTarget target = app.database();
      this.db = DriverManager.getConnection(target.jdbcUrl(), target.user(), "");
      this.out = Files.newBufferedWriter(csv, StandardCharsets.UTF_8);
      out.write(HEADER);
      out.newLine();
      out.flush();
    }

    synchronized void sample(long start) {
      try {
        long now = System.nanoTime();
        double t = (now - start) / 1e9;
        long heap = memory.getHeapMemoryUsage().getUsed();
        String afterGc = "";
        String gcMs = "";
        if (lastGcAt == Long.MIN_VALUE || now - lastGcAt >= 59_000_000_000L) {
          long before = System.nanoTime();
          // a live class histogram is a full GC (what System.gc() would do) that also says what the heap holds
          Map<String, long[]> histogram = Histogram.take();
          gcMs = String.format(Locale.ROOT, "%.0f", (System.nanoTime() - before) / 1e6);
          afterGc = mb(memory.getHeapMemoryUsage().getUsed());
          lastGcAt = now;
          if (firstHistogram == null) {
            firstHistogram = histogram;
          }
          lastHistogram = histogram;
          sandboxTxns = histogram.getOrDefault("com.mingus.reliability.sandbox.Txn", new long[2])[0];
        }
        long fds;
        try (Stream<Path> list = Files.list(Path.of("/proc/self/fd"))) {
          fds = list.count();
        }
        long sessions;
        long active;
        try (Statement statement = db.createStatement();
             ResultSet rows = statement.executeQuery("SELECT count(*), count(*) FILTER (WHERE state = 'active') "
                 + "FROM pg_stat_activity WHERE datname = current_database()")) {
          rows.next();
          sessions = rows.getLong(1);
          active = rows.getLong(2);
        }
        double[] pool = pool();
        long open = feeds.stream().filter(FeedClient::openWithSnapshot).count();
        String row = String.format(Locale.ROOT, "%.1f,%s,%s,%s,%s,%d,%d,%d,%d,%.0f,%.0f,%.1f,%d,%d,%d,%d,%d,%d,%.2f,%d", t, phase,
            mb(heap), afterGc, gcMs, threads.getThreadCount(), fds, sessions, active, pool[0], pool[1],
            maxLagNanos.getAndSet(0) / 1e6, syncsCompleted.get(), syncsFailed.get(), webhooksFired.get(),
            feedMessages.get(), open, feedReconnects.get(),
            ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), sandboxTxns);
        out.write(row);
        out.newLine();
        out.flush();
        if (samples++ % 6 == 0) {
          log.info("Soak sample: {}", row);
        }
      } catch (IOException | SQLException | RuntimeException e) {
        log.warn("Soak: a sample failed: {}", e.toString());
      }
    }

    /** SQL pool connections in use and the number of SQL pools, from the node's Micrometer registry. */
    private double[] pool() {
      MeterRegistry registry = BackendRegistries.getNow(app.metricsRegistry());
      if (registry == null) {
        return new double[] {-1, -1};
      }
      double inUse = 0;
      Set<String> names = new HashSet<>();
      for (Meter meter : registry.find("vertx.pool.in.use").tag("pool_type", "sql").meters()) {
        names.add(meter.getId().getTag("pool_name"));
        for (Measurement m : meter.measure()) {
          inUse += m.getValue();
        }
      }
      return names.isEmpty() ? new double[] {-1, -1} : new double[] {inUse, names.size()};
    }

    synchronized void close() throws IOException, SQLException {
      out.close();
      db.close();
    }
  }

  /** Live class histograms through the DiagnosticCommand MBean (jcmd GC.class_histogram, in process). */
  static final class Histogram {
    private Histogram() {}

    /** Class name to {instances, bytes}; a full GC first. */
    static Map<String, long[]> take() {
      try {
        Object text = ManagementFactory.getPlatformMBeanServer().invoke(
            new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
            new Object[] {new String[0]}, new String[] {String[].class.getName()});
        Map<String, long[]> out = new HashMap<>();
        for (String line : String.valueOf(text).split("\n")) {
          String[] cells = line.trim().split("\\s+");
          if (cells.length >= 4 && cells[0].endsWith(":")) {
            out.put(cells[3], new long[] {Long.parseLong(cells[1]), Long.parseLong(cells[2])});
          }
        }
        return out;
      } catch (javax.management.JMException e) {
        throw new IllegalStateException(e);
      }
    }

    /** The classes whose live bytes grew most between two histograms, one line each. */
    static String growth(Map<String, long[]> first, Map<String, long[]> last, int top) {
      if (first == null || last == null) {
        return "  (no histograms)\n";
      }
      List<Map.Entry<String, long[]>> rows = new ArrayList<>(last.entrySet());
      rows.sort((a, b) -> Long.compare(b.getValue()[1] - first.getOrDefault(b.getKey(), new long[2])[1],
          a.getValue()[1] - first.getOrDefault(a.getKey(), new long[2])[1]));
      long total = 0;
      for (Map.Entry<String, long[]> row : last.entrySet()) {
        total += row.getValue()[1] - first.getOrDefault(row.getKey(), new long[2])[1];
      }
      StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "  all classes: %+.1f MB%n", total / 1048576.0));
      for (Map.Entry<String, long[]> row : rows.subList(0, Math.min(top, rows.size()))) {
        long[] was = first.getOrDefault(row.getKey(), new long[2]);
        s.append(String.format(Locale.ROOT, "  %-70s %+10d instances %+9.2f MB (now %d)%n", row.getKey(),
            row.getValue()[0] - was[0], (row.getValue()[1] - was[1]) / 1048576.0, row.getValue()[0]));
      }
      return s.toString();
    }
  }

  private static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
  }

  // ---------------------------------------------------------------------------------------------------------
  // nothing lost

  /** The comparison with the ground truth and health, at one moment. */
  record Check(int missing, int extra, int stale, long duplicates, int mismatchedConnections,
      Map<String, Integer> health, Set<String> unsettled, int connections) {
    boolean dataEqual() {
      return missing == 0 && extra == 0 && stale == 0 && duplicates == 0;
    }

    boolean healthSettled() {
      return health.getOrDefault("active", 0) == connections;
    }

    boolean settled() {
      return dataEqual() && healthSettled();
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%d connections differ from the ground truth (missing %d, extra %d, stale %d, "
          + "duplicates %d); health %s", mismatchedConnections, missing, extra, stale, duplicates, health);
    }
  }

  private static Check check(DatabaseTarget target, SandboxControl sandbox, List<Linked> linked) throws SQLException {
    Map<String, Map<String, String>> stored = new HashMap<>();
    Map<String, Integer> health = new java.util.TreeMap<>();
    Map<String, String> statusOf = new HashMap<>();
    long duplicates;
    try (Connection c = DriverManager.getConnection(target.jdbcUrl(), target.user(), "");
         Statement statement = c.createStatement()) {
      try (ResultSet rows = statement.executeQuery("SELECT connection_id, transaction_id, amount::text, "
          + "coalesce(date::text, '-'), pending FROM transactions")) {
        while (rows.next()) {
          stored.computeIfAbsent(rows.getString(1), k -> new HashMap<>())
              .put(rows.getString(2), SandboxControl.fingerprint(rows.getString(3), rows.getString(4), rows.getBoolean(5)));
        }
      }
      try (ResultSet rows = statement.executeQuery("SELECT count(*) - count(DISTINCT transaction_id) FROM transactions")) {
        rows.next();
        duplicates = rows.getLong(1);
      }
      try (ResultSet rows = statement.executeQuery("SELECT connection_id, status FROM health_connections")) {
        while (rows.next()) {
          statusOf.put(rows.getString(1), rows.getString(2));
        }
      }
    }
    int missing = 0;
    int extra = 0;
    int stale = 0;
    int mismatched = 0;
    Set<String> unsettled = new HashSet<>();
    for (Linked l : linked) {
      Map<String, String> truth = sandbox.truth(l.itemId());
      Map<String, String> held = stored.getOrDefault(l.connectionId(), Map.of());
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
      String status = statusOf.getOrDefault(l.connectionId(), "none");
      health.merge(status, 1, Integer::sum);
      if (missing + extra + stale > before) {
        mismatched++;
        unsettled.add(l.connectionId());
      }
      if (!"active".equals(status)) {
        unsettled.add(l.connectionId());
      }
    }
    return new Check(missing, extra, stale, duplicates, mismatched, health, unsettled, linked.size());
  }

  // ---------------------------------------------------------------------------------------------------------
  // the summary

  /** A series' margin for "flat": relative and absolute. */
  private record Series(String column, String label, double relative, double absolute) {}

  private static final List<Series> FLAT = List.of(
      new Series("heap_after_gc_mb", "heap after GC (MB)", 0.10, 16),
      new Series("threads", "live threads", 0.10, 5),
      new Series("fds", "open file descriptors", 0.10, 20),
      new Series("db_connections", "database sessions", 0.10, 3));

  private Outcome summarise(Path csv, Check check, boolean settledAlone, double settleSeconds, int nudged, int open,
      JsonObject stats, String growth) throws IOException {
    SoakPlot.Table table = SoakPlot.read(csv);
    double soakEnd = minutes * 60.0;
    double baselineEnd = Math.min(600, soakEnd / 3);
    double tailStart = soakEnd - Math.max(180, soakEnd / 20);
    StringBuilder s = new StringBuilder();
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    s.append(String.format(Locale.ROOT, "SOAK %d min, %d connections, %d feed clients, %d webhooks/min, faults every %d s; "
        + "load average at the end %.2f%n", minutes, connections, sockets, webhooksPerMinute, phaseSeconds, load));
    s.append(String.format(Locale.ROOT, "%-24s %10s %10s %10s %14s %12s %12s %s%n", "series", "start", "end", "max",
        "first-10-min", "end (tail)", "slope/hour", "flat"));
    boolean flat = true;
    for (String column : List.of("heap_used_mb", "heap_after_gc_mb", "threads", "fds", "db_connections", "db_active",
        "pool_in_use", "event_loop_lag_max_ms", "load_average")) {
      SoakPlot.Points p = table.points(column, 0, soakEnd);
      if (p.size() == 0) {
        continue;
      }
      double baseline = table.points(column, 0, baselineEnd).median();
      double tail = table.points(column, tailStart, soakEnd).median();
      Series rule = FLAT.stream().filter(f -> f.column().equals(column)).findFirst().orElse(null);
      String verdict = "";
      if (rule != null) {
        boolean ok = tail <= baseline * (1 + rule.relative()) + rule.absolute();
        flat &= ok;
        verdict = (ok ? "flat" : "NOT FLAT") + String.format(Locale.ROOT, " (bound %.1f)", baseline * (1 + rule.relative()) + rule.absolute());
      }
      s.append(String.format(Locale.ROOT, "%-24s %10.1f %10.1f %10.1f %14.1f %12.1f %12.2f %s%n", column, p.first(),
          p.last(), p.max(), baseline, tail, p.slopePerHour(), verdict));
    }
    SoakPlot.Points done = table.points("syncs_completed", 0, soakEnd);
    SoakPlot.Points failed = table.points("syncs_failed", 0, soakEnd);
    SoakPlot.Points fired = table.points("webhooks_fired", 0, soakEnd);
    SoakPlot.Points messages = table.points("feed_messages", 0, soakEnd);
    s.append(String.format(Locale.ROOT, "during the soak: %.0f syncs completed (%.1f/s), %.0f failed attempts, %d sandbox "
            + "changes (%.0f webhooks fired), %.0f feed messages received %s, %d feed reconnects, %d failed feed connects, "
            + "%d driver errors; fault phases %s%n", done.last() - done.first(), (done.last() - done.first()) / soakEnd,
        failed.last() - failed.first(), mutations.get(), fired.last(), messages.last(), new java.util.TreeMap<>(feedTypes), feedReconnects.get(),
        feedConnectFailures.get(), driverErrors.get(), phaseCounts));
    s.append(String.format(Locale.ROOT, "sandbox: %s%n", stats.getJsonObject("total")));
    boolean nothingLost = check.settled() && open == sockets;
    s.append(String.format(Locale.ROOT, "nothing lost: %s. %s; %s after %.0f s of settling%s; feed clients connected "
            + "with a snapshot %d/%d (%d reconnects)%n", nothingLost ? "PASS" : "FAIL", check,
        settledAlone ? "settled on its own" : "not settled on its own", settleSeconds,
        nudged > 0 ? ", then " + nudged + " connections given a sync-now" : "", open, sockets, feedReconnects.get()));
    s.append(String.format(Locale.ROOT, "flat: %s%n", flat ? "PASS" : "FAIL"));
    s.append("live heap growth by class, first to last histogram of the run (settling included):\n").append(growth);
    String summary = s.toString();
    log.info("Soak summary:\n{}", summary);
    Files.writeString(OUT.resolve("soak-summary.txt"), summary, StandardCharsets.UTF_8);
    return new Outcome(flat, nothingLost, summary);
  }

  private static Http.Response api(int port, String token, String method, String path, JsonObject body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    return Http.send(request);
  }
}
