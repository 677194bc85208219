package com.mingus.reliability.bus;

import java.util.Locale;

/** The seed's delivery channels; wire form lower-case ({@code email}, {@code in_app}, ...). */
public enum NotificationChannel {
  EMAIL,
  IN_APP,
  PUSH,
  SMS,
  WEBHOOK;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The channel of a wire name, or null when the text names none. */
  public static NotificationChannel fromWire(String text) {
    if (text == null) {
      return null;
    }
    for (NotificationChannel channel : values()) {
      if (channel.wire().equals(text.trim().toLowerCase(Locale.ROOT))) {
        return channel;
      }
    }
    return null;
  }
}
