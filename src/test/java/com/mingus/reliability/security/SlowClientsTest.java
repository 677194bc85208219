package com.mingus.reliability.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Slow clients cannot hold the server: connections that send their headers one byte at a time (slowloris),
 * dribble their body, sit idle after an answer, or never read a large answer are closed by the server, while
 * a normal client is served in normal time throughout; a live WebSocket is not mistaken for one of them.
 * Timeouts are shortened (header 1 s, body 2 s, idle 3 s) so the test runs in seconds.
 */
class SlowClientsTest {
  private static final String SECRET = "security-test-jwt-secret-0123456789abcdef";
  private static final int SLOWLORIS = 200;
  /** A normal request's bound: generous, since this 2-core machine is shared with other test runs. */
  private static final long NORMAL_MS = 3_000;
  private static Application app;
  private static Vertx attackers;

  @BeforeAll
  static void start() {
    app = TestApp.start(TestDatabase.fresh(SlowClientsTest.class), Map.of("MINGUS_JWT_SECRET", SECRET),
        Map.of("http.header_timeout_ms", 1_000, "http.body_timeout_ms", 2_000, "http.idle_timeout_s", 3,
            "http.feed.heartbeat_ms", 1_000));
    attackers = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    Await.result(attackers.close());
    app.close();
  }

  /** One hostile TCP client: what it got back and whether the server closed it. */
  private static final class Raw {
    final NetSocket socket;
    final AtomicBoolean closed = new AtomicBoolean();
    final StringBuilder received = new StringBuilder();
    final long openedAt = System.nanoTime();
    volatile long closedAt;

    Raw(NetSocket socket) {
      this.socket = socket;
      socket.handler(data -> {
        synchronized (received) {
          if (received.length() < 4096) {
            received.append(data.toString(StandardCharsets.ISO_8859_1));
          }
        }
      });
      socket.closeHandler(v -> {
        closedAt = System.nanoTime();
        closed.set(true);
      });
    }

    String received() {
      synchronized (received) {
        return received.toString();
      }
    }

    double secondsOpen() {
      return (closedAt - openedAt) / 1e9;
    }
  }

