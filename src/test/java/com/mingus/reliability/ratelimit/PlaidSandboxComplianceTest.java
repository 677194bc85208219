package com.mingus.reliability.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.RateLimitReport;
import com.mingus.reliability.bus.RateLimitReportReply;
import com.mingus.reliability.bus.RateLimitStatus;
import com.mingus.reliability.bus.RateLimitStatusRequest;
import com.mingus.reliability.config.ConfigLoader;
import com.mingus.reliability.sandbox.SandboxVerticle;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The limiter against the Plaid sandbox, which enforces the same per-minute limits, counted in fixed
 * windows on its own clock or in sliding windows (Plaid does not say which it uses); a rejected call does
 * not count. A 2-second "minute" on both sides. The callers here do what
 * the sync verticle does: ask for a permit (waiting), call Plaid with raw POSTs carrying the configured
 * credentials, and on a 429 report it and ask again, so no call is ever dropped.
 */
@ExtendWith(VertxExtension.class)
class PlaidSandboxComplianceTest {
  private static final Logger log = LoggerFactory.getLogger(PlaidSandboxComplianceTest.class);
  private static final String ENDPOINT = "/accounts/get";
  private static final long WINDOW_MS = 2_000;
  private static final int BUDGET = 40;
  private static final int ITEMS = 8;

  private JsonObject credentials;
  private WebClient http;
  private int sandboxPort;
  private final List<String> tokens = new ArrayList<>();

