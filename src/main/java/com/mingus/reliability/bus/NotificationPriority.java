package com.mingus.reliability.bus;

import java.util.Locale;

/** The seed's NotificationPriority values; wire values are lower-case. */
public enum NotificationPriority {
  LOW,
  MEDIUM,
  HIGH,
  CRITICAL;

  public String wire() {
    return WireEnums.wire(this);
  }

  /** Lenient: an absent or unknown value reads as {@link #MEDIUM}. */
  public static NotificationPriority fromWire(Object value) {
    return WireEnums.parse(NotificationPriority.class, value, MEDIUM);
  }

  /** Strict: a known priority, or null. */
  public static NotificationPriority parse(String text) {
    if (text == null) {
      return null;
    }
    String wanted = text.trim().toLowerCase(Locale.ROOT);
    for (NotificationPriority priority : values()) {
      if (priority.wire().equals(wanted)) {
        return priority;
      }
    }
    return null;
  }
}
