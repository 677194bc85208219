package com.mingus.reliability.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The lease statements themselves, against PostgreSQL: taken, refused to another owner, given back, taken over with a new token. */
class GrantStoreLeaseTest {
  private static final List<String> ENDPOINTS = List.of("/transactions/get", "/accounts/get");
  private static DatabaseTarget database;
  private static Vertx vertx;
  private static Pool pool;

  @BeforeAll
  static void start() {
    database = TestDatabase.fresh(GrantStoreLeaseTest.class);
    vertx = Vertx.vertx();
    pool = Pools.create(vertx, Pools.connectionConfig(database, 2), "lease-test");
  }

  @AfterAll
  static void stop() {
    Await.result(pool.close(), Duration.ofSeconds(10));
    Await.result(vertx.close(), Duration.ofSeconds(10));
  }

  @Test
  void aReleasedLeaseIsTakenAtOnceByTheNextOwnerUnderANewToken() {
    GrantStore store = new GrantStore(pool);
    List<GrantStore.Lease> first = Await.result(store.lease(ENDPOINTS, "node-a", 60_000), Duration.ofSeconds(10));
    assertThat(first).extracting(GrantStore.Lease::token).containsOnly(1L);
    assertThat(Await.result(store.lease(ENDPOINTS, "node-b", 60_000), Duration.ofSeconds(10)))
        .as("a live lease is not taken by another owner").isEmpty();

    Await.result(store.release(ENDPOINTS, "node-a"), Duration.ofSeconds(10));
    assertThat(Sql.number(database, "SELECT count(*) FROM ratelimit_owners WHERE expires_at > now()"))
        .as("leases still live after their owner gave them back").isZero();

    List<GrantStore.Lease> second = Await.result(store.lease(ENDPOINTS, "node-b", 60_000), Duration.ofSeconds(10));
    assertThat(second).as("the next owner takes them at once, fenced by a new token")
        .extracting(GrantStore.Lease::token).containsOnly(2L);
    Await.result(store.release(List.of("/transactions/get"), "node-a"), Duration.ofSeconds(10));
    Await.result(store.release(List.of("/accounts/get"), "node-c"), Duration.ofSeconds(10));
    assertThat(Sql.number(database, "SELECT count(*) FROM ratelimit_owners WHERE owner = 'node-b' AND expires_at > now()"))
        .as("a former owner's release takes nothing from the new one").isEqualTo(2);
  }
}