  private static List<Raw> open(int count, NetClientOptions options) {
    NetClient client = attackers.createNetClient(options);
    List<Raw> sockets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sockets.add(new Raw(Await.result(client.connect(app.httpPort(), "127.0.0.1"))));
    }
    return sockets;
  }

  /** A normal client's request: answered 200, and how long it took. */
  private static long normalRequestMs() {
    long started = System.nanoTime();
    Http.Response response = Http.get(app.httpPort(), "/api/reliability/health/live");
    assertThat(response.status()).isEqualTo(200);
    return (System.nanoTime() - started) / 1_000_000;
  }

  @Test
  void slowlorisConnectionsAreClosedWhileANormalClientIsServed() {
    List<Raw> sockets = open(SLOWLORIS, new NetClientOptions());
    String request = "GET /api/reliability/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        + "a".repeat(10_000) + "\r\n\r\n";
    AtomicInteger sent = new AtomicInteger();
    // one byte per socket every 100 ms: each byte is activity, so the idle timeout alone never fires
    long timer = attackers.setPeriodic(100, id -> {
      int at = sent.getAndIncrement();
      for (Raw raw : sockets) {
        if (!raw.closed.get()) {
          raw.socket.write(Buffer.buffer(request.substring(at, at + 1)));
        }
      }
    });
    try {
      long worstMs = 0;
      while (sockets.stream().anyMatch(raw -> !raw.closed.get()) && sent.get() < 60) {
        worstMs = Math.max(worstMs, normalRequestMs());
      }
      Await.until(() -> sockets.stream().allMatch(raw -> raw.closed.get()), Duration.ofSeconds(10),
          "the server closes every slowloris connection");
      double longest = sockets.stream().mapToDouble(Raw::secondsOpen).max().orElseThrow();
      assertThat(longest).as("seconds the longest slowloris connection was held (header timeout 1 s)").isLessThan(4.0);
      assertThat(sent.get()).as("bytes each had sent by then").isLessThan(60);
      assertThat(sockets.stream().filter(raw -> raw.received().startsWith("HTTP/1.1 5")).count()).as("5xx").isZero();
      assertThat(worstMs).as("slowest normal request during the attack, ms").isLessThan(NORMAL_MS);
    } finally {
      attackers.cancelTimer(timer);
    }
    assertThat(normalRequestMs()).isLessThan(NORMAL_MS);
  }

  @Test
  void aDribbledBodyIsCutOffAndNothingIsWritten() {
    List<Raw> sockets = open(50, new NetClientOptions());
    String token = JwtIssuer.issue(app.vertx(), SECRET, "dribbler", List.of("user"), "D", "d@example.com", 600);
    String head = "PUT /api/reliability/notifications/preferences HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{";
    sockets.forEach(raw -> raw.socket.write(head));
    long timer = attackers.setPeriodic(100, id -> sockets.forEach(raw -> {
      if (!raw.closed.get()) {
        raw.socket.write(" ");
      }
    }));
    try {
      Await.until(() -> sockets.stream().allMatch(raw -> raw.closed.get()), Duration.ofSeconds(10),
          "the server cuts off every dribbled body");
      assertThat(sockets.stream().mapToDouble(Raw::secondsOpen).max().orElseThrow()).as("body timeout 2 s").isLessThan(5.0);
      assertThat(sockets.stream().filter(raw -> raw.received().startsWith("HTTP/1.1 5")).count()).as("5xx").isZero();
    } finally {
      attackers.cancelTimer(timer);
    }
    assertThat(normalRequestMs()).isLessThan(NORMAL_MS);
    // the user's preferences were never written: the default answer has no stored row behind it
    Http.Response prefs = Http.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + app.httpPort() + "/api/reliability/notifications/preferences"))
        .header("Authorization", "Bearer " + token).GET());
    assertThat(prefs.status()).isEqualTo(200);
    assertThat(com.mingus.reliability.testsupport.Sql.number(app.database(),
        "SELECT count(*) FROM notify_preferences WHERE user_id = ?", "dribbler")).isZero();
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterTheHeaderTimeout() {
    Raw raw = open(1, new NetClientOptions()).get(0);
    raw.socket.write("GET /api/reliability/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    Await.until(() -> raw.received().contains("\"status\":\"up\""), Duration.ofSeconds(5), "answered");
    assertThat(raw.received()).startsWith("HTTP/1.1 200");
    Await.until(raw.closed::get, Duration.ofSeconds(5), "the idle keep-alive connection is closed");
    assertThat(raw.secondsOpen()).isLessThan(3.5);
  }

  @Test
  void clientsThatNeverReadALargeAnswerAreClosedAndDoNotSlowOthers() {
    // a tiny receive window, never read from: the server's writes stall
    double baseline = openConnections();
    List<Raw> sockets = open(50, new NetClientOptions().setReceiveBufferSize(1024));
    String pipelined = "GET /openapi.yaml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(5);
    sockets.forEach(raw -> {
      raw.socket.pause();
      raw.socket.write(pipelined);
    });
    long worstMs = 0;
    for (int i = 0; i < 50; i++) {
      worstMs = Math.max(worstMs, normalRequestMs());
    }
    assertThat(worstMs).as("slowest normal request while 50 clients refuse to read, ms").isLessThan(NORMAL_MS);
    // a paused client socket does not see the close, so the server's own count of open connections is watched
    Await.until(() -> openConnections() < baseline + 5, Duration.ofSeconds(15),
        "the server closes every connection that stopped reading (idle timeout 3 s); open: " + openConnections());
    assertThat(normalRequestMs()).isLessThan(NORMAL_MS);
  }

  /** Open HTTP server connections by the server's own metrics (every HTTP server in the process). */
  private static double openConnections() {
    return Http.get(app.httpPort(), "/metrics").body().lines()
        .filter(line -> line.startsWith("vertx_http_server_active_connections"))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void aLiveWebSocketIsNotTakenForASlowClient() {
    WebSocketClient client = attackers.createWebSocketClient();
    WebSocket ws = Await.result(client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(app.httpPort())
        .setURI("/api/reliability/feed")));
    List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicBoolean closed = new AtomicBoolean();
    ws.textMessageHandler(messages::add);
    ws.closeHandler(v -> closed.set(true));
    ws.writeTextMessage(new JsonObject().put("type", "auth").put("token",
        JwtIssuer.issue(app.vertx(), SECRET, "watcher", List.of("user"), "W", "w@example.com", 600)).encode());
    Await.until(() -> messages.stream().anyMatch(m -> m.contains("\"snapshot\"")), Duration.ofSeconds(5), "snapshot");
    Await.holds(() -> !closed.get(), Duration.ofSeconds(3), "the feed stays open past three header timeouts");
    Await.result(ws.close());
  }
}
