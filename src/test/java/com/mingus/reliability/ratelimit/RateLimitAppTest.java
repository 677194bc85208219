package com.mingus.reliability.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.RateLimitStatus;
import com.mingus.reliability.bus.RateLimitStatusRequest;
import com.mingus.reliability.testsupport.TestApp;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The limiter as the application deploys it: configured from conf/config.json, pinged, on /metrics. */
class RateLimitAppTest {
  private static Application app;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    app = TestApp.start(RateLimitAppTest.class);
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  private static String get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void theHealthEndpointSeesTheLimiterAnswerItsPing() throws Exception {
    JsonObject health = new JsonObject(get("/api/reliability/health"));
    assertThat(health.getJsonObject("checks").getJsonObject("ratelimit").getBoolean("healthy")).isTrue();
  }

  @Test
  void theSeedsBudgetsFromConfigAreInForceAndOnMetrics() throws Exception {
    PermitReply reply = await(Bus.request(app.vertx(), Addresses.RATELIMIT_ACQUIRE,
        PermitRequest.now("/accounts/balance/get", "item-1", PermitPriority.MANUAL), 2_000));
    assertThat(reply.granted()).isTrue();

    RateLimitStatus status = await(Bus.request(app.vertx(), Addresses.RATELIMIT_STATUS, RateLimitStatusRequest.all(), 2_000));
    JsonObject balance = status.body().getJsonObject("endpoints").getJsonObject("/accounts/balance/get");
    assertThat(balance.getJsonArray("windows").getJsonObject(0).getInteger("configured")).isEqualTo(100);
    assertThat(balance.getJsonArray("windows").getJsonObject(1).getInteger("configured")).isEqualTo(1_000);
    assertThat(balance.getJsonArray("windows").getJsonObject(1).getInteger("used")).isEqualTo(1);
    assertThat(status.body().getJsonObject("endpoints").getJsonObject("/transactions/get")
        .getJsonArray("windows").getJsonObject(1).getInteger("configured")).isEqualTo(800);

    String metrics = get("/metrics");
    assertThat(metrics).contains("mingus_ratelimit_budget{endpoint=\"/accounts/balance/get\",window=\"hour\"} 1000.0");
    assertThat(metrics).contains("mingus_ratelimit_budget{endpoint=\"/transactions/sync\",window=\"minute\"} 1000.0");
    assertThat(metrics).contains("mingus_ratelimit_remaining{endpoint=\"/transactions/get\",window=\"hour\"}");
  }
}
