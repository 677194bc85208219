package com.mingus.reliability.db;

import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.config.DatabaseTarget;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versioned migrations under {@code src/main/resources/db/migration} with Flyway. Blocking:
 * it runs before Vert.x starts, or inside {@code executeBlocking}, never on an event loop.
 */
public final class Migrations {
  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {}

  /** Checks that the database answers, naming the setting that pointed at it when it does not. */
  public static void checkReachable(DatabaseTarget target, String setting) {
    Properties props = credentials(target);
    props.setProperty("connectTimeout", "5");
    props.setProperty("loginTimeout", "5");
    try (Connection connection = DriverManager.getConnection(target.jdbcUrl(), props)) {
      connection.isValid(5);
    } catch (SQLException e) {
      throw new ConfigException(setting, "cannot reach PostgreSQL at " + target + ": "
          + EmbeddedDatabase.oneLine(e.getMessage()));
    }
  }

  /** Applies pending migrations; returns how many were applied. */
  public static int migrate(DatabaseTarget target) {
    Flyway flyway = Flyway.configure()
        .dataSource(target.jdbcUrl(), target.user(), target.password())
        .locations("classpath:db/migration")
        .connectRetries(3)
        .load();
    MigrateResult result = flyway.migrate();
    log.info("Database schema at version {} ({} migration(s) applied)",
        result.targetSchemaVersion == null ? flyway.info().current().getVersion() : result.targetSchemaVersion,
        result.migrationsExecuted);
    return result.migrationsExecuted;
  }

  static Properties credentials(DatabaseTarget target) {
    Properties props = new Properties();
    props.setProperty("user", target.user());
    if (target.password() != null) {
      props.setProperty("password", target.password());
    }
    return props;
  }
}
