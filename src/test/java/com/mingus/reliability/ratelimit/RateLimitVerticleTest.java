package com.mingus.reliability.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.PingReply;
import com.mingus.reliability.bus.RateLimitReport;
import com.mingus.reliability.bus.RateLimitReportReply;
import com.mingus.reliability.bus.RateLimitStatus;
import com.mingus.reliability.bus.RateLimitStatusRequest;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The limiter through its bus contract, with a 600 ms "minute" (window_scale 0.01: margin 10 ms, cool-down
 * 500 ms) so each behaviour shows in about a second. Waits are for outcomes, not for fixed times, so a busy
 * machine makes the tests slower, not red.
 */
@ExtendWith(VertxExtension.class)
class RateLimitVerticleTest {
  private static final String SYNC = "/transactions/sync";
  private static final String ACCOUNTS = "/accounts/get";
  private static final String BALANCE = "/accounts/balance/get";
  private static final long MINUTE_MS = 600;

  static JsonObject config() {
    return new JsonObject()
        .put("window_scale", 0.01)
        .put("margin_ms", 1_000)
        .put("cooldown_ms", 50_000)
        .put("max_wait_ms", 10_000)
        .put("plaid", new JsonObject().put("rate_limits", new JsonObject()
            .put(SYNC, new JsonObject().put("per_minute", 10).put("per_item_per_minute", 4))
            .put(ACCOUNTS, new JsonObject().put("per_minute", 10))
            .put(BALANCE, new JsonObject().put("per_minute", 10).put("per_hour", 30).put("per_item_per_minute", 5))));
  }

  private static Future<String> deploy(Vertx vertx, int instances) {
    return deploy(vertx, instances, config());
  }

  private static Future<String> deploy(Vertx vertx, int instances, JsonObject config) {
    MessageCodecs.register(vertx.eventBus());
    return vertx.deployVerticle(RateLimitVerticle::new, new DeploymentOptions().setConfig(config).setInstances(instances));
  }

  private static Future<PermitReply> acquire(Vertx vertx, String endpoint, String item, PermitPriority priority, long waitMs) {
    PermitRequest request = new PermitRequest(endpoint, item, priority, waitMs);
    return Bus.request(vertx, Addresses.RATELIMIT_ACQUIRE, request, request.sendTimeoutMs());
  }

  /** Uses up the client-wide minute of an endpoint with answer-at-once requests, one Item each. */
  private static Future<Void> exhaust(Vertx vertx, String endpoint, int budget) {
    List<Future<PermitReply>> all = new ArrayList<>();
    for (int i = 0; i < budget; i++) {
      all.add(acquire(vertx, endpoint, "filler-" + i, PermitPriority.PERIODIC, 0));
    }
    return Future.all(all).map(done -> {
      all.forEach(reply -> assertThat(reply.result().granted()).isTrue());
      return null;
    });
  }

  @Test
  void grantsTheWholeBudgetAtOnceThenAnswersWithTheEarliestTimeTheNextCallMayGo(Vertx vertx, VertxTestContext test) {
    long begin = System.currentTimeMillis();
    deploy(vertx, 2)
        .compose(id -> exhaust(vertx, ACCOUNTS, 10))
        .compose(done -> acquire(vertx, ACCOUNTS, null, PermitPriority.MANUAL, 0))
        .onComplete(test.succeeding(reply -> test.verify(() -> {
          assertThat(reply.granted()).isFalse();
          assertThat(reply.blockedBy()).isEqualTo("client_minute");
          assertThat(reply.notBefore()).isBetween(begin + MINUTE_MS, System.currentTimeMillis() + MINUTE_MS + 10);
          test.completeNow();
        })));
  }

