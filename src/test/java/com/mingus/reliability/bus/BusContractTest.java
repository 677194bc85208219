package com.mingus.reliability.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class BusContractTest {

  @BeforeEach
  void registerCodec(Vertx vertx) {
    MessageCodecs.register(vertx.eventBus());
    MessageCodecs.register(vertx.eventBus());
  }

  @Test
  void aLocalSendPassesTheSameRecordWithoutCopying(Vertx vertx, VertxTestContext test) {
    PingReply sent = PingReply.up("x");
    AtomicReference<Object> received = new AtomicReference<>();
    vertx.eventBus().consumer("test.same", message -> {
      received.set(message.body());
      message.reply(PingReply.down("x", "because"));
    });
    Bus.<PingReply>request(vertx, "test.same", sent, 1_000).onComplete(test.succeeding(reply -> test.verify(() -> {
      assertThat(received.get()).isSameAs(sent);
      assertThat(reply).isEqualTo(PingReply.down("x", "because"));
      test.completeNow();
    })));
  }

  @Test
  void aRecordCrossesTheWireAsItsTypeAndJson() {
    MessageCodecs codec = new MessageCodecs();
    Buffer wire = Buffer.buffer().appendString("prefix");
    PingReply original = PingReply.down("db", "connection refused");
    codec.encodeToWire(wire, original);
    assertThat(codec.decodeFromWire("prefix".length(), wire)).isEqualTo(original);
  }

  @Test
  void aPeerCannotMakeTheCodecLoadAClassOutsideTheContract() {
    MessageCodecs codec = new MessageCodecs();
    Buffer wire = Buffer.buffer();
    byte[] type = "java.lang.Runtime".getBytes();
    Buffer json = new JsonObject().toBuffer();
    wire.appendInt(type.length).appendBytes(type).appendInt(json.length()).appendBuffer(json);
    assertThatThrownBy(() -> codec.decodeFromWire(0, wire)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void failuresAreTypedByKindThenCode(Vertx vertx, VertxTestContext test) {
    vertx.eventBus().consumer("test.fails", message -> message.fail(FailureCodes.NOT_FOUND, "no such connection"));
    vertx.eventBus().consumer("test.silent", message -> { });

    Future<BusFailure> recipient = Bus.request(vertx, "test.fails", new JsonObject(), 1_000)
        .map(ok -> (BusFailure) null).recover(f -> Future.succeededFuture(((Bus.BusException) f).failure()));
    Future<BusFailure> nobody = Bus.request(vertx, "test.nobody", new JsonObject(), 1_000)
        .map(ok -> (BusFailure) null).recover(f -> Future.succeededFuture(((Bus.BusException) f).failure()));
    Future<BusFailure> timeout = Bus.request(vertx, "test.silent", new JsonObject(), 100)
        .map(ok -> (BusFailure) null).recover(f -> Future.succeededFuture(((Bus.BusException) f).failure()));

    Future.all(recipient, nobody, timeout).onComplete(test.succeeding(all -> test.verify(() -> {
      assertThat(recipient.result().kind()).isEqualTo(BusFailure.Kind.RECIPIENT_FAILURE);
      assertThat(recipient.result().code()).isEqualTo(FailureCodes.NOT_FOUND);
      assertThat(recipient.result().message()).isEqualTo("no such connection");
      assertThat(recipient.result().infrastructure()).isFalse();
      assertThat(nobody.result().kind()).isEqualTo(BusFailure.Kind.NO_HANDLERS);
      assertThat(nobody.result().infrastructure()).isTrue();
      assertThat(timeout.result().kind()).isEqualTo(BusFailure.Kind.TIMEOUT);
      assertThat(timeout.result().code()).isEqualTo(FailureCodes.UNAVAILABLE);
      assertThat(BusFailure.of(new IllegalStateException("boom")).kind()).isEqualTo(BusFailure.Kind.ERROR);
      test.completeNow();
    })));
  }
  private static Future<BusFailure> failureOf(Future<?> request) {
    return request.map(ok -> (BusFailure) null).recover(f -> Future.succeededFuture(((Bus.BusException) f).failure()));
  }

  @Test
  void aTypedCommandAnswersItsRecordAndMapsEveryFailureOneWay(Vertx vertx, VertxTestContext test) {
    Future<Void> registered = Commands.answer(vertx, "test.typed", Commands.Body.of(PingReply.class, PingReply::fromJson),
        ping -> switch (ping.component()) {
          case "refused" -> Future.failedFuture(new Commands.CommandFailure(FailureCodes.CONFLICT, "already there"));
          case "thrown" -> throw new IllegalArgumentException("component is wrong");
          case "broken" -> Future.failedFuture(new IllegalStateException("a bug"));
          default -> Future.succeededFuture(PingReply.up(ping.component() + "!"));
        },
        failure -> new Commands.CommandFailure(FailureCodes.INTERNAL, "mapped: " + failure.getMessage()));
    registered.compose(ok -> {
      Future<PingReply> record = Bus.request(vertx, "test.typed", PingReply.up("x"), 1_000);
      Future<PingReply> json = Bus.request(vertx, "test.typed", PingReply.up("y").toJson(), 1_000);
      Future<BusFailure> wrongType = failureOf(Bus.request(vertx, "test.typed", "not a record", 1_000));
      Future<BusFailure> refused = failureOf(Bus.request(vertx, "test.typed", PingReply.up("refused"), 1_000));
      Future<BusFailure> thrown = failureOf(Bus.request(vertx, "test.typed", PingReply.up("thrown"), 1_000));
      Future<BusFailure> broken = failureOf(Bus.request(vertx, "test.typed", PingReply.up("broken"), 1_000));
      return Future.all(record, json, wrongType, refused, thrown, broken).onComplete(test.succeeding(all -> test.verify(() -> {
        assertThat(record.result()).isEqualTo(PingReply.up("x!"));
        assertThat(json.result()).isEqualTo(PingReply.up("y!"));
        assertThat(wrongType.result().kind()).isEqualTo(BusFailure.Kind.RECIPIENT_FAILURE);
        assertThat(wrongType.result().code()).isEqualTo(FailureCodes.INVALID_REQUEST);
        assertThat(wrongType.result().message()).isEqualTo("expected a PingReply or its JSON");
        assertThat(refused.result().code()).isEqualTo(FailureCodes.CONFLICT);
        assertThat(refused.result().message()).isEqualTo("already there");
        assertThat(thrown.result().code()).isEqualTo(FailureCodes.INVALID_REQUEST);
        assertThat(thrown.result().message()).isEqualTo("component is wrong");
        assertThat(broken.result().code()).isEqualTo(FailureCodes.INTERNAL);
        assertThat(broken.result().message()).isEqualTo("mapped: a bug");
        test.completeNow();
      })));
    });
  }

  @Test
  void aRecordOnlyCommandRefusesJsonAndAJsonCommandRefusesARecord(Vertx vertx, VertxTestContext test) {
    Future.all(
        Commands.answer(vertx, "test.record", Commands.Body.of(PingReply.class), Future::succeededFuture,
            failure -> new Commands.CommandFailure(FailureCodes.INTERNAL, "no")),
        Commands.answer(vertx, "test.json", body -> Future.succeededFuture(body.put("seen", true)),
            failure -> new Commands.CommandFailure(FailureCodes.INTERNAL, "no"))
    ).compose(ok -> {
      Future<BusFailure> json = failureOf(Bus.request(vertx, "test.record", new JsonObject(), 1_000));
      Future<BusFailure> record = failureOf(Bus.request(vertx, "test.json", PingReply.up("x"), 1_000));
      Future<JsonObject> empty = Bus.request(vertx, "test.json", null, 1_000);
      return Future.all(json, record, empty).onComplete(test.succeeding(all -> test.verify(() -> {
        assertThat(json.result().code()).isEqualTo(FailureCodes.INVALID_REQUEST);
        assertThat(json.result().message()).isEqualTo("expected a PingReply");
        assertThat(record.result().code()).isEqualTo(FailureCodes.INVALID_REQUEST);
        assertThat(record.result().message()).isEqualTo("the request body must be a JSON object");
        assertThat(empty.result()).isEqualTo(new JsonObject().put("seen", true));
        test.completeNow();
      })));
    });
  }
}
