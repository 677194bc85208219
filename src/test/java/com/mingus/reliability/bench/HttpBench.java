package com.mingus.reliability.bench;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The HTTP verticle's benchmarks (docs/bench/http.md), one run of the whole application:
 *
 * <ol>
 *   <li>GET /api/reliability/connections/:id/health (JWT verified, rate limit, OpenAPI validation, a bus
 *       request to health tracking) against a bare Vert.x route on the same Vert.x, both with the same
 *       number of instances, both loaded by wrk with the same settings; requests per second and p99.
 *   <li>WebSocket fan-out: N authenticated feed clients; a health change published on the bus, timed to its
 *       arrival at every client.
 * </ol>
 *
 * Run: {@code mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt && java -cp
 * target/test-classes:target/classes:$(cat target/cp.txt) com.mingus.reliability.bench.HttpBench [seconds] [connections] [subscribers]}
 */
public final class HttpBench {
  private static final String SECRET = "bench-jwt-secret-0123456789-0123456789";

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    int connections = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int subscribers = args.length > 2 ? Integer.parseInt(args[2]) : 2000;
    Application app = TestApp.start(TestDatabase.fresh("httpbench"), Map.of("MINGUS_JWT_SECRET", SECRET), Map.of(
        "http.rate_limit.per_second", 1_000_000_000, "http.rate_limit.burst", 1_000_000_000,
        "http.feed.max_pending", 100_000,
        // -Dbench.readCacheMs=0: every GET of a connection's health read from PostgreSQL (the default keeps 1 s)
        "health.read_cache_ms", Long.getLong("bench.readCacheMs", 1_000L)));
    try {
      SandboxControl sandbox = new SandboxControl(app.sandboxPort());
      sandbox.institution("ins_bench", "Bench Bank");
      String token = JwtIssuer.issue(app.vertx(), SECRET, "bench", List.of("user"), "Bench", null, 3600);
      String publicToken = sandbox.item("ins_bench", "bench", 10).getString("public_token");
      Http.Response created = Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + "/api/reliability/connections"))
          .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("public_token", publicToken).encode())));
      String connection = created.json().getJsonObject("connection").getString("connection_id");
      String healthPath = "/api/reliability/connections/" + connection + "/health";
      Await.until(() -> Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + healthPath))
          .header("Authorization", "Bearer " + token)).body().contains("\"active\""), Duration.ofSeconds(20), "the connection is active");

      // the peer: a bare Vert.x route on the same Vert.x, as many instances as the HTTP verticle
      int instances = app.settings().raw().getJsonObject("http").getInteger("instances", 2);
      int barePort = freePort();
      Await.result(app.vertx().deployVerticle(() -> new Bare(barePort), new DeploymentOptions().setInstances(instances)));

      String ours = "http://127.0.0.1:" + app.httpPort() + healthPath;
      String bare = "http://127.0.0.1:" + barePort + "/bare/" + connection;
      wrk(ours, token, 3, connections);
      wrk(bare, null, 3, connections);
      double[] bareResult = wrk(bare, null, seconds, connections);
      double[] ourResult = wrk(ours, token, seconds, connections);
      System.out.printf("REST  bare route: %.0f req/s, p99 %.2f ms%n", bareResult[0], bareResult[1]);
      System.out.printf("REST  GET %s: %.0f req/s, p99 %.2f ms%n", "/connections/:id/health", ourResult[0], ourResult[1]);
      System.out.printf("REST  ratio (ours / bare): throughput %.2f, p99 latency %.2f (bare p99 / ours p99)%n",
          ourResult[0] / bareResult[0], bareResult[1] / ourResult[1]);

      fanOut(app, token, connection, subscribers);
    } finally {
      app.close();
    }
  }

  /** Runs wrk; answers {requests per second, p99 ms}. */
  private static double[] wrk(String url, String token, int seconds, int connections) throws Exception {
    List<String> command = new ArrayList<>(List.of("wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "--latency"));
    if (token != null) {
      command.addAll(List.of("-H", "Authorization: Bearer " + token));
    }
    command.add(url);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    StringBuilder out = new StringBuilder();
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        out.append(line).append('\n');
      }
    }
    process.waitFor();
    String text = out.toString();
    Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(text);
    Matcher p99 = Pattern.compile("99%\\s+([0-9.]+)(us|ms|s)").matcher(text);
    Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(text);
    if (!rps.find() || !p99.find()) {
      throw new IllegalStateException("wrk said: " + text);
    }
    if (non2xx.find()) {
      throw new IllegalStateException("wrk saw errors: " + text);
    }
    double latency = Double.parseDouble(p99.group(1));
    latency = switch (p99.group(2)) {
      case "us" -> latency / 1000;
      case "s" -> latency * 1000;
      default -> latency;
    };
    return new double[] {Double.parseDouble(rps.group(1)), latency};
  }

  /** N feed clients; each health change is timed from its publication to its arrival at every client. */
  private static void fanOut(Application app, String token, String connection, int subscribers) throws Exception {
    Vertx clients = Vertx.vertx();
    try {
      WebSocketClient client = clients.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(subscribers + 10));
      Map<Integer, ConcurrentLinkedQueue<Long>> arrivals = new ConcurrentHashMap<>();
      AtomicInteger ready = new AtomicInteger();
      List<Future<?>> opened = new ArrayList<>();
      for (int i = 0; i < subscribers; i++) {
        opened.add(client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(app.httpPort())
                .setURI("/api/reliability/feed").setAllowOriginHeader(false))
            .onSuccess(ws -> {
              // the clients only pick out two numbers, so that the measurement spends its CPU on the server
              ws.textMessageHandler(text -> {
                long now = System.nanoTime();
                if (text.startsWith("{\"type\":\"snapshot\"")) {
                  ready.incrementAndGet();
                } else if (text.startsWith("{\"type\":\"health\"") && text.contains("\"bench_seq\":")) {
                  int seq = (int) number(text, "\"bench_seq\":");
                  arrivals.computeIfAbsent(seq, k -> new ConcurrentLinkedQueue<>()).add(now - number(text, "\"bench_sent_ns\":"));
                }
              });
              ws.writeTextMessage(new JsonObject().put("type", "auth").put("token", token).encode());
            }));
        if (i % 200 == 199) {
          Await.result(Future.join(new ArrayList<>(opened)), Duration.ofSeconds(60));
        }
      }
      Await.result(Future.join(opened), Duration.ofSeconds(60));
      Await.until(() -> ready.get() == subscribers, Duration.ofSeconds(60), "every subscriber has its snapshot (" + ready.get() + ")");

      int changes = 60;
      for (int seq = 0; seq < changes; seq++) {
        app.vertx().eventBus().publish(Addresses.HEALTH_CHANGED, new JsonObject().put("connection_id", connection)
            .put("user_id", "bench").put("status", seq % 2 == 0 ? "degraded" : "active").put("bench_seq", seq)
            .put("bench_sent_ns", System.nanoTime()));
        Thread.sleep(100);
      }
      int expected = changes;
      Await.until(() -> arrivals.size() == expected && arrivals.values().stream().allMatch(q -> q.size() == subscribers),
          Duration.ofSeconds(30), "every change reaches every subscriber");
      List<Long> all = new ArrayList<>();
      long[] lastArrival = new long[changes];
      for (int seq = 0; seq < changes; seq++) {
        long max = 0;
        for (long ns : arrivals.get(seq)) {
          all.add(ns);
          max = Math.max(max, ns);
        }
        lastArrival[seq] = max;
      }
      long[] deliveries = all.stream().mapToLong(Long::longValue).sorted().toArray();
      Arrays.sort(lastArrival);
      System.out.printf("FEED  %d subscribers, %d changes: per delivery p50 %.2f ms, p99 %.2f ms; to every client p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
          subscribers, changes, ms(pct(deliveries, 50)), ms(pct(deliveries, 99)), ms(pct(lastArrival, 50)),
          ms(pct(lastArrival, 99)), ms(lastArrival[lastArrival.length - 1]));
    } finally {
      Await.result(clients.close(), Duration.ofSeconds(30));
    }
  }

  private static long number(String text, String key) {
    int start = text.indexOf(key) + key.length();
    int end = start;
    while (end < text.length() && (Character.isDigit(text.charAt(end)) || text.charAt(end) == '-')) {
      end++;
    }
    return Long.parseLong(text.substring(start, end));
  }

  private static long pct(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static double ms(long ns) {
    return ns / 1_000_000.0;
  }

  private static int freePort() throws Exception {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The peer: one route, a small JSON answer, nothing else. */
  public static final class Bare extends VerticleBase {
    private final int port;

    Bare(int port) {
      this.port = port;
    }

    @Override
    public Future<?> start() {
      Router router = Router.router(vertx);
      router.get("/bare/:id").handler(ctx -> ctx.response().putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("success", true).put("connection", new JsonObject()
              .put("connection_id", ctx.pathParam("id")).put("status", "active")).encode()));
      return vertx.createHttpServer().requestHandler(router).listen(port).map((HttpServer s) -> s);
    }
  }
}