  @Test
  void aGrantIsGoodForSendingForHalfTheMarginAndNoLimitWithoutABudget(Vertx vertx, VertxTestContext test) {
    deploy(vertx, 1)
        .compose(id -> acquire(vertx, ACCOUNTS, null, PermitPriority.MANUAL, 0))
        .compose(budgeted -> acquire(vertx, "/no/budget/here", null, PermitPriority.MANUAL, 0)
            .map(free -> List.of(budgeted, free)))
        .onComplete(test.succeeding(replies -> test.verify(() -> {
          // margin_ms 1,000 at window_scale 0.01: a 10 ms margin, so 5 ms to put the call on the wire
          assertThat(replies.get(0).granted()).isTrue();
          assertThat(replies.get(0).validMs()).isEqualTo(5);
          assertThat(replies.get(0).toJson().getLong("valid_ms")).isEqualTo(5);
          assertThat(replies.get(0).sendByNanos(1_000_000_000L))
              .isEqualTo(1_000_000_000L + (replies.get(0).waitedMs() + 5) * 1_000_000L);
          assertThat(replies.get(1).granted()).isTrue();
          assertThat(replies.get(1).validMs()).isZero();
          assertThat(replies.get(1).sendByNanos(1_000_000_000L)).as("no send-by limit").isZero();
          test.completeNow();
        })));
  }

  @Test
  void anItemsOwnBudgetStopsThatItemAndNoOther(Vertx vertx, VertxTestContext test) {
    List<Future<PermitReply>> itemA = new ArrayList<>();
    deploy(vertx, 1)
        .compose(id -> {
          for (int i = 0; i < 5; i++) {
            itemA.add(acquire(vertx, SYNC, "item-a", PermitPriority.PERIODIC, 0));
          }
          return Future.join(itemA);
        })
        .compose(done -> acquire(vertx, SYNC, "item-b", PermitPriority.PERIODIC, 0))
        .onComplete(test.succeeding(replyB -> test.verify(() -> {
          assertThat(itemA.stream().filter(f -> f.result().granted()).count()).isEqualTo(4);
          assertThat(itemA.get(4).result().blockedBy()).isEqualTo("item_minute");
          assertThat(replyB.granted()).isTrue();
          test.completeNow();
        })));
  }

  @Test
  void waitingCallersAreServedManualFirstThenWebhookThenPeriodic(Vertx vertx, VertxTestContext test) {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    Context caller = vertx.getOrCreateContext();
    deploy(vertx, 1)
        .compose(id -> exhaust(vertx, ACCOUNTS, 10))
        .compose(done -> {
          Promise<List<Future<PermitReply>>> sent = Promise.promise();
          caller.runOnContext(v -> {
            List<Future<PermitReply>> all = new ArrayList<>();
            // the least urgent ask first, so arrival order alone would serve them the wrong way round
            for (int i = 0; i < 5; i++) {
              all.add(tracked(vertx, order, ACCOUNTS, "periodic-" + i, PermitPriority.PERIODIC));
            }
            for (int i = 0; i < 3; i++) {
              all.add(tracked(vertx, order, ACCOUNTS, "webhook-" + i, PermitPriority.WEBHOOK));
            }
            for (int i = 0; i < 2; i++) {
              all.add(tracked(vertx, order, ACCOUNTS, "manual-" + i, PermitPriority.MANUAL));
            }
            sent.complete(all);
          });
          return sent.future().compose(all -> Future.all(all));
        })
        .onComplete(test.succeeding(all -> test.verify(() -> {
          assertThat(order).hasSize(10);
          assertThat(order.subList(0, 2)).allMatch(name -> name.startsWith("manual"));
          assertThat(order.subList(2, 5)).allMatch(name -> name.startsWith("webhook"));
          assertThat(order.subList(5, 10)).allMatch(name -> name.startsWith("periodic"));
          test.completeNow();
        })));
  }

