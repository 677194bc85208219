package com.mingus.reliability.bus;

import java.util.Locale;

/**
 * Who is waiting for a Plaid permit, most urgent first: a user's sync-now, a sync a Plaid webhook asked
 * for, the periodic safety-net sync, anything else in the background. Waiting callers of a higher
 * priority go first; within one priority the Items take turns.
 */
public enum PermitPriority {
  MANUAL,
  WEBHOOK,
  PERIODIC,
  BACKGROUND;

  /** The lower-case word used on the wire. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses the wire word; absent means {@link #PERIODIC}, an unknown word is an error. */
  public static PermitPriority parse(String text) {
    if (text == null || text.isBlank()) {
      return PERIODIC;
    }
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown priority '" + text + "' (manual, webhook, periodic, background)");
    }
  }
}
