package com.mingus.reliability.ratelimit;

import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.chaos.CrashPoints;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A cluster owner's write-through grant journal (docs/ratelimit.md): a permit is answered only once its
 * grant is committed to {@code ratelimit_grants} under the owner's current fencing token. Grants decided in
 * the same event-loop turn, and those decided while the previous write is out, go in one statement (a group
 * commit: at most one write in flight per endpoint). A write that finds the token stale, or fails, answers
 * its callers {@code stopping} (they ask again, and reach the next owner) and the endpoint is dropped; a
 * take-over reloads the journal, so the in-memory counts are rebuilt from what was committed.
 *
 * <p>Touched only on the owning instance's event loop.
 */
final class FencedJournal {
  /** What the journal needs from the lease. */
  interface Fence {
    /** The token under which this instance decides the endpoint, or -1. */
    long token(String endpoint);

    /** PostgreSQL's clock minus the limiter's: journal times are PostgreSQL's, so any node reads them alike. */
    long dbOffsetMs();

    /** The write was fenced off or failed: this instance no longer decides the endpoint. */
    void lost(String endpoint, String why);
  }

  /** Wait after a refusal before asking again: about one lease poll. */
  static final long RETRY_AFTER_MS = 250;

  private final Context context;
  private final GrantStore store;
  private final String owner;
  private final Fence fence;
  private final LongSupplier clock;
  private final Map<String, Line> lines = new HashMap<>();
  private final List<Promise<Void>> drains = new ArrayList<>();
  private long written;
  private long batches;

  private static final class Batch {
    final long token;
    final GrantStore.Rows rows = new GrantStore.Rows();
    final List<PermitReply> replies = new ArrayList<>();
    final List<Consumer<PermitReply>> callers = new ArrayList<>();

    Batch(long token) {
      this.token = token;
    }
  }

  private static final class Line {
    Batch pending;
    boolean writing;
    boolean scheduled;
  }

  FencedJournal(Context context, GrantStore store, String owner, Fence fence, LongSupplier clock) {
    this.context = context;
    this.store = store;
    this.owner = owner;
    this.fence = fence;
    this.clock = clock;
  }

  /** The journal an endpoint's limiter hands its grants to. */
  EndpointLimiter.Journal of(String endpoint) {
    return (at, itemId, reply, caller) -> granted(endpoint, at, itemId, reply, caller);
  }

  private void granted(String endpoint, long at, String itemId, PermitReply reply, Consumer<PermitReply> caller) {
    long token = fence.token(endpoint);
    if (token < 0) {
      caller.accept(refusal(reply));
      return;
    }
    Line line = lines.computeIfAbsent(endpoint, e -> new Line());
    if (line.pending != null && line.pending.token != token) {
      refuse(line.pending);
      line.pending = null;
    }
    if (line.pending == null) {
      line.pending = new Batch(token);
    }
    line.pending.rows.add(at + fence.dbOffsetMs(), itemId);
    line.pending.replies.add(reply);
    line.pending.callers.add(caller);
    if (!line.writing && !line.scheduled) {
      // after this turn: whatever else is decided before then goes in the same statement
      line.scheduled = true;
      context.runOnContext(v -> {
        line.scheduled = false;
        write(endpoint, line);
      });
    }
  }

  private void write(String endpoint, Line line) {
    if (line.writing || line.pending == null) {
      drained();
      return;
    }
    Batch batch = line.pending;
    line.pending = null;
    line.writing = true;
    store.journal(endpoint, owner, batch.token, batch.rows.at(), batch.rows.items(), batch.rows.counts())
        .onComplete(done -> {
          line.writing = false;
          if (done.succeeded()) {
            written += batch.replies.size();
            batches++;
            for (int i = 0; i < batch.replies.size(); i++) {
              // granted and journaled, not yet told: a death here spends the permit for nobody, never twice
              CrashPoints.reach("ratelimit.granted");
              batch.callers.get(i).accept(batch.replies.get(i));
            }
          } else {
            refuse(batch);
            fence.lost(endpoint, done.cause() instanceof GrantStore.Fenced
                ? "another node took its lease over (fencing token " + batch.token + " is stale)"
                : "its journal write failed: " + done.cause().getMessage());
          }
          write(endpoint, line);
        });
  }

  /** Refuses what is buffered for an endpoint this instance no longer owns. */
  void dropped(String endpoint) {
    Line line = lines.get(endpoint);
    if (line != null && line.pending != null) {
      refuse(line.pending);
      line.pending = null;
    }
  }

  private void refuse(Batch batch) {
    for (int i = 0; i < batch.replies.size(); i++) {
      batch.callers.get(i).accept(refusal(batch.replies.get(i)));
    }
  }

  private PermitReply refusal(PermitReply grant) {
    return PermitReply.deny(clock.getAsLong() + RETRY_AFTER_MS, "stopping", grant.waitedMs());
  }

  /** Grants committed and batches written so far (for the figures). */
  long written() {
    return written;
  }

  long batches() {
    return batches;
  }

  /** Completes once no write is out and nothing is buffered: the last grants are answered. */
  Future<Void> drain() {
    Promise<Void> promise = Promise.promise();
    drains.add(promise);
    drained();
    return promise.future();
  }

  private void drained() {
    if (drains.isEmpty()) {
      return;
    }
    for (Line line : lines.values()) {
      if (line.writing || line.pending != null) {
        return;
      }
    }
    drains.forEach(Promise::complete);
    drains.clear();
  }
}
