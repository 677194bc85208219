package com.mingus.reliability.classify;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.RecoveryStep;
import com.mingus.reliability.bus.UserAction;
import io.vertx.core.json.JsonObject;
import java.util.SplittableRandom;

/**
 * Parsing never throws and every input still classifies. Under plain {@code mvn verify} Jazzer replays the
 * saved inputs in {@code src/test/resources/com/mingus/reliability/classify/ClassifierFuzzTestInputs/<method>/};
 * to fuzz for real: {@code JAZZER_FUZZ=1 mvn -B test -Dtest=ClassifierFuzzTest} (see docs/classify.md).
 */
class ClassifierFuzzTest {
  private static final long NOW = 1_800_000_000_000L;
  private static final ClassifySettings SETTINGS = ClassifySettings.from(
      Classifiers.shippedSection().put("max_body_chars", 4_096));

  /** A raw response body, as a Plaid client hands it over when it cannot read the error itself. */
  @FuzzTest(maxDuration = "60s")
  void anyResponseBodyClassifies(FuzzedDataProvider data) {
    int status = data.consumeInt(0, 700);
    int attempt = data.consumeInt(1, 30);
    String body = data.consumeRemainingAsString();
    Classifier classifier = new Classifier(SETTINGS, new SplittableRandom(1), new RetryBudget(0.2, 10, 60_000, 6, 100));

    ClassifyRequest request = ClassifyRequest.rawAnswer(status >= 100 && status <= 599 ? status : 400, body, null,
        attempt, "/transactions/sync", "ins_fuzz");
    assertSane(classifier.classify(request, NOW));
    PlaidErrorParser.parse(body, 4_096);
  }

  /** A whole bus request as JSON text from another node or a caller with a bug: parsed or refused, never thrown. */
  @FuzzTest(maxDuration = "60s")
  void anyRequestJsonClassifiesOrIsRefused(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (RuntimeException notJson) {
      return;
    }
    ClassifyRequest request = ClassifyRequest.fromJson(json);
    if (request.problem() != null) {
      return;
    }
    Classifier classifier = new Classifier(SETTINGS, new SplittableRandom(2), null);
    Classification c = classifier.classify(request, NOW);
    assertSane(c);
    assertThat(Classification.fromJson(c.toJson())).isEqualTo(c);
  }

  private static void assertSane(Classification c) {
    assertThat(c.category()).isNotNull();
    assertThat(c.delayMs()).isNotNegative();
    assertThat(c.message()).isNotBlank().hasSizeLessThanOrEqualTo(PlaidErrorParser.MAX_MESSAGE_CHARS);
    if (c.userAction() != UserAction.NONE) {
      assertThat(c.retryable()).isFalse();
      assertThat(c.nextStep()).isNotEqualTo(RecoveryStep.RETRY);
    }
    if (c.errorCode() != null) {
      assertThat(c.errorCode()).matches("[A-Z0-9_]{1,100}");
    }
  }
}
