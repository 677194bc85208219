package com.mingus.reliability.bus;

/** The seed's NotificationPriority values; wire values are lower-case. Only {@link #CRITICAL} passes through quiet hours. */
public enum NotificationPriority {
  LOW,
  MEDIUM,
  HIGH,
  CRITICAL;

  public String wire() {
    return WireEnums.wire(this);
  }

  /** Lenient: unknown or missing is {@link #MEDIUM}. */
  public static NotificationPriority fromWire(Object value) {
    return WireEnums.parse(NotificationPriority.class, value, MEDIUM);
  }

  /** Strict: the priority a text names, or null when it names none. */
  public static NotificationPriority fromWire(String text) {
    return WireEnums.parse(NotificationPriority.class, text, null);
  }
}
