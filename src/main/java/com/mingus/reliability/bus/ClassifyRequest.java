package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * The body of {@code classify.error}: one failed Plaid call. The Plaid error object's own fields are taken
 * as they are ({@code error_type}, {@code error_code}, ...; also accepted nested under {@code "error"}, as
 * webhooks carry it), with the HTTP status and any Retry-After; or a transport failure with no answer; or
 * only the raw response {@code body}, which the classifier parses itself. The Plaid client's failure
 * record, in JSON, is accepted as it is (its fields at the top level or whole under {@code "failure"}).
 * {@code attempt} counts from 1 (the first try of this request failed).
 *
 * <p>{@link #fromJson} never throws: a field of the wrong type reads as absent, a bad {@code attempt} as 0,
 * and {@link #problem()} says what is wrong so the verticle can fail with INVALID_REQUEST.
 */
public record ClassifyRequest(
    String errorType,
    String errorCode,
    String errorCodeReason,
    String errorMessage,
    String displayMessage,
    String requestId,
    Integer httpStatus,
    Long retryAfterS,
    TransportFailure transport,
    String body,
    int attempt,
    String endpoint,
    String institutionId,
    String itemId,
    String connectionId) implements BusMessage {

  /** Longest text field kept from a request; the raw body has its own limit in the classifier's config. */
  public static final int MAX_FIELD_CHARS = 2_000;
  /** Longest raw body carried at all; the classifier reads at most its configured share of it. */
  public static final int MAX_BODY_CHARS = 1_000_000;

  /** A Plaid error answer: the error object's fields, its HTTP status and any Retry-After seconds. */
  public static ClassifyRequest plaidError(String errorType, String errorCode, String displayMessage, int httpStatus,
      Long retryAfterS, int attempt, String endpoint, String institutionId) {
    return new ClassifyRequest(errorType, errorCode, null, null, displayMessage, null, httpStatus, retryAfterS, null,
        null, attempt, endpoint, institutionId, null, null);
  }

  /** A transport failure: no Plaid answer. */
  public static ClassifyRequest transportFailure(TransportFailure transport, int attempt, String endpoint, String institutionId) {
    return new ClassifyRequest(null, null, null, null, null, null, null, null, transport, null, attempt, endpoint,
        institutionId, null, null);
  }

  /** Only the raw answer: the classifier parses the body itself. */
  public static ClassifyRequest rawAnswer(int httpStatus, String body, Long retryAfterS, int attempt, String endpoint,
      String institutionId) {
    return new ClassifyRequest(null, null, null, null, null, null, httpStatus, retryAfterS, null, body, attempt,
        endpoint, institutionId, null, null);
  }

  /** Null when the request can be classified; otherwise what is wrong with it, for a person. */
  public String problem() {
    if (attempt < 1) {
      return "attempt must be a whole number of at least 1";
    }
    if (errorType == null && errorCode == null && httpStatus == null && transport == null && body == null) {
      return "nothing to classify: give a Plaid error (error_type/error_code), an http_status, a transport kind or the body";
    }
    return null;
  }

  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    putIf(json, "error_type", errorType);
    putIf(json, "error_code", errorCode);
    putIf(json, "error_code_reason", errorCodeReason);
    putIf(json, "error_message", errorMessage);
    putIf(json, "display_message", displayMessage);
    putIf(json, "request_id", requestId);
    putIf(json, "http_status", httpStatus);
    putIf(json, "retry_after_s", retryAfterS);
    putIf(json, "transport", transport == null ? null : transport.name());
    putIf(json, "body", body);
    json.put("attempt", attempt);
    putIf(json, "endpoint", endpoint);
    putIf(json, "institution_id", institutionId);
    putIf(json, "item_id", itemId);
    putIf(json, "connection_id", connectionId);
    return json;
  }

  /** Lenient: never throws; see the class comment. */
  public static ClassifyRequest fromJson(JsonObject json) {
    if (json == null) {
      json = new JsonObject();
    }
    // the Plaid client's failure record may come whole under "failure"; a webhook's error object under "error"
    JsonObject failure = object(json.getValue("failure"));
    JsonObject error = object(json.getValue("error"));
    if (error.isEmpty()) {
      error = object(failure.getValue("error"));
    }
    JsonObject[] sources = {json, failure, error};
    Integer status = whole(first(sources, "http_status"), 100, 599);
    if (status == null) {
      status = whole(error.getValue("status"), 100, 599);
    }
    Long retryAfter = seconds(first(sources, "retry_after_s"));
    Long attemptNumber = exactWhole(json.getValue("attempt"));
    Integer attempt = attemptNumber == null || attemptNumber < 1 || attemptNumber > Integer.MAX_VALUE
        ? null : attemptNumber.intValue();
    return new ClassifyRequest(
        text(first(sources, "error_type"), MAX_FIELD_CHARS),
        text(first(sources, "error_code"), MAX_FIELD_CHARS),
        text(first(sources, "error_code_reason"), MAX_FIELD_CHARS),
        text(first(sources, "error_message"), MAX_FIELD_CHARS),
        text(first(sources, "display_message"), MAX_FIELD_CHARS),
        text(first(sources, "request_id"), MAX_FIELD_CHARS),
        status,
        retryAfter,
        transportOf(first(sources, "transport")),
        text(first(sources, "body"), MAX_BODY_CHARS),
        attempt == null ? 0 : attempt,
        text(first(sources, "endpoint"), MAX_FIELD_CHARS),
        text(json.getValue("institution_id"), MAX_FIELD_CHARS),
        text(json.getValue("item_id"), MAX_FIELD_CHARS),
        text(json.getValue("connection_id"), MAX_FIELD_CHARS));
  }

  private static Object first(JsonObject[] sources, String key) {
    for (JsonObject source : sources) {
      Object value = source.getValue(key);
      if (value != null) {
        return value;
      }
    }
    return null;
  }

  private static JsonObject object(Object value) {
    return value instanceof JsonObject object ? object : new JsonObject();
  }

  private static String text(Object value, int max) {
    if (!(value instanceof String text)) {
      return null;
    }
    return text.length() > max ? text.substring(0, max) : text;
  }

  private static Integer whole(Object value, int min, int max) {
    Long n = wholeNumber(value);
    return n == null || n < min || n > max ? null : n.intValue();
  }

  /** A non-negative number of seconds, as a number or as the text of a Retry-After header's delta-seconds. */
  private static Long seconds(Object value) {
    Long n = wholeNumber(value);
    return n == null || n < 0 ? null : n;
  }

  private static Long exactWhole(Object value) {
    if (value instanceof Number number && number.doubleValue() != Math.floor(number.doubleValue())) {
      return null;
    }
    return wholeNumber(value);
  }

  private static Long wholeNumber(Object value) {
    if (value instanceof Number number) {
      double d = number.doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d) || Math.abs(d) > 1e15) {
        return null;
      }
      return (long) Math.ceil(d);
    }
    if (value instanceof String text && !text.isBlank() && text.length() <= 18) {
      try {
        return Long.parseLong(text.trim().toLowerCase(Locale.ROOT));
      } catch (NumberFormatException notANumber) {
        return null;
      }
    }
    return null;
  }

  private static void putIf(JsonObject json, String key, Object value) {
    if (value != null) {
      json.put(key, value);
    }
  }

  /** The transport kind named on the wire; an unknown name is {@link TransportFailure#OTHER}, none is null. */
  private static TransportFailure transportOf(Object value) {
    return value instanceof String text && !text.isBlank() ? TransportFailure.parse(text) : null;
  }
}
