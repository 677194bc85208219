package com.mingus.reliability.bench.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.event.AbstractSchedulerListener;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.sync.NoopDispatch;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Dispatch rate of a no-op sync: our CLAIM + FENCE/finish (SyncStore, through {@link NoopDispatch}) beside
 * db-scheduler's lock-and-fetch with a one-time no-op task, on the same embedded PostgreSQL (fsync off),
 * the same number of due tasks, the same concurrency and the same pool size, alternating in one run.
 *
 * <p>Not part of {@code mvn verify} (the class name does not match surefire's default includes). Run:
 * {@code mvn -B test -Dtest=SyncDispatchBench -Dsurefire.failIfNoSpecifiedTests=false}; knobs
 * {@code -Dbench.statements=true} (per-statement figures from pg_stat_statements), {@code -Dbench.tasks=20000
 * -Dbench.concurrency=32 -Dbench.batch=16 -Dbench.pool=8 -Dbench.rounds=5
 * -Dbench.oursSql=...}. The machine is shared, so rounds alternate and the ratio of each round is reported.
 */
class SyncDispatchBench {
  private static final int TASKS = Integer.getInteger("bench.tasks", 20_000);
  private static final int CONCURRENCY = Integer.getInteger("bench.concurrency", 32);
  private static final int BATCH = Integer.getInteger("bench.batch", 16);
  private static final int POOL = Integer.getInteger("bench.pool", 8);
  private static final int ROUNDS = Integer.getInteger("bench.rounds", 5);
  /** 1 is SyncVerticle's rule; e.g. 16 claims only when half of 32 slots are free (db-scheduler's rule). */
  /** SQL run on our empty database before each of our runs, to measure a proposed schema change; none by default. */
  private static final String OURS_SQL = System.getProperty("bench.oursSql", "");

  /** db-scheduler's PostgreSQL table, as its documentation gives it (with the priority column and indexes). */
  private static final String DB_SCHEDULER_DDL = """
      create table scheduled_tasks (
        task_name text not null,
        task_instance text not null,
        task_data bytea,
        execution_time timestamp with time zone not null,
        picked BOOLEAN not null,
        picked_by text,
        last_success timestamp with time zone,
        last_failure timestamp with time zone,
        consecutive_failures INT,
        last_heartbeat timestamp with time zone,
        version BIGINT not null,
        priority SMALLINT,
        PRIMARY KEY (task_name, task_instance)
      );
      CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time);
      CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat);
      CREATE INDEX priority_execution_time_idx on scheduled_tasks (priority desc, execution_time asc);
      """;

  @Test
  void dispatchRateOfOurClaimAndFinishBesideDbScheduler() {
    List<Double> ours = new ArrayList<>();
    List<Double> theirs = new ArrayList<>();
    List<Double> ratios = new ArrayList<>();
    List<Double> cpuRatios = new ArrayList<>();
    // One throw-away round of each first: JIT, prepared statements, the server's caches.
    runOurs(Math.min(TASKS, 2_000));
    runDbScheduler(Math.min(TASKS, 2_000));
    for (int round = 1; round <= ROUNDS; round++) {
      Run a = runOurs(TASKS);
      Run b = runDbScheduler(TASKS);
      ours.add(a.rate());
      theirs.add(b.rate());
      ratios.add(a.rate() / b.rate());
      cpuRatios.add(b.cpuMicrosPerTask() / a.cpuMicrosPerTask());
      BenchResults.record("dispatch", String.format(Locale.ROOT,
          "round %d: ours %.0f/s, db-scheduler %.0f/s, ratio %.2f; CPU per task ours %.0f us, db-scheduler %.0f us, "
              + "ratio %.2f", round, a.rate(), b.rate(), a.rate() / b.rate(), a.cpuMicrosPerTask(),
          b.cpuMicrosPerTask(), b.cpuMicrosPerTask() / a.cpuMicrosPerTask()));
    }
    double a = median(ours);
    double b = median(theirs);
    BenchResults.record("dispatch", String.format(Locale.ROOT,
        "median of %d rounds, %d due tasks, concurrency %d, batch %d, pool %d, ours after [%s]: ours %.0f/s, "
            + "db-scheduler %.0f/s, ratio %.2f, median of per-round ratios %.2f (goal >= 1.5); median ratio of CPU "
            + "per task (theirs / ours) %.2f", ROUNDS, TASKS, CONCURRENCY, BATCH, POOL, OURS_SQL, a, b,
        a / b, median(ratios), median(cpuRatios)));
  }

  /** No-op syncs claimed and finished per second by our SQL. */
  private static Run runOurs(int tasks) {
    DatabaseTarget db = TestDatabase.fresh("bench_dispatch_ours");
    if (!OURS_SQL.isBlank()) {
      Sql.execute(db, OURS_SQL);
    }
    Sql.execute(db, """
        INSERT INTO connections (connection_id, user_id, item_id, institution_id, institution_name, token_key_id,
                                 token_nonce, token_ciphertext)
        SELECT 'conn_' || g, 'user_' || (g %% 1000), 'item_' || g, 'ins_bench', 'Bench Bank', 'test1',
               '\\x000000000000000000000000'::bytea, '\\x00'::bytea
        FROM generate_series(1, %d) g""".formatted(tasks));
    Sql.execute(db, "INSERT INTO sync_schedule (connection_id, next_sync_at, priority, trigger) "
        + "SELECT connection_id, now() - interval '1 minute', 2, 'periodic' FROM connections");
    Sql.execute(db, "VACUUM ANALYZE");
    resetStatements(db);
    Vertx vertx = Vertx.vertx();
    try {
      Pool pool = Pools.create(vertx, Pools.connectionConfig(db, POOL), "bench");
      CpuMeter.Sample cpu = CpuMeter.now();
      long started = System.nanoTime();
      long claims = Await.result(NoopDispatch.run(vertx, pool, CONCURRENCY, BATCH, tasks, 1_000),
          Duration.ofMinutes(10));
      double seconds = (System.nanoTime() - started) / 1e9;
      CpuMeter.Sample used = CpuMeter.now().minus(cpu);
      Await.result(pool.close());
      assertThat(Sql.number(db, "SELECT count(*) FROM sync_logs")).isEqualTo(tasks);
      assertThat(Sql.number(db, "SELECT count(*) FROM sync_schedule WHERE next_sync_at <= now()")).isZero();
      recordStatements(db, "ours");
      BenchResults.record("dispatch", String.format(Locale.ROOT, "ours: %d in %.2f s, %d CLAIM queries, %s",
          tasks, seconds, claims, perTask(used, tasks)));
      return new Run(tasks / seconds, used, tasks);
    } finally {
      Await.result(vertx.close());
    }
  }

  /** No-op one-time tasks picked, executed and completed per second by db-scheduler. */
  private static Run runDbScheduler(int tasks) {
    DatabaseTarget db = TestDatabase.fresh("bench_dispatch_dbscheduler");
    Sql.execute(db, DB_SCHEDULER_DDL);
    Sql.execute(db, """
        INSERT INTO scheduled_tasks (task_name, task_instance, execution_time, picked, version, priority)
        SELECT 'noop', 'conn_' || g, now() - interval '1 minute', false, 1, 0
        FROM generate_series(1, %d) g""".formatted(tasks));
    Sql.execute(db, "VACUUM ANALYZE");
    resetStatements(db);
    HikariConfig hikari = new HikariConfig();
    hikari.setJdbcUrl(db.jdbcUrl());
    hikari.setUsername(db.user());
    hikari.setPassword("");
    hikari.setMaximumPoolSize(POOL);
    hikari.setMinimumIdle(POOL);
    try (HikariDataSource dataSource = new HikariDataSource(hikari)) {
      OneTimeTask<Void> noop = Tasks.oneTime("noop").execute((instance, context) -> { });
      CountDownLatch completed = new CountDownLatch(tasks);
      AtomicLong failed = new AtomicLong();
      Scheduler scheduler = Scheduler.create(dataSource, noop)
          .threads(CONCURRENCY)
          .pollingInterval(Duration.ofSeconds(1))
          .pollUsingLockAndFetch(0.5, 1.0)
          .enablePriority()
          .shutdownMaxWait(Duration.ofSeconds(5))
          .addSchedulerListener(new AbstractSchedulerListener() {
            @Override
            public void onExecutionComplete(ExecutionComplete complete) {
              // Called after the completion handler removed the execution from the table.
              if (complete.getResult() != ExecutionComplete.Result.OK) {
                failed.incrementAndGet();
              }
              completed.countDown();
            }
          })
          .build();
      CpuMeter.Sample cpu = CpuMeter.now();
      long started = System.nanoTime();
      scheduler.start();
      boolean all = completed.await(10, TimeUnit.MINUTES);
      double seconds = (System.nanoTime() - started) / 1e9;
      CpuMeter.Sample used = CpuMeter.now().minus(cpu);
      scheduler.stop();
      assertThat(all).isTrue();
      assertThat(failed.get()).isZero();
      assertThat(Sql.number(db, "SELECT count(*) FROM scheduled_tasks")).isZero();
      recordStatements(db, "db-scheduler");
      BenchResults.record("dispatch", String.format(Locale.ROOT, "db-scheduler: %d in %.2f s, %s", tasks, seconds,
          perTask(used, tasks)));
      return new Run(tasks / seconds, used, tasks);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static final boolean STATEMENTS = Boolean.getBoolean("bench.statements");

  /** With -Dbench.statements=true: pg_stat_statements on (TestDatabase preloads it), and emptied. */
  private static void resetStatements(DatabaseTarget db) {
    if (STATEMENTS) {
      Sql.execute(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      Sql.execute(db, "SELECT pg_stat_statements_reset()");
    }
  }

  /** With -Dbench.statements=true: where PostgreSQL spent its time in this run, statement by statement. */
  private static void recordStatements(DatabaseTarget db, String who) {
    if (!STATEMENTS) {
      return;
    }
    String sql = """
        SELECT calls, rows, total_exec_time, total_plan_time, wal_records, left(regexp_replace(query, '\\s+', ' ', 'g'), 80)
        FROM pg_stat_statements WHERE calls >= 100 ORDER BY total_exec_time DESC""";
    try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.user(), "");
         ResultSet rows = connection.createStatement().executeQuery(sql)) {
      while (rows.next()) {
        long count = Math.max(1, rows.getLong(2));
        BenchResults.record("dispatch", String.format(Locale.ROOT,
            "%s statement: %d calls, %d rows, per row: execution %.1f us, planning %.1f us, %.1f WAL records; %s",
            who, rows.getLong(1), rows.getLong(2), rows.getDouble(3) * 1000 / count, rows.getDouble(4) * 1000 / count,
            (double) rows.getLong(5) / count, rows.getString(6)));
      }
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  /** One run: the rate, and the CPU it took in this JVM and in PostgreSQL. */
  private record Run(double rate, CpuMeter.Sample cpu, int tasks) {
    double cpuMicrosPerTask() {
      return (cpu.jvmNanos() + cpu.postgresNanos()) / 1e3 / tasks;
    }
  }

  private static String perTask(CpuMeter.Sample used, int tasks) {
    return String.format(Locale.ROOT, "CPU per task: JVM %.0f us + PostgreSQL %.0f us", used.jvmNanos() / 1e3 / tasks,
        used.postgresNanos() / 1e3 / tasks);
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}
