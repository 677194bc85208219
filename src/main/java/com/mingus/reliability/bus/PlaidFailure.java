package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * A failed call to Plaid, transport-neutral, as the classifier and the health tracker see it. Either
 * Plaid answered with its error object ({@code error_type}, {@code error_code}, ... set; {@code transport}
 * null) or no Plaid answer came ({@code transport} set, the Plaid fields null). JSON field names are
 * Plaid's own, snake_case; unknown types and codes travel unchanged.
 *
 * @param endpoint       the Plaid path called, e.g. {@code /transactions/sync} (null when unknown)
 * @param httpStatus     the HTTP status received, or null when no response arrived
 * @param retryAfterS    seconds from a Retry-After header, or null when there was none
 * @param transport      why there was no Plaid answer, or null when Plaid answered with an error
 */
public record PlaidFailure(
    String endpoint,
    String errorType,
    String errorCode,
    String errorMessage,
    String displayMessage,
    String errorCodeReason,
    String requestId,
    Integer httpStatus,
    Long retryAfterS,
    TransportFailure transport) implements BusMessage {

  /** A failure for which Plaid answered with an error object. */
  public static PlaidFailure plaidError(String endpoint, String errorType, String errorCode, String errorMessage,
      String displayMessage, String requestId, Integer httpStatus) {
    return new PlaidFailure(endpoint, errorType, errorCode, errorMessage, displayMessage, null, requestId,
        httpStatus, null, null);
  }

  /** A failure without a Plaid error object. */
  public static PlaidFailure transport(String endpoint, TransportFailure kind, Integer httpStatus) {
    return new PlaidFailure(endpoint, null, null, null, null, null, null, httpStatus, null, kind);
  }

  /** True when Plaid answered with its own error object. */
  public boolean isPlaidError() {
    return errorType != null || errorCode != null;
  }

  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    putIfSet(json, "endpoint", endpoint);
    putIfSet(json, "error_type", errorType);
    putIfSet(json, "error_code", errorCode);
    putIfSet(json, "error_message", errorMessage);
    json.put("display_message", displayMessage);
    putIfSet(json, "error_code_reason", errorCodeReason);
    putIfSet(json, "request_id", requestId);
    putIfSet(json, "http_status", httpStatus);
    putIfSet(json, "retry_after_s", retryAfterS);
    putIfSet(json, "transport", transport == null ? null : transport.name());
    return json;
  }

  /** Lenient: wrong types become null rather than failing, an unknown transport kind becomes OTHER. */
  public static PlaidFailure fromJson(JsonObject json) {
    return new PlaidFailure(
        text(json, "endpoint"),
        text(json, "error_type"),
        text(json, "error_code"),
        text(json, "error_message"),
        text(json, "display_message"),
        text(json, "error_code_reason"),
        text(json, "request_id"),
        json.getValue("http_status") instanceof Number n ? Integer.valueOf(n.intValue()) : null,
        json.getValue("retry_after_s") instanceof Number n ? Long.valueOf(n.longValue()) : null,
        TransportFailure.parse(text(json, "transport")));
  }

  private static String text(JsonObject json, String key) {
    Object value = json.getValue(key);
    return value instanceof String || value instanceof Number || value instanceof Boolean ? value.toString() : null;
  }

  private static void putIfSet(JsonObject json, String key, Object value) {
    if (value != null) {
      json.put(key, value);
    }
  }
}
