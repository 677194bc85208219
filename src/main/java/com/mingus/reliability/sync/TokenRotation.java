package com.mingus.reliability.sync;

import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.crypto.TokenCipher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Key rotation of the access tokens at rest (docs/secrets.md): re-seals, in the background, every token
 * sealed under a key other than the primary (the first of {@code TOKEN_ENCRYPTION_KEYS}) with the primary,
 * a bounded batch per transaction. A batch locks its rows ({@code FOR UPDATE SKIP LOCKED}, so instances and
 * nodes share the work instead of repeating it) and writes each one only if it still holds the very
 * ciphertext that was opened (key id and nonce compared), so a replay, a concurrent re-seal or a crash
 * between batches leaves every row either as it was or re-sealed, never lost; the next pass simply resumes.
 * A token that does not open (another row's ciphertext, tampering) is marked {@code token_unreadable_at},
 * logged by connection id, counted, and never used. Start-up refuses a configuration that lacks a key id
 * some stored token needs, naming the id (never a key).
 */
final class TokenRotation {
  private static final Logger log = LoggerFactory.getLogger(TokenRotation.class);

  static final String BATCH = """
      SELECT connection_id, user_id, item_id, token_key_id, token_nonce, token_ciphertext FROM connections
      WHERE token_key_id <> $1 AND token_key_id = ANY($2) AND token_unreadable_at IS NULL
      ORDER BY connection_id LIMIT $3
      FOR UPDATE SKIP LOCKED
      """;
  /** Compare-and-set on the sealed value that was opened: a row changed since is left alone. */
  static final String RESEAL = "UPDATE connections SET token_key_id = $4, token_nonce = $5, token_ciphertext = $6, "
      + "token_unreadable_at = NULL WHERE connection_id = $1 AND token_key_id = $2 AND token_nonce = $3";
  static final String UNREADABLE = "UPDATE connections SET token_unreadable_at = now() "
      + "WHERE connection_id = $1 AND token_key_id = $2 AND token_nonce = $3 AND token_unreadable_at IS NULL";
  static final String BY_KEY = "SELECT token_key_id, count(*) AS rows, count(token_unreadable_at) AS unreadable "
      + "FROM connections GROUP BY token_key_id ORDER BY token_key_id";

  private final Vertx vertx;
  private final Pool pool;
  private final TokenCipher cipher;
  private final int batch;
  private final long pauseMs;
  private final long rescanMs;
  private final long startDelayMs;
  private final MeterRegistry registry;
  private final AtomicLong oldKeyRows = new AtomicLong();
  private final AtomicLong unreadableRows = new AtomicLong();
  private final List<Meter> meters = new ArrayList<>();
  private Counter resealed;
  /** Re-sealed by this instance in the current pass, told once at its end. */
  private long passResealed;
  private long lastReadoutNanos = System.nanoTime();
  private long timer = -1;
  private volatile boolean stopped;

  TokenRotation(Vertx vertx, Pool pool, TokenCipher cipher, JsonObject section, MeterRegistry registry) {
    this.vertx = vertx;
    this.pool = pool;
    this.cipher = cipher;
    this.batch = Math.max(1, section.getInteger("batch", 100));
    this.pauseMs = Math.max(0, section.getLong("pause_ms", 100L));
    this.rescanMs = Math.max(100, section.getLong("rescan_ms", 60_000L));
    this.startDelayMs = Math.max(0, section.getLong("start_delay_ms", 1_000L));
    this.registry = registry;
    if (registry != null) {
      meters.add(Gauge.builder("mingus.sync.tokens.old_key", oldKeyRows, AtomicLong::get)
          .description("stored access tokens sealed under a key other than the primary (0 when a rotation is done)")
          .register(registry));
      meters.add(Gauge.builder("mingus.sync.tokens.unreadable", unreadableRows, AtomicLong::get)
          .description("stored access tokens that did not open for their row (tampered or misplaced); never used")
          .register(registry));
      resealed = Counter.builder("mingus.sync.tokens.resealed")
          .description("access tokens this node re-sealed under the primary key").register(registry);
      meters.add(resealed);
    }
  }

  /** Fails with a {@link ConfigException} naming every stored key id the configuration lacks. */
  Future<Void> checkKeys() {
    return pool.query(BY_KEY).execute().compose(rows -> {
      List<String> missing = new ArrayList<>();
      long count = 0;
      for (Row row : rows) {
        if (!cipher.knows(row.getString("token_key_id"))) {
          missing.add("'" + row.getString("token_key_id") + "'");
          count += row.getLong("rows");
        }
      }
      if (missing.isEmpty()) {
        return Future.succeededFuture();
      }
      return Future.failedFuture(new ConfigException("TOKEN_ENCRYPTION_KEYS", count + " stored access token(s) are sealed "
          + "with key id " + String.join(", ", missing) + ", which the setting does not name; put that key back (after "
          + "the primary) until the rotation has re-sealed them (docs/secrets.md)"));
    });
  }

  void start() {
    timer = vertx.setTimer(Math.max(1, startDelayMs), id -> pass());
  }

  void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    if (passResealed > 0) {
      log.info("Re-sealed {} access token(s) under key {} before stopping; the next start resumes", passResealed,
          cipher.primaryKeyId());
    }
    if (registry != null) {
      meters.forEach(registry::remove);
    }
  }

  /** Batches until none is left (or only rows another instance holds), then a rescan after {@code rescan_ms}. */
  private void pass() {
    if (stopped) {
      return;
    }
    runBatch().onComplete(done -> {
      if (stopped) {
        return;
      }
      if (done.succeeded() && done.result() > 0) {
        if (System.nanoTime() - lastReadoutNanos > 5_000_000_000L) {
          // the gauges follow a long rotation every few seconds, not only at its end
          lastReadoutNanos = System.nanoTime();
          readout();
        }
        timer = vertx.setTimer(Math.max(1, pauseMs), id -> pass());
        return;
      }
      if (done.failed()) {
        log.warn("Token re-sealing paused until the next pass: {}", done.cause().getMessage());
      }
      if (passResealed > 0) {
        log.info("Re-sealed {} access token(s) under key {}", passResealed, cipher.primaryKeyId());
        passResealed = 0;
      }
      lastReadoutNanos = System.nanoTime();
      readout().onSuccess(readout -> {
        long left = readout.getLong("rows_under_old_keys");
        if (left > 0 && done.succeeded()) {
          log.info("{} access token(s) still under old keys, held by another instance or unreadable; next pass in {} ms",
              left, rescanMs);
        }
      });
      timer = vertx.setTimer(rescanMs, id -> pass());
    });
  }

  /** One batch in one transaction; answers how many rows it looked at (0: nothing left for this instance). */
  Future<Integer> runBatch() {
    String primary = cipher.primaryKeyId();
    String[] known = cipher.keyIds().toArray(String[]::new);
    return pool.withTransaction(conn -> conn.preparedQuery(BATCH).execute(Tuple.of(primary, known, batch)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture(0);
      }
      List<Tuple> reseal = new ArrayList<>();
      List<Tuple> unreadable = new ArrayList<>();
      for (Row row : rows) {
        TokenCipher.Sealed old = SyncStore.sealed(row);
        String userId = row.getString("user_id");
        String itemId = row.getString("item_id");
        Buffer oldNonce = Buffer.buffer(old.nonce());
        try {
          TokenCipher.Sealed fresh = cipher.seal(cipher.open(old, userId, itemId), userId, itemId);
          reseal.add(Tuple.of(row.getString("connection_id"), old.keyId(), oldNonce, fresh.keyId(),
              Buffer.buffer(fresh.nonce()), Buffer.buffer(fresh.ciphertext())));
        } catch (IllegalStateException e) {
          log.error("Connection {}: its access token (key id {}) does not open for this row; marked unreadable, not used",
              row.getString("connection_id"), old.keyId());
          unreadable.add(Tuple.of(row.getString("connection_id"), old.keyId(), oldNonce));
        }
      }
      Future<Integer> written = reseal.isEmpty() ? Future.succeededFuture(0)
          : conn.preparedQuery(RESEAL).executeBatch(reseal).map(TokenRotation::rowCount);
      return written.compose(count -> (unreadable.isEmpty() ? Future.succeededFuture(0)
              : conn.preparedQuery(UNREADABLE).executeBatch(unreadable).map(TokenRotation::rowCount))
          .map(marked -> {
            if (count > 0) {
              log.debug("Re-sealed a batch of {} access token(s) under key {}", count, primary);
              passResealed += count;
              if (resealed != null) {
                resealed.increment(count);
              }
            }
            return rows.size();
          }));
    }));
  }

  /** Marks a token found not to open by a sync (same compare as a re-seal: only the value that failed). */
  void markUnreadable(String connectionId, TokenCipher.Sealed sealed) {
    pool.preparedQuery(UNREADABLE).execute(Tuple.of(connectionId, sealed.keyId(), Buffer.buffer(sealed.nonce())))
        .onFailure(failure -> log.warn("Connection {}: unreadable token not marked: {}", connectionId, failure.getMessage()));
  }

  /**
   * Rows per key id: {primary_key_id, configured_key_ids, keys: [{key_id, rows, unreadable, configured, primary}],
   * rows_under_old_keys, unreadable}. Also refreshes the gauges.
   */
  Future<JsonObject> readout() {
    return pool.query(BY_KEY).execute().map(rows -> {
      Map<String, long[]> byKey = new TreeMap<>();
      for (Row row : rows) {
        byKey.put(row.getString("token_key_id"), new long[] {row.getLong("rows"), row.getLong("unreadable")});
      }
      String primary = cipher.primaryKeyId();
      JsonArray keys = new JsonArray();
      long old = 0;
      long unreadable = 0;
      for (Map.Entry<String, long[]> entry : byKey.entrySet()) {
        boolean isPrimary = entry.getKey().equals(primary);
        keys.add(new JsonObject().put("key_id", entry.getKey()).put("rows", entry.getValue()[0])
            .put("unreadable", entry.getValue()[1]).put("configured", cipher.knows(entry.getKey()))
            .put("primary", isPrimary));
        old += isPrimary ? 0 : entry.getValue()[0];
        unreadable += entry.getValue()[1];
      }
      oldKeyRows.set(old);
      unreadableRows.set(unreadable);
      return new JsonObject().put("primary_key_id", primary).put("configured_key_ids", new JsonArray(cipher.keyIds()))
          .put("keys", keys).put("rows_under_old_keys", old).put("unreadable", unreadable);
    });
  }

  private static int rowCount(RowSet<Row> rows) {
    int total = 0;
    for (RowSet<Row> r = rows; r != null; r = r.next()) {
      total += r.rowCount();
    }
    return total;
  }
}
