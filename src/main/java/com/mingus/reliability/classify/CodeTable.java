package com.mingus.reliability.classify;

import static com.mingus.reliability.bus.ConnectionStatus.ACTIVE;
import static com.mingus.reliability.bus.ConnectionStatus.DEGRADED;
import static com.mingus.reliability.bus.ConnectionStatus.DISCONNECTED;
import static com.mingus.reliability.bus.ConnectionStatus.ERROR;
import static com.mingus.reliability.bus.ConnectionStatus.MAINTENANCE;
import static com.mingus.reliability.bus.ConnectionStatus.PENDING_EXPIRATION;
import static com.mingus.reliability.bus.ConnectionStatus.RATE_LIMITED;
import static com.mingus.reliability.bus.ConnectionStatus.REQUIRES_REAUTH;
import static com.mingus.reliability.bus.NotificationPriority.CRITICAL;
import static com.mingus.reliability.bus.NotificationPriority.HIGH;
import static com.mingus.reliability.bus.NotificationPriority.LOW;
import static com.mingus.reliability.bus.NotificationPriority.MEDIUM;
import static com.mingus.reliability.classify.Rule.Handling.RESTART_PAGINATION;
import static com.mingus.reliability.classify.Rule.Handling.RETRY;
import static com.mingus.reliability.classify.Rule.Handling.STOP;
import static com.mingus.reliability.classify.Rule.Handling.USER;
import static com.mingus.reliability.classify.Rule.Handling.WAIT_FOR_WEBHOOK;
import static com.mingus.reliability.classify.Rule.Handling.WARN;

