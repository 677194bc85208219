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

  /**
   * Hands a command to a live consumer, at least once (docs/cluster.md, "What crosses the bus"): first to
   * this node's own consumer ({@code localOnly}), so work this node accepted never travels to a node that
   * may die with it; then, while the failure says nothing about the command (nobody listening here, the
   * connection to another node failed, and, when {@code idempotent}, no answer in time), to any node,
   * again and again with a growing pause until {@code totalMs} has passed. The receiver must treat a repeat
   * as the same command (a dedupe key, a coalescing update) whenever {@code idempotent} is set; without
   * it, only a command that surely reached nobody is sent again.
   */
  public static <T> Future<T> handOff(Vertx vertx, String address, Object body, long attemptTimeoutMs, long totalMs,
      boolean idempotent) {
    long deadline = System.nanoTime() + totalMs * 1_000_000;
    return handOff(vertx, address, body, attemptTimeoutMs, deadline, idempotent, 0);
  }

  private static <T> Future<T> handOff(Vertx vertx, String address, Object body, long attemptTimeoutMs, long deadline,
      boolean idempotent, int attempt) {
    long leftMs = (deadline - System.nanoTime()) / 1_000_000;
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(Math.max(1, Math.min(attemptTimeoutMs, leftMs)))
        .setLocalOnly(attempt == 0 && vertx.isClustered());
    return vertx.eventBus().<T>request(address, body, options).map(Message::body).recover(failure -> {
      BusFailure typed = BusFailure.of(failure);
      boolean again = typed.kind() == BusFailure.Kind.NO_HANDLERS || typed.kind() == BusFailure.Kind.ERROR
          || (idempotent && typed.kind() == BusFailure.Kind.TIMEOUT);
      long pauseMs = attempt == 0 ? 0 : Math.min(1_000, 50L << Math.min(attempt, 5));
      if (!again || (deadline - System.nanoTime()) / 1_000_000 <= pauseMs) {
        return Future.failedFuture(new BusException(typed));
      }
      if (pauseMs == 0) {
        return handOff(vertx, address, body, attemptTimeoutMs, deadline, idempotent, attempt + 1);
      }
      return io.vertx.core.Future.<Void>future(p -> vertx.setTimer(pauseMs, id -> p.complete()))
          .compose(v -> handOff(vertx, address, body, attemptTimeoutMs, deadline, idempotent, attempt + 1));
    });
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
