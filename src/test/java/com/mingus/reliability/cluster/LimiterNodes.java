package com.mingus.reliability.cluster;

import com.mingus.reliability.app.Clustering;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.cluster.ClusterIdentity;
import com.mingus.reliability.config.ClusterSettings;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.ratelimit.RateLimitVerticle;
import com.mingus.reliability.testsupport.Await;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Clustered Vert.x nodes running only the rate limiter, in this JVM (Hazelcast over TCP on loopback), for
 * the budget-ownership tests. A node's database can go through a {@link TcpProxy}, so a test can cut it off.
 */
final class LimiterNodes {
  /** Short leases so a take-over comes within a few seconds: 2 s lease, renewed every 600 ms, polled every 200 ms. */
  static final long LEASE_MS = 2_000;

  private LimiterNodes() {}

  static ClusterSettings settings(String name, int port, String members) {
    return ClusterHarness.clusterSettings(Map.of("CLUSTER", "true", "CLUSTER_NAME", name, "CLUSTER_HOST", "127.0.0.1",
        "CLUSTER_PORT", Integer.toString(port), "CLUSTER_PORT_COUNT", "1", "CLUSTER_MEMBERS", members,
        "EVENT_BUS_HOST", "127.0.0.1", "CLUSTER_MEMBER_TIMEOUT_MS", "2000"));
  }

  /** One dev-default cluster CA for every in-process node of this JVM; each node issues itself a certificate from it. */
  private static final Path TLS_DIR = tlsDir();

  static ClusterIdentity identity() {
    return ClusterIdentity.devDefault(TLS_DIR, List.of("127.0.0.1"));
  }

  private static Path tlsDir() {
    try {
      return Files.createTempDirectory("mingus-cluster-tls");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static HazelcastClusterManager manager(String name, int port, String members) {
    return Clustering.clusterManager(settings(name, port, members), identity());
  }

  static Vertx join(HazelcastClusterManager manager, String name, int port, String members) {
    Vertx vertx = Await.result(Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(Clustering.eventBusOptions(settings(name, port, members), identity())))
        .withClusterManager(manager).buildClustered(), Duration.ofSeconds(60));
    MessageCodecs.register(vertx.eventBus());
    return vertx;
  }

  /** The limiter's config with the given budgets, its database reached at {@code port} (a proxy's, or the server's). */
  static JsonObject config(DatabaseTarget database, int port, double windowScale, JsonObject rateLimits) {
    return new JsonObject().put("window_scale", windowScale)
        .put("cluster", new JsonObject().put("lease_ms", LEASE_MS).put("renew_ms", 600).put("poll_ms", 200))
        .put("plaid", new JsonObject().put("rate_limits", rateLimits))
        .put("database", Pools.connectionConfig(database, 2).put("port", port).put("connect_timeout_ms", 1_000));
  }

  static String deploy(Vertx vertx, JsonObject config) {
    return Await.result(vertx.deployVerticle(RateLimitVerticle::new, new DeploymentOptions().setConfig(config)),
        Duration.ofSeconds(60));
  }

  static Future<PermitReply> acquire(Vertx vertx, String endpoint, String itemId, long maxWaitMs) {
    PermitRequest request = new PermitRequest(endpoint, itemId, PermitPriority.MANUAL, maxWaitMs);
    return Bus.request(vertx, Addresses.RATELIMIT_ACQUIRE, request, request.sendTimeoutMs());
  }

  static PermitReply acquireNow(Vertx vertx, String endpoint, String itemId) {
    return Await.result(acquire(vertx, endpoint, itemId, 0), Duration.ofSeconds(15));
  }

  static void close(Vertx... nodes) {
    for (Vertx vertx : nodes) {
      if (vertx != null) {
        try {
          Await.result(vertx.close(), Duration.ofSeconds(20));
        } catch (AssertionError | RuntimeException e) {
          // a crashed node may not close cleanly
        }
      }
    }
  }
}
