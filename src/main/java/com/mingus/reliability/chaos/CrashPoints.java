package com.mingus.reliability.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named instants where a node may be made to die, for the failover tests: with a plan {@code point:n}
 * (several as {@code a:1,b:3}) the JVM halts the n-th time the code reaches {@code point} after the plan was
 * armed, as a SIGKILL would (no shutdown hook, no lease handed back, sockets closed by the operating
 * system). The plan comes from {@code MINGUS_CRASH_AT} (or the system property {@code mingus.crash_at}), or
 * from the file named by {@code MINGUS_CRASH_FILE}, read every 100 ms, so a test can arm and disarm a
 * running node. With neither, which is the case outside those tests, {@link #reach} is one volatile read.
 * The points are the windows where a death could lose work: after a commit and before its consequences
 * are told, after a send and before its outcome is written (docs/cluster.md lists them).
 */
public final class CrashPoints {
  private static final Logger log = LoggerFactory.getLogger(CrashPoints.class);
  private static volatile Map<String, Integer> plan = parse(System.getProperty("mingus.crash_at",
      System.getenv().getOrDefault("MINGUS_CRASH_AT", "")));
  private static volatile boolean armed = !plan.isEmpty();
  private static final Map<String, AtomicInteger> REACHED = new ConcurrentHashMap<>();

  static {
    String file = System.getenv("MINGUS_CRASH_FILE");
    if (file != null && !file.isBlank()) {
      Thread watcher = new Thread(() -> watch(Path.of(file)), "crash-points");
      watcher.setDaemon(true);
      watcher.start();
    }
  }

  private CrashPoints() {}

  /** Halts the process here when this is the planned arrival at {@code point}. */
  public static void reach(String point) {
    if (!armed) {
      return;
    }
    Integer at = plan.get(point);
    if (at == null) {
      return;
    }
    int arrival = REACHED.computeIfAbsent(point, p -> new AtomicInteger()).incrementAndGet();
    if (arrival == at) {
      log.error("Crash point {} reached ({}th time): halting as a SIGKILL would", point, arrival);
      Runtime.getRuntime().halt(137);
    }
  }

  private static void watch(Path file) {
    String last = "";
    while (true) {
      try {
        String spec = Files.exists(file) ? Files.readString(file).trim() : "";
        if (!spec.equals(last)) {
          last = spec;
          REACHED.clear();
          plan = parse(spec);
          armed = !plan.isEmpty();
          log.info("Crash points {}", armed ? "armed: " + spec : "disarmed");
        }
        Thread.sleep(100);
      } catch (IOException | RuntimeException e) {
        log.warn("Crash point file {} unreadable: {}", file, e.getMessage());
        sleep();
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static Map<String, Integer> parse(String spec) {
    Map<String, Integer> parsed = new HashMap<>();
    for (String part : spec.split(",")) {
      String trimmed = part.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      int colon = trimmed.lastIndexOf(':');
      String point = colon < 0 ? trimmed : trimmed.substring(0, colon);
      int count = colon < 0 ? 1 : Integer.parseInt(trimmed.substring(colon + 1));
      parsed.put(point, Math.max(1, count));
    }
    return parsed;
  }
}