  @Test
  void oneBusyItemCannotStarveTheOthersOfTheSamePriority(Vertx vertx, VertxTestContext test) {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    Context caller = vertx.getOrCreateContext();
    deploy(vertx, 1)
        .compose(id -> exhaust(vertx, ACCOUNTS, 10))
        .compose(done -> {
          caller.runOnContext(v -> {
            for (int i = 0; i < 20; i++) {
              tracked(vertx, order, ACCOUNTS, "busy", PermitPriority.PERIODIC);
            }
            for (int i = 0; i < 5; i++) {
              tracked(vertx, order, ACCOUNTS, "quiet-1", PermitPriority.PERIODIC);
              tracked(vertx, order, ACCOUNTS, "quiet-2", PermitPriority.PERIODIC);
            }
          });
          // one more window: ten permits for thirty waiters
          return until(vertx, () -> order.size() >= 10);
        })
        .onComplete(test.succeeding(done -> test.verify(() -> {
          List<String> firstWindow = new ArrayList<>(order.subList(0, 10));
          assertThat(firstWindow.stream().filter("quiet-1"::equals).count()).isGreaterThanOrEqualTo(3);
          assertThat(firstWindow.stream().filter("quiet-2"::equals).count()).isGreaterThanOrEqualTo(3);
          assertThat(firstWindow.stream().filter("busy"::equals).count()).isBetween(3L, 4L);
          test.completeNow();
        })));
  }

  @Test
  void anItemBlockedByItsOwnBudgetDoesNotHoldUpTheOthers(Vertx vertx, VertxTestContext test) {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    List<Future<PermitReply>> itemA = new ArrayList<>();
    List<Future<PermitReply>> itemB = new ArrayList<>();
    Context caller = vertx.getOrCreateContext();
    long[] begin = new long[1];
    deploy(vertx, 1).onComplete(test.succeeding(id -> caller.runOnContext(v -> {
      begin[0] = System.currentTimeMillis();
      // item-a may have 4 per minute, the client 10: item-b's calls go at once though they ask later and lower
      for (int i = 0; i < 6; i++) {
        itemA.add(tracked(vertx, order, SYNC, "item-a", PermitPriority.MANUAL));
      }
      for (int i = 0; i < 4; i++) {
        itemB.add(tracked(vertx, order, SYNC, "item-b", PermitPriority.PERIODIC));
      }
      Future.all(itemB).onComplete(test.succeeding(done -> test.verify(() -> {
        assertThat(System.currentTimeMillis() - begin[0]).isLessThan(MINUTE_MS);
        assertThat(itemB).allMatch(reply -> reply.result().granted());
        assertThat(itemA.subList(0, 4)).allMatch(Future::isComplete);
        assertThat(itemA.subList(4, 6)).noneMatch(Future::isComplete);
        test.completeNow();
      })));
    })));
  }

  @Test
  void aWaitingCallerGetsANotBeforeWhenItsMaximumWaitRunsOut(Vertx vertx, VertxTestContext test) {
    deploy(vertx, 2)
        .compose(id -> exhaust(vertx, ACCOUNTS, 10))
        .compose(done -> acquire(vertx, ACCOUNTS, "late", PermitPriority.PERIODIC, 150))
        .onComplete(test.succeeding(reply -> test.verify(() -> {
          assertThat(reply.granted()).isFalse();
          assertThat(reply.waitedMs()).isGreaterThanOrEqualTo(150);
          assertThat(reply.notBefore()).isGreaterThan(System.currentTimeMillis());
          test.completeNow();
        })));
  }

  @Test
  void aWaitingCallerIsGrantedAsSoonAsTheWindowFrees(Vertx vertx, VertxTestContext test) {
    long[] exhaustedAt = new long[1];
    deploy(vertx, 2)
        .compose(id -> exhaust(vertx, ACCOUNTS, 10))
        .compose(done -> {
          exhaustedAt[0] = System.currentTimeMillis();
          return acquire(vertx, ACCOUNTS, "patient", PermitPriority.PERIODIC, 5_000);
        })
        .onComplete(test.succeeding(reply -> test.verify(() -> {
          long waited = System.currentTimeMillis() - exhaustedAt[0];
          assertThat(reply.granted()).isTrue();
          // not before the window frees; long before its own 5 s wait runs out
          assertThat(waited).isBetween(MINUTE_MS - 100, MINUTE_MS + 1_500);
          test.completeNow();
        })));
  }

