package com.mingus.reliability.notify;

import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.PageCursor;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
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

  /** The sort key of a notify list's rows: a time (ISO-8601, as listed) and the row's id, both descending. */
  record Key(OffsetDateTime at, UUID id) {}

  /** The key a cursor of {@code list} holds, or null for the first page; any other cursor is refused INVALID_REQUEST. */
  static Key after(String list, String cursor) {
    List<String> parts;
    try {
      parts = PageCursor.decode(list, cursor, 2);
      return parts == null ? null
          : new Key(OffsetDateTime.ofInstant(Instant.parse(parts.get(0)), ZoneOffset.UTC), UUID.fromString(parts.get(1)));
    } catch (RuntimeException e) {
      throw Refusal.invalid(PageCursor.INVALID);
    }
  }

  /** The page size asked for: {@code fallback} when absent, else 1 to {@code max}; anything else is refused. */
  static int limit(Object value, int fallback, int max) {
    try {
      return PageCursor.limit(value, fallback, max);
    } catch (IllegalArgumentException e) {
      throw Refusal.invalid(e.getMessage());
    }
  }
}
