package com.mingus.reliability.testsupport;

import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.db.EmbeddedDatabase;
import com.mingus.reliability.db.Migrations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One embedded PostgreSQL per test JVM (fsync off, as tests may), and a fresh database per test class
 * cloned from a template that the real migrations built once: cloning is a file copy, far faster than
 * migrating each time.
 */
public final class TestDatabase {
  private static final String TEMPLATE = "mingus_template";
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static EmbeddedDatabase server;

  private TestDatabase() {}

  /** The shared server, started and templated on first use. */
  public static synchronized EmbeddedDatabase server() {
    if (server == null) {
      try {
        Path dir = Files.createTempDirectory("mingus-test-pg");
        // -Dbench.statements=true: benchmarks can show where PostgreSQL spends its time (pg_stat_statements)
        server = EmbeddedDatabase.start(dir, false, 0, Boolean.getBoolean("bench.statements")
            ? Map.of("shared_preload_libraries", "pg_stat_statements", "pg_stat_statements.track_planning", "on")
            : Map.of());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(server::close));
      execute(server.target(), "CREATE DATABASE " + TEMPLATE);
      Migrations.migrate(server.target(TEMPLATE));
    }
    return server;
  }

  /** A new, migrated, empty database for one test class. */
  public static DatabaseTarget fresh(String hint) {
    EmbeddedDatabase pg = server();
    String name = (hint.replaceAll("[^A-Za-z0-9]", "_") + "_" + COUNTER.incrementAndGet()).toLowerCase(Locale.ROOT);
    if (name.length() > 60) {
      name = name.substring(name.length() - 60);
    }
    if (!Character.isLetter(name.charAt(0))) {
      name = "t" + name;
    }
    synchronized (TestDatabase.class) {
      // CREATE DATABASE ... TEMPLATE needs the template to have no other session; creations are serialised.
      execute(pg.target(), "CREATE DATABASE " + name + " TEMPLATE " + TEMPLATE);
    }
    return pg.target(name);
  }

  /** A migrated database for the given test class. */
  public static DatabaseTarget fresh(Class<?> testClass) {
    return fresh(testClass.getSimpleName());
  }

  /** The {@code postgresql://} URL of a target, for DATABASE_URL. */
  public static String url(DatabaseTarget target) {
    return "postgresql://" + target.user() + "@" + target.host() + ":" + target.port() + "/" + target.database();
  }

  /** Runs one SQL statement over JDBC (test set-up and inspection only). */
  public static void execute(DatabaseTarget target, String sql) {
    try (Connection connection = DriverManager.getConnection(target.jdbcUrl(), target.user(), "");
         Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }
}
