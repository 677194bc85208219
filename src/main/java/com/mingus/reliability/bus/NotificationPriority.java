package com.mingus.reliability.bus;

/** The seed's NotificationPriority values; wire values are lower-case. */
public enum NotificationPriority {
  LOW,
  MEDIUM,
  HIGH,
  CRITICAL;

  public String wire() {
    return WireEnums.wire(this);
  }

  public static NotificationPriority fromWire(Object value) {
    return WireEnums.parse(NotificationPriority.class, value, MEDIUM);
  }
}
