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
 * what the previous process already spent) nor what it learned, and, on a cluster, the budget owners'
 * leases and their fenced journal.
 *
 * <p>On a single node grants are buffered by the owner and written behind in one statement per endpoint;
 * a crash loses at most one flush interval. Best effort: a failed write is logged and dropped, never
 * retried into a backlog, because the limiter must not wait for the database.
 *
 * <p>On a cluster ({@link ClusterOwnership}) the grants are written through instead ({@link #journal}): a
 * permit is answered only once its row is committed under the owner's current fencing token, so a new
 * owner reads exact counts ({@link #loadEndpoint}).
 */
final class GrantStore {
  private static final Logger log = LoggerFactory.getLogger(GrantStore.class);

  static final String LOAD_GRANTS = "SELECT endpoint, granted_at, item_id, grants FROM ratelimit_grants "
      + "WHERE granted_at > $1 ORDER BY endpoint, granted_at";
  static final String SAVE_GRANTS = "INSERT INTO ratelimit_grants (endpoint, granted_at, item_id, grants) "
      + "SELECT $1, t, i, c FROM unnest($2::bigint[], $3::text[], $4::int[]) AS u(t, i, c) "
      + "ON CONFLICT (endpoint, granted_at, fencing_token, item_id) DO UPDATE SET grants = ratelimit_grants.grants + EXCLUDED.grants";
  /**
   * The fenced write-through: the rows go in only while ($2, $3) still holds the endpoint's unexpired lease.
   * FOR SHARE makes a take-over (an UPDATE of that row) wait for this write to commit, and a write that
   * comes after a take-over re-reads the row and finds another token: so every committed grant is seen by
   * the journal read that follows the take-over, and none is committed under a stale token.
   */
  static final String JOURNAL = "INSERT INTO ratelimit_grants (endpoint, granted_at, fencing_token, item_id, grants) "
      + "SELECT $1, t, $3, i, c FROM unnest($4::bigint[], $5::text[], $6::int[]) AS u(t, i, c) "
      + "WHERE EXISTS (SELECT 1 FROM ratelimit_owners WHERE endpoint = $1 AND owner = $2 AND fencing_token = $3 "
      + "AND expires_at > now() FOR SHARE) "
      + "ON CONFLICT (endpoint, granted_at, fencing_token, item_id) DO UPDATE SET grants = ratelimit_grants.grants + EXCLUDED.grants";
  static final String LOAD_ENDPOINT = "SELECT granted_at, item_id, grants FROM ratelimit_grants "
      + "WHERE endpoint = $1 AND granted_at > $2 ORDER BY granted_at";
  /**
   * Takes or renews the leases of the endpoints in $1 for owner $2, for $3 ms by PostgreSQL's clock: a row
   * is written only when absent, expired or already ours; taking it from someone else increments the token.
   * Returns the rows this owner now holds and PostgreSQL's clock (epoch ms).
   */
  static final String LEASE = "INSERT INTO ratelimit_owners AS o (endpoint, owner, fencing_token, expires_at) "
      + "SELECT e, $2, 1, now() + $3::float8 * interval '1 millisecond' FROM unnest($1::text[]) AS u(e) "
      + "ON CONFLICT (endpoint) DO UPDATE SET "
      + "fencing_token = CASE WHEN o.owner = EXCLUDED.owner THEN o.fencing_token ELSE o.fencing_token + 1 END, "
      + "owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at "
      + "WHERE o.owner = EXCLUDED.owner OR o.expires_at <= now() "
      + "RETURNING endpoint, fencing_token, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS db_now";
  static final String RELEASE =
      "UPDATE ratelimit_owners SET expires_at = now() WHERE owner = $1 AND endpoint = ANY($2::text[]) AND expires_at > now()";
  static final String PRUNE_GRANTS = "DELETE FROM ratelimit_grants WHERE granted_at <= $1";
  static final String PRUNE_ENDPOINT = "DELETE FROM ratelimit_grants WHERE endpoint = $1 AND granted_at <= $2";
  static final String LOAD_LEARNED = "SELECT endpoint, window_name, lowered, last_429_at FROM ratelimit_learned";
  static final String SAVE_LEARNED =
      "INSERT INTO ratelimit_learned (endpoint, window_name, lowered, last_429_at) VALUES ($1, $2, $3, $4) "
          + "ON CONFLICT (endpoint, window_name) DO UPDATE SET lowered = EXCLUDED.lowered, last_429_at = EXCLUDED.last_429_at";

  /** One stored millisecond of grants, of one Item (null: a call without an Item scope). */
  record Grants(long at, String itemId, int count) {}

  /** A lease this owner holds: the endpoint, its fencing token, PostgreSQL's clock when it was written. */
  record Lease(String endpoint, long token, long dbNow) {}

  /** Thrown when a journal write found its token no longer current: the lease was taken over. */
  static final class Fenced extends RuntimeException {
    Fenced(String endpoint, long token) {
      super("fencing token " + token + " of " + endpoint + " is no longer current", null, false, false);
    }
  }

  /** One stored learned budget. */
  record Learned(String endpoint, String window, int lowered, long last429At) {}

  private final Pool pool;
  private Map<String, List<Pending>> pending = new LinkedHashMap<>();

  private record Pending(long at, String itemId) {}
  private long lastWarning;

  GrantStore(Pool pool) {
    this.pool = pool;
  }

  Future<Map<String, List<Grants>>> loadGrants(long afterEpochMs) {
    return pool.preparedQuery(LOAD_GRANTS).execute(Tuple.of(afterEpochMs)).map(rows -> {
      Map<String, List<Grants>> out = new HashMap<>();
      for (Row row : rows) {
        out.computeIfAbsent(row.getString("endpoint"), e -> new ArrayList<>())
            .add(new Grants(row.getLong("granted_at"), item(row.getString("item_id")), row.getInteger("grants")));
      }
      return out;
    });
  }

  /** The journal of one endpoint after {@code afterEpochMs}, in time order (journal times). */
  Future<List<Grants>> loadEndpoint(String endpoint, long afterEpochMs) {
    return pool.preparedQuery(LOAD_ENDPOINT).execute(Tuple.of(endpoint, afterEpochMs)).map(rows -> {
      List<Grants> out = new ArrayList<>(rows.size());
      for (Row row : rows) {
        out.add(new Grants(row.getLong("granted_at"), item(row.getString("item_id")), row.getInteger("grants")));
      }
      return out;
    });
  }

  private static String item(String stored) {
    return stored == null || stored.isEmpty() ? null : stored;
  }

  /**
   * Writes grants through under a lease: succeeds once they are committed, fails with {@link Fenced} when
   * ({@code owner}, {@code token}) no longer holds the endpoint, or with the database's error.
   */
  Future<Void> journal(String endpoint, String owner, long token, Long[] at, String[] items, Integer[] counts) {
    return pool.preparedQuery(JOURNAL).execute(Tuple.of(endpoint, owner, token, at, items, counts))
        .compose(rows -> rows.rowCount() > 0 ? Future.<Void>succeededFuture()
            : Future.failedFuture(new Fenced(endpoint, token)));
  }

  /** Takes or renews leases (see {@link #LEASE}); returns those this owner holds now. */
  Future<List<Lease>> lease(List<String> endpoints, String owner, long leaseMs) {
    return pool.preparedQuery(LEASE).execute(Tuple.of(endpoints.toArray(new String[0]), owner, leaseMs))
        .map(rows -> {
          List<Lease> out = new ArrayList<>();
          for (Row row : rows) {
            out.add(new Lease(row.getString("endpoint"), row.getLong("fencing_token"), row.getLong("db_now")));
          }
          return out;
        });
  }

  /** Gives leases back, so the next owner need not wait for them to expire. */
  Future<Void> release(List<String> endpoints, String owner) {
    return pool.preparedQuery(RELEASE).execute(Tuple.of(owner, (Object) endpoints.toArray(new String[0]))).mapEmpty();
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

  /** Buffers one grant (write-behind, single node); grants arrive in time order. */
  void granted(String endpoint, long at, String itemId) {
    pending.computeIfAbsent(endpoint, e -> new ArrayList<>()).add(new Pending(at, itemId == null ? "" : itemId));
  }

  /** Writes what was buffered since the last flush. */
  Future<Void> flush() {
    if (pending.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<String, List<Pending>> batch = pending;
    pending = new LinkedHashMap<>();
    List<Future<?>> writes = new ArrayList<>();
    batch.forEach((endpoint, grants) -> {
      Rows rows = new Rows();
      grants.forEach(grant -> rows.add(grant.at(), grant.itemId()));
      writes.add(pool.preparedQuery(SAVE_GRANTS).execute(Tuple.of(endpoint, rows.at(), rows.items(), rows.counts())));
    });
    return Future.join(writes).<Void>mapEmpty().recover(failure -> {
      warn("grants", failure);
      return Future.succeededFuture();
    });
  }

  /**
   * Grants folded into rows of (millisecond, Item, count), the statements' arrays: a burst in one
   * millisecond for one Item is one row. Grants arrive in time order, so equal keys are adjacent.
   */
  static final class Rows {
    private final List<Long> at = new ArrayList<>();
    private final List<String> items = new ArrayList<>();
    private final List<Integer> counts = new ArrayList<>();

    void add(long time, String itemId) {
      String item = itemId == null ? "" : itemId;
      int last = at.size() - 1;
      if (last >= 0 && at.get(last) == time && items.get(last).equals(item)) {
        counts.set(last, counts.get(last) + 1);
      } else {
        at.add(time);
        items.add(item);
        counts.add(1);
      }
    }

    boolean isEmpty() {
      return at.isEmpty();
    }

    Long[] at() {
      return at.toArray(new Long[0]);
    }

    String[] items() {
      return items.toArray(new String[0]);
    }

    Integer[] counts() {
      return counts.toArray(new Integer[0]);
    }
  }

  /** Forgets one endpoint's journal up to {@code upToEpochMs} (its longest window behind). */
  Future<Void> prune(String endpoint, long upToEpochMs) {
    return pool.preparedQuery(PRUNE_ENDPOINT).execute(Tuple.of(endpoint, upToEpochMs)).<Void>mapEmpty().recover(failure -> {
      warn("pruning", failure);
      return Future.succeededFuture();
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
