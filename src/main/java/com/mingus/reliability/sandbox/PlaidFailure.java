package com.mingus.reliability.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A Plaid error about to be answered: the HTTP status and the fields of Plaid's error object. Thrown by
 * request handlers; the verticle turns it into the response, adding the request id.
 */
final class PlaidFailure extends RuntimeException {
  final int status;
  final String errorType;
  final String errorCode;
  final String displayMessage;

  PlaidFailure(int status, String errorType, String errorCode, String errorMessage, String displayMessage) {
    super(errorMessage, null, false, false);
    this.status = status;
    this.errorType = errorType;
    this.errorCode = errorCode;
    this.displayMessage = displayMessage;
  }

  /** Plaid's error object as an API response carries it (no {@code status}, with the request id). */
  JsonObject toResponse(String requestId) {
    return body().put("request_id", requestId);
  }

  /** Plaid's error object as a webhook carries it: with the HTTP status, without a request id. */
  JsonObject toWebhookError() {
    return body().put("status", status);
  }

  private JsonObject body() {
    return new JsonObject()
        .put("display_message", displayMessage)
        .put("documentation_url", "https://plaid.com/docs/errors/")
        .put("error_code", errorCode)
        .put("error_code_reason", null)
        .put("error_message", getMessage())
        .put("error_type", errorType)
        .put("suggested_action", null)
        .put("causes", new JsonArray());
  }

  /** The status Plaid uses for an error type and code, when a fault does not name one. */
  static int statusFor(String errorType, String errorCode) {
    if ("RATE_LIMIT_EXCEEDED".equals(errorType)) {
      return 429;
    }
    if ("API_ERROR".equals(errorType)) {
      return "PLANNED_MAINTENANCE".equals(errorCode) ? 503 : 500;
    }
    if ("INVALID_REQUEST".equals(errorType) && "NOT_FOUND".equals(errorCode)) {
      return 404;
    }
    return 400;
  }

  static PlaidFailure of(String errorType, String errorCode, String message) {
    return new PlaidFailure(statusFor(errorType, errorCode), errorType, errorCode, message, null);
  }

  static PlaidFailure missingFields(String fields) {
    return of("INVALID_REQUEST", "MISSING_FIELDS", "the following required fields are missing: " + fields);
  }

  static PlaidFailure invalidField(String message) {
    return of("INVALID_REQUEST", "INVALID_FIELD", message);
  }

  static PlaidFailure unknownFields(String fields) {
    return of("INVALID_REQUEST", "UNKNOWN_FIELDS", "the following fields are not recognized by this endpoint: " + fields);
  }

  static PlaidFailure invalidBody() {
    return of("INVALID_REQUEST", "INVALID_BODY", "body could not be parsed as JSON");
  }

  static PlaidFailure notFound() {
    return new PlaidFailure(404, "INVALID_REQUEST", "NOT_FOUND", "not found", null);
  }

  static PlaidFailure invalidApiKeys() {
    return of("INVALID_INPUT", "INVALID_API_KEYS", "invalid client_id or secret provided");
  }

  static PlaidFailure invalidAccessToken() {
    return of("INVALID_INPUT", "INVALID_ACCESS_TOKEN",
        "provided access token is in an invalid format. expected format: access-<environment>-<identifier>");
  }

  static PlaidFailure itemNotFound() {
    return of("ITEM_ERROR", "ITEM_NOT_FOUND", "the Item you requested cannot be found. This Item does not exist, has been previously removed via /item/remove, or has had access removed by the user.");
  }

  static PlaidFailure itemLoginRequired() {
    return new PlaidFailure(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED",
        "the login details of this item have changed (credentials, MFA, or required user action) and a user login is required to update this information. use Link's update mode to restore the item to a good state",
        null);
  }

  static PlaidFailure institutionDown() {
    return new PlaidFailure(400, "INSTITUTION_ERROR", "INSTITUTION_DOWN",
        "this institution is not currently responding to this request. please try again soon",
        "This financial institution is not currently responding to requests. We apologize for the inconvenience.");
  }

  static PlaidFailure rateLimited(String code, String scope) {
    return new PlaidFailure(429, "RATE_LIMIT_EXCEEDED", code,
        "rate limit exceeded for " + scope + ". please retry later", null);
  }

  static PlaidFailure mutationDuringPagination() {
    return of("TRANSACTIONS_ERROR", "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
        "Underlying transaction data changed since last page was fetched. Please restart pagination from last update.");
  }

  static PlaidFailure internal() {
    return of("API_ERROR", "INTERNAL_SERVER_ERROR", "an unexpected error occurred");
  }
}
