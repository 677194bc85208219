package com.mingus.reliability.health;

import static com.mingus.reliability.testsupport.TwoUsers.ALICE;
import static com.mingus.reliability.testsupport.TwoUsers.ALICE_CONNECTION;
import static com.mingus.reliability.testsupport.TwoUsers.BOB;
import static com.mingus.reliability.testsupport.TwoUsers.BOB_CONNECTION;
import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.ConnectionHealth;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.TestDatabase;
import com.mingus.reliability.testsupport.TwoUsers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Health's user-facing queries with their user condition off (a null user), run as alice: only her rows. */
class HealthRowLevelSecurityTest {
  private static Vertx vertx;
  private static Pool pool;
  private static HealthStore store;

  @BeforeAll
  static void seed() {
    DatabaseTarget db = TestDatabase.fresh(HealthRowLevelSecurityTest.class);
    TwoUsers.seed(db);
    vertx = Vertx.vertx();
    pool = Pools.create(vertx, Pools.connectionConfig(db, 2), "rls-health");
    store = new HealthStore(pool, (health, notice, key) -> null, 15_000);
  }

  @AfterAll
  static void close() {
    Await.result(pool.close());
    Await.result(vertx.close());
  }

  private static <T> T as(String userId, Function<HealthStore, Future<T>> work) {
    return Await.result(store.asUser(userId, work));
  }

  @Test
  void aliceSeesTheHealthOfHerConnectionsOnly() {
    assertThat(as(ALICE, (HealthStore s) -> s.list(null))).extracting(ConnectionHealth::connectionId).containsExactly(ALICE_CONNECTION);
    assertThat(as(ALICE, (HealthStore s) -> s.get(null, BOB_CONNECTION))).isNull();
    assertThat(as(ALICE, (HealthStore s) -> s.counts(null)).getLong("total")).isEqualTo(1);
    assertThat(as(BOB, (HealthStore s) -> s.get(null, BOB_CONNECTION))).isNotNull();
  }

  @Test
  void operatorsSeeEveryConnectionsHealth() {
    assertThat(as(null, (HealthStore s) -> s.list(null))).hasSize(2);
    assertThat(as(null, (HealthStore s) -> s.counts(null)).getLong("total")).isEqualTo(2);
  }
}
