package com.mingus.reliability.bus;

import java.util.Locale;

/** The seed's priorities. Only {@link #CRITICAL} passes through quiet hours. */
public enum NotificationPriority {
  LOW,
  MEDIUM,
  HIGH,
  CRITICAL;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The priority of a wire name, or null when the text names none. */
  public static NotificationPriority fromWire(String text) {
    if (text == null) {
      return null;
    }
    for (NotificationPriority priority : values()) {
      if (priority.wire().equals(text.trim().toLowerCase(Locale.ROOT))) {
        return priority;
      }
    }
    return null;
  }
}
