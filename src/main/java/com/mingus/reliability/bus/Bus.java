package com.mingus.reliability.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.function.Supplier;

/** Small helpers for requests and replies, so every caller treats timeouts and failures the same way. */
public final class Bus {
  private Bus() {}

  /** Sends a command and returns its reply body, or fails with a {@link BusException}. */
  public static <T> Future<T> request(Vertx vertx, String address, Object body, long timeoutMs) {
    return vertx.eventBus()
        .<T>request(address, body, new DeliveryOptions().setSendTimeout(timeoutMs))
        .map(Message::body)
        .recover(failure -> Future.failedFuture(new BusException(BusFailure.of(failure))));
  }

  /** Answers {@code <component>.ping} with the result of the given check (or simply "up"). */
  public static MessageConsumer<Object> answerPing(Vertx vertx, String component, Supplier<Future<PingReply>> check) {
    return vertx.eventBus().consumer(Addresses.ping(component), message -> check.get()
        .onSuccess(message::reply)
        .onFailure(failure -> message.reply(PingReply.down(component, String.valueOf(failure.getMessage())))));
  }

  /** A failed bus request whose cause is already typed. */
  public static final class BusException extends RuntimeException {
    private final BusFailure failure;

    public BusException(BusFailure failure) {
      super(failure.message(), null, false, false);
      this.failure = failure;
    }

    public BusFailure failure() {
      return failure;
    }
  }
}
