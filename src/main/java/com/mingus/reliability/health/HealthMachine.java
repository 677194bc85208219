package com.mingus.reliability.health;

import static com.mingus.reliability.health.HealthMachine.Target.ACTIVE;
import static com.mingus.reliability.health.HealthMachine.Target.DEGRADED;
import static com.mingus.reliability.health.HealthMachine.Target.DISCONNECTED;
import static com.mingus.reliability.health.HealthMachine.Target.ERROR;
import static com.mingus.reliability.health.HealthMachine.Target.KEEP;
import static com.mingus.reliability.health.HealthMachine.Target.MAINTENANCE;
import static com.mingus.reliability.health.HealthMachine.Target.PENDING_EXPIRATION;
import static com.mingus.reliability.health.HealthMachine.Target.RATE_LIMITED;
import static com.mingus.reliability.health.HealthMachine.Target.REQUIRES_REAUTH;
import static com.mingus.reliability.health.HealthMachine.Target.STANDING;

import com.mingus.reliability.bus.ConnectionHealth;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.UserAction;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;

/**
 * The connection state machine: one table, (signal × current status) → next status, written once here and
 * printed by {@link #table()} into docs/health.md. Everything else (counters, last error, maintenance window,
 * which change a user hears about) follows from the transition, in {@link #apply} and {@link #notice}.
 */
final class HealthMachine {
  private HealthMachine() {}

  /** What happened to a connection, as health sees it. */
  enum Signal {
    /** A sync completed (a reconnect is complete when this follows requires_reauth). */
    SYNC_SUCCEEDED,
    /** A sync failed and the classifier says degraded: retrying, nothing for the user to do. */
    FAILED_DEGRADED,
    /** A sync failed for good (retries used up, our bug, a product the bank lacks). */
    FAILED_ERROR,
    /** Plaid answered 429, or our own limiter said not yet. */
    RATE_LIMITED,
    /** The bank (or Plaid) is down for maintenance, seen by this connection's own sync. */
    FAILED_MAINTENANCE,
    /** The user must sign in again (ITEM_LOGIN_REQUIRED and friends; an ITEM ERROR webhook saying so). */
    FAILED_REAUTH,
    /** The Item is gone for good (ITEM_NOT_FOUND, USER_PERMISSION_REVOKED, a bank no longer supported). */
    FAILED_DISCONNECTED,
    /** Plaid warned that consent expires soon (PENDING_EXPIRATION / PENDING_DISCONNECT). */
    WARN_PENDING_EXPIRATION,
    /** Plaid says the login works again (LOGIN_REPAIRED). */
    LOGIN_REPAIRED,
    /** The user revoked access at the bank or Plaid (USER_PERMISSION_REVOKED / USER_ACCOUNT_REVOKED webhook). */
    ACCESS_REVOKED,
    /** The bank's circuit opened: the bank is down or in maintenance. */
    INSTITUTION_DOWN,
    /** The bank's circuit closed: it answers again. */
    INSTITUTION_UP
  }

  /** A cell of the table: a status, KEEP (no change) or STANDING (active, or pending_expiration while consent expires). */
  enum Target {
    ACTIVE, DEGRADED, ERROR, RATE_LIMITED, MAINTENANCE, REQUIRES_REAUTH, PENDING_EXPIRATION, DISCONNECTED, KEEP, STANDING;

