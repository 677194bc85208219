package com.mingus.reliability.plaid;

import com.mingus.reliability.sandbox.SandboxVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A load driver: /transactions/sync pages (count=100) from the sandbox verticle over loopback, through the
 * Plaid client and, as the peer, through a bare WebClient that sends the same request and only decodes the
 * JSON. Same JVM, same sandbox, same connection pool size and concurrency; rounds alternate so drift hits
 * both. Bounded: a fixed number of rounds of fixed length, loopback only.
 *
 * <p>Run (after {@code mvn -B -q test-compile} and writing the test classpath to target/cp.txt):
 * {@code java -cp target/test-classes:target/classes:$(cat target/cp.txt) com.mingus.reliability.plaid.PlaidClientLoad [seconds] [inflight] [rounds]}
 */
public final class PlaidClientLoad {
  private static final String CLIENT_ID = "load-client";
  private static final String SECRET = "load-secret-0123456789abcdef";

  private static final com.sun.management.OperatingSystemMXBean PROCESS =
      (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  private PlaidClientLoad() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int inflight = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    Vertx vertx = Vertx.vertx();
    try {
      SandboxVerticle sandbox = new SandboxVerticle();
      JsonObject unlimited = new JsonObject().put("per_minute", 100_000_000).put("per_item_per_minute", 100_000_000);
      await(vertx.deployVerticle(sandbox, new DeploymentOptions().setConfig(new JsonObject().put("port", 0).put("seed", 42)
          .put("client_id", CLIENT_ID).put("secret", SECRET).put("today", "2026-11-27")
          .put("rate_limits", new JsonObject().put("/transactions/sync", unlimited)))));
      int port = sandbox.port();
      WebClient control = WebClient.create(vertx);
      JsonObject created = await(control.post(port, "127.0.0.1", "/__control/items")
          .sendJsonObject(new JsonObject().put("institution_id", "ins_109508").put("transactions", 500))).bodyAsJsonObject();

      PlaidClient ours = PlaidClient.create(vertx, new JsonObject().put("base_url", "http://127.0.0.1:" + port)
          .put("client_id", CLIENT_ID).put("secret", SECRET));
      String token = await(ours.exchangePublicToken(created.getString("public_token"))).accessToken();
      WebClient peer = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true).setKeepAliveTimeout(30),
          new PoolOptions().setHttp1MaxSize(16));
      JsonObject body = new JsonObject().put("access_token", token).put("count", 100);

      Supplier<Future<?>> oursCall = () -> ours.syncTransactions(token, null, 100);
      Supplier<Future<?>> peerCall = () -> peer.post(port, "127.0.0.1", "/transactions/sync")
          .putHeader("PLAID-CLIENT-ID", CLIENT_ID).putHeader("PLAID-SECRET", SECRET).putHeader("Plaid-Version", "2020-09-14")
          .sendJsonObject(body).map(response -> {
            if (response.statusCode() != 200) {
              throw new IllegalStateException("status " + response.statusCode());
            }
            return response.bodyAsJsonObject();
          });

      run(vertx, "warm-up ours", oursCall, seconds, inflight);
      run(vertx, "warm-up peer", peerCall, seconds, inflight);
      double oursRate = 0;
      double peerRate = 0;
      double oursCpu = 0;
      double peerCpu = 0;
      for (int round = 1; round <= rounds; round++) {
        // the order alternates too, so neither side always runs just after the other
        double[] ourRound;
        double[] peerRound;
        if (round % 2 == 1) {
          ourRound = run(vertx, "ours  round " + round, oursCall, seconds, inflight);
          peerRound = run(vertx, "peer  round " + round, peerCall, seconds, inflight);
        } else {
          peerRound = run(vertx, "peer  round " + round, peerCall, seconds, inflight);
          ourRound = run(vertx, "ours  round " + round, oursCall, seconds, inflight);
        }
        oursRate += ourRound[0];
        oursCpu += ourRound[1];
        peerRate += peerRound[0];
        peerCpu += peerRound[1];
      }
      System.out.printf(Locale.ROOT, "mean: ours %.0f req/s, peer %.0f req/s, throughput ratio ours/peer %.3f; "
          + "CPU ours %.1f us/req, peer %.1f us/req, CPU ratio ours/peer %.3f%n",
          oursRate / rounds, peerRate / rounds, oursRate / peerRate, oursCpu / rounds, peerCpu / rounds, oursCpu / peerCpu);
    } finally {
      await(vertx.close());
    }
  }

  /** Keeps {@code inflight} calls going for the given time; prints and returns completed calls per second. */
  private static double[] run(Vertx vertx, String label, Supplier<Future<?>> call, int seconds, int inflight) throws Exception {
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong latencyNanos = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Promise<Void> finished = Promise.promise();
    AtomicLong running = new AtomicLong(inflight);
    long started = System.nanoTime();
    long cpuStarted = PROCESS.getProcessCpuTime();
    // each lane runs on the event loop of a context of its own, one call after another
    for (int lane = 0; lane < inflight; lane++) {
      vertx.runOnContext(v -> lane(call, end, done, failed, latencyNanos, running, finished));
    }
    await(finished.future());
    double elapsed = (System.nanoTime() - started) / 1e9;
    double cpuMicros = (PROCESS.getProcessCpuTime() - cpuStarted) / 1e3;
    double rate = done.get() / elapsed;
    double cpuPerRequest = done.get() == 0 ? 0.0 : cpuMicros / done.get();
    System.out.printf(Locale.ROOT, "%-16s %8d ok %4d failed in %5.1f s: %8.0f req/s, mean latency %6.2f ms, process CPU %7.1f us/req%n",
        label, done.get(), failed.get(), elapsed, rate, done.get() == 0 ? 0.0 : latencyNanos.get() / 1e6 / done.get(),
        cpuPerRequest);
    return new double[] {rate, cpuPerRequest};
  }

  private static void lane(Supplier<Future<?>> call, long end, AtomicLong done, AtomicLong failed, AtomicLong latency,
      AtomicLong running, Promise<Void> finished) {
    if (System.nanoTime() >= end) {
      if (running.decrementAndGet() == 0) {
        finished.complete();
      }
      return;
    }
    long started = System.nanoTime();
    call.get().onComplete(result -> {
      if (result.succeeded()) {
        done.incrementAndGet();
        latency.addAndGet(System.nanoTime() - started);
      } else {
        failed.incrementAndGet();
      }
      lane(call, end, done, failed, latency, running, finished);
    });
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
