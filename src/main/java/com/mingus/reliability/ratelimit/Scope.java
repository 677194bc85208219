package com.mingus.reliability.ratelimit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One thing Plaid counts: an endpoint client-wide, or an endpoint for one Item. A call goes only when
 * every window of its scopes has room and no cool-down is running; the grant is then counted in all of them.
 */
final class Scope {
  private final String kind;
  private final List<SlidingWindow> windows;
  private long coolingUntil;

  Scope(String kind, List<SlidingWindow> windows) {
    this.kind = kind;
    this.windows = List.copyOf(windows);
  }

  String kind() {
    return kind;
  }

  boolean limited() {
    return !windows.isEmpty();
  }

  long coolingUntil() {
    return coolingUntil;
  }

  /** The earliest time this scope lets a call go. */
  long nextFree(long now) {
    long free = Math.max(now, coolingUntil);
    for (SlidingWindow window : windows) {
      free = Math.max(free, window.nextFree(now));
    }
    return free;
  }

  /** What binds at {@code now}: {@code <kind>_cooldown}, {@code <kind>_<window>}, or null when free. */
  String blockedBy(long now) {
    if (coolingUntil > now) {
      return kind + "_cooldown";
    }
    for (SlidingWindow window : windows) {
      if (window.nextFree(now) > now) {
        return kind + "_" + window.name();
      }
    }
    return null;
  }

  void record(long now) {
    for (SlidingWindow window : windows) {
      window.record(now);
    }
  }

  /** Closes the scope until {@code until} and teaches the window under most pressure. */
  void rejected(long now, long until) {
    coolingUntil = Math.max(coolingUntil, until);
    SlidingWindow binding = null;
    for (SlidingWindow window : windows) {
      if (binding == null || window.pressure(now) > binding.pressure(now)) {
        binding = window;
      }
    }
    if (binding != null) {
      binding.onRejected(now);
    }
  }

  /** The highest fraction of an effective budget used in any window of this scope. */
  double pressure(long now) {
    double highest = 0;
    for (SlidingWindow window : windows) {
      highest = Math.max(highest, window.pressure(now));
    }
    return highest;
  }

  List<SlidingWindow> windows() {
    return windows;
  }

  /** The effective budget of the first (shortest) window, for the report reply. */
  int effective(long now) {
    return windows.isEmpty() ? Integer.MAX_VALUE : windows.get(0).effective(now);
  }

  boolean idle(long now) {
    if (coolingUntil > now) {
      return false;
    }
    for (SlidingWindow window : windows) {
      if (!window.idle(now)) {
        return false;
      }
    }
    return true;
  }

  JsonArray windowsJson(long now) {
    JsonArray out = new JsonArray();
    for (SlidingWindow window : windows) {
      int used = window.used(now);
      int effective = window.effective(now);
      out.add(new JsonObject()
          .put("scope", kind)
          .put("window", window.name())
          .put("window_ms", window.lengthMs())
          .put("configured", window.configured())
          .put("effective", effective)
          .put("used", used)
          .put("remaining", Math.max(0, effective - used))
          .put("next_free_at", window.nextFree(now)));
    }
    return out;
  }
}