import com.mingus.reliability.bus.Classification.Scope;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.UserAction;
import com.mingus.reliability.classify.Rule.Handling;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Plaid's error codes and what each one means for us (PLAID-FACTS.md, plaid.com/docs/errors). Keyed by
 * {@code error_code}: Plaid's codes are unique across types, and the code is what Plaid tells us to branch
 * on. A code not listed falls back on its type where the type alone is decisive (every
 * RATE_LIMIT_EXCEEDED code is a 429 to back off from; every INVALID_REQUEST is our own bug), else on
 * {@link #UNKNOWN}. docs/classify.md shows this table.
 */
final class CodeTable {
  private CodeTable() {}

  static final String MSG_CONNECTION = "We couldn't reach our bank data provider. We'll try again shortly.";
  static final String MSG_BANK_MAINTENANCE =
      "Your bank is temporarily unavailable, probably for maintenance. We'll keep trying and update your accounts when it's back.";
  static final String MSG_PLAID_MAINTENANCE =
      "Our bank data provider is down for scheduled maintenance. Your accounts will update when it's back.";
  static final String MSG_RATE_LIMIT = "We're updating many accounts right now; yours will refresh shortly.";
  static final String MSG_INSTITUTION = "Your bank isn't responding right now. We'll keep trying.";
  static final String MSG_RECONNECT = "Your bank needs you to sign in again. Reconnect this account to keep it up to date.";
  static final String MSG_FIX_AT_BANK =
      "Your bank needs your attention: sign in on your bank's website to sort it out, then reconnect this account.";
  static final String MSG_LOCKED = "Your bank account is locked. Unlock it with your bank, then reconnect this account.";
  static final String MSG_RELINK = "This bank connection has ended. Link the account again to keep it up to date.";
  static final String MSG_PENDING_EXPIRATION =
      "Your bank connection will expire soon. Reconnect this account to keep it working.";
  static final String MSG_CONSENT = "Your bank needs you to review what you share with us. Reconnect this account to continue.";
  static final String MSG_NOT_READY = "Your bank data is still being prepared. It will appear shortly.";
  static final String MSG_NOT_SUPPORTED = "This bank doesn't provide the data we need for this account.";
  static final String MSG_OUR_SIDE =
      "Something went wrong on our side while updating this account. We've been alerted; contact support if it continues.";
  static final String MSG_PLAID_INTERNAL = "Our bank data provider had a temporary problem. We'll try again shortly.";
  static final String MSG_UNKNOWN = "Something unexpected happened while updating this account. We'll try again later.";
  static final String MSG_RESTART = "Your bank data changed while we were reading it; we're starting the update again.";
  static final String MSG_REMOVED = "This bank connection was removed.";

  /** A Plaid error whose code and type are both unknown to us: a few slow retries, then the schedule. */
  static final Rule UNKNOWN = rule(ErrorCategory.UNKNOWN_ERROR, RETRY, UserAction.NONE, DEGRADED, Scope.ITEM,
      NotificationType.NONE, LOW, MSG_UNKNOWN);

  /** No answer from Plaid at all (timeout, reset, DNS, TLS), or a gateway's non-Plaid 5xx. */
  static final Rule TRANSPORT = rule(ErrorCategory.CONNECTION_FAILURE, RETRY, UserAction.NONE, DEGRADED, Scope.PLAID,
      NotificationType.NONE, LOW, MSG_CONNECTION);

  /** A 429 whose body carried no code we know. */
  static final Rule RATE_LIMIT = rule(ErrorCategory.RATE_LIMIT_EXCEEDED, RETRY, UserAction.NONE, RATE_LIMITED,
      Scope.CLIENT, NotificationType.NONE, LOW, MSG_RATE_LIMIT);

  /** Our request was wrong: retrying the same request cannot succeed. */
  static final Rule OUR_BUG = rule(ErrorCategory.INVALID_REQUEST, STOP, UserAction.CONTACT_SUPPORT, ERROR, Scope.ITEM,
      NotificationType.DATA_SYNC_STATUS, MEDIUM, MSG_OUR_SIDE);

  /** Our Plaid client itself is misconfigured (keys, environment, registration): every Item is affected. */
  static final Rule OUR_CONFIG = rule(ErrorCategory.INVALID_REQUEST, STOP, UserAction.CONTACT_SUPPORT, ERROR,
      Scope.CLIENT, NotificationType.DATA_SYNC_STATUS, CRITICAL, MSG_OUR_SIDE);

  private static final Rule RECONNECT = rule(ErrorCategory.AUTHENTICATION_ERROR, USER, UserAction.RECONNECT,
      REQUIRES_REAUTH, Scope.ITEM, NotificationType.PLAID_CONNECTION_ISSUE, HIGH, MSG_RECONNECT);
  private static final Rule CONSENT = rule(ErrorCategory.ITEM_ERROR, USER, UserAction.RECONNECT, REQUIRES_REAUTH,
      Scope.ITEM, NotificationType.PLAID_CONNECTION_ISSUE, MEDIUM, MSG_CONSENT);
  private static final Rule FIX_AT_BANK = rule(ErrorCategory.AUTHENTICATION_ERROR, USER, UserAction.FIX_AT_BANK,
      REQUIRES_REAUTH, Scope.ITEM, NotificationType.PLAID_CONNECTION_ISSUE, HIGH, MSG_FIX_AT_BANK);
  private static final Rule RELINK = rule(ErrorCategory.ITEM_ERROR, STOP, UserAction.RELINK, DISCONNECTED, Scope.ITEM,
      NotificationType.PLAID_CONNECTION_ISSUE, HIGH, MSG_RELINK);
  private static final Rule PRODUCT_MISSING = rule(ErrorCategory.PRODUCT_NOT_AVAILABLE, STOP, UserAction.NONE, ERROR,
      Scope.ITEM, NotificationType.DATA_SYNC_STATUS, LOW, MSG_NOT_SUPPORTED);
  private static final Rule PRODUCT_NOT_ENABLED = rule(ErrorCategory.PRODUCT_NOT_AVAILABLE, STOP,
      UserAction.CONTACT_SUPPORT, ERROR, Scope.CLIENT, NotificationType.DATA_SYNC_STATUS, HIGH, MSG_OUR_SIDE);
  private static final Rule INSTITUTION_TRANSIENT = rule(ErrorCategory.INSTITUTION_ERROR, RETRY, UserAction.NONE,
      DEGRADED, Scope.INSTITUTION, NotificationType.NONE, LOW, MSG_INSTITUTION);

  private static final Map<String, Rule> BY_CODE;

  static {
    Map<String, Rule> m = new HashMap<>();
    // INSTITUTION_ERROR: Plaid sends these as HTTP 400, yet most are transient and hit the whole bank
    m.put("INSTITUTION_DOWN", rule(ErrorCategory.BANK_MAINTENANCE, RETRY, UserAction.NONE, MAINTENANCE,
        Scope.INSTITUTION, NotificationType.BANK_MAINTENANCE, LOW, MSG_BANK_MAINTENANCE));
    m.put("INSTITUTION_NOT_RESPONDING", INSTITUTION_TRANSIENT);
    m.put("INSTITUTION_NOT_AVAILABLE", INSTITUTION_TRANSIENT);
    m.put("INSTITUTION_NO_LONGER_SUPPORTED", rule(ErrorCategory.INSTITUTION_ERROR, STOP, UserAction.RELINK,
        DISCONNECTED, Scope.INSTITUTION, NotificationType.PLAID_CONNECTION_ISSUE, HIGH,
        "Your bank is no longer supported. Link another account to keep your finances up to date."));
    m.put("INSTITUTION_NOT_ENABLED_IN_ENVIRONMENT", OUR_CONFIG);
    m.put("INSTITUTION_REGISTRATION_REQUIRED", OUR_CONFIG);
    m.put("UNAUTHORIZED_INSTITUTION", OUR_CONFIG);
    m.put("INSTITUTION_NOT_FOUND", OUR_BUG);

    // API_ERROR: Plaid's own trouble
    m.put("INTERNAL_SERVER_ERROR", rule(ErrorCategory.INTERNAL_ERROR, RETRY, UserAction.NONE, DEGRADED, Scope.PLAID,
        NotificationType.NONE, LOW, MSG_PLAID_INTERNAL));
    m.put("PLANNED_MAINTENANCE", rule(ErrorCategory.BANK_MAINTENANCE, RETRY, UserAction.NONE, MAINTENANCE, Scope.PLAID,
        NotificationType.SYSTEM_MAINTENANCE, LOW, MSG_PLAID_MAINTENANCE));

    // RATE_LIMIT_EXCEEDED: every code a 429 to back off from, except the allowance being used up
    for (String code : Set.of("ACCOUNTS_LIMIT", "ACCOUNTS_BALANCE_GET_LIMIT", "ADDITION_LIMIT", "AUTH_LIMIT",
        "BALANCE_LIMIT", "IDENTITY_LIMIT", "INSTITUTIONS_GET_LIMIT", "INSTITUTIONS_GET_BY_ID_LIMIT",
        "INVESTMENT_HOLDINGS_GET_LIMIT", "INVESTMENT_TRANSACTIONS_LIMIT", "ITEM_GET_LIMIT", "RATE_LIMIT",
        "TRANSACTIONS_LIMIT", "TRANSACTIONS_SYNC_LIMIT", "TRANSACTIONS_REFRESH_LIMIT")) {
      m.put(code, RATE_LIMIT);
    }
    m.put("INSTITUTION_RATE_LIMIT", rule(ErrorCategory.RATE_LIMIT_EXCEEDED, RETRY, UserAction.NONE, RATE_LIMITED,
        Scope.INSTITUTION, NotificationType.NONE, LOW, MSG_RATE_LIMIT));
    m.put("CREDITS_EXHAUSTED", rule(ErrorCategory.RATE_LIMIT_EXCEEDED, STOP, UserAction.CONTACT_SUPPORT, ERROR,
        Scope.CLIENT, NotificationType.DATA_SYNC_STATUS, CRITICAL, MSG_OUR_SIDE));

    // ITEM_ERROR and friends: the user must sign in again through Link update mode
    for (String code : Set.of("ITEM_LOGIN_REQUIRED", "INVALID_CREDENTIALS", "INVALID_MFA", "INVALID_SEND_METHOD",
        "INVALID_UPDATED_USERNAME", "INSUFFICIENT_CREDENTIALS", "RECAPTCHA_REQUIRED", "RECAPTCHA_BAD")) {
      m.put(code, RECONNECT);
    }
    for (String code : Set.of("ACCESS_NOT_GRANTED", "NO_ACCOUNTS", "ADDITIONAL_CONSENT_REQUIRED")) {
      m.put(code, CONSENT);
    }
    // Plaid's webhook warnings, a week ahead: nothing failed yet, but the user should reconnect
    Rule pending = rule(ErrorCategory.AUTHENTICATION_ERROR, WARN, UserAction.RECONNECT, PENDING_EXPIRATION, Scope.ITEM,
        NotificationType.PLAID_CONNECTION_ISSUE, MEDIUM, MSG_PENDING_EXPIRATION);
    m.put("PENDING_EXPIRATION", pending);
    m.put("PENDING_DISCONNECT", pending);
    // the user must fix something at the bank first
    m.put("ITEM_LOCKED", rule(ErrorCategory.AUTHENTICATION_ERROR, USER, UserAction.FIX_AT_BANK, REQUIRES_REAUTH,
        Scope.ITEM, NotificationType.SECURITY_ALERT, HIGH, MSG_LOCKED));
    m.put("PASSWORD_RESET_REQUIRED", FIX_AT_BANK);
    m.put("USER_SETUP_REQUIRED", rule(ErrorCategory.ITEM_ERROR, USER, UserAction.FIX_AT_BANK, REQUIRES_REAUTH,
        Scope.ITEM, NotificationType.PLAID_CONNECTION_ISSUE, HIGH, MSG_FIX_AT_BANK));
    // permanent for this Item: only a new link helps
    for (String code : Set.of("ITEM_NOT_FOUND", "USER_PERMISSION_REVOKED", "USER_ACCOUNT_REVOKED",
        "ITEM_NOT_SUPPORTED", "MFA_NOT_SUPPORTED")) {
      m.put(code, RELINK);
    }
    // the Item was removed while the call was in flight, normally by our own /item/remove
    m.put("ITEM_CONCURRENTLY_DELETED", rule(ErrorCategory.ITEM_ERROR, STOP, UserAction.NONE, DISCONNECTED, Scope.ITEM,
        NotificationType.NONE, LOW, MSG_REMOVED));
    m.put("UNSUPPORTED_RESPONSE", rule(ErrorCategory.ITEM_ERROR, STOP, UserAction.CONTACT_SUPPORT, ERROR, Scope.ITEM,
        NotificationType.DATA_SYNC_STATUS, MEDIUM, MSG_OUR_SIDE));
    m.put("TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION", rule(ErrorCategory.ITEM_ERROR, RESTART_PAGINATION,
        UserAction.NONE, ACTIVE, Scope.ITEM, NotificationType.NONE, LOW, MSG_RESTART));

    // products
    m.put("PRODUCT_NOT_READY", rule(ErrorCategory.PRODUCT_NOT_AVAILABLE, WAIT_FOR_WEBHOOK, UserAction.NONE, ACTIVE,
        Scope.ITEM, NotificationType.NONE, LOW, MSG_NOT_READY));
    for (String code : Set.of("PRODUCTS_NOT_SUPPORTED", "PRODUCT_NOT_SUPPORTED", "NO_AUTH_ACCOUNTS",
        "NO_INVESTMENT_ACCOUNTS", "NO_INVESTMENT_AUTH_ACCOUNTS", "NO_LIABILITY_ACCOUNTS")) {
      m.put(code, PRODUCT_MISSING);
    }
    m.put("PRODUCT_NOT_ENABLED", PRODUCT_NOT_ENABLED);
    m.put("SANDBOX_PRODUCT_NOT_ENABLED", PRODUCT_NOT_ENABLED);

    // INVALID_REQUEST / INVALID_INPUT / INVALID_RESULT: our request was wrong
    for (String code : Set.of("INVALID_FIELD", "MISSING_FIELDS", "UNKNOWN_FIELDS", "INVALID_BODY",
        "INVALID_HEADERS", "NOT_FOUND", "SANDBOX_ONLY", "FAILED_PRECONDITION", "INCOMPATIBLE_API_VERSION",
        "INVALID_ACCESS_TOKEN", "INVALID_ACCOUNT_ID", "INVALID_PUBLIC_TOKEN", "INVALID_LINK_TOKEN",
        "INVALID_PROCESSOR_TOKEN", "INVALID_AUDIT_COPY_TOKEN", "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
        "LAST_UPDATED_DATETIME_OUT_OF_RANGE", "PLAID_DIRECT_ITEM_IMPORT_RETURNED_INVALID_MFA")) {
      m.put(code, OUR_BUG);
    }
    for (String code : Set.of("INVALID_API_KEYS", "UNAUTHORIZED_ENVIRONMENT", "UNAUTHORIZED_ROUTE_ACCESS",
        "INVALID_CONFIGURATION", "OAUTH_REGISTRATION_ERROR", "DIRECT_INTEGRATION_NOT_ENABLED")) {
      m.put(code, OUR_CONFIG);
    }
    BY_CODE = Collections.unmodifiableMap(m);
  }

  /** The rule for a Plaid error, or null when neither its code nor its type decides it. */
  static Rule forPlaidError(String errorType, String errorCode) {
    Rule byCode = errorCode == null ? null : BY_CODE.get(errorCode);
    if (byCode != null) {
      return byCode;
    }
    if ("RATE_LIMIT_EXCEEDED".equals(errorType)) {
      return RATE_LIMIT;
    }
    if ("INVALID_REQUEST".equals(errorType)) {
      return OUR_BUG;
    }
    return null;
  }

  /** Every code this table knows, for docs and tests. */
  static Map<String, Rule> codes() {
    return BY_CODE;
  }

  private static Rule rule(ErrorCategory category, Handling handling, UserAction action, ConnectionStatus status,
      Scope scope, NotificationType notification, NotificationPriority priority, String message) {
    return new Rule(category, handling, action, status, scope, notification, priority, message);
  }
}
