package com.mingus.reliability.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ConnectionHealth;
import com.mingus.reliability.bus.ConnectionStatus;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.RecoveryStep;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.bus.UserAction;
import com.mingus.reliability.health.HealthMachine.Input;
import com.mingus.reliability.health.HealthMachine.Signal;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The connection state machine, table-driven: every error category, the sticky states, what clears what. */
class HealthMachineTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private static ConnectionHealth in(ConnectionStatus status, boolean consent) {
    ConnectionHealth fresh = ConnectionHealth.fresh("conn_1", "user-1", "item-1", "ins_1", "Bank", T0);
    return new ConnectionHealth("conn_1", "user-1", "item-1", "ins_1", "Bank", status, T0, T0.minusSeconds(60),
        status == ConnectionStatus.ACTIVE ? null : new JsonObject().put("category", "x"), 5, 2, 2, null, 2,
        T0.plusSeconds(30), consent, consent ? T0.plusSeconds(86_400) : null, fresh.updatedAt());
  }

  /** A failed sync as sync publishes it, classified with the given plan. */
  private static SyncEvent failed(ErrorCategory category, String code, ConnectionStatus status, Classification.Scope scope,
      UserAction action, RecoveryStep step) {
    Classification plan = new Classification(category, "X", code, null, step == RecoveryStep.RETRY, step, 1000,
        null, 1, 5, category.wire(), false, false, action, status, scope, NotificationType.NONE, NotificationPriority.LOW,
        "message for " + code, "req-1");
    return new SyncEvent(SyncEvent.FAILED, "conn_1", "user-1", "item-1", "ins_1", "Bank", "sync-1", "periodic",
        "failed", T0.plusSeconds(10).toString(), 5L, 0, 0, 0, T0.plusSeconds(70).toString(), null, null,
        new JsonObject().put("error_code", code), plan.toJson(), new JsonObject());
  }

  // Every error category the classifier produces, with the connection status it gives, from an active connection.
  @ParameterizedTest(name = "{0}/{1} ({2}) -> {5}")
  @CsvSource({
      "CONNECTION_FAILURE,    ,                      DEGRADED,        PLAID,       RETRY,            degraded",
      "CONNECTION_FAILURE,    ,                      ERROR,           PLAID,       FALL_BACK_TO_SCHEDULE, error",
      "BANK_MAINTENANCE,      INSTITUTION_DOWN,      MAINTENANCE,     INSTITUTION, RETRY,            maintenance",
      "BANK_MAINTENANCE,      PLANNED_MAINTENANCE,   MAINTENANCE,     PLAID,       RETRY,            maintenance",
      "RATE_LIMIT_EXCEEDED,   TRANSACTIONS_SYNC_LIMIT, RATE_LIMITED,  CLIENT,      RETRY,            rate_limited",
      "RATE_LIMIT_EXCEEDED,   CREDITS_EXHAUSTED,     ERROR,           CLIENT,      STOP,             error",
      "AUTHENTICATION_ERROR,  ITEM_LOGIN_REQUIRED,   REQUIRES_REAUTH, ITEM,        WAIT_FOR_USER,    requires_reauth",
      "AUTHENTICATION_ERROR,  ITEM_LOCKED,           REQUIRES_REAUTH, ITEM,        WAIT_FOR_USER,    requires_reauth",
      "AUTHENTICATION_ERROR,  PENDING_EXPIRATION,    PENDING_EXPIRATION, ITEM,     CONTINUE,         pending_expiration",
      "INSTITUTION_ERROR,     INSTITUTION_NOT_RESPONDING, DEGRADED,   INSTITUTION, RETRY,            degraded",
      "INSTITUTION_ERROR,     INSTITUTION_NO_LONGER_SUPPORTED, DISCONNECTED, INSTITUTION, STOP,      disconnected",
      "ITEM_ERROR,            ITEM_NOT_FOUND,        DISCONNECTED,    ITEM,        STOP,             disconnected",
      "ITEM_ERROR,            ADDITIONAL_CONSENT_REQUIRED, REQUIRES_REAUTH, ITEM,  WAIT_FOR_USER,    requires_reauth",
      "ITEM_ERROR,            TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION, ACTIVE, ITEM, RESTART_PAGINATION, active",
      "PRODUCT_NOT_AVAILABLE, PRODUCT_NOT_READY,     ACTIVE,          ITEM,        WAIT_FOR_WEBHOOK, active",
      "PRODUCT_NOT_AVAILABLE, PRODUCTS_NOT_SUPPORTED, ERROR,          ITEM,        STOP,             error",
      "INVALID_REQUEST,       INVALID_FIELD,         ERROR,           ITEM,        STOP,             error",
      "INTERNAL_ERROR,        INTERNAL_SERVER_ERROR, DEGRADED,        PLAID,       RETRY,            degraded",
      "UNKNOWN_ERROR,         SOMETHING_NEW,         DEGRADED,        ITEM,        RETRY,            degraded",
  })
  void eachErrorCategoryMovesAnActiveConnectionToItsStatus(ErrorCategory category, String code,
      ConnectionStatus classified, Classification.Scope scope, RecoveryStep step, String expected) {
    SyncEvent event = failed(category, code, classified, scope, UserAction.NONE, step);
    Input input = HealthVerticle.syncInput(event, T0.plusSeconds(10));
    ConnectionHealth before = in(ConnectionStatus.ACTIVE, false);
    ConnectionHealth after = input == null ? before : HealthMachine.apply(before, input, T0.plusSeconds(11));
    assertThat(after.status().wire()).isEqualTo(expected);
    assertThat(after.requiresReauth()).isEqualTo(expected.equals("requires_reauth"));
    assertThat(after.maintenanceMode()).isEqualTo(expected.equals("maintenance"));
    if (input != null) {
      assertThat(after.syncFailureCount()).isEqualTo(before.syncFailureCount() + 1);
      assertThat(after.consecutiveFailures()).isEqualTo(before.consecutiveFailures() + 1);
      assertThat(after.lastError().getString("error_code")).isEqualTo(code);
      assertThat(after.lastError().getString("category")).isEqualTo(category.wire());
      assertThat(after.nextRetry()).isEqualTo(T0.plusSeconds(70));
    }
  }

  // (signal, current status, consent warning outstanding) -> next status: the table's cells that matter most.
  @ParameterizedTest(name = "{0} from {1} (consent {2}) -> {3}")
  @CsvSource({
      "SYNC_SUCCEEDED,          ERROR,              false, ACTIVE",
      "SYNC_SUCCEEDED,          DEGRADED,           false, ACTIVE",
      "SYNC_SUCCEEDED,          MAINTENANCE,        true,  PENDING_EXPIRATION",
      "SYNC_SUCCEEDED,          RATE_LIMITED,       false, ACTIVE",
      "FAILED_DEGRADED,         REQUIRES_REAUTH,    false, REQUIRES_REAUTH",
      "FAILED_DEGRADED,         MAINTENANCE,        false, MAINTENANCE",
      "FAILED_DEGRADED,         ERROR,              false, ERROR",
      "FAILED_DEGRADED,         PENDING_EXPIRATION, true,  PENDING_EXPIRATION",
      "FAILED_MAINTENANCE,      REQUIRES_REAUTH,    false, REQUIRES_REAUTH",
      "FAILED_MAINTENANCE,      DISCONNECTED,       false, DISCONNECTED",
      "FAILED_REAUTH,           MAINTENANCE,        false, REQUIRES_REAUTH",
      "FAILED_REAUTH,           DISCONNECTED,       false, DISCONNECTED",
      "RATE_LIMITED,            ERROR,              false, ERROR",
      "RATE_LIMITED,            ACTIVE,             false, RATE_LIMITED",
      "WARN_PENDING_EXPIRATION, ACTIVE,             false, PENDING_EXPIRATION",
      "WARN_PENDING_EXPIRATION, REQUIRES_REAUTH,    false, REQUIRES_REAUTH",
      "LOGIN_REPAIRED,          REQUIRES_REAUTH,    false, ACTIVE",
      "LOGIN_REPAIRED,          PENDING_EXPIRATION, true,  ACTIVE",
      "LOGIN_REPAIRED,          MAINTENANCE,        false, MAINTENANCE",
      "ACCESS_REVOKED,          ACTIVE,             false, DISCONNECTED",
      "ACCESS_REVOKED,          REQUIRES_REAUTH,    false, DISCONNECTED",
      "INSTITUTION_DOWN,        ACTIVE,             false, MAINTENANCE",
      "INSTITUTION_DOWN,        PENDING_EXPIRATION, true,  MAINTENANCE",
      "INSTITUTION_DOWN,        REQUIRES_REAUTH,    false, REQUIRES_REAUTH",
      "INSTITUTION_DOWN,        DISCONNECTED,       false, DISCONNECTED",
      "INSTITUTION_UP,          MAINTENANCE,        false, ACTIVE",
      "INSTITUTION_UP,          MAINTENANCE,        true,  PENDING_EXPIRATION",
      "INSTITUTION_UP,          REQUIRES_REAUTH,    false, REQUIRES_REAUTH",
      "INSTITUTION_UP,          ERROR,              false, ERROR",
  })
  void theTableDecidesTheNextStatus(Signal signal, ConnectionStatus from, boolean consent, ConnectionStatus expected) {
    ConnectionHealth after = HealthMachine.apply(in(from, consent), Input.of(signal, T0.plusSeconds(5)), T0.plusSeconds(5));
    assertThat(after.status()).isEqualTo(expected);
    assertThat(after.statusSince()).isEqualTo(expected == from ? T0 : T0.plusSeconds(5));
  }

  @Test
  void everySignalHasACellForEveryStatus() {
    for (Signal signal : Signal.values()) {
      for (ConnectionStatus status : ConnectionStatus.values()) {
        assertThat(HealthMachine.cell(signal, status)).as(signal + " from " + status).isNotNull();
      }
    }
    assertThat(HealthMachine.table()).contains("| sync_succeeded |").contains("| institution_up |");
  }

  @Test
  void theDocsShowTheTableInTheCode() throws java.io.IOException {
    String docs = java.nio.file.Files.readString(java.nio.file.Path.of("docs", "health.md"));
    String shown = docs.substring(docs.indexOf("<!-- table:begin -->") + "<!-- table:begin -->".length(),
        docs.indexOf("<!-- table:end -->")).strip();
    assertThat(shown).isEqualTo(HealthMachine.table().strip());
  }

  @Test
  void aStaleEventCountsButDoesNotDecideTheStatus() {
    ConnectionHealth reauth = in(ConnectionStatus.REQUIRES_REAUTH, false);
    ConnectionHealth after = HealthMachine.apply(reauth,
        new Input(Signal.SYNC_SUCCEEDED, T0.minusSeconds(30), null, 0, null, null, null, true), T0.plusSeconds(1), true);
    assertThat(after.status()).isEqualTo(ConnectionStatus.REQUIRES_REAUTH);
    assertThat(after.lastError()).isEqualTo(reauth.lastError());
    assertThat(after.syncSuccessCount()).isEqualTo(reauth.syncSuccessCount() + 1);
    assertThat(after.lastSuccessfulSync()).isEqualTo(T0.minusSeconds(30));
  }

  @Test
  void aSuccessClearsTheErrorAndItsCounters() {
    ConnectionHealth failing = in(ConnectionStatus.ERROR, false);
    ConnectionHealth after = HealthMachine.apply(failing,
        new Input(Signal.SYNC_SUCCEEDED, T0.plusSeconds(9), null, 0, null, null, null, true), T0.plusSeconds(9));
    assertThat(after.status()).isEqualTo(ConnectionStatus.ACTIVE);
    assertThat(after.lastError()).isNull();
    assertThat(after.consecutiveFailures()).isZero();
    assertThat(after.retryAttempts()).isZero();
    assertThat(after.nextRetry()).isNull();
    assertThat(after.lastSuccessfulSync()).isEqualTo(T0.plusSeconds(9));
    assertThat(after.syncSuccessCount()).isEqualTo(failing.syncSuccessCount() + 1);
    assertThat(after.syncFailureCount()).as("the history stays").isEqualTo(failing.syncFailureCount());
  }

  @Test
  void loginRepairedClearsRequiresReauthWithNoStaleFlagOrError() {
    ConnectionHealth reauth = in(ConnectionStatus.REQUIRES_REAUTH, false);
    assertThat(reauth.requiresReauth()).isTrue();
    ConnectionHealth after = HealthMachine.apply(reauth, Input.of(Signal.LOGIN_REPAIRED, T0.plusSeconds(3)),
        T0.plusSeconds(3));
    assertThat(after.status()).isEqualTo(ConnectionStatus.ACTIVE);
    assertThat(after.requiresReauth()).isFalse();
    assertThat(after.toJson().getBoolean("requires_reauth")).isFalse();
    assertThat(after.lastError()).isNull();
    assertThat(after.consecutiveFailures()).isZero();
  }

  @Test
  void aSuccessfulSyncAfterRequiresReauthIsACompletedReconnectAndClearsTheConsentWarning() {
    ConnectionHealth reauth = in(ConnectionStatus.REQUIRES_REAUTH, true);
    ConnectionHealth after = HealthMachine.apply(reauth,
        new Input(Signal.SYNC_SUCCEEDED, T0.plusSeconds(3), null, 0, null, null, null, true), T0.plusSeconds(3));
    assertThat(after.status()).isEqualTo(ConnectionStatus.ACTIVE);
    assertThat(after.consentExpiring()).isFalse();
    assertThat(after.requiresReauth()).isFalse();
  }

  @Test
  void maintenanceCarriesItsWindowAndDropsItWhenItEnds() {
    Instant until = T0.plusSeconds(3600);
    ConnectionHealth down = HealthMachine.apply(in(ConnectionStatus.ACTIVE, false),
        new Input(Signal.INSTITUTION_DOWN, T0, null, 0, null, null, until, false), T0);
    assertThat(down.maintenanceMode()).isTrue();
    assertThat(down.maintenanceUntil()).isEqualTo(until);
    ConnectionHealth up = HealthMachine.apply(down, Input.of(Signal.INSTITUTION_UP, T0.plusSeconds(10)), T0.plusSeconds(10));
    assertThat(up.maintenanceMode()).isFalse();
    assertThat(up.maintenanceUntil()).isNull();
  }

  @Test
  void itemWebhooksMapToSignals() {
    SyncEvent pending = new SyncEvent(SyncEvent.ITEM, "conn_1", "user-1", "item-1", "ins_1", "Bank", null, null, null,
        T0.toString(), null, null, null, null, null, null, "PENDING_EXPIRATION", null, null,
        new JsonObject().put("consent_expiration_time", "2026-01-08T00:00:00Z"));
    Input input = HealthVerticle.itemInput(pending, T0);
    assertThat(input.signal()).isEqualTo(Signal.WARN_PENDING_EXPIRATION);
    ConnectionHealth after = HealthMachine.apply(in(ConnectionStatus.ACTIVE, false), input, T0);
    assertThat(after.status()).isEqualTo(ConnectionStatus.PENDING_EXPIRATION);
    assertThat(after.consentExpirationTime()).isEqualTo(Instant.parse("2026-01-08T00:00:00Z"));

    SyncEvent loginRequired = new SyncEvent(SyncEvent.ITEM, "conn_1", "user-1", "item-1", "ins_1", "Bank", null, null,
        null, T0.toString(), null, null, null, null, null, "needs_user", "ERROR", null, null,
        new JsonObject().put("error", new JsonObject().put("error_type", "ITEM_ERROR").put("error_code", "ITEM_LOGIN_REQUIRED")));
    assertThat(HealthVerticle.itemInput(loginRequired, T0).signal()).isEqualTo(Signal.FAILED_REAUTH);
    SyncEvent revoked = new SyncEvent(SyncEvent.ITEM, "conn_1", "user-1", "item-1", "ins_1", "Bank", null, null, null,
        T0.toString(), null, null, null, null, null, "stopped", "USER_PERMISSION_REVOKED", null, null, null);
    assertThat(HealthVerticle.itemInput(revoked, T0).signal()).isEqualTo(Signal.ACCESS_REVOKED);
    SyncEvent other = new SyncEvent(SyncEvent.ITEM, "conn_1", "user-1", "item-1", "ins_1", "Bank", null, null, null,
        T0.toString(), null, null, null, null, null, null, "NEW_ACCOUNTS_AVAILABLE", null, null, null);
    assertThat(HealthVerticle.itemInput(other, T0)).isNull();
  }

  @Test
  void ourOwnLimiterSayingNotYetIsNoFailedSync() {
    SyncEvent throttled = new SyncEvent(SyncEvent.FAILED, "conn_1", "user-1", "item-1", "ins_1", "Bank", "s", "periodic",
        "rate_limited", T0.toString(), 1L, 0, 0, 0, T0.plusSeconds(5).toString(), null, null, null, null, null);
    Input input = HealthVerticle.syncInput(throttled, T0);
    ConnectionHealth after = HealthMachine.apply(in(ConnectionStatus.ACTIVE, false), input, T0);
    assertThat(after.status()).isEqualTo(ConnectionStatus.RATE_LIMITED);
    assertThat(after.syncFailureCount()).isEqualTo(2);
  }

  // Which changes a user hears about.
  @ParameterizedTest(name = "{0} -> {1}: {2}")
  @CsvSource({
      "ACTIVE,             REQUIRES_REAUTH,    requires_reauth",
      "MAINTENANCE,        REQUIRES_REAUTH,    requires_reauth",
      "ACTIVE,             PENDING_EXPIRATION, pending_expiration",
      "MAINTENANCE,        PENDING_EXPIRATION, ",
      "ERROR,              DISCONNECTED,       disconnected",
      "ACTIVE,             MAINTENANCE,        maintenance_started",
      "MAINTENANCE,        ACTIVE,             maintenance_ended",
      "ERROR,              ACTIVE,             recovered",
      "DEGRADED,           ACTIVE,             ",
      "ACTIVE,             DEGRADED,           ",
      "ACTIVE,             ERROR,              sync_failed",
      "DEGRADED,           ERROR,              sync_failed",
      "ERROR,              ERROR,              ",
      "ACTIVE,             RATE_LIMITED,       ",
      "REQUIRES_REAUTH,    ACTIVE,             ",
      "ACTIVE,             ACTIVE,             ",
  })
  void onlyTheChangesAUserMustHearAboutRaiseANotice(ConnectionStatus from, ConnectionStatus to, String kind) {
    HealthMachine.Notice notice = HealthMachine.notice(from, to);
    if (kind == null) {
      assertThat(notice).isNull();
    } else {
      assertThat(notice).isNotNull();
      assertThat(notice.kind()).isEqualTo(kind);
    }
  }

  @Test
  void aStoppedSyncIsToldWithTheClassifiersPlanAndALockedAccountIsASecurityAlert() {
    JsonObject credits = new JsonObject().put("error_code", "CREDITS_EXHAUSTED").put("notification_type", "data_sync_status")
        .put("priority", "high").put("user_action", "contact_support");
    HealthMachine.Notice stopped = HealthMachine.notice(ConnectionStatus.DEGRADED, ConnectionStatus.ERROR, credits);
    assertThat(stopped.type()).isEqualTo(NotificationType.DATA_SYNC_STATUS);
    assertThat(stopped.priority()).isEqualTo(NotificationPriority.HIGH);
    assertThat(stopped.actionText()).contains("contact support");

    JsonObject locked = new JsonObject().put("error_code", "ITEM_LOCKED").put("notification_type", "security_alert")
        .put("priority", "high").put("user_action", "fix_at_bank");
    HealthMachine.Notice alert = HealthMachine.notice(ConnectionStatus.ACTIVE, ConnectionStatus.REQUIRES_REAUTH, locked);
    assertThat(alert.kind()).isEqualTo("security_alert");
    assertThat(alert.type()).isEqualTo(NotificationType.SECURITY_ALERT);
    assertThat(HealthMachine.notice(ConnectionStatus.ACTIVE, ConnectionStatus.REQUIRES_REAUTH, null).kind())
        .isEqualTo("requires_reauth");
  }
}
