package com.mingus.reliability.classify;

import com.mingus.reliability.bus.TransportFailure;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.RecoveryStep;
import com.mingus.reliability.classify.PlaidErrorParser.ParsedError;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * Turns one failed Plaid call into a classification and a recovery plan. Pure apart from its random
 * source (jitter) and the optional retry budget; one instance per thread (the random source is not shared).
 *
 * <p>Order of evidence: Plaid's error code, then its type, then the HTTP status, then the transport kind;
 * never the HTTP status first, because Plaid sends institution outages as 400.
 */
final class Classifier {
  private final ClassifySettings settings;
  private final RandomGenerator random;
  private final RetryBudget budget;

  /** {@code budget} may be null: no budget, every planned retry is granted. */
  Classifier(ClassifySettings settings, RandomGenerator random, RetryBudget budget) {
    this.settings = settings;
    this.random = random;
    this.budget = budget;
  }

  Classification classify(ClassifyRequest request, long nowMs) {
    ParsedError error = errorOf(request);
    Integer status = request.httpStatus() != null ? request.httpStatus() : error.status();
    Rule rule = ruleFor(error, status, request.transport());
    String institution = request.institutionId();
    int attempt = Math.max(1, request.attempt());
    if (budget != null && attempt == 1) {
      budget.recordRequest(institution, nowMs);
    }
    String message = error.displayMessage() != null ? error.displayMessage() : rule.message();
    RetryStrategy strategy = settings.strategy(rule.category());
    Plan plan = plan(rule, strategy, attempt, request.retryAfterS(), institution, nowMs);
    boolean exhausted = plan.step == RecoveryStep.FALL_BACK_TO_SCHEDULE;
    return new Classification(
        rule.category(),
        error.errorType(),
        error.errorCode(),
        error.errorCodeReason(),
        plan.retryable,
        plan.step,
        Math.max(0, plan.delayMs),
        plan.delayMs < 0 ? null : Instant.ofEpochMilli(nowMs + plan.delayMs),
        attempt,
        maxRetries(rule, strategy),
        rule.category().wire(),
        plan.restartPagination,
        plan.budgetExhausted,
        rule.action(),
        exhausted ? exhaustedStatus(rule.status()) : rule.status(),
        rule.scope(),
        exhausted && rule.notification() == NotificationType.NONE ? NotificationType.DATA_SYNC_STATUS : rule.notification(),
        exhausted ? atLeast(rule.priority(), NotificationPriority.MEDIUM) : rule.priority(),
        message,
        error.requestId());
  }

  /** The request's own error fields, or, when it carries none, what its raw body says. */
  private ParsedError errorOf(ClassifyRequest request) {
    if (request.errorType() != null || request.errorCode() != null) {
      return new ParsedError(
          PlaidErrorParser.code(request.errorType()),
          PlaidErrorParser.code(request.errorCode()),
          PlaidErrorParser.code(request.errorCodeReason()),
          PlaidErrorParser.message(request.displayMessage()),
          PlaidErrorParser.message(request.requestId()),
          null);
    }
    ParsedError parsed = PlaidErrorParser.parse(request.body(), settings.maxBodyChars());
    if (!parsed.hasError() && request.displayMessage() != null) {
      return new ParsedError(null, null, null, PlaidErrorParser.message(request.displayMessage()),
          PlaidErrorParser.message(request.requestId()), parsed.status());
    }
    return parsed;
  }

  static Rule ruleFor(ParsedError error, Integer status, TransportFailure transport) {
    if (error.hasError()) {
      Rule rule = CodeTable.forPlaidError(error.errorType(), error.errorCode());
      return rule != null ? rule : CodeTable.UNKNOWN;
    }
    // no Plaid error object: whatever answered was not Plaid's API logic (a gateway, a proxy) or nothing did
    if (status != null) {
      if (status == 429) {
        return CodeTable.RATE_LIMIT;
      }
      if (status == 408 || status >= 500) {
        return CodeTable.TRANSPORT;
      }
      return CodeTable.UNKNOWN;
    }
    return transport != null ? CodeTable.TRANSPORT : CodeTable.UNKNOWN;
  }

