package com.mingus.reliability.classify;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.TransportFailure;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.RecoveryStep;
import com.mingus.reliability.bus.UserAction;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvFileSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The code table, row by row: every Plaid code in PLAID-FACTS.md and in the OpenAPI file's error examples
 * gets the category, user action, retry decision, status, next step, scope and notification listed in
 * plaid-error-codes.csv.
 */
class ClassifierTableTest {
  private static final String TABLE = "/com/mingus/reliability/classify/plaid-error-codes.csv";
  private static final long NOW = 1_800_000_000_000L;

  @ParameterizedTest(name = "{0}/{1} {2} -> {4}, {5}, retry={6}")
  @CsvFileSource(resources = TABLE)
  void eachPlaidCodeClassifiesAsTheTableSays(String errorType, String errorCode, String reason, Integer httpStatus,
      String category, String action, boolean retryable, String status, String nextStep, String scope,
      String notification) {
    ClassifyRequest request = new ClassifyRequest(errorType, errorCode, reason, "developer text", null, "req-1",
        httpStatus, null, null, null, 1, "/transactions/sync", "ins_1", "item_1", "conn_1");

    Classification c = Classifiers.withoutBudget(1).classify(request, NOW);

    assertThat(c.category().wire()).as("category").isEqualTo(category);
    assertThat(c.userAction().wire()).as("user action").isEqualTo(action);
    assertThat(c.retryable()).as("retryable").isEqualTo(retryable);
    assertThat(c.connectionStatus().wire()).as("connection status").isEqualTo(status);
    assertThat(c.nextStep().wire()).as("next step").isEqualTo(nextStep);
    assertThat(c.scope().wire()).as("scope").isEqualTo(scope);
    assertThat(c.institutionWide()).isEqualTo(scope.equals("institution"));
    assertThat(c.notificationType().wire()).as("notification").isEqualTo(notification);
    assertThat(c.errorType()).isEqualTo(errorType);
    assertThat(c.errorCode()).isEqualTo(errorCode);
    assertThat(c.errorCodeReason()).isEqualTo(reason);
    assertThat(c.message()).isNotBlank();
    assertThat(c.delayMs()).isNotNegative();
    if (c.nextStep() == RecoveryStep.RETRY || c.nextStep() == RecoveryStep.WAIT_FOR_WEBHOOK) {
      assertThat(c.nextRetryAt()).isNotNull();
      assertThat(c.nextRetryAt().toEpochMilli()).isEqualTo(NOW + c.delayMs());
    }
  }

  @ParameterizedTest(name = "{1} is never retried, whatever the attempt")
  @CsvFileSource(resources = TABLE)
  void codesThatNeedTheUserAreNeverRetried(String errorType, String errorCode, String reason, Integer httpStatus,
      String category, String action) {
    if (UserAction.fromWire(action) == UserAction.NONE) {
      return;
    }
    Classifier classifier = Classifiers.withoutBudget(2);
    for (int attempt : new int[] {1, 2, 3, 6, 50}) {
      Classification c = classifier.classify(ClassifyRequest.plaidError(errorType, errorCode, null,
          httpStatus == null ? 400 : httpStatus, 5L, attempt, "/transactions/sync", "ins_1"), NOW);
      assertThat(c.retryable()).as("attempt %d", attempt).isFalse();
      assertThat(c.nextStep()).isNotIn(RecoveryStep.RETRY, RecoveryStep.RESTART_PAGINATION);
    }
  }

  /** Column {@code column} of every row of the test table. */
  private static Set<String> listed(int column) throws IOException {
    try (InputStream in = ClassifierTableTest.class.getResourceAsStream(TABLE)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
          .filter(line -> !line.isBlank() && !line.startsWith("#"))
          .map(line -> line.split(",", -1)[column])
          .filter(value -> !value.isEmpty())
          .collect(Collectors.toSet());
    }
  }

  @Test
  void everyCodeOfTheTableIsListedInTheTestTable() throws IOException {
    assertThat(listed(1)).containsAll(CodeTable.codes().keySet());
  }

  /** The shared reference files sit beside the checkout (../shared), in CI too; skipped where they do not. */
  private static String shared(String file) throws IOException {
    Path path = Path.of("..", "shared", "plaid", file);
    Assumptions.assumeTrue(Files.isRegularFile(path), "no " + path);
    return Files.readString(path);
  }

