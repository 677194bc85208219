package com.mingus.reliability.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.RateLimitReport;
import com.mingus.reliability.bus.RateLimitReportReply;
import com.mingus.reliability.bus.RateLimitStatus;
import com.mingus.reliability.bus.RateLimitStatusRequest;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A restarted limiter remembers, through PostgreSQL, what it granted in the window and what it learned. */
@ExtendWith(VertxExtension.class)
class RateLimitPersistenceTest {
  private static final String ACCOUNTS = "/accounts/get";
  private static final String BALANCE = "/accounts/balance/get";
  private static DatabaseTarget database;

  @BeforeAll
  static void database() {
    database = TestDatabase.fresh(RateLimitPersistenceTest.class);
  }

  private static Future<String> deploy(Vertx vertx) {
    MessageCodecs.register(vertx.eventBus());
    // a 6-second "minute": long enough that the restart happens inside it
    JsonObject config = new JsonObject()
        .put("window_scale", 0.1)
        .put("persist_interval_ms", 50)
        .put("database", Pools.connectionConfig(database, 2))
        .put("plaid", new JsonObject().put("rate_limits", new JsonObject()
            .put(ACCOUNTS, new JsonObject().put("per_minute", 10))
            .put(BALANCE, new JsonObject().put("per_minute", 10).put("per_hour", 100))));
    return vertx.deployVerticle(RateLimitVerticle::new, new DeploymentOptions().setConfig(config).setInstances(2));
  }

  private static Future<PermitReply> acquire(Vertx vertx, String endpoint) {
    return Bus.request(vertx, Addresses.RATELIMIT_ACQUIRE, PermitRequest.now(endpoint, null, PermitPriority.PERIODIC), 5_000);
  }

  @Test
  void aRestartedLimiterDoesNotSpendTheWindowAgainNorForgetWhatItLearned(Vertx vertx, VertxTestContext test) {
    List<Future<PermitReply>> before = new ArrayList<>();
    deploy(vertx)
        .compose(id -> {
          for (int i = 0; i < 10; i++) {
            before.add(acquire(vertx, ACCOUNTS));
          }
          return Future.all(before)
              .compose(done -> Bus.<RateLimitReportReply>request(vertx, Addresses.RATELIMIT_REPORT,
                  new RateLimitReport(BALANCE, null, "ACCOUNTS_BALANCE_GET_LIMIT", "0"), 2_000))
              .compose(reported -> vertx.timer(200))
              .compose(written -> vertx.undeploy(id));
        })
        .compose(stopped -> deploy(vertx))
        .compose(again -> acquire(vertx, ACCOUNTS))
        .compose(afterRestart -> {
          test.verify(() -> {
            assertThat(before).allMatch(reply -> reply.result().granted());
            assertThat(afterRestart.granted()).as("the window was spent before the restart").isFalse();
            assertThat(afterRestart.blockedBy()).isEqualTo("client_minute");
          });
          return Bus.<RateLimitStatus>request(vertx, Addresses.RATELIMIT_STATUS, new RateLimitStatusRequest(BALANCE, null), 2_000);
        })
        .onComplete(test.succeeding(status -> test.verify(() -> {
          JsonObject minute = status.body().getJsonObject("endpoints").getJsonObject(BALANCE)
              .getJsonArray("windows").getJsonObject(0);
          assertThat(minute.getInteger("effective")).isEqualTo(8);
          test.completeNow();
        })));
  }
}
