package com.mingus.reliability.bus;

/** The seed's NotificationType values (wire: lower-case), plus {@link #NONE} for "raise nothing". */
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

  public static NotificationType fromWire(Object value) {
    return WireEnums.parse(NotificationType.class, value, NONE);
  }
}
