package com.mingus.reliability.app;

import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.cluster.ClusterIdentity;
import com.mingus.reliability.config.ClusterSettings;
import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.config.ConfigLoader;
import com.mingus.reliability.crypto.TokenCipher;
import io.vertx.core.json.JsonObject;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.config.Settings;
import com.mingus.reliability.db.EmbeddedDatabase;
import com.mingus.reliability.db.Migrations;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.logging.Redactor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application: validates the configuration, starts (or reaches) PostgreSQL, applies the migrations,
 * starts Vert.x and deploys every verticle in dependency order; shuts all of it down in reverse.
 *
 * <p>Start-up is blocking on purpose: it runs on the main thread before any event loop exists, so the
 * embedded database and Flyway never block one. A wrong setting ends start-up with one line naming it.
 */
public final class Application implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Application.class);
  static final String VERSION = versionOf();

  private final Settings settings;
  private final EmbeddedDatabase embedded;
  private final DatabaseTarget database;
  private final Vertx vertx;
  private final Deployer deployer;
  private final String nodeId;
  private final String registryName;
  private volatile boolean closed;

  private Application(Settings settings, EmbeddedDatabase embedded, DatabaseTarget database, Vertx vertx,
      Deployer deployer, String nodeId, String registryName) {
    this.settings = settings;
    this.embedded = embedded;
    this.database = database;
    this.vertx = vertx;
    this.deployer = deployer;
    this.nodeId = nodeId;
    this.registryName = registryName;
  }

  public static void main(String[] args) {
    Application app;
    try {
      app = start(Settings.fromEnvironment());
    } catch (ConfigException e) {
      log.error("Start-up stopped: {}", e.getMessage());
      System.exit(2);
      return;
    } catch (StartupException e) {
      log.error("Start-up failed: {}", e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(app::close, "mingus-shutdown"));
  }

  /**
   * Starts everything; blocking. Throws {@link ConfigException} for a wrong setting. A port asked for as "any
   * free port" (0) is chosen before it is bound, so every instance shares it; another process can take it in
   * between, and then start-up chooses again (three tries).
   */
  public static Application start(Settings settings) {
    boolean anyPort = settings.httpPort() == 0 || (settings.useSandbox() && settings.sandboxPort() == 0);
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(settings);
      } catch (StartupException e) {
        if (!anyPort || attempt >= 3 || !String.valueOf(e.getMessage()).contains("Address already in use")) {
          throw e;
        }
        log.warn("A port chosen as free was taken before it was bound ({}); choosing again", e.getMessage());
      }
    }
  }

  private static Application startOnce(Settings settings) {
    long begin = System.nanoTime();
    Settings effective = withFreePorts(settings);
    boolean generatedSecret = effective.jwtSecret() == null;
    if (generatedSecret) {
      // nobody else can mint tokens for a secret made here; the demo tokens below are the way in
      effective = effective.with("auth.jwt.secret", randomSecret());
    }
    registerSecrets(effective);
    log.info("Configuration loaded: database {}, Plaid {}, demo {}, cluster {}",
        effective.embeddedDatabase() ? "embedded in " + effective.dataDir().toAbsolutePath() : effective.database(),
        effective.useSandbox() ? "sandbox on port " + effective.sandboxPort() : effective.plaidBaseUrl(),
        effective.demo() ? "on" : "off", effective.cluster() ? "on" : "off");

    TokenCipher cipher = TokenCipher.load((String) ConfigLoader.get(effective.raw(), "crypto.token_encryption_keys"),
        effective.dataDir());
    cipher.toConfig().getJsonArray("keys").forEach(key -> Redactor.registerSecret(((JsonObject) key).getString("key")));
    EmbeddedDatabase embedded = null;
    DatabaseTarget target;
    if (effective.embeddedDatabase()) {
      embedded = EmbeddedDatabase.start(effective.dataDir(), durableEmbedded(effective), 0);
      target = embedded.target();
    } else {
      target = effective.database();
      Migrations.checkReachable(target, effective.raw().getJsonObject("database").getString("url") != null
          ? "DATABASE_URL" : "PGHOST");
      log.info("PostgreSQL reached at {}", target);
    }
    String nodeId = UUID.randomUUID().toString().substring(0, 8);
    Vertx vertx = null;
    try {
      Migrations.migrate(target);
      ServerStarts.record(target, nodeId, VERSION);

      String registryName = "mingus-" + nodeId;
      MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
          .setEnabled(true)
          .setJvmMetricsEnabled(true)
          .setRegistryName(registryName)
          .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
      VertxOptions options = new VertxOptions().setMetricsOptions(metrics);
      if (effective.cluster()) {
        ClusterSettings cluster = effective.clustering();
        ClusterIdentity identity = Clustering.identity(cluster, effective.dataDir());
        log.info("Cluster identity: {}", identity.describe());
        options.setEventBusOptions(Clustering.eventBusOptions(cluster, identity));
        HazelcastClusterManager manager = Clustering.clusterManager(cluster, identity);
        try {
          vertx = await(Vertx.builder().with(options).withClusterManager(manager)
              .buildClustered(), Duration.ofSeconds(60), "joining the cluster " + cluster.name());
        } catch (RuntimeException e) {
          manager.getHazelcastInstance().getLifecycleService().terminate();
          throw e;
        }
        NodeInfo bus = manager.getNodeInfo();
        log.info("Vert.x started (node {}), clustered: joined {} ({} members listed), event bus at {}:{}", nodeId,
            cluster.name(), cluster.members().size(), bus.host(), bus.port());
      } else {
        vertx = Vertx.builder().with(options).build();
        log.info("Vert.x started (node {})", nodeId);
      }
      MessageCodecs.register(vertx.eventBus());

      Deployer deployer = new Deployer(vertx, effective, target, registryName, cipher.toConfig(), nodeId);
      await(deployer.deployAll(), Duration.ofSeconds(60), "deploying the verticles");
      Application app = new Application(effective, embedded, target, vertx, deployer, nodeId, registryName);
      log.info("MINGUS Reliability {} is up in {} ms: dashboard and API at http://localhost:{}/",
          VERSION, (System.nanoTime() - begin) / 1_000_000, effective.httpPort());
      if (generatedSecret && effective.demo()) {
        printDemoTokens(vertx, effective);
      } else if (generatedSecret) {
        log.info("MINGUS_JWT_SECRET is not set: a random secret was generated, so no token can be issued outside this process");
      }
      return app;
    } catch (RuntimeException e) {
      if (vertx != null) {
        closeQuietly(vertx);
      }
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
  }

  public Vertx vertx() {
    return vertx;
  }

  public Settings settings() {
    return settings;
  }

  public int httpPort() {
    return settings.httpPort();
  }

  public int sandboxPort() {
    return settings.sandboxPort();
  }

  public DatabaseTarget database() {
    return database;
  }

  public String nodeId() {
    return nodeId;
  }

  public String metricsRegistry() {
    return registryName;
  }

  /**
   * Graceful shutdown: the HTTP verticle stops accepting and lets in-flight requests finish (bounded by
   * {@code SHUTDOWN_TIMEOUT_MS}), the other verticles stop in reverse order and close their pools, then
   * Vert.x closes and the embedded database stops.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    long begin = System.nanoTime();
    log.info("Shutting down");
    Duration bound = Duration.ofMillis(settings.shutdownTimeoutMs() + 5_000);
    try {
      await(deployer.undeployAll(), bound, "stopping the verticles");
    } catch (RuntimeException e) {
      log.warn("Verticles did not all stop cleanly: {}", e.getMessage());
    }
    closeQuietly(vertx);
    if (embedded != null) {
      embedded.close();
    }
    log.info("Stopped in {} ms", (System.nanoTime() - begin) / 1_000_000);
  }

  private static void closeQuietly(Vertx vertx) {
    try {
      await(vertx.close(), Duration.ofSeconds(10), "closing Vert.x");
    } catch (RuntimeException e) {
      log.warn("Vert.x did not close cleanly: {}", e.getMessage());
    }
  }

  /** Blocks the calling (non event-loop) thread on a future; start-up and shutdown only. */
  static <T> T await(Future<T> future, Duration timeout, String what) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StartupException(what + " was interrupted");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ConfigException config) {
        throw config;
      }
      throw new StartupException(what + " failed: " + (cause == null ? e.getMessage() : cause.getMessage()));
    } catch (TimeoutException e) {
      throw new StartupException(what + " took longer than " + timeout.toSeconds() + " s");
    }
  }

  /** The server's own embedded database keeps fsync on; tests may turn it off for speed. */
  private static boolean durableEmbedded(Settings settings) {
    return settings.raw().getJsonObject("database", new io.vertx.core.json.JsonObject())
        .getJsonObject("embedded", new io.vertx.core.json.JsonObject()).getBoolean("durable", true);
  }

  /** Port 0 means "any free port": chosen here so that every instance of a verticle shares one port. */
  private static Settings withFreePorts(Settings settings) {
    Settings out = settings;
    if (out.httpPort() == 0) {
      out = out.with("http.port", freePort("HTTP_PORT"));
    }
    if (out.useSandbox() && out.sandboxPort() == 0) {
      out = out.with("sandbox.port", freePort("SANDBOX_PORT"));
    }
    return out;
  }

  private static int freePort(String setting) {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new ConfigException(setting, "no free port could be found: " + e.getMessage());
    }
  }

  /**
   * With a generated secret and the demo on, two tokens valid for 12 hours: a user's (the dashboard link,
   * in the URL fragment, which browsers never send to the server) and an operator's. They are printed
   * deliberately, so they are exempted from log redaction.
   */
  private static void printDemoTokens(Vertx vertx, Settings settings) {
    String secret = settings.jwtSecret();
    String user = JwtIssuer.issue(vertx, secret, "demo-user", java.util.List.of("user"), "Demo User",
        "demo-user@mingus.local", 12 * 3600);
    String admin = JwtIssuer.issue(vertx, secret, "demo-operator", java.util.List.of("user", "admin"), "Demo Operator",
        "operator@mingus.local", 12 * 3600);
    Redactor.registerPublic(user);
    Redactor.registerPublic(admin);
    log.info("Demo user dashboard: http://localhost:{}/#jwt={}", settings.httpPort(), user);
    log.info("Demo operator dashboard: http://localhost:{}/#jwt={}", settings.httpPort(), admin);
  }

  private static String randomSecret() {
    byte[] bytes = new byte[48];
    new java.security.SecureRandom().nextBytes(bytes);
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static void registerSecrets(Settings settings) {
    Redactor.registerSecret(settings.jwtSecret());
    Object previous = ConfigLoader.get(settings.raw(), "auth.jwt.previous_secrets");
    if (previous instanceof String list) {
      for (String old : list.split(",")) {
        Redactor.registerSecret(old.trim());
      }
    }
    Redactor.registerSecret(settings.raw().getJsonObject("plaid", new io.vertx.core.json.JsonObject()).getString("secret"));
    Redactor.registerSecret(settings.raw().getJsonObject("smtp", new io.vertx.core.json.JsonObject()).getString("password"));
    if (settings.database() != null) {
      Redactor.registerSecret(settings.database().password());
    }
    // an inline PEM key (a path is no secret)
    String clusterKey = settings.clustering().tlsKey();
    if (clusterKey != null && clusterKey.trim().startsWith("-----BEGIN")) {
      Redactor.registerSecret(clusterKey);
    }
  }

  private static String versionOf() {
    String version = Application.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }

  /** Start-up failed for a reason that is not a setting (a verticle failed to deploy, a timeout). */
  public static final class StartupException extends RuntimeException {
    public StartupException(String message) {
      super(message, null, false, false);
    }
  }
}
