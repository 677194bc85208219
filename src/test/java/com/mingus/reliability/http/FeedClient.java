package com.mingus.reliability.http;

import com.mingus.reliability.testsupport.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** A real WebSocket client of the feed, driven from a test thread: every message it got, and how it closed. */
final class FeedClient {
  final List<JsonObject> messages = new CopyOnWriteArrayList<>();
  volatile Short closeCode;
  volatile String closeReason;
  final WebSocket ws;
  private final WebSocketClient client;

  private FeedClient(WebSocketClient client, WebSocket ws) {
    this.client = client;
    this.ws = ws;
    ws.textMessageHandler(text -> messages.add(new JsonObject(text)));
    ws.closeHandler(v -> {
      closeCode = ws.closeStatusCode();
      closeReason = ws.closeReason();
    });
  }

  /** Connects; origin null sends no Origin header; ticket null opens without one. */
  static Future<FeedClient> open(Vertx vertx, int port, String origin, String ticket) {
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 22));
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/api/reliability/feed" + (ticket == null ? "" : "?ticket=" + ticket))
        .setAllowOriginHeader(origin != null);
    if (origin != null) {
      options.addHeader("Origin", origin);
    }
    return client.connect(options).map(ws -> new FeedClient(client, ws));
  }

  static FeedClient authenticated(Vertx vertx, int port, String token) {
    FeedClient feed = Await.result(open(vertx, port, "http://localhost:8080", null));
    feed.send(new JsonObject().put("type", "auth").put("token", token));
    feed.await(m -> "snapshot".equals(m.getString("type")), Duration.ofSeconds(10));
    return feed;
  }

  void send(JsonObject message) {
    Await.result(ws.writeTextMessage(message.encode()));
  }

  JsonObject await(Predicate<JsonObject> match, Duration timeout) {
    Await.until(() -> messages.stream().anyMatch(match), timeout, "a feed message arrives; got " + summary());
    return messages.stream().filter(match).findFirst().orElseThrow();
  }

  void awaitClose(Duration timeout) {
    Await.until(() -> closeCode != null, timeout, "the feed closes the socket");
  }

  String summary() {
    return messages.size() + " messages" + (messages.isEmpty() ? "" : ", last " + messages.get(messages.size() - 1).encode());
  }

  void close() {
    ws.close();
    client.close();
  }
}
