package com.mingus.reliability.sync;

import static com.mingus.reliability.testsupport.TwoUsers.ALICE;
import static com.mingus.reliability.testsupport.TwoUsers.ALICE_CONNECTION;
import static com.mingus.reliability.testsupport.TwoUsers.BOB;
import static com.mingus.reliability.testsupport.TwoUsers.BOB_CONNECTION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import com.mingus.reliability.testsupport.TwoUsers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sync's own user-facing queries with their user condition taken out (the store's methods take a null user as
 * "anyone's", so the real statement runs with its {@code user_id} test switched off), run as alice the way
 * SyncVerticle runs them: bob's rows stay out of reach. Bob's own reads prove the rows are there.
 */
class SyncRowLevelSecurityTest {
  private static Vertx vertx;
  private static DatabaseTarget db;
  private static SyncStore store;

  @BeforeAll
  static void seed() {
    db = TestDatabase.fresh(SyncRowLevelSecurityTest.class);
    TwoUsers.seed(db);
    vertx = Vertx.vertx();
    store = new SyncStore(Pools.create(vertx, Pools.connectionConfig(db, 2), "rls-sync"));
  }

  @AfterAll
  static void close() {
    Await.result(store.pool().close());
    Await.result(vertx.close());
  }

  private static <T> T as(String userId, java.util.function.Function<SyncStore, io.vertx.core.Future<T>> work) {
    return Await.result(store.asUser(userId, work));
  }

  @Test
  void theRegistryWithoutItsUserConditionShowsAliceOnlyHerOwn() {
    List<JsonObject> all = as(ALICE, (SyncStore s) -> s.connections(null));
    assertThat(all).extracting(c -> c.getString("connection_id")).containsExactly(ALICE_CONNECTION);
    assertThat(as(ALICE, (SyncStore s) -> s.connection(null, BOB_CONNECTION))).isNull();
    assertThat(as(ALICE, (SyncStore s) -> s.tokenRow(null, BOB_CONNECTION))).as("bob's sealed token").isNull();
    assertThat(as(BOB, (SyncStore s) -> s.connection(null, BOB_CONNECTION))).isNotNull();
  }

  @Test
  void bobsTransactionsAccountsAndLogsAreEmptyForAlice() {
    assertThat(as(ALICE, (SyncStore s) -> s.transactions(BOB_CONNECTION, null, null, null, 100))).isEmpty();
    assertThat(as(ALICE, (SyncStore s) -> s.accounts(BOB_CONNECTION))).isEmpty();
    assertThat(as(ALICE, (SyncStore s) -> s.syncLogs(BOB_CONNECTION, 10))).isEmpty();
    assertThat(as(ALICE, (SyncStore s) -> s.reliabilityStats(BOB_CONNECTION, 30)).getLong("total_syncs")).isZero();
    assertThat(as(BOB, (SyncStore s) -> s.transactions(BOB_CONNECTION, null, null, null, 100))).hasSize(2);
    assertThat(as(BOB, (SyncStore s) -> s.accounts(BOB_CONNECTION))).hasSize(1);
    assertThat(as(BOB, (SyncStore s) -> s.syncLogs(BOB_CONNECTION, 10))).hasSize(1);
  }

  @Test
  void aliceCannotQueueRetryOrRemoveBobsConnectionEvenNamingBob() {
    String before = Sql.strings(db, "SELECT next_sync_at || '|' || priority || '|' || retry_count FROM sync_schedule "
        + "WHERE connection_id = ?", BOB_CONNECTION).get(0);
    assertThat(as(ALICE, (SyncStore s) -> s.requestNow(BOB, BOB_CONNECTION))).isNull();
    assertThat(as(ALICE, (SyncStore s) -> s.requestRetry(BOB, BOB_CONNECTION))).isNull();
    assertThat(as(ALICE, (SyncStore s) -> s.deleteConnection(BOB_CONNECTION, Addresses.CONNECTION_REMOVED, removed(BOB))))
        .as("no removal, no event").isNull();
    assertThat(Sql.strings(db, "SELECT next_sync_at || '|' || priority || '|' || retry_count FROM sync_schedule "
        + "WHERE connection_id = ?", BOB_CONNECTION)).containsExactly(before);
    assertThat(Sql.number(db, "SELECT count(*) FROM transactions WHERE connection_id = ?", BOB_CONNECTION)).isEqualTo(2);
    assertThat(Sql.number(db, "SELECT count(*) FROM sync_logs WHERE connection_id = ?", BOB_CONNECTION)).isEqualTo(1);
    // the same call on her own connection works
    assertThat(as(ALICE, (SyncStore s) -> s.requestNow(ALICE, ALICE_CONNECTION))).isNotNull();
  }

  @Test
  void operatorsReadEveryConnectionButNoToken() {
    assertThat(as(null, (SyncStore s) -> s.connections(null))).hasSize(2);
    assertThat(as(null, (SyncStore s) -> s.reconciliations(null, null, 10))).hasSize(2);
    assertThat(as(null, (SyncStore s) -> s.requestReconcile(BOB_CONNECTION))).isNotNull();
    assertThatThrownBy(() -> as(null, (SyncStore s) -> s.tokenRow(null, BOB_CONNECTION))).hasMessageContaining("permission denied");
    assertThatThrownBy(() -> as(null, (SyncStore s) -> s.transactions(BOB_CONNECTION, null, null, null, 10)))
        .hasMessageContaining("permission denied");
  }

  private static SyncEvent removed(String userId) {
    return new SyncEvent(SyncEvent.REMOVED, BOB_CONNECTION, userId, "item_b", null, null, null, null, null,
        "2026-12-05T00:00:00Z", null, null, null, null, null, null, null, null, null, null);
  }
}
