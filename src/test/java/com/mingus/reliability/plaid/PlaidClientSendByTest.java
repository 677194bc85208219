package com.mingus.reliability.plaid;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.testsupport.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A call bound to a send-by time (a rate-limit permit's) that cannot start in time is kept off the wire:
 * here the one connection to Plaid is busy with a slow answer for longer than the permit stays good.
 */
class PlaidClientSendByTest {
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
  void aCallThatCannotStartBeforeItsSendByTimeIsNotSentAndTheConnectionStaysUsable() {
    Future<ItemGetResult> first = onContext(() -> client.getItem(PlaidClientFailuresTest.TOKEN));
    // queued behind the first for the only connection, with 100 ms to start
    Future<ItemGetResult> late = onContext(() -> client.sendBy(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100))
        .getItem(PlaidClientFailuresTest.TOKEN));

    assertThat(Await.result(first, Duration.ofSeconds(10)).item().itemId()).isEqualTo("item-1");
    Throwable failure = Await.result(late.<Throwable>transform(done -> done.failed() ? Future.succeededFuture(done.cause())
        : Future.failedFuture(new AssertionError("the late call was sent"))), Duration.ofSeconds(10));
    assertThat(failure).isInstanceOf(PlaidClient.NotSentInTime.class).hasMessageContaining("/item/get")
        .hasMessageNotContaining(PlaidClientFailuresTest.TOKEN);
    assertThat(server.received()).as("what reached Plaid").hasSize(1);

    // a call with time enough goes, on the same connection, and the carrier header never reaches the wire
    ItemGetResult third = Await.result(onContext(() -> client.sendBy(System.nanoTime() + TimeUnit.SECONDS.toNanos(5))
        .getItem(PlaidClientFailuresTest.TOKEN)), Duration.ofSeconds(10));
    assertThat(third.item().itemId()).isEqualTo("item-1");
    assertThat(server.received()).hasSize(2);
    assertThat(server.last().headers().names()).noneMatch(name -> name.toLowerCase().startsWith("x-mingus"));
    assertThat(server.connectionsOpened()).as("connections opened: the late call's one is used again").isEqualTo(1);

    assertThat(registry.find("plaid.requests").tag("outcome", "not_sent").timer()).isNotNull()
        .satisfies(timer -> assertThat(timer.count()).isEqualTo(1));
    assertThat(registry.find("plaid.requests").tag("outcome", "ok").timer().count()).isEqualTo(2);
  }

  /** Calls are made on an event loop, as verticles make them. */
  private <T> Future<T> onContext(java.util.function.Supplier<Future<T>> call) {
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    vertx.runOnContext(v -> call.get().onComplete(promise));
    return promise.future();
  }
}