  @Test
  void a429ForAnItemWhoseBudgetBindsClosesThatItemOnly(Vertx vertx, VertxTestContext test) {
    List<Future<PermitReply>> used = new ArrayList<>();
    deploy(vertx, 2)
        .compose(id -> {
          for (int i = 0; i < 4; i++) {
            used.add(acquire(vertx, SYNC, "hot-item", PermitPriority.PERIODIC, 0));
          }
          return Future.all(used);
        })
        .compose(done -> Bus.<RateLimitReportReply>request(vertx, Addresses.RATELIMIT_REPORT,
            new RateLimitReport(SYNC, "hot-item", "TRANSACTIONS_SYNC_LIMIT", null), 2_000))
        .compose(report -> {
          test.verify(() -> {
            assertThat(report.scope()).isEqualTo("item");
            assertThat(report.coolingUntil()).isGreaterThan(System.currentTimeMillis());
          });
          return acquire(vertx, SYNC, "other-item", PermitPriority.PERIODIC, 0);
        })
        .compose(other -> {
          test.verify(() -> assertThat(other.granted()).isTrue());
          return Bus.<RateLimitStatus>request(vertx, Addresses.RATELIMIT_STATUS, new RateLimitStatusRequest(SYNC, "hot-item"), 2_000);
        })
        .onComplete(test.succeeding(status -> test.verify(() -> {
          JsonObject sync = status.body().getJsonObject("endpoints").getJsonObject(SYNC);
          assertThat(sync.getLong("cooling_until")).as("the endpoint stays open").isNull();
          assertThat(sync.getJsonObject("items").getInteger("cooling")).isEqualTo(1);
          JsonObject item = sync.getJsonObject("item");
          assertThat(item.getString("item_id")).isEqualTo("hot-item");
          assertThat(item.getLong("cooling_until")).isGreaterThan(System.currentTimeMillis());
          JsonObject minute = item.getJsonArray("windows").getJsonObject(0);
          assertThat(minute.getString("scope")).isEqualTo("item");
          assertThat(minute.getInteger("used")).isEqualTo(4);
          assertThat(minute.getInteger("effective")).isLessThan(4);
          test.completeNow();
        })));
  }

  @Test
  void aClientCodeClosesTheWholeEndpointAndARetryAfterIsHonoured(Vertx vertx, VertxTestContext test) {
    long begin = System.currentTimeMillis();
    deploy(vertx, 2)
        .compose(id -> acquire(vertx, BALANCE, "item-1", PermitPriority.PERIODIC, 0))
        .compose(granted -> Bus.<RateLimitReportReply>request(vertx, Addresses.RATELIMIT_REPORT,
            new RateLimitReport(BALANCE, "item-1", "ACCOUNTS_BALANCE_GET_LIMIT", "2"), 2_000))
        .compose(report -> {
          test.verify(() -> {
            assertThat(report.scope()).isEqualTo("client");
            assertThat(report.coolingUntil()).isBetween(begin + 2_000, System.currentTimeMillis() + 2_000);
          });
          return acquire(vertx, BALANCE, "item-2", PermitPriority.MANUAL, 0);
        })
        .onComplete(test.succeeding(other -> test.verify(() -> {
          assertThat(other.granted()).isFalse();
          assertThat(other.blockedBy()).isEqualTo("client_cooldown");
          assertThat(other.notBefore()).isGreaterThanOrEqualTo(begin + 2_000);
          test.completeNow();
        })));
  }

