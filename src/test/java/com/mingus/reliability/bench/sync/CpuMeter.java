package com.mingus.reliability.bench.sync;

import com.mingus.reliability.testsupport.TestDatabase;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * CPU time spent by this JVM and by the embedded PostgreSQL (the postmaster, its reaped children and its
 * live backends, from /proc). On a machine other work shares, CPU per operation is steadier than a rate.
 */
final class CpuMeter {
  private static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux

  private CpuMeter() {}

  record Sample(long jvmNanos, long postgresNanos) {
    Sample minus(Sample start) {
      return new Sample(jvmNanos - start.jvmNanos, postgresNanos - start.postgresNanos);
    }
  }

  static Sample now() {
    long jvm = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
    return new Sample(jvm, postgresTicks() * (1_000_000_000L / TICKS_PER_SECOND));
  }

  private static long postgresTicks() {
    try {
      Path pidFile = TestDatabase.server().dataDirectory().resolve("postmaster.pid");
      long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
      long ticks = 0;
      try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
        for (Path process : (Iterable<Path>) processes::iterator) {
          String name = process.getFileName().toString();
          if (!name.chars().allMatch(Character::isDigit)) {
            continue;
          }
          String[] stat = stat(process);
          if (stat == null) {
            continue;
          }
          long pid = Long.parseLong(name);
          long parent = Long.parseLong(stat[1]);
          if (pid == postmaster) {
            // utime, stime, and the children's it has reaped (backends that have exited)
            ticks += Long.parseLong(stat[11]) + Long.parseLong(stat[12]) + Long.parseLong(stat[13])
                + Long.parseLong(stat[14]);
          } else if (parent == postmaster) {
            ticks += Long.parseLong(stat[11]) + Long.parseLong(stat[12]);
          }
        }
      }
      return ticks;
    } catch (IOException e) {
      return 0;
    }
  }

  /** The fields of /proc/PID/stat after the command name: [0] state, [1] ppid, ... [11] utime, [12] stime. */
  private static String[] stat(Path process) {
    try {
      String text = Files.readString(process.resolve("stat"));
      return text.substring(text.lastIndexOf(')') + 2).split(" ");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
