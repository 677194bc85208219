package com.mingus.reliability.plaid;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.testsupport.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A gated call (the gate is a rate-limit permit) asks its gate only once its connection to Plaid is ready,
 * goes the moment the gate opens, and writes nothing when the gate refuses or opens too late. Here the one
 * connection is busy with a slow answer.
 */
class PlaidClientSendByTest {
  private static final String TOKEN = PlaidClientFailuresTest.TOKEN;
  private static final JsonObject ITEM = new JsonObject()
      .put("item", new JsonObject().put("item_id", "item-1").put("institution_id", "ins_1").put("error", (Object) null)
          .put("webhook", "https://example.test/hook").put("available_products", new JsonArray())
          .put("billed_products", new JsonArray().add("transactions")))
      .put("status", new JsonObject())
      .put("request_id", "req-item");

  private Vertx vertx;
  private ScriptedPlaid server;
  private PlaidClient client;
  private SimpleMeterRegistry registry;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    server = Await.result(ScriptedPlaid.start(vertx));
    // a slow bank: every answer takes 700 ms
    server.on("/item/get", (request, body) -> vertx.setTimer(700, t -> request.response().setStatusCode(200)
        .putHeader("Content-Type", "application/json").end(ITEM.encode())));
    registry = new SimpleMeterRegistry();
    JsonObject config = PlaidClientFailuresTest.config(server.baseUrl()).put("max_connections", 1);
    client = new PlaidClient(vertx, PlaidConfig.fromJson(config), registry);
  }

  @AfterEach
  void stop() {
    client.close();
    Await.result(vertx.close());
  }

  @Test
  void theGateIsAskedOnlyOnceTheConnectionIsFreeAndTheCallGoesWhenItOpens() {
    long begin = System.nanoTime();
    AtomicLong gateAskedAt = new AtomicLong();
    Future<ItemGetResult> first = onContext(() -> client.getItem(TOKEN));
    Future<ItemGetResult> second = onContext(() -> client.gated(() -> {
      gateAskedAt.set(System.nanoTime());
      return Future.succeededFuture(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200));
    }).getItem(TOKEN));

    assertThat(Await.result(first, Duration.ofSeconds(10)).item().itemId()).isEqualTo("item-1");
    assertThat(Await.result(second, Duration.ofSeconds(10)).item().itemId()).isEqualTo("item-1");
    // no permit is spent while the call waits 700 ms for the only connection
    assertThat(TimeUnit.NANOSECONDS.toMillis(gateAskedAt.get() - begin)).isGreaterThanOrEqualTo(600);
    assertThat(server.received()).hasSize(2);
    assertThat(server.last().headers().names()).noneMatch(name -> name.toLowerCase().startsWith("x-mingus"));
  }

  @Test
  void aRefusingGateSendsNothingAndTheCallFailsWithTheGatesOwnFailure() {
    IllegalStateException noPermit = new IllegalStateException("no permit (client_minute)");
    Throwable failure = failureOf(onContext(() -> client.gated(() -> Future.failedFuture(noPermit)).getItem(TOKEN)));
    assertThat(failure).isSameAs(noPermit);
    assertThat(server.received()).as("what reached Plaid").isEmpty();
    assertThat(registry.find("plaid.requests").tag("outcome", "not_sent").timer().count()).isEqualTo(1);

    // the client is still whole: the next call goes
    assertThat(Await.result(onContext(() -> client.getItem(TOKEN)), Duration.ofSeconds(10)).item().itemId())
        .isEqualTo("item-1");
    assertThat(server.received()).hasSize(1);
    assertThat(server.connectionsOpened()).as("connections opened: the refused call's one is used again").isEqualTo(1);
  }

  @Test
  void aGateThatOpensTooLateSendsNothing() {
    // the permit comes, but only after the time it allowed for sending (an event loop stalled in between)
    Throwable failure = failureOf(onContext(() -> client.gated(() -> {
      Promise<Long> late = Promise.promise();
      long sendBy = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
      vertx.setTimer(300, t -> late.complete(sendBy));
      return late.future();
    }).getItem(TOKEN)));
    assertThat(failure).isInstanceOf(PlaidClient.NotSentInTime.class).hasMessageContaining("/item/get")
        .hasMessageNotContaining(TOKEN);
    assertThat(server.received()).as("what reached Plaid").isEmpty();
    assertThat(registry.find("plaid.requests").tag("outcome", "not_sent").timer().count()).isEqualTo(1);
  }

  private static Throwable failureOf(Future<?> future) {
    return Await.result(future.<Throwable>transform(done -> done.failed() ? Future.succeededFuture(done.cause())
        : Future.failedFuture(new AssertionError("the call was sent"))), Duration.ofSeconds(10));
  }

  /** Calls are made on an event loop, as verticles make them. */
  private <T> Future<T> onContext(Supplier<Future<T>> call) {
    Promise<T> promise = Promise.promise();
    vertx.runOnContext(v -> call.get().onComplete(promise));
    return promise.future();
  }
}
