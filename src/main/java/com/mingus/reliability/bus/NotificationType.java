package com.mingus.reliability.bus;

/**
 * The seed's NotificationType values (wire: lower-case), plus {@link #NONE} for "raise nothing" (used by
 * classification only; never a notification's type).
 */
public enum NotificationType {
  PLAID_CONNECTION_ISSUE,
  BANK_MAINTENANCE,
  DATA_SYNC_STATUS,
  SECURITY_ALERT,
  COMPLIANCE_UPDATE,
  SYSTEM_MAINTENANCE,
  FEATURE_UPDATE,
  ACCOUNT_UPDATE,
  NONE;

  public String wire() {
    return WireEnums.wire(this);
  }

  /** Lenient: unknown or missing is {@link #NONE}. */
  public static NotificationType fromWire(Object value) {
    return WireEnums.parse(NotificationType.class, value, NONE);
  }

  /** Strict: the notification type a text names, or null when it names none (NONE included). */
  public static NotificationType fromWire(String text) {
    NotificationType type = WireEnums.parse(NotificationType.class, text, NONE);
    return type == NONE ? null : type;
  }
}
