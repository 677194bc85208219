package com.mingus.reliability.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The claim and the finish of an attempt without changes, on the real schema: the claim walks the
 * (priority, next_sync_at) order instead of sorting every due row (docs/bench/sync.md), and the
 * one-statement finish is fenced like the transactional one.
 */
class SyncStoreDispatchTest {
  private static final int DUE = 20_000;
  private static DatabaseTarget db;
  private static Vertx vertx;
  private static SyncStore store;

  @BeforeAll
  static void start() {
    db = TestDatabase.fresh(SyncStoreDispatchTest.class);
    Sql.execute(db, """
        INSERT INTO connections (connection_id, user_id, item_id, institution_id, token_key_id, token_nonce,
                                 token_ciphertext)
        SELECT 'conn_' || g, 'user_' || g, 'item_' || g, 'ins_x', 'test1', '\\x00'::bytea, '\\x00'::bytea
        FROM generate_series(1, %d) g""".formatted(DUE));
    Sql.execute(db, "INSERT INTO sync_schedule (connection_id, next_sync_at, priority, trigger) "
        + "SELECT connection_id, now() - interval '1 minute', 2, 'periodic' FROM connections");
    Sql.execute(db, "ANALYZE");
    vertx = Vertx.vertx();
    store = new SyncStore(Pools.create(vertx, Pools.connectionConfig(db, 2), "test"));
  }

  @AfterAll
  static void stop() {
    Await.result(vertx.close());
  }

  @Test
  void theClaimWithManyDueConnectionsWalksTheClaimOrderIndexWithoutSortingThemAll() throws Exception {
    StringBuilder plan = new StringBuilder();
    try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.user(), "");
         Statement statement = connection.createStatement()) {
      statement.execute("PREPARE claim(text, bigint) AS " + SyncStore.claimSql(16));
      // the plan the claim keeps: the generic one, which PostgreSQL reuses after five runs
      statement.execute("SET plan_cache_mode = force_generic_plan");
      try (ResultSet rows = statement.executeQuery("EXPLAIN EXECUTE claim('planner', 10000)")) {
        while (rows.next()) {
          plan.append(rows.getString(1)).append('\n');
        }
      }
    }
    assertThat(plan.toString()).contains("sync_schedule_claim_order").doesNotContain("Sort Key");
  }

  @Test
  void aFinishWithoutChangesStoresScheduleAndLogOnceAndIsFencedWhenTheLeaseMoved() {
    List<Claim> claims = Await.result(store.claim("node-a", 2, 10_000));
    assertThat(claims).hasSize(2);
    OffsetDateTime next = OffsetDateTime.now(ZoneOffset.UTC).plusHours(6).truncatedTo(ChronoUnit.MILLIS);

    Claim kept = claims.get(0);
    SyncStore.Finished finished = Await.result(store.finish(kept, new SyncResult(), next(next), log(kept),
        NoopDispatch.tellCompleted(kept)));
    assertThat(finished.nextAt().toInstant()).isEqualTo(next.toInstant());
    // its event for health is in the outbox, committed with it, with the schedule's next_sync_at
    assertThat(finished.told().event().nextSyncAt()).isEqualTo(SyncStore.text(finished.nextAt()));
    assertThat(Sql.strings(db, "SELECT (body ->> 'next_sync_at')::timestamptz = ? FROM sync_outbox WHERE id = ?",
        next, finished.told().id())).containsExactly("t");
    assertThat(Sql.strings(db, "SELECT lease_owner IS NULL AND next_sync_at = ? FROM sync_schedule "
        + "WHERE connection_id = ?", next, kept.connectionId())).containsExactly("t");
    assertThat(Sql.number(db, "SELECT count(*) FROM sync_logs WHERE connection_id = ?", kept.connectionId()))
        .isEqualTo(1);

    Claim lost = claims.get(1);
    Sql.execute(db, "UPDATE sync_schedule SET lease_owner = 'node-b', lease_token = gen_random_uuid() "
        + "WHERE connection_id = '" + lost.connectionId() + "'");
    assertThatThrownBy(() -> Await.result(store.finish(lost, null, next(next), log(lost),
            NoopDispatch.tellCompleted(lost))))
        .hasCauseInstanceOf(SyncStore.LeaseLost.class);
    assertThat(Sql.number(db, "SELECT count(*) FROM sync_outbox WHERE connection_id = ?", lost.connectionId()))
        .as("no event for a finish that was fenced out").isZero();
    assertThat(Sql.number(db, "SELECT count(*) FROM sync_logs WHERE connection_id = ?", lost.connectionId()))
        .isZero();
    assertThat(Sql.strings(db, "SELECT lease_owner FROM sync_schedule WHERE connection_id = ?", lost.connectionId()))
        .containsExactly("node-b");
  }

  private static SyncStore.Next next(OffsetDateTime at) {
    return new SyncStore.Next(at, "periodic", 2, null, true, false, null);
  }

  private static SyncStore.Log log(Claim claim) {
    return new SyncStore.Log(claim.syncId(), claim.connectionId(), claim.trigger(), "success",
        OffsetDateTime.now(ZoneOffset.UTC), 1, 1, 0, 0, 0, 0, null, null, null, null, "node-a");
  }
}
