package com.mingus.reliability.sandbox;

import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.PingReply;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fake Plaid: serves Plaid's HTTP API for the endpoints MINGUS uses, with Plaid's validation, error
 * object, status codes, rate limits and signed webhooks, plus a control surface under {@code /__control}.
 * Its state lives in memory and is deterministic for a seed, so it must run as exactly one instance.
 *
 * <p>Config (the {@code sandbox} section): {@code port}, {@code host}, {@code seed}, {@code client_id},
 * {@code secret}, {@code default_transactions}, {@code today}, {@code rate_limit_window_ms},
 * {@code rate_limits}, {@code webhook_time_scale}, {@code webhook_timeout_ms}, {@code webhook_max_connections},
 * {@code hang_ms},
 * {@code body_limit_bytes}.
 */
public final class SandboxVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(SandboxVerticle.class);

  private HttpServer server;
  private WebClient client;

  @Override
  public Future<?> start() {
    JsonObject config = config();
    // Plaid sends each webhook on its own, not queued behind the others: with Vert.x's default of 5
    // connections a receiver answering in 200 ms held webhooks back for seconds (docs/bench/sync.md)
    client = WebClient.create(vertx, new WebClientOptions()
        .setUserAgent("Plaid Verifier")
        .setConnectTimeout(5_000), new PoolOptions().setHttp1MaxSize(config.getInteger("webhook_max_connections", 100)));
    Webhooks webhooks = new Webhooks(vertx, client, new WebhookSigner(Instant.now().getEpochSecond()),
        config.getDouble("webhook_time_scale", 1.0), config.getLong("webhook_timeout_ms", 10_000L));
    Sandbox sandbox = new Sandbox(vertx, config, webhooks);

    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create(false).setBodyLimit(config.getLong("body_limit_bytes", 1_048_576L)));
    new PlaidApi(vertx, sandbox).mount(router);
    new ControlApi(sandbox).mount(router);
    router.route().last().handler(ctx -> ctx.response().setStatusCode(404).putHeader("Content-Type", "application/json")
        .end(PlaidFailure.notFound().toResponse(sandbox.world.requestId()).toBuffer()));
    // what the router itself rejects (a body over the limit) still gets Plaid's error object
    router.route().failureHandler(ctx -> {
      PlaidFailure failure = ctx.statusCode() == 413 || ctx.statusCode() == 400 ? PlaidFailure.invalidBody()
          : PlaidFailure.internal();
      if (ctx.failure() != null && failure.status == 500) {
        log.error("Sandbox request to {} failed", ctx.normalizedPath(), ctx.failure());
      }
      ctx.response().setStatusCode(failure.status).putHeader("Content-Type", "application/json")
          .end(failure.toResponse(sandbox.world.requestId()).toBuffer());
    });

    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.getString("host", "127.0.0.1"))
        .setPort(config.getInteger("port", 7070))
        .setTcpNoDelay(true);
    return Bus.answerPing(vertx, "sandbox", () -> Future.succeededFuture(PingReply.up("sandbox"))).completion()
        .compose(pinged -> vertx.createHttpServer(options).requestHandler(router).listen())
        .onSuccess(listening -> {
          server = listening;
          log.info("Plaid sandbox listening on port {} (seed {})", listening.actualPort(), config.getLong("seed", 42L));
        });
  }

  /** The port actually bound (differs from the configured one when that was 0). */
  public int port() {
    return server == null ? -1 : server.actualPort();
  }

  @Override
  public Future<?> stop() {
    if (client != null) {
      client.close();
    }
    return server == null ? Future.succeededFuture() : server.close();
  }
}
