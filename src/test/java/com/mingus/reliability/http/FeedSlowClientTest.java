package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Slow feed clients, with real sockets: clients that stop reading while a stream of changes goes out, beside
 * clients that read. The readers get every change, each burst before the next is published; what waits for
 * a stalled socket stays bounded (one message per thing, newer replacing older, counted in /metrics); a
 * stalled client that reads again ends on the latest state of everything, and one whose backlog of different
 * things outgrows {@code max_pending} is closed with a reason and its backlog dropped, both counted.
 *
 * <p>Each message carries 8 KB of padding, so that a few thousand of them fill what the kernel and Netty
 * buffer for a socket that is not read, and the feed's own coalescing has to act.
 */
class FeedSlowClientTest {
  private static final int MAX_PENDING = 100;
  private static final String PADDING = "p".repeat(8_192);
  private static Application app;
  private static ApiCaller alice;

  @BeforeAll
  static void start() {
    app = TestApp.start(TestDatabase.fresh(FeedSlowClientTest.class), Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET), Map.of(
        "http.feed.max_pending", MAX_PENDING,
        // long enough that only the backlog's size closes a client here, never its age
        "http.feed.max_behind_ms", 600_000));
    alice = ApiCaller.user(app, "alice");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void clientsThatStopReadingLeaveTheOthersOnTimeWaitBoundedAndCatchUpOnTheLatest() {
    int connections = 4;
    int rounds = 800; // 4 x 800 x 8 KB: 26 MB, more than a socket that is not read buffers
    List<Reader> readers = readers(3);
    List<FeedClient> stalled = List.of(stalled(), stalled());
    double coalescedBefore = metric("mingus_feed_coalesced_total", "");
    double mostPending = 0;
    for (int round = 0; round < rounds; round++) {
      for (int c = 0; c < connections; c++) {
        publish("conn_lag_" + c, round);
      }
      int expected = (round + 1) * connections;
      for (Reader reader : readers) {
        reader.awaitCount("conn_lag_", expected, "round " + round);
      }
      if (round % 50 == 49) {
        // one message per connection waits for each stalled client, plus a heartbeat: never the whole stream
        double pending = metric("mingus_feed_pending", "");
        mostPending = Math.max(mostPending, pending);
        assertThat(pending).as("messages waiting for the stalled sockets after round " + round)
            .isLessThanOrEqualTo(stalled.size() * (connections + 2));
      }
    }
    assertThat(metric("mingus_feed_coalesced_total", "")).as("changes coalesced for the stalled clients")
        .isGreaterThan(coalescedBefore);
    assertThat(mostPending).as("something waited for the stalled clients").isGreaterThan(0);
    for (Reader reader : readers) {
      List<String> expected = new ArrayList<>();
      for (int round = 0; round < rounds; round++) {
        for (int c = 0; c < connections; c++) {
          expected.add("conn_lag_" + c + "#" + round);
        }
      }
      assertThat(reader.seen("conn_lag_")).as("a reading client gets every change, in order").isEqualTo(expected);
      reader.close();
    }

    for (FeedClient client : stalled) {
      client.ws.resume();
    }
    for (FeedClient client : stalled) {
      for (int c = 0; c < connections; c++) {
        String id = "conn_lag_" + c;
        client.await(m -> isHealth(m, id) && m.getJsonObject("connection").getInteger("seq") == rounds - 1,
            Duration.ofSeconds(30));
      }
      List<JsonObject> health = client.messages.stream().filter(m -> isHealth(m, "conn_lag_")).toList();
      assertThat(health.size()).as("coalesced: fewer messages than changes").isLessThan(rounds * connections);
      for (int c = 0; c < connections; c++) {
        String id = "conn_lag_" + c;
        List<Integer> seqs = health.stream().filter(m -> id.equals(m.getJsonObject("connection").getString("connection_id")))
            .map(m -> m.getJsonObject("connection").getInteger("seq")).toList();
        assertThat(seqs).as(id + ": in order, ending on the latest").isSorted().endsWith(rounds - 1);
      }
      assertThat(client.closeCode).isNull();
      client.close();
    }
  }

