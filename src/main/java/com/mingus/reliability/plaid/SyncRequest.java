package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonObject;

/**
 * One {@code /transactions/sync} call.
 *
 * @param cursor        the cursor of the last committed update, or null for the whole history
 * @param count         1..500 updates per page
 * @param daysRequested history to request when the Item has no transactions yet (1..730), or null
 */
public record SyncRequest(String accessToken, String cursor, int count, Integer daysRequested) {

  public SyncRequest {
    if (accessToken == null || accessToken.isEmpty()) {
      throw new IllegalArgumentException("access token required");
    }
    if (count < 1 || count > 500) {
      throw new IllegalArgumentException("count must be 1..500, was " + count);
    }
    if (daysRequested != null && (daysRequested < 1 || daysRequested > 730)) {
      throw new IllegalArgumentException("days_requested must be 1..730, was " + daysRequested);
    }
  }

  public SyncRequest(String accessToken, String cursor, int count) {
    this(accessToken, cursor, count, null);
  }

  JsonObject toJson() {
    JsonObject body = new JsonObject().put("access_token", accessToken).put("count", count);
    // An empty cursor is what Plaid returns before data is ready; sending it back means "from the start".
    if (cursor != null && !cursor.isEmpty()) {
      body.put("cursor", cursor);
    }
    if (daysRequested != null) {
      body.put("options", new JsonObject().put("days_requested", daysRequested));
    }
    return body;
  }

  @Override
  public String toString() {
    return "SyncRequest[accessToken=" + Tokens.mask(accessToken) + ", cursor=" + cursor + ", count=" + count
        + ", daysRequested=" + daysRequested + "]";
  }
}
