package com.mingus.reliability.ratelimit;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The limiter's memory in PostgreSQL, so a restart does not forget the window it is in (and spend again
 * what the previous process already spent) nor what it learned. Grants are buffered by the owner and
 * written behind in one statement per endpoint; a crash loses at most one flush interval. Best effort: a
 * failed write is logged and dropped, never retried into a backlog, because the limiter must not wait
 * for the database.
 */
final class GrantStore {
  private static final Logger log = LoggerFactory.getLogger(GrantStore.class);

  static final String LOAD_GRANTS =
      "SELECT endpoint, granted_at, grants FROM ratelimit_grants WHERE granted_at > $1 ORDER BY endpoint, granted_at";
  static final String SAVE_GRANTS =
      "INSERT INTO ratelimit_grants (endpoint, granted_at, grants) SELECT $1, t, c FROM unnest($2::bigint[], $3::int[]) AS u(t, c) "
          + "ON CONFLICT (endpoint, granted_at) DO UPDATE SET grants = ratelimit_grants.grants + EXCLUDED.grants";
  static final String PRUNE_GRANTS = "DELETE FROM ratelimit_grants WHERE granted_at <= $1";
  static final String GRANTED_SINCE =
      "SELECT COALESCE(sum(grants), 0) AS granted FROM ratelimit_grants WHERE endpoint = $1 AND granted_at > $2";
  static final String LOAD_LEARNED = "SELECT endpoint, window_name, lowered, last_429_at FROM ratelimit_learned";
  static final String SAVE_LEARNED =
      "INSERT INTO ratelimit_learned (endpoint, window_name, lowered, last_429_at) VALUES ($1, $2, $3, $4) "
          + "ON CONFLICT (endpoint, window_name) DO UPDATE SET lowered = EXCLUDED.lowered, last_429_at = EXCLUDED.last_429_at";

  /** One stored millisecond of grants. */
  record Grants(long at, int count) {}

  /** One stored learned budget. */
  record Learned(String endpoint, String window, int lowered, long last429At) {}

  private final Pool pool;
  private Map<String, List<Long>> pending = new LinkedHashMap<>();
  private long lastWarning;

  GrantStore(Pool pool) {
    this.pool = pool;
  }

  Future<Map<String, List<Grants>>> loadGrants(long afterEpochMs) {
    return pool.preparedQuery(LOAD_GRANTS).execute(Tuple.of(afterEpochMs)).map(rows -> {
      Map<String, List<Grants>> out = new HashMap<>();
      for (Row row : rows) {
        out.computeIfAbsent(row.getString("endpoint"), e -> new ArrayList<>())
            .add(new Grants(row.getLong("granted_at"), row.getInteger("grants")));
      }
      return out;
    });
  }

  Future<List<Learned>> loadLearned() {
    return pool.query(LOAD_LEARNED).execute().map(rows -> {
      List<Learned> out = new ArrayList<>();
      for (Row row : rows) {
        out.add(new Learned(row.getString("endpoint"), row.getString("window_name"), row.getInteger("lowered"),
            row.getLong("last_429_at")));
      }
      return out;
    });
  }

  /** Buffers one client-wide grant; grants arrive in time order. */
  void granted(String endpoint, long at) {
    pending.computeIfAbsent(endpoint, e -> new ArrayList<>()).add(at);
  }

  /** Writes what was buffered since the last flush. */
  Future<Void> flush() {
    if (pending.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<String, List<Long>> batch = pending;
    pending = new LinkedHashMap<>();
    List<Future<?>> writes = new ArrayList<>();
    batch.forEach((endpoint, times) -> {
      List<Long> at = new ArrayList<>();
      List<Integer> counts = new ArrayList<>();
      for (long time : times) {
        int last = at.size() - 1;
        if (last >= 0 && at.get(last) == time) {
          counts.set(last, counts.get(last) + 1);
        } else {
          at.add(time);
          counts.add(1);
        }
      }
      writes.add(pool.preparedQuery(SAVE_GRANTS)
          .execute(Tuple.of(endpoint, at.toArray(new Long[0]), counts.toArray(new Integer[0]))));
    });
    return Future.join(writes).<Void>mapEmpty().recover(failure -> {
      warn("grants", failure);
      return Future.succeededFuture();
    });
  }

  /**
   * How many client-wide grants of {@code endpoint} are stored after {@code afterEpochMs} (what an owner
   * wrote behind). Unreadable counts as "some": a new owner then assumes the window used, which costs a
   * window, never a 429.
   */
  Future<Long> grantedSince(String endpoint, long afterEpochMs) {
    return pool.preparedQuery(GRANTED_SINCE).execute(Tuple.of(endpoint, afterEpochMs))
        .map(rows -> rows.iterator().next().getLong("granted"))
        .recover(failure -> {
          warn("grants (reading)", failure);
          return Future.succeededFuture(Long.MAX_VALUE);
        });
  }

  Future<Void> prune(long upToEpochMs) {
    return pool.preparedQuery(PRUNE_GRANTS).execute(Tuple.of(upToEpochMs)).<Void>mapEmpty().recover(failure -> {
      warn("pruning", failure);
      return Future.succeededFuture();
    });
  }

  Future<Void> saveLearned(Learned learned) {
    return pool.preparedQuery(SAVE_LEARNED)
        .execute(Tuple.of(learned.endpoint(), learned.window(), learned.lowered(), learned.last429At()))
        .<Void>mapEmpty().recover(failure -> {
          warn("learned budget", failure);
          return Future.succeededFuture();
        });
  }

  /** At most one warning a minute: a database outage must not flood the log at the grant rate. */
  private void warn(String what, Throwable failure) {
    long now = System.currentTimeMillis();
    if (now - lastWarning > 60_000) {
      lastWarning = now;
      log.warn("Rate limiter could not store its {} (kept in memory only): {}", what, failure.getMessage());
    }
  }

  Future<Void> close() {
    return flush().compose(flushed -> pool.close());
  }
}
