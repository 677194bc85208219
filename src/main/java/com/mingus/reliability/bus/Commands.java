package com.mingus.reliability.bus;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/**
 * Answering commands the same way in every verticle. The body is read first ({@link Body}): one that is not
 * what the address takes fails with {@link FailureCodes#INVALID_REQUEST}, and so does a handler that throws
 * {@link IllegalArgumentException}; a {@link CommandFailure} (thrown, or the failure of the handler's future)
 * fails with its own code; anything else goes through the verticle's own mapping ({@code otherwise}).
 */
public final class Commands {
  private Commands() {}

  /** A deliberate failure of a command, with its bus failure code and a message a person can read. */
  public static class CommandFailure extends RuntimeException {
    private final int code;

    public CommandFailure(int code, String message) {
      super(message, null, false, false);
      this.code = code;
    }

    public int code() {
      return code;
    }

    public static CommandFailure notFound(String message) {
      return new CommandFailure(FailureCodes.NOT_FOUND, message);
    }
  }

  /**
   * How a command's body is read. {@link #read} throws {@link IllegalArgumentException}, with a message for the
   * caller, when the body is not one the address takes.
   */
  @FunctionalInterface
  public interface Body<T> {
    T read(Object raw);

    /** A JSON object; no body at all reads as an empty one. */
    static Body<JsonObject> json() {
      return raw -> {
        if (raw == null) {
          return new JsonObject();
        }
        if (raw instanceof JsonObject json) {
          return json;
        }
        throw new IllegalArgumentException("the request body must be a JSON object");
      };
    }

    /**
     * A message record of this package: passed as itself by a local send, decoded by {@link MessageCodecs} when
     * it comes from another node.
     */
    static <T> Body<T> of(Class<T> type) {
      return raw -> {
        if (type.isInstance(raw)) {
          return type.cast(raw);
        }
        throw new IllegalArgumentException("expected a " + type.getSimpleName());
      };
    }

    /** A message record, or its JSON (from a caller at the edge), read with {@code fromJson}. */
    static <T> Body<T> of(Class<T> type, Function<JsonObject, T> fromJson) {
      return raw -> {
        if (type.isInstance(raw)) {
          return type.cast(raw);
        }
        if (!(raw instanceof JsonObject json)) {
          throw new IllegalArgumentException("expected a " + type.getSimpleName() + " or its JSON");
        }
        try {
          return fromJson.apply(json);
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
          throw new IllegalArgumentException("invalid " + type.getSimpleName() + ": " + e.getMessage());
        }
      };
    }
  }

  /**
   * Registers a consumer that hands each JSON body to the handler and replies with its result.
   * {@code otherwise} turns an unexpected failure into the CommandFailure to answer with.
   */
  public static Future<Void> answer(Vertx vertx, String address, Function<JsonObject, Future<?>> handler,
      Function<Throwable, CommandFailure> otherwise) {
    return answer(vertx, address, Body.json(), handler, otherwise);
  }

  /** Registers a consumer that reads each body as {@code body} says, hands it to the handler and replies with its result. */
  public static <T> Future<Void> answer(Vertx vertx, String address, Body<T> body, Function<T, Future<?>> handler,
      Function<Throwable, CommandFailure> otherwise) {
    return vertx.eventBus().<Object>consumer(address, answering(body, handler, otherwise)).completion();
  }

  /** As {@link #answer(Vertx, String, Body, Function, Function)}, for this node's senders only. */
  public static <T> Future<Void> answerLocal(Vertx vertx, String address, Body<T> body, Function<T, Future<?>> handler,
      Function<Throwable, CommandFailure> otherwise) {
    return vertx.eventBus().<Object>localConsumer(address, answering(body, handler, otherwise)).completion();
  }

  /** The message handler itself, for a consumer its owner registers and unregisters on its own. */
  public static <T> Handler<Message<Object>> answering(Body<T> body, Function<T, Future<?>> handler,
      Function<Throwable, CommandFailure> otherwise) {
    return message -> {
      Future<?> answer;
      try {
        answer = handler.apply(body.read(message.body()));
      } catch (IllegalArgumentException e) {
        message.fail(FailureCodes.INVALID_REQUEST, e.getMessage());
        return;
      } catch (RuntimeException e) {
        fail(message, e, otherwise);
        return;
      }
      answer.onSuccess(message::reply).onFailure(failure -> fail(message, failure, otherwise));
    };
  }

  private static void fail(Message<Object> message, Throwable failure, Function<Throwable, CommandFailure> otherwise) {
    CommandFailure typed = failure instanceof CommandFailure command ? command : otherwise.apply(failure);
    message.fail(typed.code(), typed.getMessage());
  }

  /** A text field that must be present: non-blank, at most 256 characters. */
  public static String required(JsonObject body, String key) {
    Object value = body.getValue(key);
    if (!(value instanceof String text) || text.isBlank()) {
      throw new IllegalArgumentException(key + " is required");
    }
    if (text.length() > 256) {
      throw new IllegalArgumentException(key + " is too long");
    }
    return text;
  }

  /** A text field that may be absent (null), but is non-blank and at most 256 characters when present. */
  public static String optional(JsonObject body, String key) {
    return body.getValue(key) == null ? null : required(body, key);
  }
}
