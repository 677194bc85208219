package com.mingus.reliability.http;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.PingReply;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of the server. It owns no data: every answer is built from requests to the other
 * verticles over the event bus. On undeploy it stops accepting connections and lets in-flight requests
 * finish, for at most {@code shutdown_timeout_ms}.
 */
public final class HttpVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HttpVerticle.class);

  private HttpServer server;
  private long shutdownTimeoutMs;
  private long pingTimeoutMs;
  private List<String> components;

  @Override
  public Future<?> start() {
    JsonObject config = config();
    shutdownTimeoutMs = config.getLong("shutdown_timeout_ms", 10_000L);
    pingTimeoutMs = config.getLong("ping_timeout_ms", 2_000L);
    components = new ArrayList<>();
    config.getJsonArray("components", new JsonArray().add("db")).forEach(name -> components.add((String) name));

    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      ctx.response().putHeader("X-Content-Type-Options", "nosniff");
      ctx.next();
    });
    router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(config.getLong("body_limit_bytes", 65_536L)));
    router.get("/api/reliability/health").handler(this::health);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(config.getString("metrics_registry")));
    router.route().last().handler(ctx -> Responses.error(ctx, 404, "NOT_FOUND", "No such endpoint: " + ctx.request().method() + " " + ctx.normalizedPath()));
    router.route().failureHandler(this::failed);

    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.getString("host", "0.0.0.0"))
        .setPort(config.getInteger("port", 8080))
        .setCompressionSupported(true)
        .setIdleTimeout(120)
        .setIdleTimeoutUnit(TimeUnit.SECONDS);
    Bus.answerPing(vertx, "http", () -> Future.succeededFuture(PingReply.up("http")));
    return vertx.createHttpServer(options).requestHandler(router).listen()
        .onSuccess(listening -> server = listening);
  }

  /** Real checks: each component answers a ping over the bus within the timeout (the database through its monitor). */
  private void health(RoutingContext ctx) {
    List<Future<JsonObject>> checks = new ArrayList<>();
    for (String component : components) {
      long started = System.nanoTime();
      checks.add(Bus.<PingReply>request(vertx, Addresses.ping(component), new JsonObject(), pingTimeoutMs)
          .map(reply -> reply.toJson())
          .otherwise(failure -> PingReply.down(component, failure.getMessage()).toJson())
          .map(json -> json.put("latency_ms", (System.nanoTime() - started) / 1_000_000)));
    }
    Future.join(checks).onComplete(done -> {
      JsonObject results = new JsonObject();
      List<String> failing = new ArrayList<>();
      for (int i = 0; i < components.size(); i++) {
        JsonObject check = checks.get(i).result();
        results.put(components.get(i), check);
        if (!check.getBoolean("healthy", false)) {
          failing.add(components.get(i) + ": " + check.getString("detail"));
        }
      }
      JsonObject body = new JsonObject()
          .put("status", failing.isEmpty() ? "up" : "down")
          .put("checks", results)
          .put("uptime_s", ManagementFactory.getRuntimeMXBean().getUptime() / 1000);
      if (failing.isEmpty()) {
        Responses.json(ctx, 200, body.put("success", true));
      } else {
        Responses.json(ctx, 503, body.put("success", false)
            .put("error", new JsonObject().put("code", "UNHEALTHY").put("message", String.join("; ", failing))));
      }
    });
  }

  private void failed(RoutingContext ctx) {
    int status = ctx.statusCode();
    if (status == 413) {
      Responses.error(ctx, 413, "BODY_TOO_LARGE", "The request body is larger than the limit");
    } else if (status == 400) {
      Responses.error(ctx, 400, "INVALID_REQUEST", "The request is malformed");
    } else if (status > 0 && status < 500) {
      Responses.error(ctx, status, "HTTP_" + status, "The request cannot be served");
    } else {
      Responses.failure(ctx, ctx.failure());
    }
  }

  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    log.debug("HTTP server draining in-flight requests (at most {} ms)", shutdownTimeoutMs);
    return server.shutdown(shutdownTimeoutMs, TimeUnit.MILLISECONDS);
  }
}
