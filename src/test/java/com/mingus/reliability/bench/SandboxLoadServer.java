package com.mingus.reliability.bench;

import com.mingus.reliability.sandbox.SandboxVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a sandbox for load runs: rate limits raised out of the way, {@code items} Items of
 * {@code transactions} transactions each, each synced once; writes "access_token cursor" lines for
 * wrk's Lua script and keeps running until killed. See docs/bench/sandbox.md.
 *
 * <p>Arguments: port items transactions tokens-file.
 */
public final class SandboxLoadServer {
  private static final Logger log = LoggerFactory.getLogger(SandboxLoadServer.class);
  private static final String CLIENT_ID = "bench-client";
  private static final String SECRET = "bench-secret-0123456789abcdef";

  private SandboxLoadServer() {}

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 7070;
    int items = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int transactions = args.length > 2 ? Integer.parseInt(args[2]) : 500;
    Path out = Path.of(args.length > 3 ? args[3] : "target/bench/sandbox-tokens.txt");
    Vertx vertx = Vertx.vertx();
    JsonObject unlimited = new JsonObject().put("per_minute", 1_000_000_000).put("per_item_per_minute", 1_000_000_000);
    JsonObject config = new JsonObject().put("port", port).put("seed", 42).put("client_id", CLIENT_ID).put("secret", SECRET)
        .put("rate_limits", new JsonObject().put("/transactions/sync", unlimited));
    await(vertx.deployVerticle(new SandboxVerticle(), new DeploymentOptions().setConfig(config)));
    WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < items; i++) {
      JsonObject created = post(client, "/__control/items", new JsonObject().put("institution_id", "ins_" + (109_508 + i % 5))
          .put("transactions", transactions));
      JsonObject exchanged = post(client, "/item/public_token/exchange",
          new JsonObject().put("public_token", created.getString("public_token")));
      String token = exchanged.getString("access_token");
      String cursor = null;
      boolean more = true;
      while (more) {
        JsonObject body = new JsonObject().put("access_token", token).put("count", 500);
        if (cursor != null) {
          body.put("cursor", cursor);
        }
        JsonObject page = post(client, "/transactions/sync", body);
        cursor = page.getString("next_cursor");
        if (!page.containsKey("has_more")) {
          throw new IllegalStateException("sync failed: " + page.encode());
        }
        more = page.getBoolean("has_more");
      }
      lines.add(token + " " + cursor);
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.write(out, lines);
    log.info("Sandbox ready on port {}: {} Items of {} transactions, tokens and cursors in {}", port, items, transactions, out);
  }

  private static JsonObject post(WebClient client, String path, JsonObject body) {
    return await(client.post(path).putHeader("PLAID-CLIENT-ID", CLIENT_ID).putHeader("PLAID-SECRET", SECRET)
        .sendBuffer(Buffer.buffer(body.encode()))).bodyAsJsonObject();
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
