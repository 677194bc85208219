package com.mingus.reliability.cluster;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A browser on one node: an operator's WebSocket on the live feed of that node, recording which
 * connections it was told about in {@code health} messages, and whether it stayed open.
 */
final class FeedWatcher implements WebSocket.Listener {
  final int node;
  final Set<String> healthOf = ConcurrentHashMap.newKeySet();
  volatile boolean open = true;
  private final StringBuilder partial = new StringBuilder();
  private WebSocket socket;

  private FeedWatcher(int node) {
    this.node = node;
  }

  static FeedWatcher open(int node, int httpPort, String jwtSecret) {
    FeedWatcher watcher = new FeedWatcher(node);
    try {
      watcher.socket = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
          .buildAsync(URI.create("ws://127.0.0.1:" + httpPort + "/api/reliability/feed"), watcher)
          .get(15, TimeUnit.SECONDS);
      watcher.socket.sendText(new JsonObject().put("type", "auth").put("token", operatorToken(jwtSecret)).encode(), true)
          .get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("feed of node " + node + " not opened: " + e, e);
    }
    return watcher;
  }

  /** An operator sees every connection's changes (DESIGN.md: JWT with role admin). */
  private static String operatorToken(String secret) throws JOSEException {
    JWTClaimsSet claims = new JWTClaimsSet.Builder().subject("chaos-operator").issuer("mingus")
        .audience("mingus-reliability").expirationTime(new Date(System.currentTimeMillis() + 3_600_000))
        .claim("roles", List.of("admin")).build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
    return jwt.serialize();
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      JsonObject message = new JsonObject(partial.toString());
      partial.setLength(0);
      if ("health".equals(message.getString("type")) && message.getJsonObject("connection") != null) {
        healthOf.add(message.getJsonObject("connection").getString("connection_id"));
      }
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    open = false;
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    open = false;
  }

  void close() {
    if (open && socket != null) {
      socket.abort();
    }
  }
}