  private record Plan(RecoveryStep step, boolean retryable, long delayMs, boolean restartPagination,
      boolean budgetExhausted) {
    /** A plan with nothing to try again until something else happens (delay -1 means no next_retry_at). */
    static Plan waiting(RecoveryStep step) {
      return new Plan(step, false, -1, false, false);
    }
  }

  private Plan plan(Rule rule, RetryStrategy strategy, int attempt, Long retryAfterS, String institution, long nowMs) {
    long floorMs = retryAfterS == null ? 0 : Math.min(retryAfterS, 7 * 86_400L) * 1_000L;
    switch (rule.handling()) {
      case USER:
        return Plan.waiting(RecoveryStep.WAIT_FOR_USER);
      case WARN:
        return Plan.waiting(RecoveryStep.CONTINUE);
      case STOP:
        return Plan.waiting(RecoveryStep.STOP);
      case RESTART_PAGINATION:
        if (attempt <= settings.maxPaginationRestarts()) {
          return new Plan(RecoveryStep.RESTART_PAGINATION, true, Math.max(0, floorMs), true, false);
        }
        // the data keeps changing under us: restart still, but after a pause and inside the budget
        return retryInsideBudget(Math.max(floorMs, settings.paginationBackoffS() * 1_000L), true, institution, nowMs);
      case WAIT_FOR_WEBHOOK:
        if (attempt > strategy.maxRetries()) {
          return fallBack(strategy, floorMs);
        }
        return new Plan(RecoveryStep.WAIT_FOR_WEBHOOK, false, Math.max(floorMs, strategy.delayMs(attempt, random)),
            false, false);
      case RETRY:
      default:
        if (attempt > strategy.maxRetries()) {
          return fallBack(strategy, floorMs);
        }
        return retryInsideBudget(Math.max(floorMs, strategy.delayMs(attempt, random)), false, institution, nowMs);
    }
  }

  private Plan retryInsideBudget(long delayMs, boolean restartPagination, String institution, long nowMs) {
    long wait = budget == null ? 0 : budget.tryAcquire(institution, nowMs);
    if (wait == 0) {
      return new Plan(restartPagination ? RecoveryStep.RESTART_PAGINATION : RecoveryStep.RETRY, true, delayMs,
          restartPagination, false);
    }
    return new Plan(RecoveryStep.WAIT_FOR_BUDGET, false, Math.max(delayMs, wait), restartPagination, true);
  }

  private static Plan fallBack(RetryStrategy strategy, long floorMs) {
    return new Plan(RecoveryStep.FALL_BACK_TO_SCHEDULE, false, Math.max(floorMs, strategy.fallbackIntervalS() * 1_000L),
        false, false);
  }

  private int maxRetries(Rule rule, RetryStrategy strategy) {
    return switch (rule.handling()) {
      case RETRY, WAIT_FOR_WEBHOOK -> strategy.maxRetries();
      case RESTART_PAGINATION -> settings.maxPaginationRestarts();
      default -> 0;
    };
  }

  private static ConnectionStatus exhaustedStatus(ConnectionStatus status) {
    return status == ConnectionStatus.MAINTENANCE || status == ConnectionStatus.RATE_LIMITED ? status : ConnectionStatus.ERROR;
  }

  private static NotificationPriority atLeast(NotificationPriority priority, NotificationPriority floor) {
    return priority.compareTo(floor) >= 0 ? priority : floor;
  }

  /** For callers that only want the category of an error code (docs, tests). */
  static ErrorCategory categoryOf(String errorType, String errorCode) {
    Rule rule = CodeTable.forPlaidError(PlaidErrorParser.code(errorType), PlaidErrorParser.code(errorCode));
    return rule == null ? ErrorCategory.UNKNOWN_ERROR : rule.category();
  }
}
