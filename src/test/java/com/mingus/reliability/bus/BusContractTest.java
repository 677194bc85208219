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
}