  @Test
  void aNotABudgetCodeTeachesNothing(Vertx vertx, VertxTestContext test) {
    deploy(vertx, 1)
        .compose(id -> Bus.<RateLimitReportReply>request(vertx, Addresses.RATELIMIT_REPORT,
            new RateLimitReport(BALANCE, "item-1", "CREDITS_EXHAUSTED", null), 2_000))
        .compose(report -> {
          test.verify(() -> assertThat(report.scope()).isEqualTo("none"));
          return acquire(vertx, BALANCE, "item-1", PermitPriority.PERIODIC, 0);
        })
        .onComplete(test.succeeding(reply -> test.verify(() -> {
          assertThat(reply.granted()).isTrue();
          test.completeNow();
        })));
  }

  @Test
  void statusGivesBudgetUseRemainderAndLearnedBudgetPerEndpointAndWindowAcrossInstances(Vertx vertx, VertxTestContext test) {
    deploy(vertx, 2)
        .compose(id -> exhaust(vertx, ACCOUNTS, 3))
        .compose(done -> acquire(vertx, BALANCE, "item-1", PermitPriority.PERIODIC, 0))
        .compose(done -> Bus.<RateLimitReportReply>request(vertx, Addresses.RATELIMIT_REPORT,
            new RateLimitReport(BALANCE, null, "ACCOUNTS_BALANCE_GET_LIMIT", "5"), 2_000))
        .compose(done -> Bus.<RateLimitStatus>request(vertx, Addresses.RATELIMIT_STATUS, RateLimitStatusRequest.all(), 2_000))
        .onComplete(test.succeeding(status -> test.verify(() -> {
          JsonObject endpoints = status.body().getJsonObject("endpoints");
          assertThat(endpoints.fieldNames()).contains(SYNC, ACCOUNTS, BALANCE);
          JsonObject accounts = endpoints.getJsonObject(ACCOUNTS).getJsonArray("windows").getJsonObject(0);
          assertThat(accounts.getString("window")).isEqualTo("minute");
          assertThat(accounts.getInteger("configured")).isEqualTo(10);
          assertThat(accounts.getInteger("used")).isEqualTo(3);
          assertThat(accounts.getInteger("remaining")).isEqualTo(7);
          JsonObject balance = endpoints.getJsonObject(BALANCE);
          assertThat(balance.getJsonArray("windows")).hasSize(2);
          assertThat(balance.getLong("cooling_until")).isGreaterThan(System.currentTimeMillis());
          assertThat(balance.getLong("rate_limited")).isEqualTo(1);
          JsonObject hour = balance.getJsonArray("windows").getJsonObject(1);
          assertThat(hour.getString("window")).isEqualTo("hour");
          assertThat(hour.getInteger("configured")).isEqualTo(30);
          assertThat(hour.getInteger("used")).isEqualTo(1);
          // one 429 with no evidence of the server's count cuts the binding (most used) window
          JsonObject minute = balance.getJsonArray("windows").getJsonObject(0);
          assertThat(minute.getInteger("effective")).isEqualTo(8);
          test.completeNow();
        })));
  }

  @Test
  void aRequestWithoutAnEndpointFailsAsInvalid(Vertx vertx, VertxTestContext test) {
    deploy(vertx, 2)
        .compose(id -> Bus.request(vertx, Addresses.RATELIMIT_ACQUIRE, new JsonObject().put("item_id", "x"), 2_000))
        .onComplete(test.failing(failure -> test.verify(() -> {
          assertThat(failure).isInstanceOf(Bus.BusException.class);
          assertThat(((Bus.BusException) failure).failure().code()).isEqualTo(FailureCodes.INVALID_REQUEST);
          test.completeNow();
        })));
  }

  @Test
  void aFullQueueAnswersAtOnceInsteadOfHoldingTheCaller(Vertx vertx, VertxTestContext test) {
    List<Future<PermitReply>> waiting = new ArrayList<>();
    deploy(vertx, 1, config().put("max_waiters", 2))
        .compose(id -> exhaust(vertx, ACCOUNTS, 10))
        .compose(done -> {
          waiting.add(acquire(vertx, ACCOUNTS, "a", PermitPriority.PERIODIC, 5_000));
          waiting.add(acquire(vertx, ACCOUNTS, "b", PermitPriority.PERIODIC, 5_000));
          return vertx.timer(50).compose(t -> acquire(vertx, ACCOUNTS, "c", PermitPriority.PERIODIC, 5_000));
        })
        .onComplete(test.succeeding(third -> test.verify(() -> {
          assertThat(third.granted()).isFalse();
          assertThat(third.blockedBy()).isEqualTo("queue_full");
          assertThat(third.waitedMs()).isZero();
          assertThat(waiting).noneMatch(Future::isComplete);
          test.completeNow();
        })));
  }

