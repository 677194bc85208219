package com.mingus.reliability.bus;

import java.util.Locale;

/** Reads the lower-case wire words of the contract's enums leniently: unknown or missing gives the fallback. */
final class WireEnums {
  private WireEnums() {}

  static <E extends Enum<E>> E parse(Class<E> type, Object value, E fallback) {
    if (!(value instanceof String text) || text.isBlank() || text.length() > 64) {
      return fallback;
    }
    try {
      return Enum.valueOf(type, text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException unknown) {
      return fallback;
    }
  }

  static String wire(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }
}
