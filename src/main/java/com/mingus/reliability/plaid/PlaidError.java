package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Plaid's error object (schema {@code PlaidError}), read leniently: unknown types and codes are kept as
 * text, unknown fields stay in {@link #raw()}, and a field of the wrong type reads as null. The same
 * shape arrives in error responses, in {@code item.error} of {@code /item/get} and in webhooks.
 *
 * @param status the HTTP status Plaid states inside webhooks (not the status of a response)
 * @param raw    a copy of the object as received, with every field
 */
public record PlaidError(
    String errorType,
    String errorCode,
    String errorMessage,
    String displayMessage,
    String requestId,
    String errorCodeReason,
    JsonArray causes,
    Integer status,
    String documentationUrl,
    String suggestedAction,
    JsonObject raw) {

  /** True when the object looks like a Plaid error: it names an error type or an error code. */
  public static boolean isPlaidError(JsonObject json) {
    return json != null && (LenientJson.text(json, "error_type") != null || LenientJson.text(json, "error_code") != null);
  }

  /** Reads an error object; never throws. Returns null for null. */
  public static PlaidError fromJson(JsonObject json) {
    if (json == null) {
      return null;
    }
    JsonArray causes = LenientJson.array(json, "causes");
    return new PlaidError(
        LenientJson.text(json, "error_type"),
        LenientJson.text(json, "error_code"),
        LenientJson.text(json, "error_message"),
        LenientJson.text(json, "display_message"),
        LenientJson.text(json, "request_id"),
        LenientJson.text(json, "error_code_reason"),
        causes == null ? new JsonArray() : causes.copy(),
        LenientJson.integer(json, "status"),
        LenientJson.text(json, "documentation_url"),
        LenientJson.text(json, "suggested_action"),
        json.copy());
  }

  /** The object as Plaid would write it (every received field, including unknown ones). */
  public JsonObject toJson() {
    return raw.copy();
  }

  /** {@code ERROR_TYPE/ERROR_CODE}, for messages and logs. */
  public String label() {
    return errorType + "/" + errorCode;
  }

  /** A copy whose free-text fields have the given secret masked (an echoed token must not travel on). */
  PlaidError withMasked(String secret) {
    if (secret == null || secret.isEmpty() || !raw.encode().contains(secret)) {
      return this;
    }
    try {
      return fromJson(new JsonObject(raw.encode().replace(secret, "[redacted]")));
    } catch (RuntimeException unreadable) {
      return fromJson(new JsonObject().put("error_type", errorType).put("error_code", errorCode)
          .put("request_id", requestId).put("display_message", (String) null));
    }
  }
}
