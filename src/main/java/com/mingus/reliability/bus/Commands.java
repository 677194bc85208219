package com.mingus.reliability.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/**
 * Answering JSON commands the same way in every verticle: a body that is not a JSON object, or a handler
 * that throws {@link IllegalArgumentException}, fails with {@link FailureCodes#INVALID_REQUEST}; a
 * {@link CommandFailure} fails with its own code; anything else goes through the verticle's own mapping.
 */
public final class Commands {
  private Commands() {}

  /** A deliberate failure of a command, with its bus failure code and a message a person can read. */
  public static final class CommandFailure extends RuntimeException {
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
   * Registers a consumer that hands each JSON body to the handler and replies with its result.
   * {@code otherwise} turns an unexpected failure into the CommandFailure to answer with.
   */
  public static Future<Void> answer(Vertx vertx, String address, Function<JsonObject, Future<?>> handler,
      Function<Throwable, CommandFailure> otherwise) {
    return vertx.eventBus().<Object>consumer(address, message -> {
      Object raw = message.body();
      JsonObject body = raw instanceof JsonObject json ? json : raw == null ? new JsonObject() : null;
      if (body == null) {
        message.fail(FailureCodes.INVALID_REQUEST, "the request body must be a JSON object");
        return;
      }
      Future<?> answer;
      try {
        answer = handler.apply(body);
      } catch (IllegalArgumentException e) {
        message.fail(FailureCodes.INVALID_REQUEST, e.getMessage());
        return;
      } catch (CommandFailure e) {
        message.fail(e.code(), e.getMessage());
        return;
      }
      answer.onSuccess(message::reply).onFailure(failure -> {
        CommandFailure typed = failure instanceof CommandFailure command ? command : otherwise.apply(failure);
        message.fail(typed.code(), typed.getMessage());
      });
    }).completion();
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
