package com.mingus.reliability.notify;

import com.mingus.reliability.bus.NotificationChannel;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** Reading the fields of a request the same way in every command: blanks, ids, page bounds, channel lists. */
final class Requests {
  private Requests() {}

  static boolean blank(String text) {
    return text == null || text.isBlank();
  }

  static int clamp(int value, int min, int max) {
    return Math.max(min, Math.min(max, value));
  }

  /** The id, or null when it is missing or not a UUID (the caller says what that means). */
  static UUID uuid(String text) {
    try {
      return text == null ? null : UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The named channels without repeats, in the order given; null for no list unless one is required. */
  static List<NotificationChannel> channels(List<String> names, boolean required) {
    if (names == null) {
      if (required) {
        throw Refusal.invalid("channels is required");
      }
      return null;
    }
    Set<NotificationChannel> out = new LinkedHashSet<>();
    for (String name : names) {
      NotificationChannel channel = NotificationChannel.fromWire(name);
      if (channel == null) {
        throw Refusal.invalid("unknown channel '" + name + "'");
      }
      out.add(channel);
    }
    if (required && out.isEmpty()) {
      throw Refusal.invalid("channels must name at least one channel");
    }
    return List.copyOf(out);
  }
}