  @Test
  void aClientThatNeverReadsIsClosedOnceTooManyThingsWaitAndTheOthersGetEverything() {
    List<Reader> readers = readers(2);
    FeedClient stalled = stalled();
    double closedBefore = metric("mingus_feed_slow_closed_total", "reason=\"pending\"");
    double droppedBefore = metric("mingus_feed_dropped_total", "");
    double clientsBefore = metric("mingus_feed_clients", "");
    // one change of each of many connections: nothing to coalesce, so the stalled client's backlog grows
    int published = 0;
    while (published % 50 != 0 || metric("mingus_feed_slow_closed_total", "reason=\"pending\"") == closedBefore) {
      assertThat(published).as("the stalled client is closed before 8,000 changes").isLessThan(8_000);
      for (int i = 0; i < 10; i++) {
        publish("conn_many_" + published++, 0);
      }
      for (Reader reader : readers) {
        reader.awaitCount("conn_many_", published, published + " changes");
      }
    }
    // and the others carry on
    for (int i = 0; i < 10; i++) {
      publish("conn_many_" + published++, 0);
    }
    for (Reader reader : readers) {
      reader.awaitCount("conn_many_", published, "after the close");
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < published; i++) {
        expected.add("conn_many_" + i + "#0");
      }
      assertThat(reader.seen("conn_many_")).as("a reading client gets every change, in order").isEqualTo(expected);
      reader.close();
    }
    assertThat(metric("mingus_feed_slow_closed_total", "reason=\"pending\"")).isEqualTo(closedBefore + 1);
    assertThat(metric("mingus_feed_dropped_total", "")).as("its backlog is dropped")
        .isGreaterThan(droppedBefore + MAX_PENDING);
    // the server let go of it without its help; read again, it learns why
    Await.until(() -> metric("mingus_feed_clients", "") <= clientsBefore - 1, Duration.ofSeconds(10),
        "the server forgets the closed client");
    stalled.ws.resume();
    stalled.awaitClose(Duration.ofSeconds(30));
    assertThat(stalled.closeCode).isEqualTo(Feed.CLOSE_TOO_SLOW);
    assertThat(stalled.closeReason).contains("too slow");
  }

  private static void publish(String connection, int seq) {
    app.vertx().eventBus().publish(Addresses.HEALTH_CHANGED, new JsonObject().put("connection_id", connection)
        .put("user_id", "alice").put("status", seq % 2 == 0 ? "degraded" : "active").put("seq", seq).put("padding", PADDING));
  }

  private static FeedClient stalled() {
    FeedClient client = FeedClient.authenticated(app.vertx(), app.httpPort(), alice.token);
    client.ws.pause();
    return client;
  }

  private static List<Reader> readers(int count) {
    List<Reader> readers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      readers.add(new Reader());
    }
    return readers;
  }

  private static boolean isHealth(JsonObject message, String idPrefix) {
    return "health".equals(message.getString("type"))
        && message.getJsonObject("connection").getString("connection_id", "").startsWith(idPrefix);
  }

  /** Sum of a metric's samples in /metrics whose labels contain {@code labels} (0 when there is none). */
  private static double metric(String name, String labels) {
    String text = Http.get(app.httpPort(), "/metrics").body();
    Matcher line = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*\\})? ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(text);
    double sum = 0;
    while (line.find()) {
      if (line.group(1) == null ? labels.isEmpty() : line.group(1).contains(labels)) {
        sum += Double.parseDouble(line.group(2));
      }
    }
    return sum;
  }

  /**
   * A reading client that keeps only what it needs (which connection, which seq, in arrival order), so that
   * thousands of 8 KB messages cost it little and it keeps up.
   */
  private static final class Reader {
    private final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
    private final AtomicInteger snapshots = new AtomicInteger();
    private final WebSocketClient client;
    private final WebSocket ws;

    Reader() {
      client = app.vertx().createWebSocketClient(new WebSocketClientOptions().setMaxMessageSize(1 << 20));
      ws = Await.result(client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(app.httpPort())
          .setURI("/api/reliability/feed").setAllowOriginHeader(false)));
      ws.textMessageHandler(text -> {
        JsonObject message = new JsonObject(text);
        if ("snapshot".equals(message.getString("type"))) {
          snapshots.incrementAndGet();
        } else if ("health".equals(message.getString("type"))) {
          JsonObject connection = message.getJsonObject("connection");
          seen.add(connection.getString("connection_id") + "#" + connection.getInteger("seq"));
        }
      });
      Await.result(ws.writeTextMessage(new JsonObject().put("type", "auth").put("token", alice.token).encode()));
      Await.until(() -> snapshots.get() == 1, Duration.ofSeconds(10), "the reader's snapshot");
    }

    List<String> seen(String prefix) {
      return seen.stream().filter(s -> s.startsWith(prefix)).toList();
    }

    /** Waits, polling every millisecond, until {@code count} changes of these connections have arrived. */
    void awaitCount(String prefix, int count, String what) {
      BooleanSupplier arrived = () -> seen.stream().filter(s -> s.startsWith(prefix)).count() >= count;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!arrived.getAsBoolean()) {
        assertThat(System.nanoTime()).as("a reading client has every change of " + what + " within 10 s").isLessThan(deadline);
        LockSupport.parkNanos(1_000_000);
      }
    }

    void close() {
      ws.close();
      client.close();
    }
  }
}
