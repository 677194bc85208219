package com.mingus.reliability.notify;


import com.mingus.reliability.bus.PageCursor;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operators' dead letters: deliveries that exhausted their retries or were refused for good, listed with
 * their targets redacted ({@code notify.dead_letters.list}) and sent again ({@code notify.dead_letters.redrive}),
 * one or all, with the same idempotency keys.
 */
final class DeadLetters {
  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

  private final NotifyStore store;
  private final Runnable poll;

  DeadLetters(NotifyStore store, Runnable poll) {
    this.store = store;
    this.poll = poll;
  }

  /** A keyset page of the dead letters, newest first ({@link PageCursor}: limit and cursor in, next_cursor and has_more out). */
  Future<JsonObject> list(JsonObject body) {
    int limit = Requests.limit(body.getValue("limit"), 50, 500);
    Requests.Key after = Requests.after("dead_letters", body.getString("cursor"));
    return store.deadLetters(limit + 1, after == null ? null : after.at(), after == null ? null : after.id()).map(page -> {
      JsonArray rows = page.getJsonArray("dead_letters");
      boolean hasMore = rows.size() > limit;
      if (hasMore) {
        rows.remove(limit);
      }
      JsonObject last = hasMore ? rows.getJsonObject(limit - 1) : null;
      return page.put("limit", limit).put("has_more", hasMore)
          .put("next_cursor", last == null ? null : PageCursor.encode("dead_letters", last.getString("dead_lettered_at"),
              last.getString("id")));
    });
  }

  Future<JsonObject> redrive(JsonObject body) {
    UUID id = null;
    if (!body.getBoolean("all", false)) {
      id = Requests.uuid(body.getString("delivery_id"));
      if (id == null) {
        return Future.failedFuture(Refusal.invalid("delivery_id (or all: true) is required"));
      }
    }
    UUID one = id;
    return store.redrive(id).compose(count -> {
      if (count > 0) {
        log.info("Re-drove {} dead-lettered deliveries", count);
        poll.run();
      }
      if (count > 0 || one == null) {
        return Future.succeededFuture(new JsonObject().put("redriven", count));
      }
      // nothing changed: say why, so an operator's second click is not mistaken for a redrive
      return store.deliveryState(one).compose(state -> Future.failedFuture(state == null
          ? Refusal.notFound("no such delivery")
          : Refusal.conflict("the delivery is not dead-lettered (status " + state.getString("status") + ")")));
    });
  }
}
