package com.mingus.reliability.db;

import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.config.DatabaseTarget;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL of the default set-up: real PostgreSQL binaries, data under
 * {@code DATA_DIR/postgres} so that it survives a restart. The library starts PostgreSQL with
 * {@code fsync=off} and {@code synchronous_commit=off}; the server's own database turns both back on,
 * because users rely on what it stores. Tests may keep them off ({@link #durable} false).
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);

  private final EmbeddedPostgres postgres;
  private final Path dataDirectory;

  private EmbeddedDatabase(EmbeddedPostgres postgres, Path dataDirectory) {
    this.postgres = postgres;
    this.dataDirectory = dataDirectory;
  }

  /** Starts PostgreSQL with its files in {@code dataDir/postgres}, keeping whatever is there. */
  public static EmbeddedDatabase start(Path dataDir, boolean durable, int port) {
    return start(dataDir, durable, port, Map.of());
  }

  /** As {@link #start(Path, boolean, int)}, with more server settings (a benchmark's diagnostics). */
  public static EmbeddedDatabase start(Path dataDir, boolean durable, int port, Map<String, String> settings) {
    Path pgData = dataDir.resolve("postgres").toAbsolutePath();
    try {
      Files.createDirectories(pgData);
    } catch (IOException e) {
      throw new ConfigException("DATA_DIR", "cannot create " + pgData + ": " + e.getMessage());
    }
    if (!Files.isWritable(pgData)) {
      throw new ConfigException("DATA_DIR", pgData + " is not writable");
    }
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(pgData)
        .setCleanDataDirectory(false)
        .setRegisterShutdownHook(false)
        .setPGStartupWait(Duration.ofSeconds(60))
        .setServerConfig("fsync", durable ? "on" : "off")
        .setServerConfig("synchronous_commit", durable ? "on" : "off")
        .setServerConfig("full_page_writes", durable ? "on" : "off")
        .setServerConfig("max_connections", "300");
    settings.forEach(builder::setServerConfig);
    if (port > 0) {
      builder.setPort(port);
    }
    try {
      EmbeddedPostgres postgres = builder.start();
      log.info("Embedded PostgreSQL started on 127.0.0.1:{} with data in {} (fsync {})",
          postgres.getPort(), pgData, durable ? "on" : "off");
      return new EmbeddedDatabase(postgres, pgData);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException("DATA_DIR", "the embedded PostgreSQL did not start in " + pgData + ": "
          + oneLine(e.getMessage()));
    }
  }

  public int port() {
    return postgres.getPort();
  }

  public Path dataDirectory() {
    return dataDirectory;
  }

  /** The connection target of the default database and superuser. */
  public DatabaseTarget target() {
    return new DatabaseTarget("127.0.0.1", postgres.getPort(), "postgres", "postgres", null);
  }

  public DatabaseTarget target(String database) {
    return new DatabaseTarget("127.0.0.1", postgres.getPort(), database, "postgres", null);
  }

  @Override
  public void close() {
    try {
      postgres.close();
      log.info("Embedded PostgreSQL stopped");
    } catch (IOException e) {
      log.warn("Embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
    }
  }

  static String oneLine(String text) {
    if (text == null) {
      return "unknown error";
    }
    String line = text.strip();
    int newline = line.indexOf('\n');
    return newline < 0 ? line : line.substring(0, newline);
  }
}
