package com.mingus.reliability.bus;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The seed's NotificationType values (wire: lower-case), plus {@link #NONE}, which the classifier uses
 * for "raise nothing" and which is never sent.
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

  private static final List<NotificationType> SENDABLE =
      Arrays.stream(values()).filter(type -> type != NONE).toList();

  public String wire() {
    return WireEnums.wire(this);
  }

  /** Lenient: an absent or unknown value reads as {@link #NONE}. */
  public static NotificationType fromWire(Object value) {
    return WireEnums.parse(NotificationType.class, value, NONE);
  }

  /** Strict: one of the eight types a user can be sent, or null. */
  public static NotificationType parse(String text) {
    if (text == null) {
      return null;
    }
    String wanted = text.trim().toLowerCase(Locale.ROOT);
    for (NotificationType type : SENDABLE) {
      if (type.wire().equals(wanted)) {
        return type;
      }
    }
    return null;
  }

  /** The eight types a user can be sent (every value but {@link #NONE}). */
  public static List<NotificationType> sendable() {
    return SENDABLE;
  }
}
