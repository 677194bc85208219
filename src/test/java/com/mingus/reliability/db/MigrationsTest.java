package com.mingus.reliability.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class MigrationsTest {

  @Test
  void migrationsApplyToAnEmptyDatabaseAndASecondRunChangesNothing() throws Exception {
    TestDatabase.server();
    String name = "empty_" + System.nanoTime();
    TestDatabase.execute(TestDatabase.server().target(), "CREATE DATABASE " + name);
    DatabaseTarget target = TestDatabase.server().target(name);

    int first = Migrations.migrate(target);
    String schemaAfterFirst = schemaFingerprint(target);
    int second = Migrations.migrate(target);

    assertThat(first).isPositive();
    assertThat(second).isZero();
    assertThat(schemaFingerprint(target)).isEqualTo(schemaAfterFirst).contains("server_starts");
  }

  private static String schemaFingerprint(DatabaseTarget target) throws Exception {
    StringBuilder out = new StringBuilder();
    try (Connection c = DriverManager.getConnection(target.jdbcUrl(), target.user(), "");
         Statement s = c.createStatement();
         ResultSet rows = s.executeQuery("SELECT table_name, column_name, data_type FROM information_schema.columns "
             + "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")) {
      while (rows.next()) {
        out.append(rows.getString(1)).append('.').append(rows.getString(2)).append(':').append(rows.getString(3)).append('\n');
      }
    }
    return out.toString();
  }
}
