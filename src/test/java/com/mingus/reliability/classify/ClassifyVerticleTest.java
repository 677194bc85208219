package com.mingus.reliability.classify;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.BusFailure;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ClassifyOutcome;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.TransportFailure;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PingReply;
import com.mingus.reliability.bus.RecoveryStep;
import com.mingus.reliability.bus.UserAction;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The verticle through its bus contract alone: classify.error, classify.outcome, classify.ping. */
@ExtendWith(VertxExtension.class)
class ClassifyVerticleTest {
  private static final long TIMEOUT_MS = 2_000;

  private static JsonObject config(int instances) {
    return Classifiers.shippedSection().put("seed", 7).put("instances", instances);
  }

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext testContext) {
    MessageCodecs.register(vertx.eventBus());
    vertx.deployVerticle(ClassifyVerticle::new, new DeploymentOptions().setConfig(config(2)).setInstances(2))
        .onComplete(testContext.succeedingThenComplete());
  }

  static Stream<Arguments> failureKinds() {
    return Stream.of(
        Arguments.of("a timeout", ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, 1, "/transactions/sync", "ins_1"),
            ErrorCategory.CONNECTION_FAILURE, RecoveryStep.RETRY, UserAction.NONE),
        Arguments.of("a refused connection", ClassifyRequest.transportFailure(TransportFailure.CONNECTION_REFUSED, 2, "/item/get",
            "ins_1"), ErrorCategory.CONNECTION_FAILURE, RecoveryStep.RETRY, UserAction.NONE),
        Arguments.of("an institution outage sent as 400", ClassifyRequest.plaidError("INSTITUTION_ERROR",
            "INSTITUTION_DOWN", null, 400, null, 1, "/transactions/sync", "ins_1"),
            ErrorCategory.BANK_MAINTENANCE, RecoveryStep.RETRY, UserAction.NONE),
        Arguments.of("a 429", ClassifyRequest.plaidError("RATE_LIMIT_EXCEEDED", "TRANSACTIONS_SYNC_LIMIT", null, 429, 90L,
            1, "/transactions/sync", "ins_1"), ErrorCategory.RATE_LIMIT_EXCEEDED, RecoveryStep.RETRY, UserAction.NONE),
        Arguments.of("a login required", ClassifyRequest.plaidError("ITEM_ERROR", "ITEM_LOGIN_REQUIRED", null, 400, null,
            1, "/transactions/sync", "ins_1"), ErrorCategory.AUTHENTICATION_ERROR, RecoveryStep.WAIT_FOR_USER,
            UserAction.RECONNECT),
        Arguments.of("a locked account", ClassifyRequest.plaidError("ITEM_ERROR", "ITEM_LOCKED", null, 400, null, 1,
            "/transactions/sync", "ins_1"), ErrorCategory.AUTHENTICATION_ERROR, RecoveryStep.WAIT_FOR_USER,
            UserAction.FIX_AT_BANK),
        Arguments.of("a revoked permission", ClassifyRequest.plaidError("ITEM_ERROR", "USER_PERMISSION_REVOKED", null, 400,
            null, 1, "/transactions/sync", "ins_1"), ErrorCategory.ITEM_ERROR, RecoveryStep.STOP, UserAction.RELINK),
        Arguments.of("a mutation during pagination", ClassifyRequest.plaidError("TRANSACTIONS_ERROR",
            "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION", null, 400, null, 1, "/transactions/sync", "ins_1"),
            ErrorCategory.ITEM_ERROR, RecoveryStep.RESTART_PAGINATION, UserAction.NONE),
        Arguments.of("a product not ready", ClassifyRequest.plaidError("ITEM_ERROR", "PRODUCT_NOT_READY", null, 400, null,
            1, "/transactions/get", "ins_1"), ErrorCategory.PRODUCT_NOT_AVAILABLE, RecoveryStep.WAIT_FOR_WEBHOOK,
            UserAction.NONE),
        Arguments.of("credits exhausted", ClassifyRequest.plaidError("RATE_LIMIT_EXCEEDED", "CREDITS_EXHAUSTED", null, 429,
            null, 1, "/transactions/sync", "ins_1"), ErrorCategory.RATE_LIMIT_EXCEEDED, RecoveryStep.STOP,
            UserAction.CONTACT_SUPPORT),
        Arguments.of("Plaid's 500", ClassifyRequest.plaidError("API_ERROR", "INTERNAL_SERVER_ERROR", null, 500, null, 1,
            "/item/get", "ins_1"), ErrorCategory.INTERNAL_ERROR, RecoveryStep.RETRY, UserAction.NONE),
        Arguments.of("our bad request", ClassifyRequest.plaidError("INVALID_REQUEST", "MISSING_FIELDS", null, 400, null, 1,
            "/item/get", "ins_1"), ErrorCategory.INVALID_REQUEST, RecoveryStep.STOP, UserAction.CONTACT_SUPPORT),
        Arguments.of("a raw body only", ClassifyRequest.rawAnswer(400,
            "{\"error_type\":\"INSTITUTION_ERROR\",\"error_code\":\"INSTITUTION_NOT_RESPONDING\"}", null, 1, "/item/get",
            "ins_1"), ErrorCategory.INSTITUTION_ERROR, RecoveryStep.RETRY, UserAction.NONE),
        Arguments.of("a proxy's HTML 502", ClassifyRequest.rawAnswer(502, "<html>Bad Gateway</html>", null, 1, "/item/get",
            "ins_1"), ErrorCategory.CONNECTION_FAILURE, RecoveryStep.RETRY, UserAction.NONE),
        Arguments.of("an unknown code", ClassifyRequest.plaidError("SHINY_NEW_ERROR", "SHINY_NEW_CODE", null, 400, null, 1,
            "/item/get", "ins_1"), ErrorCategory.UNKNOWN_ERROR, RecoveryStep.RETRY, UserAction.NONE));
  }

  @ParameterizedTest(name = "{0} gets {2} / {3}")
  @MethodSource("failureKinds")
  void eachFailureKindGetsItsPlanOverTheBus(String name, ClassifyRequest request, ErrorCategory category,
      RecoveryStep step, UserAction action, Vertx vertx, VertxTestContext testContext) {
    long before = System.currentTimeMillis();
    Bus.<Classification>request(vertx, Addresses.CLASSIFY_ERROR, request, TIMEOUT_MS)
        .onComplete(testContext.succeeding(c -> testContext.verify(() -> {
          assertThat(c.category()).isEqualTo(category);
          assertThat(c.nextStep()).isEqualTo(step);
          assertThat(c.userAction()).isEqualTo(action);
          assertThat(c.attempt()).isEqualTo(request.attempt());
          assertThat(c.message()).isNotBlank();
          if (step == RecoveryStep.RETRY) {
            assertThat(c.nextRetryAt().toEpochMilli()).isBetween(before + c.delayMs(),
                System.currentTimeMillis() + c.delayMs());
          }
          testContext.completeNow();
        })));
  }

  @Test
  void aPlainJsonRequestIsAnsweredToo(Vertx vertx, VertxTestContext testContext) {
    JsonObject json = new JsonObject().put("error", new JsonObject().put("error_type", "API_ERROR")
            .put("error_code", "PLANNED_MAINTENANCE").put("display_message", "Plaid is down for maintenance").put("status", 503))
        .put("attempt", 1).put("endpoint", "/transactions/sync").put("institution_id", "ins_3");
    Bus.<Classification>request(vertx, Addresses.CLASSIFY_ERROR, json, TIMEOUT_MS)
        .onComplete(testContext.succeeding(c -> testContext.verify(() -> {
          assertThat(c.category()).isEqualTo(ErrorCategory.BANK_MAINTENANCE);
          assertThat(c.toJson().getString("notification_type")).isEqualTo("system_maintenance");
          assertThat(c.toJson().getString("connection_status")).isEqualTo("maintenance");
          assertThat(c.message()).isEqualTo("Plaid is down for maintenance");
          testContext.completeNow();
        })));
  }

  static Stream<Arguments> plaidClientFailures() {
    // the JSON of the Plaid client's failure record (bus/PlaidFailure), flat or whole under "failure"
    JsonObject reset = new JsonObject().put("endpoint", "/transactions/sync").put("transport", "CONNECTION_RESET");
    JsonObject gateway = new JsonObject().put("endpoint", "/item/get").put("transport", "HTTP_STATUS")
        .put("http_status", 503);
    JsonObject throttled = new JsonObject().put("endpoint", "/item/get").put("transport", "HTTP_STATUS")
        .put("http_status", 429).put("retry_after_s", 120);
    JsonObject down = new JsonObject().put("endpoint", "/transactions/sync").put("error_type", "INSTITUTION_ERROR")
        .put("error_code", "INSTITUTION_DOWN").put("error_message", "not responding").put("display_message", null)
        .put("request_id", "r-1").put("http_status", 400);
    return Stream.of(
        Arguments.of(reset.copy().put("attempt", 1), ErrorCategory.CONNECTION_FAILURE, 0L),
        Arguments.of(gateway.copy().put("attempt", 1), ErrorCategory.CONNECTION_FAILURE, 0L),
        Arguments.of(throttled.copy().put("attempt", 1), ErrorCategory.RATE_LIMIT_EXCEEDED, 120_000L),
        Arguments.of(down.copy().put("attempt", 1), ErrorCategory.BANK_MAINTENANCE, 0L),
        Arguments.of(new JsonObject().put("failure", down).put("attempt", 2).put("institution_id", "ins_1"),
            ErrorCategory.BANK_MAINTENANCE, 0L),
        Arguments.of(new JsonObject().put("failure", throttled).put("attempt", 1), ErrorCategory.RATE_LIMIT_EXCEEDED,
            120_000L));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("plaidClientFailures")
  void thePlaidClientsFailureRecordClassifiesAsItIs(JsonObject json, ErrorCategory category, long minDelayMs,
      Vertx vertx, VertxTestContext testContext) {
    Bus.<Classification>request(vertx, Addresses.CLASSIFY_ERROR, json, TIMEOUT_MS)
        .onComplete(testContext.succeeding(c -> testContext.verify(() -> {
          assertThat(c.category()).isEqualTo(category);
          assertThat(c.delayMs()).isGreaterThanOrEqualTo(minDelayMs);
          testContext.completeNow();
        })));
  }

  static Stream<Arguments> malformedRequests() {
    return Stream.of(
        Arguments.of("an empty object", new JsonObject()),
        Arguments.of("no failure at all", new JsonObject().put("attempt", 1).put("endpoint", "/item/get")),
        Arguments.of("a wrong attempt", new JsonObject().put("error_code", "INSTITUTION_DOWN").put("attempt", "first")),
        Arguments.of("attempt zero", new JsonObject().put("error_code", "INSTITUTION_DOWN").put("attempt", 0)),
        Arguments.of("a fractional attempt", new JsonObject().put("transport", "TIMEOUT").put("attempt", 1.5)),
        Arguments.of("text that is not JSON", "error_code=INSTITUTION_DOWN"),
        Arguments.of("a number", 42));
  }

  @ParameterizedTest(name = "{0} fails fast with INVALID_REQUEST")
  @MethodSource("malformedRequests")
  void aMalformedRequestFailsWithInvalidRequestNotATimeout(String name, Object body, Vertx vertx,
      VertxTestContext testContext) {
    long start = System.nanoTime();
    Bus.request(vertx, Addresses.CLASSIFY_ERROR, body, TIMEOUT_MS)
        .onComplete(testContext.failing(failure -> testContext.verify(() -> {
          BusFailure typed = ((Bus.BusException) failure).failure();
          assertThat(typed.kind()).isEqualTo(BusFailure.Kind.RECIPIENT_FAILURE);
          assertThat(typed.code()).isEqualTo(FailureCodes.INVALID_REQUEST);
          assertThat(typed.message()).isNotBlank();
          assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(TIMEOUT_MS / 2);
          testContext.completeNow();
        })));
  }

  @Test
  void theRetryBudgetIsSharedByEveryInstanceOnTheNode(Vertx vertx, VertxTestContext testContext) {
    // two instances are deployed; with no recorded requests the floor of 10 retries holds for both together
    List<Future<Classification>> replies = new ArrayList<>();
    for (int i = 0; i < 14; i++) {
      replies.add(Bus.request(vertx, Addresses.CLASSIFY_ERROR,
          ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, 2, "/transactions/sync", "ins_outage"), TIMEOUT_MS));
    }
    Future.all(replies).onComplete(testContext.succeeding(all -> testContext.verify(() -> {
      long granted = replies.stream().filter(f -> f.result().nextStep() == RecoveryStep.RETRY).count();
      long waiting = replies.stream().filter(f -> f.result().nextStep() == RecoveryStep.WAIT_FOR_BUDGET).count();
      assertThat(granted).isEqualTo(10);
      assertThat(waiting).isEqualTo(4);
      replies.stream().filter(f -> f.result().budgetExhausted())
          .forEach(f -> assertThat(f.result().delayMs()).isGreaterThanOrEqualTo(10_000L));
      testContext.completeNow();
    })));
  }

  @Test
  void reportedSuccessesRaiseTheInstitutionsRetryBudget(Vertx vertx, VertxTestContext testContext) {
    // callers may send and forget; asking for a reply here only tells the test when all 100 are counted
    List<Future<Object>> reports = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      reports.add(Bus.request(vertx, Addresses.CLASSIFY_OUTCOME, new ClassifyOutcome("ins_busy", "/transactions/sync", 1),
          TIMEOUT_MS));
    }
    Future.all(reports).compose(counted -> {
      List<Future<Classification>> replies = new ArrayList<>();
      for (int i = 0; i < 25; i++) {
        replies.add(Bus.request(vertx, Addresses.CLASSIFY_ERROR,
            ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, 2, "/transactions/sync", "ins_busy"), TIMEOUT_MS));
      }
      return Future.all(replies).map(all -> replies);
    }).onComplete(testContext.succeeding(replies -> testContext.verify(() -> {
      // 100 requests x 0.2 = 20 retries, above the floor of 10
      assertThat(replies.stream().filter(f -> f.result().nextStep() == RecoveryStep.RETRY).count()).isEqualTo(20);
      testContext.completeNow();
    })));
  }

  @Test
  void theVerticleAnswersItsPing(Vertx vertx, VertxTestContext testContext) {
    Bus.<PingReply>request(vertx, Addresses.CLASSIFY_PING, new JsonObject(), TIMEOUT_MS)
        .onComplete(testContext.succeeding(reply -> testContext.verify(() -> {
          assertThat(reply.healthy()).isTrue();
          assertThat(reply.component()).isEqualTo("classify");
          testContext.completeNow();
        })));
  }

  @Test
  void aWrongSettingFailsTheDeploymentNamingTheSetting(Vertx vertx, VertxTestContext testContext) {
    JsonObject bad = config(1).put("retry_budget", new JsonObject().put("ratio", "lots"));
    vertx.deployVerticle(ClassifyVerticle::new, new DeploymentOptions().setConfig(bad))
        .onComplete(testContext.failing(failure -> testContext.verify(() -> {
          assertThat(failure.getMessage()).contains("classify.retry_budget.ratio");
          testContext.completeNow();
        })));
  }
}
