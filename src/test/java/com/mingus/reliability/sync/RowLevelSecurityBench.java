package com.mingus.reliability.sync;

import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.db.Tenancy;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The price of row-level security on the user read path (docs/row-level-security.md): a page of a connection's
 * transactions, the way {@code sync.transactions} reads it (the ownership check, then 101 rows), straight on the
 * pool as before V14 against the same two statements in one transaction as the user ({@link SyncStore#asUser}:
 * BEGIN, the role and user id, the two statements, COMMIT). Rounds alternate in one process against one
 * database, so both see the same machine.
 *
 * <p>Run: {@code mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt && java -cp
 * target/test-classes:target/classes:$(cat target/cp.txt) com.mingus.reliability.sync.RowLevelSecurityBench
 * [seconds per round] [rounds] [in flight]}
 */
public final class RowLevelSecurityBench {
  private static final int USERS = 200;

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int inFlight = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    DatabaseTarget db = TestDatabase.fresh("rlsbench");
    Sql.execute(db, """
        INSERT INTO connections (connection_id, user_id, item_id, token_key_id, token_nonce, token_ciphertext)
        SELECT 'conn_' || u, 'user_' || u, 'item_' || u, 'k', '\\x00'::bytea, '\\x00'::bytea FROM generate_series(1, %1$d) u;
        INSERT INTO sync_schedule (connection_id, next_sync_at) SELECT 'conn_' || u, now() + interval '1 day'
        FROM generate_series(1, %1$d) u;
        INSERT INTO transactions (transaction_id, connection_id, account_id, amount, date, name, data)
        SELECT 'tx_' || u || '_' || t, 'conn_' || u, 'acc_' || u, t, date '2026-01-01' + (t %% 300), 'Shop',
               jsonb_build_object('transaction_id', 'tx_' || u || '_' || t, 'amount', t, 'name', 'Shop', 'pending', false)
        FROM generate_series(1, %1$d) u, generate_series(1, 500) t;
        ANALYZE;
        """.formatted(USERS));
    Vertx vertx = Vertx.vertx();
    SyncStore store = new SyncStore(Pools.create(vertx, Pools.connectionConfig(db, 8), "rls-bench"));
    System.out.println("plan of the page as a tenant:");
    Await.result(Tenancy.asUser(store.pool(), "user_1", conn -> conn.query("""
        EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
        SELECT transaction_id, date, data FROM transactions WHERE connection_id = 'conn_1'
        ORDER BY date DESC, transaction_id DESC LIMIT 101""").execute()))
        .forEach(row -> System.out.println("  " + row.getString(0)));
    try {
      for (int i = 0; i < 3; i++) {             // warm-up of both: the JIT and the plan caches
        run(vertx, store, false, seconds, inFlight);
        run(vertx, store, true, seconds, inFlight);
      }
      double[] plain = new double[rounds];
      double[] scoped = new double[rounds];
      double[] ratios = new double[rounds];
      for (int i = 0; i < rounds; i++) {
        plain[i] = run(vertx, store, false, seconds, inFlight);
        scoped[i] = run(vertx, store, true, seconds, inFlight);
        ratios[i] = scoped[i] / plain[i];
        System.out.printf("round %d: plain %.0f pages/s, as the user %.0f pages/s (%.2fx)%n", i + 1, plain[i], scoped[i],
            scoped[i] / plain[i]);
      }
      double[] sorted = ratios.clone();
      Arrays.sort(sorted);
      System.out.printf("median: plain %.0f pages/s, as the user %.0f pages/s; ratio per round: median %.2f (%.2f-%.2f)%n",
          median(plain), median(scoped), median(ratios), sorted[0], sorted[sorted.length - 1]);
    } finally {
      Await.result(store.pool().close());
      Await.result(vertx.close());
    }
  }

  private static Future<Object> page(SyncStore s, String user) {
    String connection = "conn_" + user.substring(5);
    return s.connection(user, connection).compose(view -> s.transactions(connection, null, null, null, 101))
        .map(rows -> (Object) rows);
  }

  /** Pages per second with {@code inFlight} requests outstanding for {@code seconds}. */
  private static double run(Vertx vertx, SyncStore store, boolean asUser, int seconds, int inFlight) {
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    Promise<Void> finished = Promise.promise();
    AtomicLong running = new AtomicLong(inFlight);
    vertx.runOnContext(v -> {
      for (int i = 0; i < inFlight; i++) {
        loop(store, asUser, end, done, failed, () -> {
          if (running.decrementAndGet() == 0) {
            finished.complete();
          }
          return null;
        });
      }
    });
    long start = System.nanoTime();
    Await.result(finished.future(), java.time.Duration.ofSeconds(seconds + 30));
    if (failed.get() > 0) {
      throw new IllegalStateException(failed.get() + " pages failed");
    }
    return done.get() * 1e9 / (System.nanoTime() - start);
  }

  private static void loop(SyncStore store, boolean asUser, long end, AtomicLong done, AtomicLong failed,
      Supplier<Void> stop) {
    if (System.nanoTime() > end) {
      stop.get();
      return;
    }
    String user = "user_" + (1 + ThreadLocalRandom.current().nextInt(USERS));
    Future<Object> page = asUser ? store.asUser(user, s -> page(s, user)) : page(store, user);
    page.onComplete(result -> {
      if (result.succeeded()) {
        done.incrementAndGet();
      } else {
        failed.incrementAndGet();
      }
      loop(store, asUser, end, done, failed, stop);
    });
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

}
