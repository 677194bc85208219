package com.mingus.reliability.app;

import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.config.DatabaseTarget;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Records this start in {@code server_starts} and says what the database already held. Blocking, start-up only. */
final class ServerStarts {
  private static final Logger log = LoggerFactory.getLogger(ServerStarts.class);

  private ServerStarts() {}

  static void record(DatabaseTarget target, String nodeId, String version) {
    Properties props = new Properties();
    props.setProperty("user", target.user());
    if (target.password() != null) {
      props.setProperty("password", target.password());
    }
    try (Connection connection = DriverManager.getConnection(target.jdbcUrl(), props)) {
      try (PreparedStatement earlier = connection.prepareStatement("SELECT count(*), min(started_at) FROM server_starts");
           ResultSet rows = earlier.executeQuery()) {
        rows.next();
        long count = rows.getLong(1);
        if (count == 0) {
          log.info("Database is new: this is its first start");
        } else {
          log.info("Database holds {} earlier start(s), the first at {}", count, rows.getTimestamp(2).toInstant());
        }
      }
      try (PreparedStatement insert = connection.prepareStatement("INSERT INTO server_starts (node_id, version) VALUES (?, ?)")) {
        insert.setString(1, nodeId);
        insert.setString(2, version);
        insert.executeUpdate();
      }
    } catch (SQLException e) {
      throw new ConfigException("DATABASE_URL", "the database refused the start-up record: " + e.getMessage());
    }
  }
}
