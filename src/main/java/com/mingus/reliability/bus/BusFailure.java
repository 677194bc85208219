package com.mingus.reliability.bus;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * A failed bus request, typed. Infrastructure failures (nobody listening, no answer in time) are told
 * apart from a recipient's deliberate failure, which carries one of {@link FailureCodes}.
 */
public record BusFailure(Kind kind, int code, String message) {

  public enum Kind {
    /** No answer within the send timeout. */
    TIMEOUT,
    /** No consumer registered at the address. */
    NO_HANDLERS,
    /** The recipient answered with {@code fail(code, message)}. */
    RECIPIENT_FAILURE,
    /** Anything else: a local error before or after the send. */
    ERROR
  }

  /** The one place where a {@link ReplyException} (or any other throwable) becomes a typed failure. */
  public static BusFailure of(Throwable failure) {
    if (failure instanceof ReplyException reply) {
      ReplyFailure type = reply.failureType();
      String text = reply.getMessage() == null ? type.name() : reply.getMessage();
      return switch (type) {
        case TIMEOUT -> new BusFailure(Kind.TIMEOUT, FailureCodes.UNAVAILABLE, text);
        case NO_HANDLERS -> new BusFailure(Kind.NO_HANDLERS, FailureCodes.UNAVAILABLE, text);
        case RECIPIENT_FAILURE -> new BusFailure(Kind.RECIPIENT_FAILURE, reply.failureCode(), text);
        default -> new BusFailure(Kind.ERROR, FailureCodes.INTERNAL, text);
      };
    }
    String text = failure == null || failure.getMessage() == null ? "unknown failure" : failure.getMessage();
    return new BusFailure(Kind.ERROR, FailureCodes.INTERNAL, text);
  }

  /** True when the failure says nothing about the request itself: the recipient was absent or slow. */
  public boolean infrastructure() {
    return kind == Kind.TIMEOUT || kind == Kind.NO_HANDLERS;
  }
}
