package com.mingus.reliability.bench;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * WebSocket fan-out at scale (docs/bench/http.md, "WebSocket fan-out: 10,000 subscribers"): the whole
 * application on the embedded test PostgreSQL, N real WebSocket subscribers in a second JVM
 * ({@link FanOutClients}), and in the same run its peer: a bare Vert.x WebSocket server (as many instances
 * as the HTTP verticle, on the same Vert.x) that writes the same bytes to the same N subscribers. For each,
 * in turn: heap after GC before and after the N sockets open (the server's side alone: the clients are in
 * the other JVM), then K changes published on the bus {@code interval} ms apart, each stamped with
 * {@code System.nanoTime()}; per delivery and per change to the last subscriber, p50 and p99; and the
 * server process's CPU time per delivery while they went out.
 *
 * <p>Run: {@code mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt && java
 * -cp target/test-classes:target/classes:$(cat target/cp.txt) com.mingus.reliability.bench.FeedFanOutBench
 * [subscribers 10000] [changes 40] [interval_ms 500] [rounds 2] [kind health|institution] [servers bare,ours]}
 */
public final class FeedFanOutBench {
  private static final String SECRET = "bench-jwt-secret-0123456789-0123456789";

  private FeedFanOutBench() {}

  public static void main(String[] args) throws Exception {
    int subscribers = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int changes = args.length > 1 ? Integer.parseInt(args[1]) : 40;
    long intervalMs = args.length > 2 ? Long.parseLong(args[2]) : 500;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    String kind = args.length > 4 ? args[4] : "health";
    List<String> servers = args.length > 5 ? List.of(args[5].split(",")) : List.of("bare", "ours");
    // configuration paths to set, for experiments: -Dbench.config=http.feed.snapshot_concurrency=8,...
    Map<String, Object> config = new java.util.HashMap<>();
    for (String setting : System.getProperty("bench.config", "").split(",")) {
      if (setting.contains("=")) {
        String value = setting.substring(setting.indexOf('=') + 1);
        config.put(setting.substring(0, setting.indexOf('=')), value.matches("-?\\d+") ? (Object) Long.parseLong(value)
            : value.equals("true") || value.equals("false") ? (Object) Boolean.valueOf(value) : value);
      }
    }
    Application app = TestApp.start(TestDatabase.fresh("feedfanout"), Map.of("MINGUS_JWT_SECRET", SECRET), config);
    running = app;
    Process child = null;
    try {
      String token = JwtIssuer.issue(app.vertx(), SECRET, "bench", List.of("user"), "Bench", null, 3600);
      int instances = app.settings().raw().getJsonObject("http").getInteger("instances", 2);
      int barePort = freePort();
      Await.result(app.vertx().deployVerticle(() -> new BareFeed(barePort), new DeploymentOptions().setInstances(instances)));
      child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Dbench.compress=" + Boolean.getBoolean("bench.compress"), "-cp", System.getProperty("java.class.path"),
          FanOutClients.class.getName())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      Child clients = new Child(child);
      System.out.printf("FANOUT %d subscribers, %d %s changes %d ms apart, %d HTTP instances, transport %s; load average %s%n",
          subscribers, changes, kind, intervalMs, instances, app.vertx().isNativeTransportEnabled() ? "native" : "nio",
          loadAverage());
      for (int round = -1; round < rounds; round++) {
        List<String> order = new ArrayList<>(servers);
        if (round % 2 == 1) {
          java.util.Collections.reverse(order);
        }
        for (String which : order) {
          boolean ours = which.equals("ours");
          BareFeed.direct = which.equals("direct");
          int port = ours ? app.httpPort() : barePort;
          IntConsumer publish = seq -> {
            JsonObject thing = change(kind, seq);
            if (ours) {
              app.vertx().eventBus().publish(kind.equals("health") ? Addresses.HEALTH_CHANGED : Addresses.INSTITUTION_CHANGED, thing);
            } else {
              app.vertx().eventBus().publish(BareFeed.ADDRESS, new JsonObject().put("type", kind)
                  .put(kind.equals("health") ? "connection" : "institution", thing).encode());
            }
          };
          if (round < 0) {
            // warm-up, not reported: the JIT compiles both servers' and the clients' paths first
            phase("warm-up " + which, port, Math.min(subscribers, 2_000), 10, 200, token, clients, publish);
          } else {
            phase(which, port, subscribers, changes, intervalMs, token, clients, publish);
          }
        }
      }
      clients.ask("quit", null);
    } finally {
      if (child != null) {
        child.destroy();
      }
      app.close();
    }
  }

  /** One change as health tracking publishes it, stamped; the feed relays it in the message's body. */
  private static JsonObject change(String kind, int seq) {
    JsonObject thing = kind.equals("health")
        ? new JsonObject().put("connection_id", "conn_bench").put("user_id", "bench")
            .put("status", seq % 2 == 0 ? "degraded" : "active").put("institution_name", "Bench Bank")
        : new JsonObject().put("institution_id", "ins_bench").put("name", "Bench Bank")
            .put("circuit", seq % 2 == 0 ? "open" : "closed");
    return thing.put("bench_seq", seq).put("bench_sent_ns", System.nanoTime());
  }

  private static void phase(String which, int port, int subscribers, int changes, long intervalMs, String token,
      Child clients, IntConsumer publish) throws Exception {
    long heapBefore = FanOutClients.heapAfterGc();
    String[] ready = clients.ask("connect " + port + " " + subscribers + " " + changes + " " + token, "ready");
    long heapAfter = FanOutClients.heapAfterGc();
    String histogram = System.getProperty("bench.histogram");
    if (histogram != null) {
      // what the sockets hold, class by class (jcmd GC.class_histogram), to read beside the heap figure
      new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
          Long.toString(ProcessHandle.current().pid()), "GC.class_histogram")
          .redirectOutput(Path.of(histogram + "-" + which + ".txt").toFile()).start().waitFor();
    }
    Thread.sleep(1_000);
    // what the process spends with the sockets open and nothing published (the rest of the application, heartbeats,
    // GC), taken off the CPU time of the fan-out below
    long idleCpu = FanOutClients.cpuNanos();
    long idleStarted = System.nanoTime();
    Thread.sleep(Math.max(3_000, changes * intervalMs / 4));
    double idleShare = (double) (FanOutClients.cpuNanos() - idleCpu) / (System.nanoTime() - idleStarted);
    String loadBefore = loadAverage();
    long[] ticksBefore = userSystemTicks();
    long cpuBefore = FanOutClients.cpuNanos();
    long startedAt = System.currentTimeMillis();
    long started = System.nanoTime();
    for (int seq = 0; seq < changes; seq++) {
      publish.accept(seq);
      Thread.sleep(intervalMs);
    }
    String[] result = clients.ask("collect 60000", "result");
    long elapsed = System.nanoTime() - started;
    long cpu = FanOutClients.cpuNanos() - cpuBefore - (long) (idleShare * elapsed);
    long[] ticksAfter = userSystemTicks();
    long user = ticksAfter[0] - ticksBefore[0];
    long system = ticksAfter[1] - ticksBefore[1];
    long received = Long.parseLong(result[1]);
    System.out.printf("FANOUT %-4s heap/socket server %,d B (client JVM %,d B), connect %,d ms | delivered %d/%d, closed %s | "
            + "per delivery p50 %.1f ms p99 %.1f ms | to the last client p50 %.1f ms p99 %.1f ms max %.1f ms | "
            + "server CPU %.2f µs/delivery (idle %.0f%% of a core taken off; %.0f%% in the kernel), clients' CPU %.2f µs/delivery | load %s -> %s%n",
        which, (heapAfter - heapBefore) / subscribers, Long.parseLong(ready[2]), Long.parseLong(ready[3]),
        received, (long) subscribers * changes, result[2], ms(result[3]), ms(result[4]), ms(result[5]), ms(result[6]),
        ms(result[7]), cpu / 1000.0 / Math.max(1, received), 100.0 * idleShare, 100.0 * system / Math.max(1, user + system),
        Long.parseLong(result[8]) / 1000.0 / Math.max(1, received), loadBefore, loadAverage());
    System.out.printf("FANOUT %-4s published %s .. %s%n", which, java.time.Instant.ofEpochMilli(startedAt),
        java.time.Instant.ofEpochMilli(startedAt + elapsed / 1_000_000));
    clients.ask("close", "closed");
    // the server lets go of the closed sockets before the next heap measurement
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline && (BareFeed.OPEN.get() > 0 || feedClients() > 0)) {
      Thread.sleep(100);
    }
    Thread.sleep(1_000);
  }

  private static Application running;

  /** The feed's sockets open on this node, from its gauge. */
  private static double feedClients() {
    io.micrometer.core.instrument.MeterRegistry registry =
        io.vertx.micrometer.backends.BackendRegistries.getNow(running.metricsRegistry());
    return registry == null ? 0 : registry.find("mingus_feed_clients").gauges().stream().mapToDouble(g -> g.value()).sum();
  }

  private static double ms(String ns) {
    return Long.parseLong(ns) / 1_000_000.0;
  }

  /** This process's user and system CPU time, in clock ticks (/proc/self/stat fields 14 and 15). */
  private static long[] userSystemTicks() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return new long[] {Long.parseLong(fields[11]), Long.parseLong(fields[12])};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (IOException e) {
      return "?";
    }
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The subscribers' JVM: one command line in, one answer line out (its log lines are skipped). */
  private static final class Child {
    private final BufferedReader out;
    private final Writer in;

    Child(Process process) {
      out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    }

    String[] ask(String command, String answer) throws IOException {
      in.write(command + "\n");
      in.flush();
      if (answer == null) {
        return new String[0];
      }
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith(answer + " ") || line.equals(answer)) {
          return line.split(" ");
        }
        if (line.startsWith("error ")) {
          throw new IllegalStateException("subscribers: " + line);
        }
      }
      throw new IllegalStateException("the subscribers' JVM ended");
    }
  }

  /**
   * The peer: the least a Vert.x WebSocket broadcast does. Each socket is kept once it says anything (our
   * clients' auth message), answered a one-line snapshot, and every broadcast on the bus is written to each
   * kept socket with {@code writeTextMessage}, nothing else.
   */
  public static final class BareFeed extends VerticleBase {
    static final String ADDRESS = "bench.bare-feed";
    static final AtomicInteger OPEN = new AtomicInteger();
    static volatile boolean direct;
    private final int port;
    private final Set<ServerWebSocket> sockets = new HashSet<>();

    BareFeed(int port) {
      this.port = port;
    }

    @Override
    public Future<?> start() {
      return vertx.eventBus().<String>consumer(ADDRESS, message -> {
        String text = message.body();
        if (direct) {
          io.netty.buffer.ByteBuf shared = io.netty.buffer.Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8));
          for (ServerWebSocket ws : sockets) {
            io.netty.channel.ChannelHandlerContext ctx = ((io.vertx.core.internal.http.WebSocketInternal) ws).channelHandlerContext();
            ctx.writeAndFlush(new io.netty.handler.codec.http.websocketx.TextWebSocketFrame(true, 0, shared.retainedDuplicate()),
                ctx.voidPromise());
          }
          return;
        }
        for (ServerWebSocket ws : sockets) {
          ws.writeTextMessage(text);
        }
      }).completion().compose(v -> vertx.createHttpServer(new HttpServerOptions().setPort(port)).webSocketHandler(ws -> {
        ws.textMessageHandler(text -> {
          if (sockets.add(ws)) {
            OPEN.incrementAndGet();
            ws.writeTextMessage("{\"type\":\"snapshot\",\"connections\":[]}");
          }
        });
        ws.closeHandler(closed -> {
          if (sockets.remove(ws)) {
            OPEN.decrementAndGet();
          }
        });
      }).listen());
    }
  }
}
