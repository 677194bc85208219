package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * Body of {@code ratelimit.report}: Plaid answered a call to {@code endpoint} for Item {@code itemId}
 * (null without an Item) with a 429 carrying {@code errorCode} (e.g. {@code TRANSACTIONS_SYNC_LIMIT}) and,
 * if present, the raw {@code Retry-After} header (seconds or an HTTP date).
 */
public record RateLimitReport(String endpoint, String itemId, String errorCode, String retryAfter)
    implements BusMessage {

  public RateLimitReport {
    endpoint = PlaidScope.endpoint(endpoint);
    itemId = PlaidScope.item(itemId);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("endpoint", endpoint).put("item_id", itemId).put("error_code", errorCode)
        .put("retry_after", retryAfter);
  }

  public static RateLimitReport fromJson(JsonObject json) {
    Object endpoint = json.getValue("endpoint");
    Object item = json.getValue("item_id");
    Object code = json.getValue("error_code");
    Object retryAfter = json.getValue("retry_after");
    if (!(endpoint instanceof String) || (item != null && !(item instanceof String))
        || (code != null && !(code instanceof String))) {
      throw new IllegalArgumentException("endpoint, item_id and error_code must be strings");
    }
    return new RateLimitReport((String) endpoint, (String) item, (String) code,
        retryAfter == null ? null : String.valueOf(retryAfter));
  }
}
