package com.mingus.reliability.bus;

import java.util.Locale;

/** The seed's notification types; the wire form is the lower-case name ({@code plaid_connection_issue}). */
public enum NotificationType {
  PLAID_CONNECTION_ISSUE,
  BANK_MAINTENANCE,
  DATA_SYNC_STATUS,
  SECURITY_ALERT,
  COMPLIANCE_UPDATE,
  SYSTEM_MAINTENANCE,
  FEATURE_UPDATE,
  ACCOUNT_UPDATE;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The type of a wire name, or null when the text names none. */
  public static NotificationType fromWire(String text) {
    if (text == null) {
      return null;
    }
    for (NotificationType type : values()) {
      if (type.wire().equals(text.trim().toLowerCase(Locale.ROOT))) {
        return type;
      }
    }
    return null;
  }
}
