package com.mingus.reliability.notify;

import static com.mingus.reliability.testsupport.TwoUsers.ALICE;
import static com.mingus.reliability.testsupport.TwoUsers.BOB;
import static com.mingus.reliability.testsupport.TwoUsers.BOB_NOTIFICATION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.crypto.TokenCipher;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import com.mingus.reliability.testsupport.TwoUsers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Notify's user-facing statements run as alice but naming bob (the user condition pointed at the wrong user,
 * as a bug would): nothing of bob's is read or changed.
 */
class NotifyRowLevelSecurityTest {
  private static Vertx vertx;
  private static DatabaseTarget db;
  private static Pool pool;
  private static NotifyStore store;

  @BeforeAll
  static void seed() {
    db = TestDatabase.fresh(NotifyRowLevelSecurityTest.class);
    TwoUsers.seed(db);
    vertx = Vertx.vertx();
    pool = Pools.create(vertx, Pools.connectionConfig(db, 2), "rls-notify");
    store = new NotifyStore(pool, TokenCipher.fromConfig(TestApp.cryptoConfig()));
  }

  @AfterAll
  static void close() {
    Await.result(pool.close());
    Await.result(vertx.close());
  }

  private static <T> T as(String userId, Function<NotifyStore, Future<T>> work) {
    return Await.result(store.asUser(userId, work));
  }

  @Test
  void aliceReadsNoneOfBobsNotificationsOrDeliveries() {
    UUID bobs = UUID.fromString(BOB_NOTIFICATION);
    assertThat(as(ALICE, (NotifyStore s) -> s.list(BOB, 50, null, null, false))).isEmpty();
    assertThat(as(ALICE, (NotifyStore s) -> s.counts(BOB))).containsExactly(0, 0);
    assertThat(as(ALICE, (NotifyStore s) -> s.deliveries(bobs, null))).as("bob's deliveries, no owner check").isNull();
    assertThat(as(BOB, (NotifyStore s) -> s.list(BOB, 50, null, null, false))).hasSize(1);
    assertThat(as(BOB, (NotifyStore s) -> s.deliveries(bobs, null))).hasSize(1);
  }

  @Test
  void aliceCannotMarkReadOrRewriteBobsPreferences() {
    assertThat(as(ALICE, (NotifyStore s) -> s.markRead(BOB, UUID.fromString(BOB_NOTIFICATION)))).isNull();
    assertThat(Sql.number(db, "SELECT count(*) FROM notifications WHERE id = ?::uuid AND read_at IS NULL",
        BOB_NOTIFICATION)).as("still unread").isEqualTo(1);
    assertThat(as(ALICE, (NotifyStore s) -> s.preferences(BOB)).email()).as("bob's address").isNull();
    Preferences hijack = new Preferences(BOB, java.time.ZoneOffset.UTC, null, null, new io.vertx.core.json.JsonObject(),
        "evil@example.com", null, java.util.List.of(), null, null, null);
    assertThatThrownBy(() -> as(ALICE, (NotifyStore s) -> s.savePreferences(hijack))).hasMessageContaining("row-level security");
    assertThat(Sql.strings(db, "SELECT email FROM notify_preferences WHERE user_id = ?", BOB))
        .containsExactly("bob@example.com");
    assertThat(as(BOB, (NotifyStore s) -> s.preferences(BOB)).email()).isEqualTo("bob@example.com");
  }

  @Test
  void operatorsReadADeliveryOfAnyUser() {
    assertThat(as(null, (NotifyStore s) -> s.deliveries(UUID.fromString(BOB_NOTIFICATION), null))).hasSize(1);
    assertThat(as(ALICE, (NotifyStore s) -> s.list(ALICE, 50, null, null, false))).hasSize(1);
  }
}
