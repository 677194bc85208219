package com.mingus.reliability.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.RateLimitStatus;
import com.mingus.reliability.bus.RateLimitStatusRequest;
import com.mingus.reliability.testsupport.Await;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A permit request asked again under the same {@code request_id} (a forwarder whose earlier attempt went
 * unanswered) spends one permit, not two: the owner answers with the permit it gave, or lets the new
 * attempt take the earlier one's place in the queue.
 */
class PermitRequestIdTest {
  private static final String ACCOUNTS = "/accounts/get";
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    MessageCodecs.register(vertx.eventBus());
  }

  @AfterEach
  void stop() {
    Await.result(vertx.close());
  }

  private void deploy(double windowScale, long marginMs, int perMinute) {
    JsonObject config = new JsonObject().put("window_scale", windowScale).put("margin_ms", marginMs)
        .put("max_wait_ms", 20_000)
        .put("plaid", new JsonObject().put("rate_limits", new JsonObject()
            .put(ACCOUNTS, new JsonObject().put("per_minute", perMinute))));
    Await.result(vertx.deployVerticle(RateLimitVerticle::new, new DeploymentOptions().setConfig(config)));
  }

  private Future<PermitReply> acquire(String requestId, long waitMs, long sendTimeoutMs) {
    PermitRequest request = new PermitRequest(ACCOUNTS, null, PermitPriority.MANUAL, waitMs, requestId);
    return Bus.request(vertx, Addresses.RATELIMIT_ACQUIRE, request, sendTimeoutMs);
  }

  private int used() {
    RateLimitStatus status = Await.result(Bus.request(vertx, Addresses.RATELIMIT_STATUS,
        new RateLimitStatusRequest(ACCOUNTS, null), 2_000));
    return status.body().getJsonObject("endpoints").getJsonObject(ACCOUNTS).getJsonArray("windows")
        .getJsonObject(0).getInteger("used");
  }

  @Test
  void theRequestIdCrossesTheWireAndABadOneIsRefused() {
    PermitRequest named = new PermitRequest(ACCOUNTS, "item-1", PermitPriority.WEBHOOK, 500, "call-9");
    assertThat(PermitRequest.fromJson(named.toJson())).isEqualTo(named);
    assertThat(named.withWait(20).requestId()).isEqualTo("call-9");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> PermitRequest.fromJson(named.toJson().put("request_id", 7)))
        .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> named.withRequestId(" "))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aGrantedRequestAskedAgainGetsTheSamePermitAndSpendsNoOther() {
    // a real minute with a 4 s margin: a grant may still be sent for 2 s
    deploy(1.0, 4_000, 2);
    PermitReply first = Await.result(acquire("call-1", 0, 2_000));
    PermitReply again = Await.result(acquire("call-1", 0, 2_000));
    assertThat(first.granted()).isTrue();
    assertThat(again.granted()).as("the same call asked again").isTrue();
    assertThat(again.validMs()).as("what is left of the first permit's time to send").isBetween(1L, first.validMs());
    assertThat(used()).as("permits spent on one call").isEqualTo(1);

    assertThat(Await.result(acquire("call-2", 0, 2_000)).granted()).as("another call takes the second permit").isTrue();
    PermitReply third = Await.result(acquire("call-3", 0, 2_000));
    assertThat(third.granted()).as("the minute is spent by two calls, not by one call twice").isFalse();
    assertThat(third.blockedBy()).isEqualTo("client_minute");
    assertThat(Await.result(acquire(null, 0, 2_000)).granted()).as("an unnamed request is decided as before").isFalse();
  }

  @Test
  void aWaitingRequestAskedAgainTakesItsOwnPlaceInTheQueueAndIsGrantedOnce() {
    // a 3 s minute: one permit, spent at once; the named call then waits for the minute to free
    deploy(0.05, 1_000, 1);
    long spentAt = System.nanoTime();
    assertThat(Await.result(acquire("filler", 0, 2_000)).granted()).isTrue();
    Future<PermitReply> abandoned = acquire("call-w", 20_000, 150);
    Await.until(abandoned::failed, Duration.ofSeconds(5), "the first attempt's caller stops listening");
    PermitReply granted = Await.result(acquire("call-w", 20_000, 25_000), Duration.ofSeconds(30));
    long afterMs = (System.nanoTime() - spentAt) / 1_000_000;
    assertThat(granted.granted()).as("the second attempt is answered with the permit the first one waited for").isTrue();
    // an abandoned attempt left in the queue would take the freed permit, and this one the minute after (6 s)
    assertThat(afterMs).as("granted when the first minute frees, not the next").isLessThan(5_000);
    assertThat(used()).as("permits spent in the new minute").isEqualTo(1);
    PermitReply next = Await.result(acquire("call-x", 0, 2_000));
    assertThat(next.granted()).as("the new minute's one permit went to the named call, once").isFalse();
  }
}