  @Test
  void everyErrorCodeOfPlaidFactsIsInTheTestTable() throws IOException {
    String facts = shared("PLAID-FACTS.md");
    String codesSection = facts.substring(facts.indexOf("## What each code asks for"), facts.indexOf("## /transactions/sync"));
    Set<String> mentioned = new TreeSet<>();
    Matcher token = Pattern.compile("\\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\\b").matcher(codesSection);
    while (token.find()) {
      mentioned.add(token.group());
    }
    Set<String> known = new HashSet<>(listed(0));
    known.addAll(listed(1));
    known.addAll(listed(2));
    assertThat(mentioned).hasSizeGreaterThan(40);
    assertThat(known).containsAll(mentioned);
  }

  @Test
  void everyErrorCodeOfTheOpenApiExamplesIsInTheTestTable() throws IOException {
    String openApi = shared("plaid-openapi-2020-09-14.yml");
    Set<String> examples = new TreeSet<>();
    Matcher example = Pattern.compile("(?m)^\\s*error_code: ([A-Z][A-Z0-9_]+)\\s*$").matcher(openApi);
    while (example.find()) {
      examples.add(example.group(1));
    }
    Matcher described = Pattern.compile("`error_code` = `([A-Z][A-Z0-9_]+)`").matcher(openApi);
    while (described.find()) {
      examples.add(described.group(1));
    }
    assertThat(examples).contains("ITEM_LOGIN_REQUIRED", "INVALID_FIELD");
    assertThat(listed(1)).containsAll(examples);
  }

  @Test
  void plaidMaintenanceAndInstitutionDownAreBankMaintenanceEvenAsHttp400() {
    assertThat(Classifier.categoryOf("INSTITUTION_ERROR", "INSTITUTION_DOWN")).isEqualTo(ErrorCategory.BANK_MAINTENANCE);
    assertThat(Classifier.categoryOf("API_ERROR", "PLANNED_MAINTENANCE")).isEqualTo(ErrorCategory.BANK_MAINTENANCE);
    Classification c = Classifiers.withoutBudget(3).classify(
        ClassifyRequest.plaidError("INSTITUTION_ERROR", "INSTITUTION_DOWN", null, 400, null, 1, "/transactions/sync", "ins_9"),
        NOW);
    assertThat(c.retryable()).isTrue();
    assertThat(c.institutionWide()).isTrue();
  }

  static Stream<Arguments> answersWithoutAPlaidError() {
    return Stream.of(
        Arguments.of(429, "rate_limit_exceeded", "rate_limited"),
        Arguments.of(500, "connection_failure", "degraded"),
        Arguments.of(502, "connection_failure", "degraded"),
        Arguments.of(503, "connection_failure", "degraded"),
        Arguments.of(504, "connection_failure", "degraded"),
        Arguments.of(408, "connection_failure", "degraded"),
        Arguments.of(400, "unknown_error", "degraded"),
        Arguments.of(404, "unknown_error", "degraded"),
        Arguments.of(200, "unknown_error", "degraded"));
  }

  @ParameterizedTest(name = "HTTP {0} with a non-Plaid body -> {1}")
  @MethodSource("answersWithoutAPlaidError")
  void answersWithoutAPlaidErrorClassifyByTheirStatus(int status, String category, String connectionStatus) {
    Classification c = Classifiers.withoutBudget(4).classify(
        ClassifyRequest.rawAnswer(status, "<html><body>Bad Gateway</body></html>", null, 1, "/item/get", "ins_1"), NOW);
    assertThat(c.category().wire()).isEqualTo(category);
    assertThat(c.connectionStatus().wire()).isEqualTo(connectionStatus);
    assertThat(c.retryable()).isTrue();
    assertThat(c.userAction()).isEqualTo(UserAction.NONE);
  }

  @ParameterizedTest(name = "transport {0} is a connection failure")
  @EnumSource(TransportFailure.class)
  void everyTransportFailureIsAConnectionFailureRetriedWithBackoff(TransportFailure transport) {
    Classification c = Classifiers.withoutBudget(5).classify(
        ClassifyRequest.transportFailure(transport, 1, "/transactions/sync", "ins_1"), NOW);
    assertThat(c.category()).isEqualTo(ErrorCategory.CONNECTION_FAILURE);
    assertThat(c.nextStep()).isEqualTo(RecoveryStep.RETRY);
    assertThat(c.delayMs()).isBetween(0L, 1_000L);
    assertThat(c.errorCode()).isNull();
    assertThat(Arrays.asList(TransportFailure.values())).contains(transport);
  }
}