  @Test
  void stoppingTheLimiterAnswersEveryWaitingCallerIncludingForwardedOnes(Vertx vertx, VertxTestContext test) {
    long[] begin = new long[1];
    List<Future<PermitReply>> waiters = new ArrayList<>();
    deploy(vertx, 2)
        .compose(id -> exhaust(vertx, ACCOUNTS, 10).map(id))
        .compose(id -> {
          begin[0] = System.currentTimeMillis();
          // the bus hands requests to the two instances in turn: some of these reach the owner forwarded
          for (int i = 0; i < 4; i++) {
            waiters.add(acquire(vertx, ACCOUNTS, "waiting-" + i, PermitPriority.MANUAL, 8_000));
          }
          return vertx.timer(50).compose(t -> vertx.undeploy(id)).compose(undeployed -> Future.all(waiters));
        })
        .onComplete(test.succeeding(all -> test.verify(() -> {
          for (Future<PermitReply> waiter : waiters) {
            assertThat(waiter.result().granted()).isFalse();
            assertThat(waiter.result().blockedBy()).isEqualTo("stopping");
          }
          assertThat(System.currentTimeMillis() - begin[0]).isLessThan(MINUTE_MS);
          test.completeNow();
        })));
  }

  @Test
  void acceptsTheRequestAsJsonFromTheEdge(Vertx vertx, VertxTestContext test) {
    deploy(vertx, 2)
        .compose(id -> Bus.<PermitReply>request(vertx, Addresses.RATELIMIT_ACQUIRE, new JsonObject()
            .put("endpoint", SYNC).put("item_id", "item-json").put("priority", "manual"), 2_000))
        .onComplete(test.succeeding(reply -> test.verify(() -> {
          assertThat(reply.granted()).isTrue();
          test.completeNow();
        })));
  }

  @Test
  void answersItsPing(Vertx vertx, VertxTestContext test) {
    deploy(vertx, 2)
        .compose(id -> Bus.<PingReply>request(vertx, Addresses.ping("ratelimit"), new JsonObject(), 2_000))
        .onComplete(test.succeeding(ping -> test.verify(() -> {
          assertThat(ping.healthy()).isTrue();
          test.completeNow();
        })));
  }

  @Test
  void severalInstancesShareOneBudget(Vertx vertx, VertxTestContext test) throws Exception {
    deploy(vertx, 4).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    List<Future<PermitReply>> all = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      all.add(acquire(vertx, ACCOUNTS, "item-" + i, PermitPriority.PERIODIC, 0));
    }
    Future.join(all).onComplete(test.succeeding(done -> test.verify(() -> {
      assertThat(all.stream().filter(f -> f.result().granted()).count()).isEqualTo(10);
      test.completeNow();
    })));
  }

  /** Completes once the condition holds, checking every 20 ms (the test's own timeout bounds it). */
  private static Future<Void> until(Vertx vertx, java.util.function.BooleanSupplier condition) {
    Promise<Void> done = Promise.promise();
    vertx.setPeriodic(20, timer -> {
      if (condition.getAsBoolean()) {
        vertx.cancelTimer(timer);
        done.tryComplete();
      }
    });
    return done.future();
  }

  private static Future<PermitReply> tracked(Vertx vertx, List<String> order, String endpoint, String item, PermitPriority priority) {
    return acquire(vertx, endpoint, item, priority, 5_000).onSuccess(reply -> {
      if (reply.granted()) {
        order.add(item);
      }
    });
  }
}
