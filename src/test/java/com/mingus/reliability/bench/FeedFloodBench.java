package com.mingus.reliability.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bad-credential WebSocket connects against the feed, as many per second as one load-generating Vert.x on
 * this machine can drive over raw sockets (each connect a new TCP connection), beside a bare Vert.x HTTP server (the peer: as many instances as the HTTP verticle,
 * on the same Vert.x) that refuses the same connects the cheapest way it can. Two kinds, each against both:
 *
 * <ol>
 *   <li>a forged ticket ({@code /api/reliability/feed?ticket=...}): we answer 401 before the upgrade; the peer
 *       answers 401 to every upgrade request;
 *   <li>a WebSocket opened without a ticket whose first message carries a token signed with another secret:
 *       we upgrade, verify the token and close with 4401; the peer upgrades and closes with 4401 on the first
 *       message without looking at it.
 * </ol>
 *
 * For each: connects per second completed, how many were accepted (an upgrade for kind 1, a snapshot for
 * kind 2; must be 0), how many answers were 5xx (must be 0), other failures (resets, timeouts), and after
 * ours, whether a normal REST request and a genuine feed client are still served. Ratios are ours / peer.
 *
 * <p>Not part of {@code mvn verify} (the class name does not match surefire's includes); not a timed test: it
 * asserts only 0 accepted, 0 5xx and that the server still serves. Run:
 * {@code mvn -B -q test -Dtest=FeedFloodBench -Dsurefire.failIfNoSpecifiedTests=false}; knobs
 * {@code -Dbench.seconds=20} (per server and kind, in {@code -Dbench.slices=4} turns taken with the peer),
 * {@code -Dbench.inflight=256} (connects kept in flight), {@code -Dbench.warmup=3}. Figures go to the log and to target/bench/security.txt.
 */
class FeedFloodBench {
  private static final Logger log = LoggerFactory.getLogger(FeedFloodBench.class);
  private static final Path RESULTS = Path.of("target", "bench", "security.txt");
  private static final String SECRET = "bench-jwt-secret-0123456789-0123456789";
  private static final String FEED = "/api/reliability/feed";
  private static final int SECONDS = Integer.getInteger("bench.seconds", 20);
  private static final int IN_FLIGHT = Integer.getInteger("bench.inflight", 256);
  private static final int WARMUP = Integer.getInteger("bench.warmup", 3);
  private static final int SLICES = Integer.getInteger("bench.slices", 4);

  /** What one phase saw. */
  record Result(String what, long attempts, double seconds, long refused, long accepted, long serverErrors,
      long otherFailures, Map<String, Long> failureKinds) {
    double perSecond() {
      return attempts / seconds;
    }

    static Result sum(String what, List<Result> slices) {
      Map<String, Long> kinds = new java.util.TreeMap<>();
      slices.forEach(slice -> slice.failureKinds().forEach((kind, n) -> kinds.merge(kind, n, Long::sum)));
      return new Result(what, slices.stream().mapToLong(Result::attempts).sum(),
          slices.stream().mapToDouble(Result::seconds).sum(), slices.stream().mapToLong(Result::refused).sum(),
          slices.stream().mapToLong(Result::accepted).sum(), slices.stream().mapToLong(Result::serverErrors).sum(),
          slices.stream().mapToLong(Result::otherFailures).sum(), kinds);
    }

    String line() {
      return String.format(Locale.ROOT, "%s: %d connects in %.1f s = %.0f/s; refused %d, accepted %d, 5xx %d, "
          + "other failures %d %s", what, attempts, seconds, perSecond(), refused, accepted, serverErrors, otherFailures,
          failureKinds.isEmpty() ? "" : failureKinds);
    }
  }

  @Test
  void badCredentialFeedConnectsBesideABareVertxServerThatRefusesThem() throws Exception {
    Application app = TestApp.start(TestDatabase.fresh("feedflood"), Map.of("MINGUS_JWT_SECRET", SECRET), Map.of());
    Vertx clients = Vertx.vertx();
    try {
      int instances = app.settings().raw().getJsonObject("http").getInteger("instances", 2);
      int barePort = freePort();
      Await.result(app.vertx().deployVerticle(() -> new BareRefuser(barePort), new DeploymentOptions().setInstances(instances)));
      // the genuine client of the "still serves" check
      WebSocketClient ws = clients.createWebSocketClient(new WebSocketClientOptions().setConnectTimeout(10_000));
      NetClient net = clients.createNetClient(new NetClientOptions().setConnectTimeout(10_000).setIdleTimeout(15));
      String wrongToken = JwtIssuer.issue(app.vertx(), "another-secret-0123456789-0123456789-0123", "mallory",
          List.of("user", "admin"), "M", null, 600);
      String goodToken = JwtIssuer.issue(app.vertx(), SECRET, "alice", List.of("user"), "A", null, 600);
      record("setup", String.format(Locale.ROOT, "HTTP verticle and peer: %d instances each; %d connects in flight, "
          + "%d s per phase after %d s of warm-up; %d cores", instances, IN_FLIGHT, SECONDS, WARMUP,
          Runtime.getRuntime().availableProcessors()));

      for (String kind : List.of("forged ticket", "bad token after upgrade")) {
        boolean ticket = kind.equals("forged ticket");
        run(net, app.httpPort(), ticket, wrongToken, WARMUP, "warm-up");
        run(net, barePort, ticket, wrongToken, WARMUP, "warm-up");
        // the machine is shared: ours and the peer take turns in short slices, so drift in the other load hits
        // both alike; the figures are the sums over the slices
        List<Result> ours = new ArrayList<>();
        List<Result> bare = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int slice = 1; slice <= SLICES; slice++) {
          ours.add(run(net, app.httpPort(), ticket, wrongToken, SECONDS / SLICES, "ours, " + kind + ", slice " + slice));
          bare.add(run(net, barePort, ticket, wrongToken, SECONDS / SLICES, "peer, " + kind + ", slice " + slice));
          ratios.add(ours.get(slice - 1).perSecond() / bare.get(slice - 1).perSecond());
          record("feed-flood", ours.get(slice - 1).line());
          record("feed-flood", bare.get(slice - 1).line());
        }
        boolean served = stillServes(app, ws, goodToken);
        Result a = Result.sum("ours, " + kind, ours);
        Result b = Result.sum("peer, " + kind, bare);
        record("feed-flood", a.line() + "; a normal request and a genuine feed client served after: " + served);
        record("feed-flood", b.line());
        record("feed-flood", String.format(Locale.ROOT, "%s: ratio ours / peer %.2f (slices %s)", kind,
            a.perSecond() / b.perSecond(), ratios.stream().map(r -> String.format(Locale.ROOT, "%.2f", r)).toList()));
        assertThat(a.accepted()).as(kind + ": accepted").isZero();
        assertThat(a.serverErrors()).as(kind + ": 5xx").isZero();
        assertThat(served).as(kind + ": a normal request and a genuine feed client are served after").isTrue();
      }
    } finally {
      Await.result(clients.close(), Duration.ofSeconds(30));
      app.close();
    }
  }

  /**
   * Keeps {@link #IN_FLIGHT} connects going until the time is up; counts how each ended. The load is raw
   * sockets speaking just enough of RFC 6455 (the upgrade request, one masked text frame, the server's frames),
   * so that the generator, which shares the two cores with the server, spends as little as it can.
   */
  private static Result run(NetClient net, int port, boolean forgedTicket, String wrongToken, int seconds, String what)
      throws InterruptedException {
    Counts counts = new Counts();
    AtomicLong sequence = new AtomicLong();
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
    AtomicLong lastEnd = new AtomicLong(start);
    CountDownLatch done = new CountDownLatch(IN_FLIGHT);
    Buffer authFrame = maskedTextFrame(new JsonObject().put("type", "auth").put("token", wrongToken).encode());
    class Chain {
      void next() {
        if (System.nanoTime() >= deadline) {
          done.countDown();
          return;
        }
        String uri = forgedTicket ? FEED + "?ticket=forged-" + sequence.incrementAndGet() : FEED;
        Promise<Void> ended = Promise.promise();
        net.connect(port, "127.0.0.1").onComplete(connected -> {
          if (connected.failed()) {
            counts.other(connected.cause().getClass().getSimpleName());
            ended.tryComplete();
            return;
          }
          new Exchange(connected.result(), forgedTicket, authFrame, counts, ended).begin(uri);
        });
        ended.future().onComplete(v -> {
          counts.attempts.incrementAndGet();
          lastEnd.accumulateAndGet(System.nanoTime(), Math::max);
          next();
        });
      }
    }
    for (int i = 0; i < IN_FLIGHT; i++) {
      new Chain().next();
    }
    if (!done.await(seconds + 60L, TimeUnit.SECONDS)) {
      throw new AssertionError(what + ": connects still in flight a minute after the end");
    }
    return new Result(what, counts.attempts.get(), (lastEnd.get() - start) / 1e9, counts.refused.get(),
        counts.accepted.get(), counts.serverErrors.get(), counts.otherFailures.get(), Map.copyOf(counts.kinds));
  }

  /** How the connects of one phase ended. */
  private static final class Counts {
    final AtomicLong attempts = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong serverErrors = new AtomicLong();
    final AtomicLong otherFailures = new AtomicLong();
    final Map<String, Long> kinds = new ConcurrentHashMap<>();

    void other(String kind) {
      otherFailures.incrementAndGet();
      kinds.merge(kind, 1L, Long::sum);
    }
  }

  /** One connect on a raw socket: the upgrade request, then (without a ticket) the auth frame and the close. */
  private static final class Exchange {
    private final NetSocket socket;
    private final boolean forgedTicket;
    private final Buffer authFrame;
    private final Counts counts;
    private final Promise<Void> ended;
    private Buffer pending = Buffer.buffer();
    private boolean upgraded;
    private boolean decided;

    Exchange(NetSocket socket, boolean forgedTicket, Buffer authFrame, Counts counts, Promise<Void> ended) {
      this.socket = socket;
      this.forgedTicket = forgedTicket;
      this.authFrame = authFrame;
      this.counts = counts;
      this.ended = ended;
    }

    void begin(String uri) {
      socket.handler(this::received);
      socket.closeHandler(v -> {
        if (!decided) {
          counts.other(upgraded ? "closed without a close frame" : "closed before an answer");
        }
        ended.tryComplete();
      });
      socket.exceptionHandler(failure -> { });
      socket.write(Buffer.buffer("GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    }

    private void received(Buffer data) {
      if (decided) {
        return;
      }
      pending.appendBuffer(data);
      if (!upgraded) {
        String head = pending.toString(StandardCharsets.ISO_8859_1);
        int endOfHead = head.indexOf("\r\n\r\n");
        if (endOfHead < 0) {
          return;
        }
        int status = Integer.parseInt(head.substring(9, 12));
        if (status != 101) {
          decide(status >= 500 ? counts.serverErrors : counts.refused);
          return;
        }
        if (forgedTicket) {
          decide(counts.accepted);
          return;
        }
        upgraded = true;
        pending = pending.getBuffer(endOfHead + 4, pending.length());
        socket.write(authFrame);
      }
      frames();
    }

    /** Reads the server's frames: a close with 4401 is the refusal, a snapshot an acceptance. */
    private void frames() {
      while (!decided && pending.length() >= 2) {
        int opcode = pending.getByte(0) & 0x0F;
        int length = pending.getByte(1) & 0x7F;
        int offset = 2;
        if (length == 126) {
          if (pending.length() < 4) {
            return;
          }
          length = pending.getUnsignedShort(2);
          offset = 4;
        } else if (length == 127) {
          counts.other("frame over 64 KB");
          decided = true;
          socket.close();
          return;
        }
        if (pending.length() < offset + length) {
          return;
        }
        Buffer payload = pending.getBuffer(offset, offset + length);
        pending = pending.getBuffer(offset + length, pending.length());
        if (opcode == 0x8) {
          int code = length >= 2 ? payload.getUnsignedShort(0) : 1005;
          if (code == 4401) {
            decide(counts.refused);
          } else {
            counts.other("close " + code);
            decided = true;
            socket.close();
          }
        } else if (opcode == 0x1 && payload.toString(StandardCharsets.UTF_8).startsWith("{\"type\":\"snapshot\"")) {
          decide(counts.accepted);
        }
      }
    }

    private void decide(AtomicLong outcome) {
      decided = true;
      outcome.incrementAndGet();
      socket.close();
    }
  }

  /** A client-to-server text frame (masked, as RFC 6455 requires of clients), under 64 KB. */
  private static Buffer maskedTextFrame(String text) {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    byte[] mask = {0x12, 0x34, 0x56, 0x78};
    Buffer frame = Buffer.buffer().appendByte((byte) 0x81);
    if (payload.length < 126) {
      frame.appendByte((byte) (0x80 | payload.length));
    } else {
      frame.appendByte((byte) (0x80 | 126)).appendUnsignedShort(payload.length);
    }
    frame.appendBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      frame.appendByte((byte) (payload[i] ^ mask[i % 4]));
    }
    return frame;
  }

  /** Liveness, an authenticated REST request and a genuine feed client's snapshot. */
  private static boolean stillServes(Application app, WebSocketClient ws, String goodToken) {
    boolean live = Http.get(app.httpPort(), "/api/reliability/health/live").status() == 200;
    boolean rest = Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort()
        + "/api/reliability/connections/health")).header("Authorization", "Bearer " + goodToken)).status() == 200;
    WebSocket good = Await.result(ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(app.httpPort())
        .setURI(FEED).setAllowOriginHeader(false)), Duration.ofSeconds(30));
    Promise<Boolean> snapshot = Promise.promise();
    good.textMessageHandler(text -> snapshot.tryComplete(text.startsWith("{\"type\":\"snapshot\"")));
    good.closeHandler(v -> snapshot.tryComplete(false));
    good.writeTextMessage(new JsonObject().put("type", "auth").put("token", goodToken).encode());
    boolean feed = Await.result(snapshot.future(), Duration.ofSeconds(30));
    Await.result(good.close(), Duration.ofSeconds(30));
    return live && rest && feed;
  }

  private static void record(String bench, String line) {
    log.info("[{}] {}", bench, line);
    try {
      Files.createDirectories(RESULTS.getParent());
      Files.writeString(RESULTS, Instant.now() + " [" + bench + "] " + line + System.lineSeparator(),
          StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The peer: refuses a ticketed upgrade with 401, and closes any other with 4401 at its first message. */
  static final class BareRefuser extends VerticleBase {
    private final int port;

    BareRefuser(int port) {
      this.port = port;
    }

    @Override
    public Future<?> start() {
      String body = new JsonObject().put("success", false).put("error", new JsonObject().put("code", "UNAUTHORIZED")
          .put("message", "The ticket is unknown, used or expired")).encode();
      return vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port)).requestHandler(request -> {
        if (request.getParam("ticket") != null) {
          request.response().setStatusCode(401).putHeader("Content-Type", "application/json").end(body);
          return;
        }
        request.toWebSocket().onSuccess(socket -> socket.textMessageHandler(text -> socket.close((short) 4401, "unauthorized")));
      }).listen().map((HttpServer server) -> server);
    }
  }
}