    String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Columns of {@link #ROWS}: the current status, in this order. */
  static final ConnectionStatus[] COLUMNS = {
      ConnectionStatus.ACTIVE, ConnectionStatus.DEGRADED, ConnectionStatus.ERROR, ConnectionStatus.RATE_LIMITED,
      ConnectionStatus.MAINTENANCE, ConnectionStatus.REQUIRES_REAUTH, ConnectionStatus.PENDING_EXPIRATION,
      ConnectionStatus.DISCONNECTED};

  // The table. Reading a row: while the user must act (requires_reauth) or the Item is gone (disconnected),
  // only news about exactly that changes the state; a bank outage explains lesser failures, so maintenance
  // keeps them; a success clears everything but a consent warning nobody resolved.
  //                                           active        degraded      error         rate_limited  maintenance   requires_reauth  pending_exp.  disconnected
  private static final Object[][] ROWS = {
      {Signal.SYNC_SUCCEEDED,          STANDING,     STANDING,     STANDING,     STANDING,     STANDING,     STANDING,        STANDING,     STANDING},
      {Signal.FAILED_DEGRADED,         DEGRADED,     DEGRADED,     KEEP,         DEGRADED,     KEEP,         KEEP,            KEEP,         KEEP},
      {Signal.FAILED_ERROR,            ERROR,        ERROR,        ERROR,        ERROR,        ERROR,        KEEP,            ERROR,        KEEP},
      {Signal.RATE_LIMITED,            RATE_LIMITED, RATE_LIMITED, KEEP,         RATE_LIMITED, KEEP,         KEEP,            KEEP,         KEEP},
      {Signal.FAILED_MAINTENANCE,      MAINTENANCE,  MAINTENANCE,  MAINTENANCE,  MAINTENANCE,  MAINTENANCE,  KEEP,            MAINTENANCE,  KEEP},
      {Signal.FAILED_REAUTH,           REQUIRES_REAUTH, REQUIRES_REAUTH, REQUIRES_REAUTH, REQUIRES_REAUTH, REQUIRES_REAUTH, KEEP, REQUIRES_REAUTH, KEEP},
      {Signal.FAILED_DISCONNECTED,     DISCONNECTED, DISCONNECTED, DISCONNECTED, DISCONNECTED, DISCONNECTED, DISCONNECTED,    DISCONNECTED, KEEP},
      {Signal.WARN_PENDING_EXPIRATION, PENDING_EXPIRATION, PENDING_EXPIRATION, KEEP, PENDING_EXPIRATION, KEEP, KEEP,         KEEP,         KEEP},
      {Signal.LOGIN_REPAIRED,          KEEP,         KEEP,         STANDING,     KEEP,         KEEP,         STANDING,        STANDING,     KEEP},
      {Signal.ACCESS_REVOKED,          DISCONNECTED, DISCONNECTED, DISCONNECTED, DISCONNECTED, DISCONNECTED, DISCONNECTED,    DISCONNECTED, KEEP},
      {Signal.INSTITUTION_DOWN,        MAINTENANCE,  MAINTENANCE,  MAINTENANCE,  MAINTENANCE,  KEEP,         KEEP,            MAINTENANCE,  KEEP},
      {Signal.INSTITUTION_UP,          KEEP,         KEEP,         KEEP,         KEEP,         STANDING,     KEEP,            KEEP,         KEEP},
  };

  private static final Map<Signal, Map<ConnectionStatus, Target>> TABLE = build();

  private static Map<Signal, Map<ConnectionStatus, Target>> build() {
    Map<Signal, Map<ConnectionStatus, Target>> table = new EnumMap<>(Signal.class);
    for (Object[] row : ROWS) {
      if (row.length != COLUMNS.length + 1) {
        throw new IllegalStateException("row " + row[0] + " has " + (row.length - 1) + " cells");
      }
      Map<ConnectionStatus, Target> cells = new EnumMap<>(ConnectionStatus.class);
      for (int i = 0; i < COLUMNS.length; i++) {
        cells.put(COLUMNS[i], (Target) row[i + 1]);
      }
      if (table.put((Signal) row[0], cells) != null) {
        throw new IllegalStateException("row " + row[0] + " appears twice");
      }
    }
    if (table.size() != Signal.values().length) {
      throw new IllegalStateException("every signal needs a row");
    }
    return table;
  }

  /** The raw cell (for docs and tests). */
  static Target cell(Signal signal, ConnectionStatus from) {
    return TABLE.get(signal).get(from);
  }

  /** The status after {@code signal}, given whether a consent warning is outstanding. */
  static ConnectionStatus next(ConnectionStatus from, Signal signal, boolean consentExpiring) {
    Target target = cell(signal, from);
    return switch (target) {
      case KEEP -> from;
      case STANDING -> consentExpiring ? ConnectionStatus.PENDING_EXPIRATION : ConnectionStatus.ACTIVE;
      default -> ConnectionStatus.valueOf(target.name());
    };
  }

  /**
   * One input: the signal plus what the event carried.
   *
   * @param at              when it happened (the sync's start, the webhook's arrival)
   * @param error           for failures: {category, error_type, error_code, message, user_action, at}
   * @param attempt         the classifier's attempt number (0 when unknown)
   * @param nextRetry       when sync tries again (null when it waits for something else)
   * @param consentExpiry   for WARN_PENDING_EXPIRATION: Plaid's consent_expiration_time, when given
   * @param maintenanceUntil for INSTITUTION_DOWN: the end of the known maintenance window, when known
   * @param countsAsSync    true for sync outcomes (they move the sync counters)
   */
  record Input(Signal signal, Instant at, JsonObject error, int attempt, Instant nextRetry, Instant consentExpiry,
      Instant maintenanceUntil, boolean countsAsSync) {

    static Input of(Signal signal, Instant at) {
      return new Input(signal, at, null, 0, null, null, null, false);
    }
  }

  /** The connection after one input; {@code now} stamps updated_at and, on a change, status_since. */
  static ConnectionHealth apply(ConnectionHealth h, Input in, Instant now) {
    return apply(h, in, now, false);
  }

  /**
   * As {@link #apply(ConnectionHealth, Input, Instant)}; a {@code stale} input (it happened before the newest
   * one already applied, e.g. relayed late by a slower node) still counts in the sync counters but changes
   * neither the status nor the error, retry and consent fields.
   */
  static ConnectionHealth apply(ConnectionHealth h, Input in, Instant now, boolean stale) {
    if (stale) {
      boolean success = in.signal() == Signal.SYNC_SUCCEEDED;
      Instant lastSuccess = success && in.at() != null
          && (h.lastSuccessfulSync() == null || in.at().isAfter(h.lastSuccessfulSync())) ? in.at() : h.lastSuccessfulSync();
      long successes = h.syncSuccessCount() + (in.countsAsSync() && success ? 1 : 0);
      long failures = h.syncFailureCount() + (in.countsAsSync() && !success ? 1 : 0);
      return new ConnectionHealth(h.connectionId(), h.userId(), h.itemId(), h.institutionId(), h.institutionName(),
          h.status(), h.statusSince(), lastSuccess, h.lastError(), successes, failures, h.consecutiveFailures(),
          h.maintenanceUntil(), h.retryAttempts(), h.nextRetry(), h.consentExpiring(), h.consentExpirationTime(), now);
    }
    boolean consent = h.consentExpiring();
    Instant consentTime = h.consentExpirationTime();
    switch (in.signal()) {
      case WARN_PENDING_EXPIRATION -> {
        consent = true;
        consentTime = in.consentExpiry() != null ? in.consentExpiry() : consentTime;
      }
      case LOGIN_REPAIRED, ACCESS_REVOKED, FAILED_DISCONNECTED -> {
        consent = false;
        consentTime = null;
      }
      case SYNC_SUCCEEDED -> {
        // A sync that works after the user had to sign in is a completed reconnect: Link renewed the consent too.
        if (h.status() == ConnectionStatus.REQUIRES_REAUTH) {
          consent = false;
          consentTime = null;
        }
      }
      default -> { }
    }
    ConnectionStatus status = next(h.status(), in.signal(), consent);
    Instant lastSuccess = h.lastSuccessfulSync();
    JsonObject lastError = h.lastError();
    long successes = h.syncSuccessCount();
    long failures = h.syncFailureCount();
    int consecutive = h.consecutiveFailures();
    int retries = h.retryAttempts();
    Instant nextRetry = h.nextRetry();
    if (in.signal() == Signal.SYNC_SUCCEEDED) {
      lastSuccess = in.at() != null && (lastSuccess == null || in.at().isAfter(lastSuccess)) ? in.at() : lastSuccess;
      lastError = null;
      consecutive = 0;
      retries = 0;
      nextRetry = null;
      if (in.countsAsSync()) {
        successes++;
      }
    } else if (in.countsAsSync()) {
      failures++;
      consecutive++;
      retries = Math.max(in.attempt(), consecutive);
      nextRetry = in.nextRetry();
      if (in.error() != null) {
        lastError = in.error();
      }
    } else if (in.error() != null) {
      lastError = in.error();
    }
    if (in.signal() == Signal.LOGIN_REPAIRED && h.status() == ConnectionStatus.REQUIRES_REAUTH) {
      // The login error that put it there is resolved; its counters go with it.
      lastError = null;
      consecutive = 0;
      retries = 0;
    }
    Instant maintenanceUntil = status == ConnectionStatus.MAINTENANCE
        ? (in.maintenanceUntil() != null ? in.maintenanceUntil() : h.maintenanceUntil()) : null;
    Instant since = status != h.status() ? now : h.statusSince();
    return new ConnectionHealth(h.connectionId(), h.userId(), h.itemId(), h.institutionId(), h.institutionName(),
        status, since, lastSuccess, lastError, successes, failures, consecutive, maintenanceUntil, retries, nextRetry,
        consent, consentTime, now);
  }

  /** What a user hears about a change of state, or null when nothing. */
  record Notice(String kind, NotificationType type, NotificationPriority priority, String actionText) {}

  static Notice notice(ConnectionStatus from, ConnectionStatus to) {
    return notice(from, to, null);
  }

  /**
   * The notice of a change, given the error that caused it ({@code last_error}: the classifier's plan, with
   * its {@code notification_type}, {@code priority} and {@code user_action}). A connection that ends in
   * error (retries used up, a product the bank lacks, our Plaid allowance spent) is told once per change,
   * with the plan's type and what to do; a locked account is a security alert, not a plain sign-in.
   */
  static Notice notice(ConnectionStatus from, ConnectionStatus to, JsonObject lastError) {
    if (from == to) {
      return null;
    }
    NotificationType planned = lastError == null ? null : NotificationType.fromWire(lastError.getString("notification_type"));
    return switch (to) {
      case REQUIRES_REAUTH -> planned == NotificationType.SECURITY_ALERT
          ? new Notice("security_alert", NotificationType.SECURITY_ALERT, NotificationPriority.HIGH,
              "Your bank has locked this account. Unlock it with your bank, then reconnect it here.")
          : new Notice("requires_reauth", NotificationType.PLAID_CONNECTION_ISSUE,
              NotificationPriority.HIGH, "Reconnect this account to keep it up to date.");
      case ERROR -> new Notice("sync_failed",
          planned == null || planned == NotificationType.NONE ? NotificationType.DATA_SYNC_STATUS : planned,
          lastError == null || lastError.getString("priority") == null ? NotificationPriority.MEDIUM
              : NotificationPriority.fromWire(lastError.getString("priority")),
          actionFor(lastError == null ? null : UserAction.fromWire(lastError.getString("user_action"))));
      case PENDING_EXPIRATION -> from == ConnectionStatus.MAINTENANCE || from == ConnectionStatus.ERROR
          ? null // the warning was already given before the outage hid it
          : new Notice("pending_expiration", NotificationType.PLAID_CONNECTION_ISSUE, NotificationPriority.MEDIUM,
              "Reconnect this account soon: your bank's consent is about to expire.");
      case DISCONNECTED -> new Notice("disconnected", NotificationType.PLAID_CONNECTION_ISSUE,
          NotificationPriority.HIGH, "Link this bank again to keep your accounts up to date.");
      case MAINTENANCE -> new Notice("maintenance_started", NotificationType.BANK_MAINTENANCE,
          NotificationPriority.LOW, "Nothing to do: we'll update your accounts when your bank is back.");
      case ACTIVE -> from == ConnectionStatus.MAINTENANCE
          ? new Notice("maintenance_ended", NotificationType.BANK_MAINTENANCE, NotificationPriority.LOW,
              "Your bank is back; your accounts are up to date again.")
          : from == ConnectionStatus.ERROR
              ? new Notice("recovered", NotificationType.DATA_SYNC_STATUS, NotificationPriority.LOW,
                  "Your account is updating normally again.")
              : null;
      default -> null;
    };
  }

  /** What the user can do about a sync that stopped, by the plan's user action. */
  private static String actionFor(UserAction action) {
    return switch (action == null ? UserAction.NONE : action) {
      case RECONNECT -> "Reconnect this account to keep it up to date.";
      case FIX_AT_BANK -> "Sign in at your bank's website to resolve what it asks, then reconnect here.";
      case RELINK -> "Link this bank again to keep your accounts up to date.";
      case CONTACT_SUPPORT -> "We stopped updating this account; contact support if this continues.";
      case NONE -> "We could not update this account after several tries; we will try again later.";
    };
  }

  /** The table as Markdown, for docs/health.md. */
  static String table() {
    StringBuilder out = new StringBuilder("| signal \\ from |");
    for (ConnectionStatus column : COLUMNS) {
      out.append(' ').append(column.wire()).append(" |");
    }
    out.append("\n|---|");
    out.append("---|".repeat(COLUMNS.length)).append('\n');
    for (Signal signal : Signal.values()) {
      out.append("| ").append(signal.name().toLowerCase(java.util.Locale.ROOT)).append(" |");
      for (ConnectionStatus column : COLUMNS) {
        Target target = cell(signal, column);
        out.append(' ').append(target == KEEP ? "·" : target.wire()).append(" |");
      }
      out.append('\n');
    }
    return out.toString();
  }
}
