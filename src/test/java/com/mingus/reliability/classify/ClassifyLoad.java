package com.mingus.reliability.classify;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.TransportFailure;
import com.mingus.reliability.bus.MessageCodecs;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Load through the event bus: a closed loop of {@code concurrency} requests in flight against the deployed
 * verticle, alternating 2-second rounds with the same load against a peer consumer on the same bus that
 * replies with a constant (the bus round trip alone), for about {@code seconds} each. Prints requests/s and p50/p99 round trip. Run as a main class; the
 * command is in docs/bench/classify.md. Arguments: seconds, concurrency, classify instances, and
 * {@code json} to send JSON bodies (what another node or a non-Java caller sends) instead of records.
 */
public final class ClassifyLoad {
  private static final Logger log = LoggerFactory.getLogger(ClassifyLoad.class);
  private static final String PEER = "bench.echo";

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int instances = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    boolean json = args.length > 3 && args[3].equals("json");
    Vertx vertx = Vertx.vertx();
    try {
      MessageCodecs.register(vertx.eventBus());
      vertx.deployVerticle(ClassifyVerticle::new, new DeploymentOptions().setInstances(instances)
          .setConfig(Classifiers.shippedSection().put("seed", 1))).await();
      vertx.eventBus().consumer(PEER, message -> message.reply(new JsonObject().put("ok", true))).completion().await();
      Object[] requests = json ? Arrays.stream(requests()).map(ClassifyRequest::toJson).toArray() : requests();
      run(vertx, Addresses.CLASSIFY_ERROR, requests, 3, concurrency); // warm-up
      run(vertx, PEER, requests, 2, concurrency);
      // alternate short rounds so that a busy machine's noise falls on both sides alike
      int rounds = Math.max(1, seconds / 2);
      Result classify = Result.EMPTY;
      Result peer = Result.EMPTY;
      for (int round = 0; round < rounds; round++) {
        classify = classify.plus(run(vertx, Addresses.CLASSIFY_ERROR, requests, 2, concurrency));
        peer = peer.plus(run(vertx, PEER, requests, 2, concurrency));
      }
      log.info("classify.error ({} bodies): {} instance(s), {} in flight, {} x 2 s: {} req/s, p50 {} us, p99 {} us ({} requests)",
          json ? "JSON" : "record", instances, concurrency, rounds, Math.round(classify.perSecond()), classify.p50Us(),
          classify.p99Us(), classify.count());
      log.info("peer echo:      {} in flight, {} x 2 s: {} req/s, p50 {} us, p99 {} us ({} requests)",
          concurrency, rounds, Math.round(peer.perSecond()), peer.p50Us(), peer.p99Us(), peer.count());
      log.info("ratio classify/peer throughput: {}", String.format("%.2f", classify.perSecond() / peer.perSecond()));
    } finally {
      vertx.close().await();
    }
  }

  private static ClassifyRequest[] requests() {
    return new ClassifyRequest[] {
        ClassifyRequest.plaidError("INSTITUTION_ERROR", "INSTITUTION_DOWN", null, 400, null, 1, "/transactions/sync", "ins_1"),
        ClassifyRequest.plaidError("RATE_LIMIT_EXCEEDED", "TRANSACTIONS_SYNC_LIMIT", null, 429, 30L, 2, "/transactions/sync",
            "ins_2"),
        ClassifyRequest.plaidError("ITEM_ERROR", "ITEM_LOGIN_REQUIRED", "Sign in again", 400, null, 1, "/transactions/sync",
            "ins_3"),
        ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, 1, "/item/get", "ins_4"),
        ClassifyRequest.rawAnswer(500, "{\"error_type\":\"API_ERROR\",\"error_code\":\"INTERNAL_SERVER_ERROR\","
            + "\"error_message\":\"an unexpected error occurred\",\"display_message\":null,\"request_id\":\"r1\"}",
            null, 1, "/accounts/get", "ins_5")};
  }

  /** Round trips measured, over how many seconds, and their sorted latencies in nanoseconds. */
  private record Result(long count, double seconds, long[] sortedNanos) {
    static final Result EMPTY = new Result(0, 0, new long[0]);

    Result plus(Result other) {
      long[] merged = Arrays.copyOf(sortedNanos, sortedNanos.length + other.sortedNanos.length);
      System.arraycopy(other.sortedNanos, 0, merged, sortedNanos.length, other.sortedNanos.length);
      Arrays.sort(merged);
      return new Result(count + other.count, seconds + other.seconds, merged);
    }

    double perSecond() {
      return count / seconds;
    }

    long p50Us() {
      return sortedNanos[sortedNanos.length / 2] / 1_000;
    }

    long p99Us() {
      return sortedNanos[(int) Math.min(sortedNanos.length - 1, (long) sortedNanos.length * 99 / 100)] / 1_000;
    }
  }

  private static Result run(Vertx vertx, String address, Object[] requests, int seconds, int concurrency)
      throws Exception {
    long[] latencies = new long[(int) Math.min(50_000_000L, 3_000_000L * seconds)];
    AtomicInteger recorded = new AtomicInteger();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicInteger open = new AtomicInteger(concurrency);
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(10_000);
    long started = System.nanoTime();
    // every loop runs on the one event-loop context of the driver, as a verticle would
    vertx.runOnContext(v -> {
      for (int i = 0; i < concurrency; i++) {
        fire(vertx, address, requests, i, end, latencies, recorded, open, done, options);
      }
    });
    done.get(seconds + 30L, TimeUnit.SECONDS);
    double elapsed = (System.nanoTime() - started) / 1e9;
    int n = Math.min(recorded.get(), latencies.length);
    long[] sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    return new Result(n, elapsed, sorted);
  }

  private static void fire(Vertx vertx, String address, Object[] requests, int i, long end, long[] latencies,
      AtomicInteger recorded, AtomicInteger open, CompletableFuture<Void> done, DeliveryOptions options) {
    if (System.nanoTime() >= end) {
      if (open.decrementAndGet() == 0) {
        done.complete(null);
      }
      return;
    }
    long sent = System.nanoTime();
    vertx.eventBus().request(address, requests[i % requests.length], options).onComplete(reply -> {
      if (reply.failed()) {
        done.completeExceptionally(reply.cause());
        return;
      }
      int slot = recorded.getAndIncrement();
      if (slot < latencies.length) {
        latencies[slot] = System.nanoTime() - sent;
      }
      fire(vertx, address, requests, i + 1, end, latencies, recorded, open, done, options);
    });
  }
}
