package com.mingus.reliability.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Removing a connection while a sync is finishing it: the finish locks the schedule row, then (through the
 * foreign keys of the rows it stores) the connection. The removal must take its locks in the same order,
 * or the two deadlock and the user's DELETE fails.
 */
class SyncStoreLockOrderTest {

  @Test
  void aRemovalDuringAFinishingSyncWaitsForItInsteadOfDeadlocking() throws Exception {
    DatabaseTarget db = TestDatabase.fresh(SyncStoreLockOrderTest.class);
    Sql.execute(db, "INSERT INTO connections (connection_id, user_id, item_id, token_key_id, token_nonce, token_ciphertext) "
        + "VALUES ('conn_x', 'user_x', 'item_x', 'test1', '\\x00'::bytea, '\\x00'::bytea)");
    Sql.execute(db, "INSERT INTO sync_schedule (connection_id, next_sync_at) VALUES ('conn_x', now())");
    Vertx vertx = Vertx.vertx();
    try (Connection finishing = DriverManager.getConnection(db.jdbcUrl(), db.user(), "")) {
      SyncStore store = new SyncStore(Pools.create(vertx, Pools.connectionConfig(db, 2), "test"));
      finishing.setAutoCommit(false);
      try (Statement sync = finishing.createStatement()) {
        // the finish: the fence first ...
        sync.executeUpdate("UPDATE sync_schedule SET lease_owner = NULL WHERE connection_id = 'conn_x'");
        Future<SyncStore.Outboxed> removal = store.deleteConnection("conn_x", Addresses.CONNECTION_REMOVED,
            new SyncEvent(SyncEvent.REMOVED, "conn_x", "user_x", "item_x", null, null, null, null, null,
                "2026-12-05T00:00:00Z", null, null, null, null, null, null, null, null, null, null));
        // the removal is under way once it waits on a lock the finishing sync holds
        Await.until(() -> Sql.number(db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            + "AND datname = current_database()") > 0, Duration.ofSeconds(10), "the removal waits on the finish's lock");
        // ... then the changes, whose foreign key needs the connection row
        sync.executeUpdate("INSERT INTO transactions (transaction_id, connection_id, account_id, data) "
            + "VALUES ('tx_1', 'conn_x', 'acc_1', '{}')");
        // and its log row, which no foreign key ties to the connection (V8): the removal deletes it itself
        sync.executeUpdate("INSERT INTO sync_logs (sync_id, connection_id, trigger, status, started_at, duration_ms) "
            + "VALUES (gen_random_uuid(), 'conn_x', 'periodic', 'success', now(), 5)");
        assertThat(removal.isComplete()).as("the removal waits for the finishing sync").isFalse();
        finishing.commit();
        assertThat(Await.result(removal, Duration.ofSeconds(10))).as("the removal's event for health").isNotNull();
      }
      assertThat(Sql.number(db, "SELECT count(*) FROM transactions WHERE connection_id = 'conn_x'")).isZero();
      assertThat(Sql.number(db, "SELECT count(*) FROM sync_schedule WHERE connection_id = 'conn_x'")).isZero();
      assertThat(Sql.number(db, "SELECT count(*) FROM sync_logs WHERE connection_id = 'conn_x'")).isZero();
    } finally {
      Await.result(vertx.close());
    }
  }
}
