package com.mingus.reliability.notify;

import static com.mingus.reliability.notify.Requests.clamp;

import io.vertx.core.Future;
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

  Future<JsonObject> list(JsonObject body) {
    int limit = clamp(body.getInteger("limit", 50), 1, 500);
    int offset = Math.max(0, body.getInteger("offset", 0));
    return store.deadLetters(limit, offset).map(page -> page.put("limit", limit).put("offset", offset)
        .put("next_offset", offset + page.getJsonArray("dead_letters").size() < page.getLong("total")
            ? offset + page.getJsonArray("dead_letters").size() : null));
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
