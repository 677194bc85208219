package com.mingus.reliability.chaos;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named instants where a node may be made to die, for the failover tests: {@code MINGUS_CRASH_AT=point:n}
 * (or the system property {@code mingus.crash_at}; several as {@code a:1,b:3}) halts the JVM the n-th time
 * the code reaches {@code point}, as a SIGKILL would (no shutdown hook, no lease handed back, sockets closed
 * by the operating system). Unset, which it is outside those tests, {@link #reach} is one read of a final
 * field. The points are the windows where a death could lose work: after a commit and before its
 * consequences are told, after a send and before its outcome is written (docs/cluster.md lists them).
 */
public final class CrashPoints {
  private static final Logger log = LoggerFactory.getLogger(CrashPoints.class);
  private static final Map<String, Integer> PLAN = parse(System.getProperty("mingus.crash_at",
      System.getenv().getOrDefault("MINGUS_CRASH_AT", "")));
  private static final boolean ARMED = !PLAN.isEmpty();
  private static final Map<String, AtomicInteger> REACHED = new java.util.concurrent.ConcurrentHashMap<>();

  private CrashPoints() {}

  /** Halts the process here when this is the planned arrival at {@code point}. */
  public static void reach(String point) {
    if (!ARMED) {
      return;
    }
    Integer at = PLAN.get(point);
    if (at == null) {
      return;
    }
    int arrival = REACHED.computeIfAbsent(point, p -> new AtomicInteger()).incrementAndGet();
    if (arrival == at) {
      log.error("Crash point {} reached ({}th time): halting as a SIGKILL would", point, arrival);
      Runtime.getRuntime().halt(137);
    }
  }

  static Map<String, Integer> parse(String spec) {
    Map<String, Integer> plan = new HashMap<>();
    for (String part : spec.split(",")) {
      String trimmed = part.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      int colon = trimmed.lastIndexOf(':');
      String point = colon < 0 ? trimmed : trimmed.substring(0, colon);
      int count = colon < 0 ? 1 : Integer.parseInt(trimmed.substring(colon + 1));
      plan.put(point, Math.max(1, count));
    }
    return plan;
  }
}
