package com.mingus.reliability.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/** Where an external PostgreSQL is. {@link #toString()} never shows the password. */
public record DatabaseTarget(String host, int port, String database, String user, String password) {

  /** Parses {@code postgresql://user:pass@host:port/db} (or {@code postgres://}). */
  public static DatabaseTarget parseUrl(String setting, String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new ConfigException(setting, "is not a URL of the form postgresql://user:pass@host:port/db");
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("postgresql") || scheme.equals("postgres"))) {
      throw new ConfigException(setting, "must start with postgresql:// (got " + (scheme == null ? "no scheme" : scheme + "://") + ")");
    }
    if (uri.getHost() == null || uri.getHost().isBlank()) {
      throw new ConfigException(setting, "names no host");
    }
    int port = uri.getPort() < 0 ? 5432 : uri.getPort();
    if (port < 1 || port > 65535) {
      throw new ConfigException(setting, "port " + port + " is out of range");
    }
    String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    if (path.isBlank()) {
      throw new ConfigException(setting, "names no database (postgresql://user:pass@host:port/db)");
    }
    String user = "postgres";
    String password = null;
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
    }
    return new DatabaseTarget(uri.getHost(), port, path, user, password);
  }

  private static String decode(String text) {
    return URLDecoder.decode(text, StandardCharsets.UTF_8);
  }

  /** The JDBC URL for Flyway; credentials are passed separately. */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return "postgresql://" + user + "@" + host + ":" + port + "/" + database;
  }
}
