package com.mingus.reliability.classify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.TransportFailure;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.RecoveryStep;
import com.mingus.reliability.config.ConfigException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Strategies, exhaustion, Retry-After, the special codes, body parsing and the retry budget. */
class ClassifierTest {
  private static final long NOW = 1_800_000_000_000L;

  private static Classification classify(Classifier classifier, ClassifyRequest request) {
    return classifier.classify(request, NOW);
  }

  @Test
  void theCodeDefaultsAreTheShippedDefaults() {
    assertThat(ClassifySettings.from(new JsonObject())).isEqualTo(Classifiers.shipped());
    assertThat(Classifiers.shipped().strategy(ErrorCategory.CONNECTION_FAILURE))
        .isEqualTo(new RetryStrategy(5, 1, 60, 2.0, true, 900));
    assertThat(Classifiers.shipped().strategy(ErrorCategory.RATE_LIMIT_EXCEEDED))
        .isEqualTo(new RetryStrategy(3, 60, 300, 1.5, false, 900));
    assertThat(Classifiers.shipped().strategy(ErrorCategory.BANK_MAINTENANCE))
        .isEqualTo(new RetryStrategy(10, 300, 3600, 2.0, true, 3600));
    for (ErrorCategory category : ErrorCategory.values()) {
      assertThat(Classifiers.shippedSection().getJsonObject("retry_strategies").getJsonObject(category.wire()))
          .as("a documented strategy for %s", category).isNotNull();
    }
  }

  @Test
  void rateLimitsBackOffExponentiallyWithoutJitterThenFallBackToTheSchedule() {
    Classifier classifier = Classifiers.withoutBudget(1);
    List<Long> delays = new ArrayList<>();
    for (int attempt = 1; attempt <= 3; attempt++) {
      Classification c = classify(classifier, ClassifyRequest.plaidError("RATE_LIMIT_EXCEEDED", "TRANSACTIONS_SYNC_LIMIT",
          null, 429, null, attempt, "/transactions/sync", "ins_1"));
      assertThat(c.nextStep()).isEqualTo(RecoveryStep.RETRY);
      delays.add(c.delayMs());
    }
    assertThat(delays).containsExactly(60_000L, 90_000L, 135_000L);

    Classification exhausted = classify(classifier, ClassifyRequest.plaidError("RATE_LIMIT_EXCEEDED",
        "TRANSACTIONS_SYNC_LIMIT", null, 429, null, 4, "/transactions/sync", "ins_1"));
    assertThat(exhausted.nextStep()).isEqualTo(RecoveryStep.FALL_BACK_TO_SCHEDULE);
    assertThat(exhausted.retryable()).isFalse();
    assertThat(exhausted.delayMs()).isEqualTo(900_000L);
    assertThat(exhausted.nextRetryAt().toEpochMilli()).isEqualTo(NOW + 900_000L);
    assertThat(exhausted.connectionStatus()).isEqualTo(ConnectionStatus.RATE_LIMITED);
  }

