package com.mingus.reliability.http;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.PingReply;
import com.mingus.reliability.plaid.PlaidClient;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.openapi.contract.OpenAPIContract;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of the server: the REST API, the live feed, Plaid's webhooks and the dashboard. It owns no
 * data: every answer is built from requests to the other verticles over the event bus. On undeploy it
 * stops accepting connections and lets in-flight requests finish, for at most {@code shutdown_timeout_ms}.
 *
 * <p>Every API request passes, in order: the body limit, the JSON depth limit, bearer authentication, the
 * caller's own rate limit, validation against {@code openapi.yaml}, and then its handler in {@link Api}.
 */
public final class HttpVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HttpVerticle.class);
  static final String PRINCIPAL = "principal";

  private HttpServer server;
  private long shutdownTimeoutMs;
  private long pingTimeoutMs;
  /** Set when the verticle stops: readiness answers 503 so a balancer stops sending while requests drain. */
  private volatile boolean stopping;
  private List<String> components;
  private Auth auth;
  private UserRateLimiter limiter;
  private int maxDepth;
  private Feed feed;
  private PlaidClient plaid;
  private PlaidWebhooks webhooks;
  private HealthSource health;
  private OpenApi openApi;
  private final List<Long> timers = new ArrayList<>();

  @Override
  public Future<?> start() {
    JsonObject config = config();
    shutdownTimeoutMs = config.getLong("shutdown_timeout_ms", 10_000L);
    pingTimeoutMs = config.getLong("ping_timeout_ms", 2_000L);
    long busTimeoutMs = config.getLong("bus_timeout_ms", 10_000L);
    maxDepth = config.getInteger("json_max_depth", 32);
    components = new ArrayList<>();
    config.getJsonArray("components", new JsonArray().add("db")).forEach(name -> components.add((String) name));
    JsonObject rate = config.getJsonObject("rate_limit", new JsonObject());
    limiter = new UserRateLimiter(rate.getDouble("per_second", 20.0), rate.getDouble("burst", 60.0));
    auth = Auth.create(vertx, config.getJsonObject("auth", new JsonObject()).getJsonObject("jwt", new JsonObject()));
    health = new HealthSource(vertx, busTimeoutMs);
    JsonObject feedConfig = config.getJsonObject("feed", new JsonObject());
    String registryName = config.getString("metrics_registry");
    feed = new Feed(vertx, auth, health, new Origins(config.getJsonArray("allowed_origins", new JsonArray()),
        feedConfig.getBoolean("allow_same_origin", true)), feedConfig, pingTimeoutMs,
        registryName == null ? null : BackendRegistries.getNow(registryName));
    plaid = PlaidClient.create(vertx, config.getJsonObject("plaid", new JsonObject()));
    webhooks = new PlaidWebhooks(vertx, plaid, config.getJsonObject("webhooks", new JsonObject()));
    Api api = new Api(vertx, health, feed, busTimeoutMs, config.getLong("send_test_timeout_ms", 20_000L));

    return OpenAPIContract.from(vertx, config.getString("openapi", "openapi.yaml")).compose(contract -> {
      openApi = new OpenApi(vertx, contract);
      Router router = router(config, api);
      HttpServerOptions options = new HttpServerOptions()
          .setHost(config.getString("host", "0.0.0.0"))
          .setPort(config.getInteger("port", 8080))
          // gzip for REST answers; it also puts a compressor and a chunked writer into every connection's
          // pipeline, feed sockets included, which each of their frames passes (docs/bench/http.md)
          .setCompressionSupported(config.getBoolean("compression", true))
          // with cleartext HTTP/2 on, Vert.x sets a connection up only once its first request's headers are
          // complete, so a slowloris connection would be invisible to SlowClients
          .setHttp2ClearTextEnabled(config.getBoolean("h2c", false))
          .setMaxWebSocketMessageSize(16_384)
          .setMaxWebSocketFrameSize(16_384)
          // permessage-deflate (which browsers ask for) keeps a compressor per socket and compresses each change
          // once per socket; the feed's messages are small, so by default it is refused (http.feed.compression)
          .setPerMessageWebSocketCompressionSupported(feedConfig.getBoolean("compression", false))
          .setPerFrameWebSocketCompressionSupported(feedConfig.getBoolean("compression", false))
          .setIdleTimeout(config.getInteger("idle_timeout_s", 120))
          .setIdleTimeoutUnit(TimeUnit.SECONDS);
      SlowClients slow = new SlowClients(vertx, config.getLong("header_timeout_ms", 20_000L),
          config.getLong("body_timeout_ms", 30_000L));
      return List.of(
          Bus.answerPing(vertx, "http", () -> Future.succeededFuture(PingReply.up("http"))).completion(),
          vertx.eventBus().consumer(Addresses.HEALTH_CHANGED, message -> {
            JsonObject connection = HealthSource.json(message.body());
            feed.healthChanged(connection, connection.getString("user_id"));
          }).completion(),
          vertx.eventBus().consumer(Addresses.INSTITUTION_CHANGED, message -> {
            JsonObject body = HealthSource.json(message.body());
            feed.institutionChanged(body.containsKey("institution") ? body.getJsonObject("institution") : body);
          }).completion(),
          vertx.eventBus().consumer(Addresses.NOTIFICATION_CREATED, message -> {
            JsonObject body = HealthSource.json(message.body());
            feed.notificationCreated(body.getString("user_id"), body.getJsonObject("notification", new JsonObject()));
          }).completion())
          .stream().reduce(Future.succeededFuture(), (a, b) -> a.compose(v -> b.mapEmpty()), (a, b) -> a)
          .compose(v -> vertx.createHttpServer(options).connectionHandler(slow::connected)
              .requestHandler(slow.around(router)).listen());
    }).compose(listening -> {
      server = listening;
      // this instance's number on the node, for the feed's gauges
      return vertx.sharedData().getLocalCounter("http.feed.verticles").compose(counter -> counter.getAndIncrement());
    }).onSuccess(instance -> {
      feed.start(Long.toString(instance));
      timers.add(vertx.setPeriodic(60_000, id -> {
        limiter.prune(System.nanoTime());
        webhooks.prune();
      }));
    });
  }

  private Router router(JsonObject config, Api api) {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      ctx.response()
          .putHeader("X-Content-Type-Options", "nosniff")
          .putHeader("Referrer-Policy", "no-referrer")
          .putHeader("X-Frame-Options", "DENY");
      ctx.next();
    });
    // the feed is upgraded before any body handling touches the request
    router.get("/api/reliability/feed").handler(feed::handshake);
    router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(config.getLong("body_limit_bytes", 65_536L)));
    router.route("/api/*").handler(this::depthLimit);
    router.get("/api/reliability/health").handler(this::health);
    // liveness: this process and its event loop answer (restart it when not); readiness: it can serve, every
    // component answering (send it traffic only when so)
    router.get("/api/reliability/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject()
        .put("success", true).put("status", "up")
        .put("uptime_s", ManagementFactory.getRuntimeMXBean().getUptime() / 1000)));
    router.get("/api/reliability/health/ready").handler(this::health);
    router.post("/api/plaid/webhook").handler(webhooks::handle);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(config.getString("metrics_registry")));
    router.get("/openapi.yaml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/yaml")
        .sendFile("openapi.yaml"));

    user(router, HttpMethod.POST, "/api/reliability/connections", "registerConnection", api::register);
    user(router, HttpMethod.GET, "/api/reliability/connections/health", "connectionsHealth", api::connectionsHealth);
    user(router, HttpMethod.DELETE, "/api/reliability/connections/:id", "removeConnection", api::remove);
    user(router, HttpMethod.GET, "/api/reliability/connections/:id/health", "connectionHealth", api::connectionHealth);
    user(router, HttpMethod.POST, "/api/reliability/connections/:id/retry", "retryConnection", api::retry);
    user(router, HttpMethod.POST, "/api/reliability/connections/:id/reconnect", "reconnectConnection", api::reconnect);
    user(router, HttpMethod.GET, "/api/reliability/connections/:id/sync-status", "syncStatus", api::syncStatus);
    user(router, HttpMethod.POST, "/api/reliability/connections/:id/sync-now", "syncNow", api::syncNow);
    user(router, HttpMethod.GET, "/api/reliability/connections/:id/transactions", "transactions", api::transactions);
    user(router, HttpMethod.GET, "/api/reliability/connections/:id/accounts", "accounts", api::accounts);
    user(router, HttpMethod.GET, "/api/reliability/notifications", "notifications", api::notifications);
    user(router, HttpMethod.GET, "/api/reliability/notifications/preferences", "getPreferences", api::preferences);
    user(router, HttpMethod.PUT, "/api/reliability/notifications/preferences", "putPreferences", api::putPreferences);
    user(router, HttpMethod.POST, "/api/reliability/notifications/send-test", "sendTestNotification", api::sendTest);
    user(router, HttpMethod.POST, "/api/reliability/notifications/:id/read", "markNotificationRead", api::markRead);
    user(router, HttpMethod.GET, "/api/reliability/institutions", "institutions", api::institutions);
    user(router, HttpMethod.GET, "/api/reliability/rate-limits", "rateLimits", api::rateLimits);
    user(router, HttpMethod.POST, "/api/reliability/feed/ticket", "feedTicket", api::feedTicket);
    admin(router, HttpMethod.GET, "/api/reliability/metrics/overview", "metricsOverview", api::overview);
    // an operator sees any connection's metrics; a user only their own (another's is 404, like everywhere)
    user(router, HttpMethod.GET, "/api/reliability/metrics/connections/:id", "connectionMetrics", api::connectionMetrics);
    admin(router, HttpMethod.GET, "/api/admin/connections", "adminConnections", api::adminConnections);
    admin(router, HttpMethod.GET, "/api/admin/connections/:id/sync-status", "adminSyncStatus", api::syncStatus);
    admin(router, HttpMethod.GET, "/api/admin/reconciliations", "adminAllReconciliations", api::allReconciliations);
    admin(router, HttpMethod.POST, "/api/admin/connections/:id/reconcile", "adminReconcile", api::reconcile);
    admin(router, HttpMethod.GET, "/api/admin/connections/:id/reconciliations", "adminReconciliations",
        api::reconciliations);
    admin(router, HttpMethod.GET, "/api/admin/mail", "adminMail", api::adminMail);
    // operator actions on notifications, and the key browsers subscribe to Web Push with
    admin(router, HttpMethod.GET, "/api/admin/notifications/dead-letters", "adminDeadLetters", api::adminDeadLetters);
    admin(router, HttpMethod.POST, "/api/admin/notifications/dead-letters/:id/redrive", "adminRedrive", api::adminRedrive);
    admin(router, HttpMethod.GET, "/api/admin/notifications/templates", "adminTemplates", api::adminTemplates);
    admin(router, HttpMethod.PUT, "/api/admin/notifications/templates/:type/:channel", "adminPutTemplate",
        api::adminPutTemplate);
    admin(router, HttpMethod.POST, "/api/admin/notifications/templates/:type/:channel/preview", "adminPreviewTemplate",
        api::adminPreviewTemplate);
    admin(router, HttpMethod.POST, "/api/admin/notifications/broadcast", "adminBroadcast", api::adminBroadcast);
    admin(router, HttpMethod.GET, "/api/admin/notifications/:id/deliveries", "adminDeliveries", api::adminDeliveries);
    admin(router, HttpMethod.GET, "/api/admin/alerts", "adminAlerts", api::adminAlerts);
    admin(router, HttpMethod.GET, "/api/admin/keys", "adminKeys", api::adminKeys);
    user(router, HttpMethod.GET, "/api/reliability/notifications/push/vapid-public-key", "vapidPublicKey",
        api::vapidPublicKey);

    router.route("/api/*").last().handler(ctx -> Responses.error(ctx, 404, "NOT_FOUND",
        "No such endpoint: " + ctx.request().method() + " " + ctx.normalizedPath()));
    router.route().method(HttpMethod.GET).handler(StaticHandler.create("webroot")
        .setCachingEnabled(false).setIndexPage("index.html").setDefaultContentEncoding("UTF-8"));
    router.route().last().handler(ctx -> Responses.error(ctx, 404, "NOT_FOUND",
        "No such endpoint: " + ctx.request().method() + " " + ctx.normalizedPath()));
    router.route().failureHandler(this::failed);
    return router;
  }

  private void user(Router router, HttpMethod method, String path, String operationId, Handler<RoutingContext> handler) {
    router.route(method, path).handler(this::authenticate).handler(this::rateLimit)
        .handler(openApi.validator(operationId)).handler(handler);
  }

  private void admin(Router router, HttpMethod method, String path, String operationId, Handler<RoutingContext> handler) {
    router.route(method, path).handler(this::authenticate).handler(ctx -> {
      Principal principal = ctx.get(PRINCIPAL);
      if (!principal.admin()) {
        Responses.error(ctx, 403, "FORBIDDEN", "This endpoint is for operators");
        return;
      }
      ctx.next();
    }).handler(this::rateLimit).handler(openApi.validator(operationId)).handler(handler);
  }

  private void depthLimit(RoutingContext ctx) {
    if (ctx.body().buffer() != null && !JsonDepth.within(ctx.body().buffer(), maxDepth)) {
      Responses.error(ctx, 400, "INVALID_REQUEST", "The JSON body nests deeper than " + maxDepth + " levels");
      return;
    }
    ctx.next();
  }

  private void authenticate(RoutingContext ctx) {
    String token = Auth.bearer(ctx.request().getHeader("Authorization"));
    if (token == null) {
      unauthorized(ctx, "A bearer token is required");
      return;
    }
    auth.verify(token).onComplete(result -> {
      if (result.failed()) {
        unauthorized(ctx, result.cause() instanceof Auth.Refused ? result.cause().getMessage() : "The token is not valid");
      } else {
        ctx.put(PRINCIPAL, result.result());
        ctx.next();
      }
    });
  }

  private static void unauthorized(RoutingContext ctx, String message) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"mingus\"");
    Responses.error(ctx, 401, "UNAUTHORIZED", message);
  }

  private void rateLimit(RoutingContext ctx) {
    Principal principal = ctx.get(PRINCIPAL);
    long wait = limiter.acquire(principal.userId(), System.nanoTime());
    if (wait > 0) {
      ctx.response().putHeader("Retry-After", Long.toString(wait));
      Responses.error(ctx, 429, "RATE_LIMITED", "Too many requests; retry after " + wait + " s");
      return;
    }
    ctx.next();
  }

  /** Real checks: each component answers a ping over the bus within the timeout (the database through its monitor). */
  private void health(RoutingContext ctx) {
    if (stopping) {
      Responses.json(ctx, 503, new JsonObject().put("success", false).put("status", "stopping")
          .put("error", new JsonObject().put("code", "UNHEALTHY").put("message", "the server is shutting down")));
      return;
    }
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
          .put("feed_clients", feed.clients())
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
    stopping = true;
    timers.forEach(vertx::cancelTimer);
    if (feed != null) {
      feed.stop();
    }
    if (plaid != null) {
      plaid.close();
    }
    if (server == null) {
      return Future.succeededFuture();
    }
    log.debug("HTTP server draining in-flight requests (at most {} ms)", shutdownTimeoutMs);
    return server.shutdown(shutdownTimeoutMs, TimeUnit.MILLISECONDS);
  }
}
