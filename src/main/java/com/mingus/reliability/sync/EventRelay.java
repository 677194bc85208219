package com.mingus.reliability.sync;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.SyncEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells health tracking what sync committed, at least once (docs/cluster.md, "What crosses the bus").
 * Every event health must apply is written to {@code sync_outbox} in the transaction that makes it true
 * (SyncStore). After the commit this relay publishes it (for the feed and anyone watching) and hands it to
 * this node's health tracking with {@code health.apply}, which answers once the event is applied and its
 * claim committed; only then is the row deleted (in batches). A row still there at its redrive time
 * (the node died between the commit and the answer, or health failed) is claimed by any node's relay
 * ({@code FOR UPDATE SKIP LOCKED}, which also pushes its next redrive back) and told again; health applies
 * an event it has already applied as a duplicate, so the repeat changes nothing.
 */
final class EventRelay {
  private static final Logger log = LoggerFactory.getLogger(EventRelay.class);

  static final String CLAIM_DUE = """
      UPDATE sync_outbox SET attempts = attempts + 1,
             redrive_at = now() + (LEAST(300000, $2::bigint * (1 << LEAST(attempts, 5))) * interval '1 millisecond')
      WHERE id IN (SELECT id FROM sync_outbox WHERE redrive_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING id, address, body, attempts
      """;
  static final String FORGET = "DELETE FROM sync_outbox WHERE id = ANY($1)";

  private final Vertx vertx;
  private final Pool pool;
  private final long applyTimeoutMs;
  private final long redriveAfterMs;
  private final int batch;
  private final List<Long> acknowledged = new ArrayList<>();
  private boolean forgetScheduled;
  private boolean redriving;
  private long redriven;

  EventRelay(Vertx vertx, Pool pool, long applyTimeoutMs, long redriveAfterMs, int batch) {
    this.vertx = vertx;
    this.pool = pool;
    this.applyTimeoutMs = applyTimeoutMs;
    this.redriveAfterMs = redriveAfterMs;
    this.batch = batch;
  }

  /**
   * Publishes a committed event and hands it to health; forgets it once health has applied it. The future
   * completes (never fails) when this node's health has applied it or did not: a caller answering a person
   * can wait for it, so what it answers is what health already shows.
   */
  Future<Void> tell(SyncStore.Outboxed told) {
    if (told == null) {
      return Future.succeededFuture();
    }
    vertx.eventBus().publish(told.address(), told.event());
    return apply(told.id(), told.event()).<Void>mapEmpty().otherwiseEmpty();
  }

  private Future<Object> apply(long id, SyncEvent event) {
    // this node's health: an event crosses no network between its commit and its application
    return vertx.eventBus().request(Addresses.HEALTH_APPLY, event,
            new DeliveryOptions().setSendTimeout(applyTimeoutMs).setLocalOnly(true))
        .map(reply -> {
          acknowledge(id);
          return reply.body();
        })
        .onFailure(failure -> log.debug("Event {} ({} of {}) not yet applied by health: {}", id, event.kind(),
            event.connectionId(), failure.getMessage()));
  }

  private void acknowledge(long id) {
    acknowledged.add(id);
    if (acknowledged.size() >= batch) {
      forget();
    } else if (!forgetScheduled) {
      forgetScheduled = true;
      vertx.setTimer(50, t -> forget());
    }
  }

  private Future<Void> forget() {
    forgetScheduled = false;
    if (acknowledged.isEmpty()) {
      return Future.succeededFuture();
    }
    Long[] ids = acknowledged.toArray(new Long[0]);
    acknowledged.clear();
    // an acknowledgement not written is harmless: the event is told again and applied as a duplicate
    return pool.preparedQuery(FORGET).execute(Tuple.of((Object) ids)).<Void>mapEmpty()
        .onFailure(failure -> log.warn("{} outbox row(s) not forgotten (they will be told again): {}", ids.length,
            failure.getMessage()));
  }

  /** Tells again, in commit order, what nobody acknowledged by its redrive time. */
  void redrive() {
    if (redriving) {
      return;
    }
    redriving = true;
    pool.preparedQuery(CLAIM_DUE).execute(Tuple.of(batch, redriveAfterMs))
        .compose(this::tellAgain)
        .onComplete(done -> {
          redriving = false;
          if (done.failed()) {
            log.warn("Outbox redrive failed: {}", String.valueOf(done.cause()));
          } else if (done.result() >= batch) {
            vertx.runOnContext(v -> redrive());
          }
        });
  }

  private Future<Integer> tellAgain(RowSet<Row> rows) {
    List<Row> due = new ArrayList<>();
    rows.forEach(due::add);
    due.sort((a, b) -> Long.compare(a.getLong("id"), b.getLong("id")));
    if (!due.isEmpty()) {
      redriven += due.size();
      log.info("Telling health again {} event(s) nobody acknowledged in time (first {}, attempt {})", due.size(),
          due.get(0).getLong("id"), due.get(0).getInteger("attempts"));
    }
    // one at a time, so a connection's events are applied in the order they were committed
    Future<Void> chain = Future.succeededFuture();
    for (Row row : due) {
      long id = row.getLong("id");
      SyncEvent event;
      try {
        event = SyncEvent.fromJson(body(row.getValue("body")));
      } catch (RuntimeException unreadable) {
        // one bad row must not hold back the others: it stays, told again (and reported) at its backoff
        log.warn("Outbox row {} is not a readable event: {}", id, unreadable.getMessage());
        continue;
      }
      int attempts = row.getInteger("attempts");
      chain = chain.compose(v -> apply(id, event).<Void>mapEmpty().recover(failure -> {
        log.warn("Event {} ({} of connection {}) told again and still not applied (attempt {}): {}", id, event.kind(),
            event.connectionId(), attempts, failure.getMessage());
        return Future.succeededFuture();
      }));
    }
    return chain.map(due.size());
  }

  /**
   * A row's event. A JSON string holding the event is read too: a string bound to a {@code jsonb}
   * parameter is stored as a JSON string, which is how rows written before that was fixed hold it.
   */
  static JsonObject body(Object stored) {
    return stored instanceof JsonObject json ? json : new JsonObject(String.valueOf(stored));
  }

  /** Events told again since start (a metric). */
  long redriven() {
    return redriven;
  }

  Future<Void> stop() {
    return forget();
  }
}
