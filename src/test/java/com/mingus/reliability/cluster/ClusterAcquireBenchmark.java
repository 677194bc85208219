package com.mingus.reliability.cluster;

import com.mingus.reliability.app.Clustering;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.RateLimitStatus;
import com.mingus.reliability.bus.RateLimitStatusRequest;
import com.mingus.reliability.config.ClusterSettings;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.ratelimit.RateLimitVerticle;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one permit costs on a cluster: {@code ratelimit.acquire} request to reply as a caller sees it, on
 * a single node ({@code single}), on the node that owns the endpoint's cluster-wide budget
 * ({@code owner}: the same local decision, plus the ownership check and the grant's write-through to the
 * fenced journal in PostgreSQL), and on a node that forwards to the
 * owner over the clustered event bus ({@code forwarded}: TCP on loopback, the record written as type +
 * JSON). {@code echo} is the floor of a forwarded permit: a bare clustered request to a consumer on the
 * other node that answers at once. Two Hazelcast members in this JVM, joined over TCP-IP on loopback.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
@State(Scope.Benchmark)
public class ClusterAcquireBenchmark {
  private static final String ECHO = "bench.cluster.echo";

  @Param({"single", "owner", "forwarded", "echo"})
  public String where;

  private Vertx owner;
  private Vertx other;
  private Vertx caller;
  private final PermitRequest request = PermitRequest.now("/transactions/sync", "item-1", PermitPriority.PERIODIC);

  static JsonObject limiterConfig() {
    // a budget the benchmark cannot spend: a million per 600 ms
    return new JsonObject().put("window_scale", 0.01).put("persist", false).put("plaid", new JsonObject()
        .put("rate_limits", new JsonObject().put("/transactions/sync", new JsonObject().put("per_minute", 1_000_000)
            .put("per_item_per_minute", 1_000_000))));
  }

  /** On a cluster the owner holds its lease in, and writes every grant through to, the embedded PostgreSQL. */
  static JsonObject clusterConfig() {
    DatabaseTarget database = TestDatabase.fresh("cluster-acquire-bench");
    return limiterConfig().put("database", Pools.connectionConfig(database, 2));
  }

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    if (where.equals("single")) {
      owner = Vertx.vertx();
      MessageCodecs.register(owner.eventBus());
      await(owner.deployVerticle(RateLimitVerticle::new, new DeploymentOptions().setConfig(limiterConfig())));
      caller = owner;
      return;
    }
    DeploymentOptions options = new DeploymentOptions().setConfig(clusterConfig());
    String name = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    int portA = ClusterHarness.freePort();
    int portB = ClusterHarness.freePort();
    String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    owner = clustered(name, portA, members);
    // the first limiter takes every endpoint's lease; the second forwards
    await(owner.deployVerticle(RateLimitVerticle::new, options));
    other = clustered(name, portB, members);
    await(other.deployVerticle(RateLimitVerticle::new, options));
    await(owner.eventBus().consumer(ECHO, message -> message.reply(PermitReply.grant(0))).completion());
    caller = where.equals("owner") ? owner : other;
    // the forwarded path is there once the owner's cluster addresses have reached the other node
    RateLimitStatus status = await(Bus.request(other, Addresses.RATELIMIT_STATUS,
        new RateLimitStatusRequest("/transactions/sync", null), 5_000));
    if (status == null) {
      throw new IllegalStateException("no status");
    }
  }

  private static Vertx clustered(String name, int port, String members) throws Exception {
    ClusterSettings cluster = ClusterHarness.clusterSettings(Map.of("CLUSTER", "true", "CLUSTER_NAME", name,
        "CLUSTER_HOST", "127.0.0.1", "CLUSTER_PORT", Integer.toString(port), "CLUSTER_PORT_COUNT", "1",
        "CLUSTER_MEMBERS", members, "EVENT_BUS_HOST", "127.0.0.1"));
    Vertx vertx = await(Vertx.builder().with(new VertxOptions().setEventBusOptions(Clustering.eventBusOptions(cluster)))
        .withClusterManager(new HazelcastClusterManager(Clustering.hazelcastConfig(cluster))).buildClustered());
    MessageCodecs.register(vertx.eventBus());
    return vertx;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (other != null) {
      await(other.close());
    }
    await(owner.close());
  }

  @Benchmark
  public PermitReply acquire() throws Exception {
    if (where.equals("echo")) {
      return Bus.<PermitReply>request(other, ECHO, request, 5_000)
          .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
    return Bus.<PermitReply>request(caller, Addresses.RATELIMIT_ACQUIRE, request, 5_000)
        .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }
}
