package com.mingus.reliability.ratelimit;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
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
 * {@code ratelimit.acquire} over the event bus, request to reply, as a caller sees it (p50 and p99 from
 * JMH's sampling mode), beside a bare bus echo of the same record, answered by a verticle on its own event loop, as the floor. With 2 instances half the
 * requests land on the instance that does not own the endpoint and are forwarded once.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(1)
@State(Scope.Benchmark)
public class AcquireRoundTripBenchmark {
  private static final String ECHO = "bench.echo";

  @Param({"1", "2"})
  public int instances;

  private Vertx vertx;
  private final PermitRequest request = PermitRequest.now("/transactions/sync", "item-1", PermitPriority.PERIODIC);

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    vertx = Vertx.vertx();
    MessageCodecs.register(vertx.eventBus());
    // a budget the benchmark cannot spend: a million per 600 ms
    JsonObject config = new JsonObject().put("window_scale", 0.01).put("plaid", new JsonObject().put("rate_limits",
        new JsonObject().put("/transactions/sync", new JsonObject().put("per_minute", 1_000_000)
            .put("per_item_per_minute", 1_000_000))));
    vertx.deployVerticle(RateLimitVerticle::new, new DeploymentOptions().setConfig(config).setInstances(instances))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx.deployVerticle(new Echo()).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The floor: a verticle on its own event loop that answers at once, as the limiter's owner does. */
  public static final class Echo extends VerticleBase {
    @Override
    public Future<?> start() {
      return vertx.eventBus().localConsumer(ECHO, message -> message.reply(PermitReply.grant(0))).completion();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Benchmark
  public PermitReply acquire() throws Exception {
    return Bus.<PermitReply>request(vertx, Addresses.RATELIMIT_ACQUIRE, request, 5_000)
        .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Benchmark
  public PermitReply busEcho() throws Exception {
    return Bus.<PermitReply>request(vertx, ECHO, request, 5_000)
        .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }
}
