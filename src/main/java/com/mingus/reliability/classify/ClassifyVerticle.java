package com.mingus.reliability.classify;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ClassifyOutcome;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.Commands;
import com.mingus.reliability.bus.Commands.CommandFailure;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.bus.PingReply;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Clock;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code classify.error}: a failed Plaid call in, a {@link Classification} with its recovery plan
 * out. Owns no data, only configuration and the retry budget, which every instance of this verticle on a
 * node shares through Vert.x local shared data (one per node; the cluster issue makes it cluster-wide).
 * Also counts successful calls reported on {@code classify.outcome} towards that budget.
 */
public final class ClassifyVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ClassifyVerticle.class);
  private static final String BUDGET_MAP = "classify.retry-budget";

  private Classifier classifier;
  private RetryBudget budget;
  private final Clock clock = Clock.systemUTC();
  private MeterRegistry registry;
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();
  private long lastBudgetWarningMs = Long.MIN_VALUE / 2;
  private long suppressedWarnings;

  @Override
  public Future<?> start() {
    ClassifySettings settings;
    try {
      settings = ClassifySettings.from(config());
    } catch (RuntimeException wrong) {
      return Future.failedFuture(wrong);
    }
    MessageCodecs.register(vertx.eventBus());
    if (settings.budget().enabled()) {
      // keyed by the settings so two differently configured deployments never share counts by accident
      LocalMap<String, RetryBudget> budgets = vertx.sharedData().getLocalMap(BUDGET_MAP);
      budget = budgets.computeIfAbsent(settings.budget().toJson().encode(), k -> RetryBudget.of(settings.budget()));
    }
    SplittableRandom random = settings.seed() == null ? new SplittableRandom() : new SplittableRandom(settings.seed());
    classifier = new Classifier(settings, random, budget);
    String registryName = config().getString("metrics_registry");
    registry = registryName == null ? null : BackendRegistries.getNow(registryName);
    return Future.all(
        Commands.answer(vertx, Addresses.CLASSIFY_ERROR, ClassifyVerticle::requestOf, this::classify,
            failure -> new CommandFailure(FailureCodes.INTERNAL, "classification failed: " + failure.getClass().getSimpleName())),
        // an event (sent, not requested): nothing to answer
        vertx.eventBus().consumer(Addresses.CLASSIFY_OUTCOME, this::outcome).completion(),
        Bus.answerPing(vertx, "classify", () -> Future.succeededFuture(PingReply.up("classify"))).completion());
  }

  private Future<Classification> classify(ClassifyRequest request) {
    String problem = request.problem();
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    Classification classification;
    try {
      classification = classifier.classify(request, clock.millis());
    } catch (RuntimeException bug) {
      log.error("Classification failed for {} on {}", request.errorCode(), request.endpoint(), bug);
      throw new CommandFailure(FailureCodes.INTERNAL, "classification failed: " + bug.getClass().getSimpleName());
    }
    count(classification);
    if (classification.budgetExhausted()) {
      budgetWarning(request, classification);
    }
    return Future.succeededFuture(classification);
  }

  /** One warning a minute per instance at most: an outage would otherwise log every denied retry. */
  private void budgetWarning(ClassifyRequest request, Classification classification) {
    long now = clock.millis();
    suppressedWarnings++;
    if (now - lastBudgetWarningMs < 60_000) {
      return;
    }
    log.warn("Retry budget spent: institution {} waits {} ms ({} retries turned into waits since the last warning)",
        request.institutionId(), classification.delayMs(), suppressedWarnings);
    lastBudgetWarningMs = now;
    suppressedWarnings = 0;
  }

  private void outcome(Message<Object> message) {
    Object body = message.body();
    ClassifyOutcome outcome = body instanceof ClassifyOutcome o ? o
        : body instanceof JsonObject json ? ClassifyOutcome.fromJson(json) : null;
    if (outcome != null && outcome.attempt() == 1 && budget != null) {
      budget.recordRequest(outcome.institutionId(), clock.millis());
    }
    if (message.replyAddress() != null) {
      message.reply(null);
    }
  }

  /** The request as a record, its JSON, or that JSON as text (what a caller outside Java may send). */
  private static ClassifyRequest requestOf(Object body) {
    try {
      if (body instanceof ClassifyRequest request) {
        return request;
      }
      if (body instanceof JsonObject json) {
        return ClassifyRequest.fromJson(json);
      }
      if (body instanceof String text) {
        return ClassifyRequest.fromJson(new JsonObject(text));
      }
    } catch (RuntimeException unreadable) {
      // told below, like any other body this address does not take
    }
    throw new IllegalArgumentException(
        "classify.error takes a ClassifyRequest or a JSON object, got " + typeName(body));
  }

  private static String typeName(Object body) {
    return body == null ? "nothing" : body.getClass().getSimpleName();
  }

  private void count(Classification classification) {
    if (registry == null) {
      return;
    }
    String key = classification.category().wire() + '|' + classification.nextStep().wire();
    counters.computeIfAbsent(key, k -> Counter.builder("mingus_classifications")
        .description("Plaid failures classified, by category and planned next step")
        .tag("category", classification.category().wire())
        .tag("next_step", classification.nextStep().wire())
        .register(registry)).increment();
  }
}
