package com.mingus.reliability.app;

import com.mingus.reliability.classify.ClassifyVerticle;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.config.Settings;
import com.mingus.reliability.db.DatabaseMonitorVerticle;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.demo.DemoVerticle;
import com.mingus.reliability.health.HealthVerticle;
import com.mingus.reliability.http.HttpVerticle;
import com.mingus.reliability.notify.NotifyVerticle;
import com.mingus.reliability.ratelimit.RateLimitVerticle;
import com.mingus.reliability.sandbox.SandboxVerticle;
import com.mingus.reliability.sync.SyncVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deploys the verticles in dependency order (the database monitor, the sandbox when it is Plaid, the
 * domain verticles, HTTP last) and undeploys them in reverse, so HTTP drains before what it calls stops.
 * Any failure fails the whole start-up.
 */
final class Deployer {
  private static final Logger log = LoggerFactory.getLogger(Deployer.class);

  /** One verticle kind: its name (also its ping address prefix), config section, factory and instances. */
  private record Unit(String name, String section, Supplier<VerticleBase> factory, int instances, boolean pinged) {}

  private final Vertx vertx;
  private final Settings settings;
  private final JsonObject database;
  private final String registryName;
  private final JsonObject plaid;
  private final JsonObject crypto;
  private final String nodeId;
  private final Deque<String> deployed = new ArrayDeque<>();

  Deployer(Vertx vertx, Settings settings, DatabaseTarget target, String registryName, JsonObject crypto, String nodeId) {
    this.crypto = crypto;
    this.nodeId = nodeId;
    this.vertx = vertx;
    this.settings = settings;
    this.database = Pools.connectionConfig(target, settings.poolSize());
    this.registryName = registryName;
    this.plaid = plaidConfig(settings);
  }

  /**
   * The {@code plaid} section every verticle receives, resolved: with no PLAID_BASE_URL it points at the
   * sandbox on loopback with the sandbox's own credentials; otherwise at the configured Plaid.
   */
  static JsonObject plaidConfig(Settings settings) {
    JsonObject plaid = settings.raw().getJsonObject("plaid", new JsonObject()).copy();
    if (settings.useSandbox()) {
      JsonObject sandbox = settings.raw().getJsonObject("sandbox", new JsonObject());
      plaid.put("base_url", "http://127.0.0.1:" + settings.sandboxPort())
          .put("client_id", sandbox.getString("client_id"))
          .put("secret", sandbox.getString("secret"));
    } else {
      plaid.put("base_url", settings.plaidBaseUrl());
    }
    return plaid;
  }

  private List<Unit> units() {
    JsonObject raw = settings.raw();
    List<Unit> units = new ArrayList<>();
    units.add(new Unit("db", "db_monitor", DatabaseMonitorVerticle::new, 1, true));
    // the sandbox (when it is our Plaid) goes here, before every verticle that calls Plaid
    if (settings.useSandbox()) {
      // one instance: its state is in memory and must be one state
      units.add(new Unit("sandbox", "sandbox", SandboxVerticle::new, 1, true));
    }

    // classification
    units.add(new Unit("classify", "classify", ClassifyVerticle::new, instances(raw, "classify", 1), true));

    // rate limiting
    units.add(new Unit("ratelimit", "ratelimit", RateLimitVerticle::new, instances(raw, "ratelimit", 1), true));

    // sync scheduling
    units.add(new Unit("sync", "sync", SyncVerticle::new, instances(raw, "sync", 1), true));

    // health tracking: one instance per node (it consumes every published sync event; see HealthVerticle)
    units.add(new Unit("health", "health", HealthVerticle::new, 1, true));

    // notification delivery
    units.add(new Unit("notify", "notify", NotifyVerticle::new, instances(raw, "notify", 1), true));

    units.add(new Unit("http", "http", HttpVerticle::new, instances(raw, "http", 2), true));

    // the demo population drives the sandbox and the API, so it comes after HTTP is listening
    if (settings.demo() && settings.useSandbox()) {
      units.add(new Unit("demo", "demo", DemoVerticle::new, 1, false));
    }
    return units;
  }

  Future<Void> deployAll() {
    List<Unit> units = units();
    JsonArray pinged = new JsonArray();
    units.stream().filter(Unit::pinged).forEach(unit -> pinged.add(unit.name()));
    Future<Void> chain = Future.succeededFuture();
    for (Unit unit : units) {
      chain = chain.compose(ignored -> deploy(unit, pinged));
    }
    return chain;
  }

  private Future<Void> deploy(Unit unit, JsonArray pinged) {
    JsonObject config = settings.raw().getJsonObject(unit.section(), new JsonObject()).copy()
        .put("database", database.copy())
        .put("metrics_registry", registryName)
        .put("plaid", plaid.copy())
        .put("components", pinged.copy());
    config.put("node_id", nodeId);
    if (unit.name().equals("sync") || unit.name().equals("notify")) {
      // access tokens (sync), webhook signing secrets and the VAPID key (notify) are sealed at rest
      config.put("crypto", crypto.copy());
    }
    if (unit.name().equals("notify")) {
      // the mail server is a top-level section (SMTP_* variables); notification delivery is its only user
      config.put("smtp", settings.raw().getJsonObject("smtp", new JsonObject()).copy());
    }
    if (unit.name().equals("http")) {
      config.put("port", settings.httpPort()).put("host", settings.httpHost())
          .put("shutdown_timeout_ms", settings.shutdownTimeoutMs())
          .put("auth", settings.raw().getJsonObject("auth", new JsonObject()).copy());
    }
    if (unit.name().equals("demo")) {
      config.put("http_port", settings.httpPort()).put("sandbox_port", settings.sandboxPort())
          .put("sandbox_host", settings.raw().getJsonObject("sandbox", new JsonObject()).getString("host", "127.0.0.1"));
    }
    DeploymentOptions options = new DeploymentOptions().setConfig(config).setInstances(unit.instances());
    return vertx.deployVerticle(unit.factory(), options)
        .onSuccess(id -> {
          deployed.push(id);
          log.info("Started {} ({} instance{})", unit.name(), unit.instances(), unit.instances() == 1 ? "" : "s");
        })
        .recover(failure -> Future.failedFuture(failure instanceof com.mingus.reliability.config.ConfigException
            ? failure // a setting a verticle found wrong (a token key missing): one line naming the setting
            : new IllegalStateException(unit.name() + ": " + failure.getMessage(), failure)))
        .mapEmpty();
  }

  /** Undeploys in reverse order of deployment, one after the other. */
  Future<Void> undeployAll() {
    Future<Void> chain = Future.succeededFuture();
    while (!deployed.isEmpty()) {
      String id = deployed.pop();
      chain = chain.compose(ignored -> vertx.undeploy(id).recover(failure -> {
        log.warn("A verticle did not stop cleanly: {}", failure.getMessage());
        return Future.succeededFuture();
      }));
    }
    return chain;
  }

  private static int instances(JsonObject raw, String section, int fallback) {
    return raw.getJsonObject(section, new JsonObject()).getInteger("instances", fallback);
  }
}
