package com.mingus.reliability.bench.sync;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the sync benchmarks put their figures: the log, and target/bench/sync.txt, because surefire sends
 * a test's console to a file under target/surefire-reports.
 */
final class BenchResults {
  private static final Logger log = LoggerFactory.getLogger(BenchResults.class);
  private static final Path FILE = Path.of("target", "bench", "sync.txt");

  private BenchResults() {}

  static void record(String bench, String line) {
    log.info("[{}] {}", bench, line);
    try {
      Files.createDirectories(FILE.getParent());
      Files.writeString(FILE, Instant.now() + " [" + bench + "] " + line + System.lineSeparator(),
          StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