  @Test
  void connectionFailuresUseFullJitterUnderTheCappedExponentialAndAreDeterministicForASeed() {
    Classifier first = Classifiers.withoutBudget(42);
    Classifier second = Classifiers.withoutBudget(42);
    for (int attempt = 1; attempt <= 5; attempt++) {
      ClassifyRequest request = ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, attempt, "/item/get", "ins_1");
      long cap = (long) Math.min(60_000, 1_000 * Math.pow(2, attempt - 1));
      Classification a = classify(first, request);
      assertThat(a.delayMs()).isBetween(0L, cap);
      assertThat(classify(second, request).delayMs()).isEqualTo(a.delayMs());
    }
    // many draws spread over the whole range rather than clustering at the cap
    Classifier spread = Classifiers.withoutBudget(7);
    long below = 0;
    for (int i = 0; i < 1_000; i++) {
      long d = classify(spread, ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, 5, "/item/get", "ins_1")).delayMs();
      assertThat(d).isBetween(0L, 16_000L);
      below += d < 8_000 ? 1 : 0;
    }
    assertThat(below).isBetween(400L, 600L);
  }

  @Test
  void connectionFailuresAfterFiveRetriesMarkTheConnectionAndTellTheUser() {
    Classification c = classify(Classifiers.withoutBudget(1),
        ClassifyRequest.transportFailure(TransportFailure.CONNECTION_RESET, 6, "/item/get", "ins_1"));
    assertThat(c.nextStep()).isEqualTo(RecoveryStep.FALL_BACK_TO_SCHEDULE);
    assertThat(c.connectionStatus()).isEqualTo(ConnectionStatus.ERROR);
    assertThat(c.notificationType()).isEqualTo(NotificationType.DATA_SYNC_STATUS);
    assertThat(c.priority()).isEqualTo(NotificationPriority.MEDIUM);
    assertThat(c.nextRetryAt()).isNotNull();
    assertThat(c.maxRetries()).isEqualTo(5);
  }

  @Test
  void retryAfterIsAFloorUnderTheComputedDelay() {
    Classifier classifier = Classifiers.withoutBudget(1);
    Classification longer = classify(classifier, ClassifyRequest.plaidError("RATE_LIMIT_EXCEEDED", "RATE_LIMIT", null,
        429, 200L, 1, "/accounts/get", "ins_1"));
    assertThat(longer.delayMs()).isEqualTo(200_000L);
    Classification shorter = classify(classifier, ClassifyRequest.plaidError("RATE_LIMIT_EXCEEDED", "RATE_LIMIT", null,
        429, 5L, 1, "/accounts/get", "ins_1"));
    assertThat(shorter.delayMs()).isEqualTo(60_000L);
    Classification jittered = classify(classifier, ClassifyRequest.plaidError("API_ERROR", "INTERNAL_SERVER_ERROR", null,
        500, 30L, 1, "/accounts/get", "ins_1"));
    assertThat(jittered.delayMs()).isEqualTo(30_000L);
  }

  @Test
  void mutationDuringPaginationRestartsAtOnceThenPausesBetweenRestarts() {
    Classifier classifier = Classifiers.withoutBudget(1);
    Classification now = classify(classifier, ClassifyRequest.plaidError("TRANSACTIONS_ERROR",
        "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION", null, 400, null, 1, "/transactions/sync", "ins_1"));
    assertThat(now.restartPagination()).isTrue();
    assertThat(now.nextStep()).isEqualTo(RecoveryStep.RESTART_PAGINATION);
    assertThat(now.delayMs()).isZero();
    Classification later = classify(classifier, ClassifyRequest.plaidError("TRANSACTIONS_ERROR",
        "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION", null, 400, null, 4, "/transactions/sync", "ins_1"));
    assertThat(later.restartPagination()).isTrue();
    assertThat(later.delayMs()).isEqualTo(60_000L);
  }

  @Test
  void productNotReadyWaitsForTheWebhookWithASlowSafetyPoll() {
    Classification c = classify(Classifiers.withoutBudget(1), ClassifyRequest.plaidError("ITEM_ERROR", "PRODUCT_NOT_READY",
        null, 400, null, 1, "/transactions/get", "ins_1"));
    assertThat(c.nextStep()).isEqualTo(RecoveryStep.WAIT_FOR_WEBHOOK);
    assertThat(c.retryable()).isFalse();
    assertThat(c.delayMs()).isBetween(0L, 300_000L);
    assertThat(c.nextRetryAt()).isNotNull();
  }

  @Test
  void itemLoginRequiredParksTheConnectionUntilReconnectAndKeepsPlaidsDisplayMessage() {
    ClassifyRequest request = ClassifyRequest.plaidError("ITEM_ERROR", "ITEM_LOGIN_REQUIRED",
        "the login details of this item have changed", 400, null, 1, "/transactions/sync", "ins_1");
    Classification c = classify(Classifiers.withoutBudget(1), request);
    assertThat(c.nextStep()).isEqualTo(RecoveryStep.WAIT_FOR_USER);
    assertThat(c.nextRetryAt()).isNull();
    assertThat(c.message()).isEqualTo("the login details of this item have changed");
    assertThat(c.toJson().getString("user_action")).isEqualTo("reconnect");
    assertThat(c.toJson().getString("connection_status")).isEqualTo("requires_reauth");
  }

  @Test
  void unknownCodesGetAFewSlowRetriesThenTheSchedule() {
    Classifier classifier = Classifiers.withoutBudget(1);
    Classification first = classify(classifier, ClassifyRequest.plaidError("BRAND_NEW_ERROR", "BRAND_NEW_CODE", null, 400,
        null, 1, "/item/get", "ins_1"));
    assertThat(first.category()).isEqualTo(ErrorCategory.UNKNOWN_ERROR);
    assertThat(first.retryable()).isTrue();
    assertThat(first.delayMs()).isBetween(0L, 30_000L);
    assertThat(first.maxRetries()).isEqualTo(2);
    Classification third = classify(classifier, ClassifyRequest.plaidError("BRAND_NEW_ERROR", "BRAND_NEW_CODE", null, 400,
        null, 3, "/item/get", "ins_1"));
    assertThat(third.nextStep()).isEqualTo(RecoveryStep.FALL_BACK_TO_SCHEDULE);
    assertThat(third.delayMs()).isEqualTo(3_600_000L);
  }

  @Test
  void aRawBodyIsParsedWhenTheRequestCarriesNoErrorFields() {
    String body = "{\"error_type\":\"INSTITUTION_ERROR\",\"error_code\":\"INSTITUTION_DOWN\","
        + "\"error_message\":\"this institution is not currently responding\","
        + "\"display_message\":\"The bank is down.\",\"request_id\":\"abc123\",\"causes\":[],\"extra\":{\"x\":1}}";
    Classification c = classify(Classifiers.withoutBudget(1), ClassifyRequest.rawAnswer(400, body, null, 1,
        "/transactions/sync", "ins_1"));
    assertThat(c.category()).isEqualTo(ErrorCategory.BANK_MAINTENANCE);
    assertThat(c.errorCode()).isEqualTo("INSTITUTION_DOWN");
    assertThat(c.message()).isEqualTo("The bank is down.");
    assertThat(c.requestId()).isEqualTo("abc123");
  }

  @Test
  void aTruncatedOrBrokenBodyStillYieldsItsCode() {
    String cut = "{\"error_type\": \"ITEM_ERROR\", \"error_code\": \"ITEM_LOGIN_REQUIRED\", \"error_message\": \"the log";
    Classification c = classify(Classifiers.withoutBudget(1), ClassifyRequest.rawAnswer(400, cut, null, 1, "/x", "i"));
    assertThat(c.category()).isEqualTo(ErrorCategory.AUTHENTICATION_ERROR);
    String huge = "{\"error_code\":\"INSTITUTION_DOWN\",\"pad\":\"" + "x".repeat(200_000) + "\"}";
    assertThat(classify(Classifiers.withoutBudget(1), ClassifyRequest.rawAnswer(400, huge, null, 1, "/x", "i")).category())
        .isEqualTo(ErrorCategory.BANK_MAINTENANCE);
    String deep = "[".repeat(100_000);
    assertThat(classify(Classifiers.withoutBudget(1), ClassifyRequest.rawAnswer(400, deep, null, 1, "/x", "i")).category())
        .isEqualTo(ErrorCategory.UNKNOWN_ERROR);
    String deepObject = "{\"a\":".repeat(50_000);
    assertThat(classify(Classifiers.withoutBudget(1), ClassifyRequest.rawAnswer(503, deepObject, null, 1, "/x", "i"))
        .category()).isEqualTo(ErrorCategory.CONNECTION_FAILURE);
  }

  @Test
  void hostileTextInAnErrorIsTamedBeforeItIsShown() {
    ClassifyRequest request = ClassifyRequest.fromJson(new JsonObject()
        .put("error_type", "item_error\u0000")
        .put("error_code", " item_locked ")
        .put("display_message", "Locked\n\r\u0007 at\u202e the bank " + "!".repeat(5_000))
        .put("attempt", 1));
    Classification c = classify(Classifiers.withoutBudget(1), request);
    assertThat(c.errorCode()).isEqualTo("ITEM_LOCKED");
    assertThat(c.errorType()).isEqualTo("ITEM_ERROR_");
    assertThat(c.message()).startsWith("Locked at the bank !").hasSizeLessThanOrEqualTo(500).doesNotContain("\n", "\u0007");
  }

  @Test
  void theRetryBudgetAllowsTheFloorThenAShareOfRequestsThenSaysWait() {
    RetryBudget budget = new RetryBudget(0.2, 10, 60_000, 6, 100);
    Classifier classifier = new Classifier(Classifiers.shipped(), new SplittableRandom(1), budget);
    ClassifyRequest retry = ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, 2, "/item/get", "ins_out");
    for (int i = 0; i < 10; i++) {
      assertThat(classifier.classify(retry, NOW).nextStep()).isEqualTo(RecoveryStep.RETRY);
    }
    Classification spent = classifier.classify(retry, NOW);
    assertThat(spent.nextStep()).isEqualTo(RecoveryStep.WAIT_FOR_BUDGET);
    assertThat(spent.budgetExhausted()).isTrue();
    assertThat(spent.retryable()).isFalse();
    assertThat(spent.delayMs()).isBetween(10_000L, 60_000L);
    // another bank is not affected
    assertThat(classifier.classify(ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, 2, "/item/get", "ins_fine"), NOW)
        .nextStep()).isEqualTo(RecoveryStep.RETRY);
    // 100 first attempts (failed ones classified) raise the budget to 20 retries in the window
    for (int i = 0; i < 100; i++) {
      Classification first = classifier.classify(ClassifyRequest.transportFailure(TransportFailure.TIMEOUT, 1, "/item/get",
          "ins_out"), NOW);
      assertThat(first.nextStep()).isIn(RecoveryStep.RETRY, RecoveryStep.WAIT_FOR_BUDGET);
    }
    assertThat(budget.counts("ins_out", NOW)).containsExactly(100, 20);
    // a minute later the window has emptied
    assertThat(classifier.classify(retry, NOW + 61_000).nextStep()).isEqualTo(RecoveryStep.RETRY);
  }

  @Test
  void reportedSuccessesCountAsRequestsForTheBudget() {
    RetryBudget budget = new RetryBudget(0.2, 10, 60_000, 6, 100);
    for (int i = 0; i < 200; i++) {
      budget.recordRequest("ins_1", NOW);
    }
    int granted = 0;
    while (budget.tryAcquire("ins_1", NOW) == 0) {
      granted++;
    }
    assertThat(granted).isEqualTo(40);
  }

  @Test
  void theBudgetForgetsTheLeastRecentlyUsedInstitutionsPastItsBound() {
    RetryBudget budget = new RetryBudget(0.2, 1, 60_000, 6, 2);
    budget.tryAcquire("a", NOW);
    budget.tryAcquire("b", NOW);
    budget.tryAcquire("c", NOW);
    assertThat(budget.counts("a", NOW)).containsExactly(0, 0);
    assertThat(budget.counts("c", NOW)).containsExactly(0, 1);
  }

  @Test
  void aWrongSettingStopsStartUpNamingIt() {
    JsonObject bad = Classifiers.shippedSection();
    bad.getJsonObject("retry_strategies").getJsonObject("bank_maintenance").put("max_retries", "ten");
    assertThatThrownBy(() -> ClassifySettings.from(bad)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("classify.retry_strategies.bank_maintenance.max_retries");
    JsonObject typo = Classifiers.shippedSection();
    typo.getJsonObject("retry_strategies").put("bank_maintenace", new JsonObject());
    assertThatThrownBy(() -> ClassifySettings.from(typo)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("bank_maintenace");
    JsonObject ratio = Classifiers.shippedSection().put("retry_budget", new JsonObject().put("ratio", -1));
    assertThatThrownBy(() -> ClassifySettings.from(ratio)).hasMessageContaining("classify.retry_budget.ratio");
  }

  @Test
  void aClassificationSurvivesTheTripThroughJson() {
    Classification c = classify(Classifiers.withoutBudget(1), ClassifyRequest.plaidError("INSTITUTION_ERROR",
        "INSTITUTION_DOWN", "Down", 400, 10L, 1, "/transactions/sync", "ins_1"));
    assertThat(Classification.fromJson(c.toJson())).isEqualTo(c);
    ClassifyRequest r = new ClassifyRequest("A", "B", "C", "D", "E", "F", 400, 3L, TransportFailure.DNS, "{}", 2, "/e", "i", "it",
        "co");
    assertThat(ClassifyRequest.fromJson(r.toJson())).isEqualTo(r);
  }
}
