package com.mingus.reliability.testsupport;

import com.mingus.reliability.config.DatabaseTarget;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Inspection of a test database over JDBC. */
public final class Sql {
  private Sql() {}

  public static List<String> strings(DatabaseTarget db, String sql, Object... args) {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), "");
         PreparedStatement statement = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        statement.setObject(i + 1, args[i]);
      }
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          out.add(rows.getString(1));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
    return out;
  }

  public static long number(DatabaseTarget db, String sql, Object... args) {
    List<String> values = strings(db, sql, args);
    return values.isEmpty() || values.get(0) == null ? 0 : Long.parseLong(values.get(0));
  }

  public static void execute(DatabaseTarget db, String sql) {
    TestDatabase.execute(db, sql);
  }
}
