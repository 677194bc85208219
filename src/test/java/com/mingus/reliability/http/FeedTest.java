package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The live feed with real WebSocket clients: authentication, Origin, tickets, isolation, slow clients. */
class FeedTest {
  private static Application app;
  private static SandboxControl sandbox;
  private static ApiCaller alice;
  private static ApiCaller bob;
  private static String aliceConnection;
  private static String aliceItem;
  private static String bobConnection;

  @BeforeAll
  static void start() {
    app = TestApp.start(TestDatabase.fresh(FeedTest.class), Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET), Map.of(
        "sync.poll_interval_ms", 200,
        "http.feed.auth_timeout_ms", 1000,
        "http.feed.max_pending", 300,
        "http.feed.max_behind_ms", 4000,
        "http.feed.heartbeat_ms", 1000));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_feed", "Feed Bank");
    alice = ApiCaller.user(app, "alice");
    bob = ApiCaller.user(app, "bob");
    JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_feed").put("user_id", "alice")
        .put("transactions", 5).put("webhook", "http://127.0.0.1:" + app.httpPort() + "/api/plaid/webhook"));
    aliceItem = item.getString("item_id");
    aliceConnection = alice.post("/api/reliability/connections", new JsonObject().put("public_token", item.getString("public_token")))
        .json().getJsonObject("connection").getString("connection_id");
    bobConnection = bob.post("/api/reliability/connections", new JsonObject().put("public_token",
        sandbox.item("ins_feed", "bob", 5).getString("public_token"))).json().getJsonObject("connection").getString("connection_id");
    Await.until(() -> alice.get("/api/reliability/connections/health").body().contains(aliceConnection)
        && bob.get("/api/reliability/connections/health").body().contains(bobConnection), Duration.ofSeconds(10),
        "health knows both connections");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void aClientThatAuthenticatesGetsASnapshotOfItsOwnConnectionsAndThenTheirChanges() {
    FeedClient aliceFeed = FeedClient.authenticated(app.vertx(), app.httpPort(), alice.token);
    FeedClient bobFeed = FeedClient.authenticated(app.vertx(), app.httpPort(), bob.token);
    FeedClient operatorFeed = FeedClient.authenticated(app.vertx(), app.httpPort(), ApiCaller.admin(app, "olivia").token);
    JsonObject snapshot = aliceFeed.messages.get(0);
    assertThat(snapshot.getString("type")).isEqualTo("snapshot");
    assertThat(snapshot.getJsonArray("connections").encode()).contains(aliceConnection).doesNotContain(bobConnection);
    assertThat(operatorFeed.messages.get(0).getJsonArray("connections").encode()).contains(aliceConnection, bobConnection);

    // the bank asks alice to log in again: Plaid's webhook, sync, health, and the feed
    sandbox.post("/__control/items/" + aliceItem + "/reset-login", new JsonObject());
    JsonObject change = aliceFeed.await(m -> "health".equals(m.getString("type"))
        && aliceConnection.equals(m.getJsonObject("connection").getString("connection_id"))
        && "requires_reauth".equals(m.getJsonObject("connection").getString("status")), Duration.ofSeconds(20));
    assertThat(change.getJsonObject("connection").getBoolean("requires_reauth")).isTrue();
    operatorFeed.await(m -> "health".equals(m.getString("type")) && m.encode().contains(aliceConnection), Duration.ofSeconds(5));
    assertThat(bobFeed.messages).noneMatch(m -> m.encode().contains(aliceConnection));

    sandbox.post("/__control/items/" + aliceItem + "/repair-login", new JsonObject());
    aliceFeed.await(m -> "health".equals(m.getString("type")) && aliceConnection.equals(m.getJsonObject("connection").getString("connection_id"))
        && "active".equals(m.getJsonObject("connection").getString("status")), Duration.ofSeconds(20));
    aliceFeed.await(m -> "heartbeat".equals(m.getString("type")), Duration.ofSeconds(5));
    aliceFeed.close();
    bobFeed.close();
    operatorFeed.close();
  }

  @Test
  void theSnapshotComesFirstAndChangesWhileItIsReadFollowIt() {
    // a bank's changes published every millisecond while clients authenticate: each one's first message is
    // its snapshot (none before it), and the changes made while it was read reach it after it
    long timer = app.vertx().setPeriodic(1, id -> app.vertx().eventBus().publish(Addresses.INSTITUTION_CHANGED,
        new JsonObject().put("institution_id", "ins_busy_bank").put("name", "Busy Bank").put("circuit", "closed")
            .put("updated_at", java.time.Instant.now().toString())));
    try {
      for (int i = 0; i < 15; i++) {
        FeedClient operator = FeedClient.authenticated(app.vertx(), app.httpPort(), ApiCaller.admin(app, "olivia").token);
        assertThat(operator.messages.get(0).getString("type")).as("first message of client " + i).isEqualTo("snapshot");
        operator.await(m -> "institution".equals(m.getString("type"))
            && "ins_busy_bank".equals(m.getJsonObject("institution").getString("institution_id")), Duration.ofSeconds(5));
        operator.close();
      }
    } finally {
      app.vertx().cancelTimer(timer);
    }
  }

  @Test
  void notificationsReachOnlyTheirOwnersFeed() {
    FeedClient aliceFeed = FeedClient.authenticated(app.vertx(), app.httpPort(), alice.token);
    FeedClient bobFeed = FeedClient.authenticated(app.vertx(), app.httpPort(), bob.token);
    alice.post("/api/reliability/notifications/send-test", new JsonObject().put("type", "feature_update")
        .put("channels", new io.vertx.core.json.JsonArray().add("in_app")));
    JsonObject message = aliceFeed.await(m -> "notification".equals(m.getString("type")), Duration.ofSeconds(10));
    assertThat(message.getJsonObject("notification").getString("type")).isEqualTo("feature_update");
    assertThat(bobFeed.messages).noneMatch(m -> "notification".equals(m.getString("type")));
    aliceFeed.close();
    bobFeed.close();
  }

  @Test
  void aBadTokenOrNoAuthenticationWithinTheTimeoutClosesTheSocket() {
    FeedClient bad = Await.result(FeedClient.open(app.vertx(), app.httpPort(), null, null));
    bad.send(new JsonObject().put("type", "auth").put("token", alice.token + "x"));
    bad.awaitClose(Duration.ofSeconds(5));
    assertThat(bad.closeCode).isEqualTo((short) 4401);
    assertThat(bad.messages).isEmpty();

    FeedClient silent = Await.result(FeedClient.open(app.vertx(), app.httpPort(), null, null));
    silent.awaitClose(Duration.ofSeconds(5));
    assertThat(silent.closeCode).isEqualTo((short) 4401);
    assertThat(silent.closeReason).contains("timeout");

    FeedClient wrong = Await.result(FeedClient.open(app.vertx(), app.httpPort(), null, null));
    wrong.send(new JsonObject().put("type", "subscribe"));
    wrong.awaitClose(Duration.ofSeconds(5));
    assertThat(wrong.closeCode).isEqualTo((short) 4401);
  }

  @Test
  void theHandshakeRefusesOriginsThatAreNotAllowed() {
    Throwable refused = FeedClient.open(app.vertx(), app.httpPort(), "https://evil.example", null)
        .toCompletionStage().toCompletableFuture().handle((ok, failure) -> failure).join();
    assertThat(refused).as(String.valueOf(refused)).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) refused).getStatus()).isEqualTo(403);
    // a configured origin, the server's own origin, and a non-browser client without Origin are let in
    Await.result(FeedClient.open(app.vertx(), app.httpPort(), "http://localhost:8080", null)).close();
    Await.result(FeedClient.open(app.vertx(), app.httpPort(), "http://127.0.0.1:" + app.httpPort(), null)).close();
    Await.result(FeedClient.open(app.vertx(), app.httpPort(), null, null)).close();
    // a plain GET is told what the endpoint is, not left hanging
    assertThat(ApiCaller.errorCode(alice.get("/api/reliability/feed"))).isEqualTo("INVALID_REQUEST");
  }

  @Test
  void theFeedRefusesPerMessageCompressionWhichWouldCostACompressorPerSocket() {
    // browsers offer permessage-deflate; with http.feed.compression off (the default) the server does not take it
    io.vertx.core.http.WebSocketClient client = app.vertx().createWebSocketClient(
        new io.vertx.core.http.WebSocketClientOptions().setTryUsePerMessageCompression(true));
    io.vertx.core.http.WebSocket ws = Await.result(client.connect(new io.vertx.core.http.WebSocketConnectOptions()
        .setHost("127.0.0.1").setPort(app.httpPort()).setURI("/api/reliability/feed").setAllowOriginHeader(false)));
    assertThat(ws.headers().get("Sec-WebSocket-Extensions")).isNull();
    ws.close();
    client.close();
  }

  @Test
  void aTicketOpensTheFeedOnceAndOnlyOnce() {
    String ticket = alice.post("/api/reliability/feed/ticket", null).json().getString("ticket");
    FeedClient feed = Await.result(FeedClient.open(app.vertx(), app.httpPort(), "http://localhost:8080", ticket));
    JsonObject snapshot = feed.await(m -> "snapshot".equals(m.getString("type")), Duration.ofSeconds(10));
    assertThat(snapshot.getJsonObject("user").getString("user_id")).isEqualTo("alice");
    feed.close();

    Throwable reused = FeedClient.open(app.vertx(), app.httpPort(), "http://localhost:8080", ticket)
        .toCompletionStage().toCompletableFuture().handle((ok, failure) -> failure).join();
    assertThat(reused).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) reused).getStatus()).isEqualTo(401);
    Throwable unknown = FeedClient.open(app.vertx(), app.httpPort(), null, "not-a-ticket")
        .toCompletionStage().toCompletableFuture().handle((ok, failure) -> failure).join();
    assertThat(((UpgradeRejectedException) unknown).getStatus()).isEqualTo(401);
  }

  @Test
  void aSlowClientGetsChangesOfOneConnectionCoalescedAndEndsOnTheLatest() {
    FeedClient slow = FeedClient.authenticated(app.vertx(), app.httpPort(), alice.token);
    slow.ws.pause();
    double coalesced = coalescedTotal();
    String padding = "x".repeat(1_000);
    int changes = 20_000;
    for (int i = 0; i < changes; i++) {
      app.vertx().eventBus().publish(Addresses.HEALTH_CHANGED, new JsonObject().put("connection_id", "conn_busy")
          .put("user_id", "alice").put("status", "degraded").put("seq", i).put("padding", padding));
    }
    // the paused socket is full and the feed coalesces for it (mingus_feed_coalesced_total) before it reads again
    Await.until(() -> coalescedTotal() > coalesced, Duration.ofSeconds(20), "changes are coalesced for the paused client");
    slow.ws.resume();
    JsonObject last = slow.await(m -> "health".equals(m.getString("type"))
        && m.getJsonObject("connection").getInteger("seq", -1) == changes - 1, Duration.ofSeconds(20));
    assertThat(last).isNotNull();
    long received = slow.messages.stream().filter(m -> "health".equals(m.getString("type"))).count();
    assertThat(received).as("coalesced: fewer messages than changes").isLessThan(changes);
    slow.close();
  }

  @Test
  void aClientThatStaysBehindIsClosedWithAReasonWhileOthersKeepUp() {
    FeedClient slow = FeedClient.authenticated(app.vertx(), app.httpPort(), alice.token);
    FeedClient fast = FeedClient.authenticated(app.vertx(), app.httpPort(), alice.token);
    slow.ws.pause();
    String padding = "y".repeat(2_000);
    int changes = 5_000;
    // a steady stream a reading client keeps up with: 100 changes of distinct connections every 20 ms
    for (int i = 0; i < changes; i++) {
      app.vertx().eventBus().publish(Addresses.HEALTH_CHANGED, new JsonObject().put("connection_id", "conn_many_" + i)
          .put("user_id", "alice").put("status", "active").put("padding", padding));
      if (i % 100 == 99) {
        sleep(20);
      }
    }
    fast.await(m -> "health".equals(m.getString("type")) && ("conn_many_" + (changes - 1)).equals(m.getJsonObject("connection").getString("connection_id")),
        Duration.ofSeconds(20));
    slow.ws.resume();
    slow.awaitClose(Duration.ofSeconds(15));
    assertThat(slow.closeCode).isEqualTo((short) 4408);
    assertThat(slow.closeReason).contains("too slow");
    assertThat(fast.closeCode).isNull();
    assertThat(fast.messages.stream().filter(m -> "health".equals(m.getString("type"))
        && m.getJsonObject("connection").getString("connection_id").startsWith("conn_many_")).count()).isEqualTo(changes);
    fast.close();
  }

  private static double coalescedTotal() {
    java.util.regex.Matcher line = java.util.regex.Pattern.compile("^mingus_feed_coalesced_total ([0-9.eE+-]+)$",
        java.util.regex.Pattern.MULTILINE).matcher(com.mingus.reliability.testsupport.Http.get(app.httpPort(), "/metrics").body());
    return line.find() ? Double.parseDouble(line.group(1)) : 0;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