  @BeforeEach
  void startSandbox(Vertx vertx) throws Exception {
    MessageCodecs.register(vertx.eventBus());
    credentials = ConfigLoader.bundledDefaults().getJsonObject("sandbox");
    SandboxVerticle sandbox = new SandboxVerticle();
    JsonObject config = credentials.copy().put("port", 0).put("host", "127.0.0.1")
        .put("default_transactions", 0).put("rate_limit_window_ms", WINDOW_MS);
    await(vertx.deployVerticle(sandbox, new DeploymentOptions().setConfig(config)));
    sandboxPort = sandbox.port();
    http = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(sandboxPort)
        .setKeepAlive(true).setTcpNoDelay(true), new PoolOptions().setHttp1MaxSize(64));
    for (int i = 0; i < ITEMS; i++) {
      JsonObject created = await(http.post("/__control/items")
          .sendJsonObject(new JsonObject().put("institution_id", "ins_109508").put("transactions", 0))).bodyAsJsonObject();
      JsonObject exchanged = await(plaid("/item/public_token/exchange",
          new JsonObject().put("public_token", created.getString("public_token")))).bodyAsJsonObject();
      tokens.add(exchanged.getString("access_token"));
    }
    // open the connections before the run, as a long-running client has them: a burst that must first
    // connect reaches Plaid spread over far more than the margin
    List<Future<HttpResponse<Buffer>>> warm = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      warm.add(http.get("/__control/rate-limits").send());
    }
    await(Future.all(warm));
  }

  private Future<HttpResponse<Buffer>> plaid(String path, JsonObject body) {
    return http.request(HttpMethod.POST, path)
        .putHeader("PLAID-CLIENT-ID", credentials.getString("client_id"))
        .putHeader("PLAID-SECRET", credentials.getString("secret"))
        .putHeader("Plaid-Version", "2020-09-14")
        .sendJsonObject(body);
  }

  private void sandboxLimit(int perMinute, String windowKind) throws Exception {
    await(http.put("/__control/rate-limits").sendJsonObject(new JsonObject()
        .put("window_ms", WINDOW_MS)
        .put("window_kind", windowKind)
        .put(ENDPOINT, new JsonObject().put("per_minute", perMinute).putNull("per_item_per_minute"))));
    await(http.delete("/__control/stats").send());
  }

  private static void deployLimiter(Vertx vertx) throws Exception {
    JsonObject config = new JsonObject()
        .put("window_scale", WINDOW_MS / 60_000.0)
        // 150 ms once scaled: a test machine shared by several builds delays a caller by tens of ms between
        // its permit and its POST, which the margin must cover (production: 1 s of 60 s)
        .put("margin_ms", 4_500)
        .put("max_wait_ms", 30_000)
        .put("plaid", new JsonObject().put("rate_limits", new JsonObject()
            .put(ENDPOINT, new JsonObject().put("per_minute", BUDGET))));
    await(vertx.deployVerticle(RateLimitVerticle::new, new DeploymentOptions().setConfig(config).setInstances(2)));
  }

  /** What one caller saw: successes, and when (ms after the start) each 429 came. */
  private static final class Tally {
    final long start = System.currentTimeMillis();
    final AtomicInteger ok = new AtomicInteger();
    final List<Long> rejectedAt = Collections.synchronizedList(new ArrayList<>());
    final List<Long> sentAt = Collections.synchronizedList(new ArrayList<>());

    /** The most calls sent in any interval of one window, wherever it starts: a sliding server's count. */
    int busiestWindow() {
      List<Long> sent = new ArrayList<>(sentAt);
      Collections.sort(sent);
      int most = 0;
      int j = 0;
      for (int i = 0; i < sent.size(); i++) {
        while (j < sent.size() && sent.get(j) < sent.get(i) + WINDOW_MS) {
          j++;
        }
        most = Math.max(most, j - i);
      }
      return most;
    }
  }

  /** One call that must happen: permit, POST, and on a 429 a report and another permit. */
  private Future<Void> call(Vertx vertx, String token, Tally tally) {
    String item = "item-" + token.hashCode();
    return Bus.<PermitReply>request(vertx, Addresses.RATELIMIT_ACQUIRE,
            new PermitRequest(ENDPOINT, item, PermitPriority.PERIODIC, 30_000), 35_000)
        .compose(permit -> {
          if (!permit.granted()) {
            return Future.failedFuture("no permit within 30 s: " + permit);
          }
          tally.sentAt.add(System.currentTimeMillis());
          return plaid(ENDPOINT, new JsonObject().put("access_token", token));
        })
        .compose(response -> {
          if (response.statusCode() == 200) {
            tally.ok.incrementAndGet();
            return Future.succeededFuture();
          }
          if (response.statusCode() == 429) {
            tally.rejectedAt.add(System.currentTimeMillis() - tally.start);
            JsonObject error = response.bodyAsJsonObject();
            return Bus.<RateLimitReportReply>request(vertx, Addresses.RATELIMIT_REPORT,
                    new RateLimitReport(ENDPOINT, item, error.getString("error_code"), response.getHeader("Retry-After")), 2_000)
                .compose(reported -> call(vertx, token, tally));
          }
          return Future.failedFuture("sandbox answered " + response.statusCode() + ": " + response.bodyAsString());
        });
  }

  @ParameterizedTest(name = "{0} windows")
  @ValueSource(strings = {"fixed", "sliding"})
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  void fiveTimesTheBudgetForThreeWindowsUsesTheWholeBudgetWithoutOne429(String windowKind, Vertx vertx, VertxTestContext test)
      throws Exception {
    sandboxLimit(BUDGET, windowKind);
    deployLimiter(vertx);
    Tally tally = new Tally();
    Context caller = vertx.getOrCreateContext();
    int windows = 3;
    long arrivalEveryMs = WINDOW_MS / (5 * BUDGET);
    caller.runOnContext(v -> {
      AtomicInteger arrivals = new AtomicInteger();
      vertx.setPeriodic(arrivalEveryMs, timer -> {
        if (arrivals.get() >= 5 * BUDGET * windows) {
          vertx.cancelTimer(timer);
          return;
        }
        // calls still waiting when the run ends are cut off by the undeploy below, not lost to Plaid
        call(vertx, tokens.get(arrivals.getAndIncrement() % ITEMS), tally);
      });
    });
    vertx.timer(windows * WINDOW_MS)
        .compose(done -> http.get("/__control/stats").send())
        .onComplete(test.succeeding(response -> test.verify(() -> {
          JsonObject stats = response.bodyAsJsonObject().getJsonObject("endpoints").getJsonObject(ENDPOINT);
          long served = stats.getLong("requests") - stats.getLong("rate_limited");
          double used = (double) served / (BUDGET * windows);
          log.info("Compliance ({} windows) at 5x offered load: {} served in {} windows of {} ms, budget {} per window: {}% used, {} 429s",
              windowKind, served, windows, WINDOW_MS, BUDGET, Math.round(used * 1000) / 10.0, stats.getLong("rate_limited"));
          assertThat(stats.getLong("rate_limited")).isZero();
          assertThat(tally.rejectedAt).isEmpty();
          assertThat(tally.busiestWindow()).as("calls in any %d ms", WINDOW_MS).isLessThanOrEqualTo(BUDGET);
          assertThat(used).isGreaterThanOrEqualTo(0.98).isLessThanOrEqualTo(1.0);
          test.completeNow();
        })));
  }

  @ParameterizedTest(name = "{0} windows")
  @ValueSource(strings = {"fixed", "sliding"})
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  void aSandboxLimitTwentyPercentUnderOursIsLearnedInTheFirstWindowAndNoCallIsLost(String windowKind, Vertx vertx,
      VertxTestContext test) throws Exception {
    int actual = BUDGET * 8 / 10;
    sandboxLimit(actual, windowKind);
    deployLimiter(vertx);
    // start just after a window of the sandbox's clock begins, so "the first window" is one for both sides
    long now = System.currentTimeMillis();
    await(vertx.timer(WINDOW_MS - now % WINDOW_MS + 20));
    Tally tally = new Tally();
    int calls = 3 * BUDGET;
    Context caller = vertx.getOrCreateContext();
    Promise<Void> all = Promise.promise();
    // as many workers as the budget, each making calls one after the other, as the sync verticle's bounded
    // concurrency does: 120 calls started at once would only measure this test's own event loop backlog
    AtomicInteger next = new AtomicInteger();
    caller.runOnContext(v -> {
      List<Future<Void>> workers = new ArrayList<>();
      for (int w = 0; w < BUDGET; w++) {
        workers.add(worker(vertx, next, calls, tally));
      }
      Future.all(workers).<Void>mapEmpty().onComplete(all);
    });
    all.future()
        .compose(done -> Bus.<RateLimitStatus>request(vertx, Addresses.RATELIMIT_STATUS,
            new RateLimitStatusRequest(ENDPOINT, null), 2_000))
        .onComplete(test.succeeding(status -> test.verify(() -> {
          long elapsed = System.currentTimeMillis() - tally.start;
          JsonObject minute = status.body().getJsonObject("endpoints").getJsonObject(ENDPOINT)
              .getJsonArray("windows").getJsonObject(0);
          log.info("Learning ({} windows): {} calls done in {} ms; 429s at {} ms; effective budget {} (configured {}, sandbox {})",
              windowKind, tally.ok.get(), elapsed, tally.rejectedAt, minute.getInteger("effective"), BUDGET, actual);
          assertThat(tally.ok.get()).as("every call eventually served").isEqualTo(calls);
          assertThat(tally.rejectedAt).isNotEmpty().allMatch(at -> at < WINDOW_MS);
          assertThat(minute.getInteger("effective")).isEqualTo(actual);
          test.completeNow();
        })));
  }

  /** Makes calls until {@code calls} have been taken, one at a time. */
  private Future<Void> worker(Vertx vertx, AtomicInteger next, int calls, Tally tally) {
    int index = next.getAndIncrement();
    if (index >= calls) {
      return Future.succeededFuture();
    }
    return call(vertx, tokens.get(index % ITEMS), tally).compose(done -> worker(vertx, next, calls, tally));
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
