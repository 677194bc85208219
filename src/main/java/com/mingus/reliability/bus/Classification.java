package com.mingus.reliability.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The reply to {@code classify.error}: what the failure was and the recovery plan for it.
 *
 * <p>{@code category} is the seed's PlaidErrorType; Plaid's own {@code error_type}/{@code error_code} are
 * kept beside it. {@code next_step} says what to do, {@code delay_ms}/{@code next_retry_at} when (null when
 * nothing is to be tried again until something else happens), {@code retryable} whether a fast retry is
 * planned. {@code connection_status}, {@code institution_wide}/{@code scope}, {@code user_action},
 * {@code notification_type}/{@code priority} and {@code message} are what health and notifications need.
 */
public record Classification(
    ErrorCategory category,
    String errorType,
    String errorCode,
    String errorCodeReason,
    boolean retryable,
    RecoveryStep nextStep,
    long delayMs,
    Instant nextRetryAt,
    int attempt,
    int maxRetries,
    String strategy,
    boolean restartPagination,
    boolean budgetExhausted,
    UserAction userAction,
    ConnectionStatus connectionStatus,
    Scope scope,
    NotificationType notificationType,
    NotificationPriority priority,
    String message,
    String requestId) implements BusMessage {

  /** How far the failure reaches: one Item, a whole bank, our Plaid client (keys, allowance), or Plaid itself. */
  public enum Scope {
    ITEM,
    INSTITUTION,
    CLIENT,
    PLAID;

    public String wire() {
      return WireEnums.wire(this);
    }

    public static Scope fromWire(Object value) {
      return WireEnums.parse(Scope.class, value, ITEM);
    }
  }

  /** True when the whole institution is affected, so health can pause every connection to that bank. */
  public boolean institutionWide() {
    return scope == Scope.INSTITUTION;
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("category", category.wire())
        .put("error_type", errorType)
        .put("error_code", errorCode)
        .put("error_code_reason", errorCodeReason)
        .put("retryable", retryable)
        .put("next_step", nextStep.wire())
        .put("restart_pagination", restartPagination)
        .put("delay_ms", delayMs)
        .put("next_retry_at", nextRetryAt == null ? null : nextRetryAt.toString())
        .put("attempt", attempt)
        .put("max_retries", maxRetries)
        .put("strategy", strategy)
        .put("budget_exhausted", budgetExhausted)
        .put("user_action", userAction.wire())
        .put("connection_status", connectionStatus.wire())
        .put("scope", scope.wire())
        .put("institution_wide", institutionWide())
        .put("notification_type", notificationType.wire())
        .put("priority", priority.wire())
        .put("message", message)
        .put("request_id", requestId);
  }

  public static Classification fromJson(JsonObject json) {
    return new Classification(
        ErrorCategory.fromWire(json.getValue("category")),
        json.getString("error_type"),
        json.getString("error_code"),
        json.getString("error_code_reason"),
        json.getBoolean("retryable", false),
        RecoveryStep.fromWire(json.getValue("next_step")),
        json.getLong("delay_ms", 0L),
        instant(json.getValue("next_retry_at")),
        json.getInteger("attempt", 0),
        json.getInteger("max_retries", 0),
        json.getString("strategy"),
        json.getBoolean("restart_pagination", false),
        json.getBoolean("budget_exhausted", false),
        UserAction.fromWire(json.getValue("user_action")),
        ConnectionStatus.fromWire(json.getValue("connection_status")),
        Scope.fromWire(json.getValue("scope")),
        NotificationType.fromWire(json.getValue("notification_type")),
        NotificationPriority.fromWire(json.getValue("priority")),
        json.getString("message"),
        json.getString("request_id"));
  }

  private static Instant instant(Object value) {
    if (!(value instanceof String text)) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
