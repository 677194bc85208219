package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;

/**
 * Body of {@code ratelimit.acquire}: may a call to {@code endpoint} (a Plaid path with a leading slash) for
 * Item {@code itemId} (null for calls without an Item) go now? With {@code maxWaitMs} 0 the limiter answers
 * at once; above 0 it holds the request until a permit frees up or the wait runs out (bounded by the
 * limiter's own {@code max_wait_ms}). The caller's send timeout must exceed the wait.
 *
 * <p>{@code requestId} (optional) names one request across the attempts that carry it: a forwarder that
 * asks the budget owner again after an attempt went unanswered (a timeout, a late reply) sends the same id,
 * and the owner answers with the permit it already gave, or lets the new attempt take the earlier one's
 * place in its queue, instead of spending a second permit on one call.
 */
public record PermitRequest(String endpoint, String itemId, PermitPriority priority, long maxWaitMs, String requestId)
    implements BusMessage {

  public PermitRequest {
    endpoint = PlaidScope.endpoint(endpoint);
    itemId = PlaidScope.item(itemId);
    priority = priority == null ? PermitPriority.PERIODIC : priority;
    if (maxWaitMs < 0) {
      throw new IllegalArgumentException("max_wait_ms must not be negative");
    }
    if (requestId != null && (requestId.isBlank() || requestId.length() > 128)) {
      throw new IllegalArgumentException("request_id must be 1 to 128 characters");
    }
  }

  public PermitRequest(String endpoint, String itemId, PermitPriority priority, long maxWaitMs) {
    this(endpoint, itemId, priority, maxWaitMs, null);
  }

  /** The same request (same id) with another wait: one attempt of it. */
  public PermitRequest withWait(long waitMs) {
    return new PermitRequest(endpoint, itemId, priority, waitMs, requestId);
  }

  /** The same request, named so its attempts share one permit. */
  public PermitRequest withRequestId(String id) {
    return new PermitRequest(endpoint, itemId, priority, maxWaitMs, id);
  }

  /** An answer-at-once request. */
  public static PermitRequest now(String endpoint, String itemId, PermitPriority priority) {
    return new PermitRequest(endpoint, itemId, priority, 0);
  }

  /** A send timeout that outlasts the wait, so a permit granted at the last moment still reaches the caller. */
  public long sendTimeoutMs() {
    return maxWaitMs + 5_000;
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("endpoint", endpoint).put("item_id", itemId).put("priority", priority.wire())
        .put("max_wait_ms", maxWaitMs).put("request_id", requestId);
  }

  public static PermitRequest fromJson(JsonObject json) {
    Object wait = json.getValue("max_wait_ms", 0L);
    if (!(wait instanceof Number)) {
      throw new IllegalArgumentException("max_wait_ms must be a number");
    }
    Object endpoint = json.getValue("endpoint");
    Object item = json.getValue("item_id");
    Object priority = json.getValue("priority");
    Object requestId = json.getValue("request_id");
    if (!(endpoint instanceof String) || (item != null && !(item instanceof String))
        || (priority != null && !(priority instanceof String)) || (requestId != null && !(requestId instanceof String))) {
      throw new IllegalArgumentException("endpoint, item_id, priority and request_id must be strings");
    }
    return new PermitRequest((String) endpoint, (String) item, PermitPriority.parse((String) priority),
        ((Number) wait).longValue(), (String) requestId);
  }
}
