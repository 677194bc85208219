package com.mingus.reliability.config;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

/**
 * The process-wide settings, validated once at start-up. Each verticle still reads its own section of
 * {@link #raw()} through {@code config()}; this class holds what the application itself needs and checks
 * every value a person is likely to get wrong, naming the setting when one is.
 */
public record Settings(
    JsonObject raw,
    String httpHost,
    int httpPort,
    Path dataDir,
    DatabaseTarget database,
    int poolSize,
    String jwtSecret,
    String plaidBaseUrl,
    int sandboxPort,
    boolean demo,
    boolean cluster,
    long shutdownTimeoutMs,
    ClusterSettings clustering) {

  /** Loads and validates the configuration of this process from its environment. */
  public static Settings fromEnvironment() {
    return from(ConfigLoader.load(System.getenv()));
  }

  /** Loads the bundled defaults, then the given overrides (environment variable names to values). */
  public static Settings fromOverrides(Map<String, String> env) {
    JsonObject config = ConfigLoader.bundledDefaults();
    ConfigLoader.applyEnvironment(config, env);
    return from(config);
  }

  /** Validates a merged configuration. */
  public static Settings from(JsonObject raw) {
    JsonObject http = section(raw, "http");
    JsonObject db = section(raw, "database");
    int httpPort = port(http.getValue("port", 8080), "HTTP_PORT");
    String httpHost = string(http.getValue("host", "0.0.0.0"), "HTTP_HOST");
    String dataDirText = string(db.getValue("data_dir", "./data"), "DATA_DIR");
    if (dataDirText.isBlank()) {
      throw new ConfigException("DATA_DIR", "must name a directory");
    }
    DatabaseTarget target = databaseTarget(db);
    int poolSize = positive(db.getValue("pool_size", 8), "DB_POOL_SIZE", 1, 200);
    String secret = (String) ConfigLoader.get(raw, "auth.jwt.secret");
    if (secret != null && secret.length() < 32) {
      throw new ConfigException("MINGUS_JWT_SECRET", "must be at least 32 characters for HS256");
    }
    String previous = (String) ConfigLoader.get(raw, "auth.jwt.previous_secrets");
    if (previous != null && !previous.isBlank()) {
      if (secret == null) {
        throw new ConfigException("MINGUS_JWT_PREVIOUS_SECRETS", "needs MINGUS_JWT_SECRET: the new secret signs, the "
            + "previous ones only verify");
      }
      for (String old : previous.split(",")) {
        if (!old.isBlank() && old.trim().length() < 32) {
          throw new ConfigException("MINGUS_JWT_PREVIOUS_SECRETS", "each secret must be at least 32 characters for HS256");
        }
      }
    }
    String plaidBaseUrl = plaidBaseUrl(raw);
    int sandboxPort = port(section(raw, "sandbox").getValue("port", 7070), "SANDBOX_PORT");
    boolean demo = bool(section(raw, "demo").getValue("enabled", true), "MINGUS_DEMO");
    ClusterSettings clustering = ClusterSettings.from(section(raw, "cluster"));
    if (clustering.enabled()) {
      // what a lone node generates for itself, a cluster must share
      if (secret == null) {
        throw new ConfigException("MINGUS_JWT_SECRET", "is required with CLUSTER=true: a token one node issues "
            + "must be accepted by every node");
      }
      if (blank((String) ConfigLoader.get(raw, "crypto.token_encryption_keys"))) {
        throw new ConfigException("TOKEN_ENCRYPTION_KEYS", "is required with CLUSTER=true: every node must "
            + "decrypt the access tokens any node stored");
      }
    }
    operatorAlerts(section(section(raw, "notify"), "operator"));
    long shutdown = positive(section(raw, "shutdown").getValue("timeout_ms", 10_000), "SHUTDOWN_TIMEOUT_MS", 0, 600_000);
    return new Settings(raw, httpHost, httpPort, Path.of(dataDirText), target, poolSize, secret, plaidBaseUrl,
        sandboxPort, demo, clustering.enabled(), shutdown, clustering);
  }

  /** True when no external database is configured and an embedded one must start. */
  public boolean embeddedDatabase() {
    return database == null;
  }

  /** True when no Plaid base URL is configured and the sandbox must start and be used. */
  public boolean useSandbox() {
    return plaidBaseUrl == null;
  }

  /** A copy of these settings with one configuration path changed and validated again. */
  public Settings with(String path, Object value) {
    JsonObject copy = raw.copy();
    ConfigLoader.set(copy, path, value);
    return from(copy);
  }

  private static DatabaseTarget databaseTarget(JsonObject db) {
    String url = db.getString("url");
    if (url != null && !url.isBlank()) {
      return DatabaseTarget.parseUrl("DATABASE_URL", url.trim());
    }
    JsonObject pg = db.getJsonObject("pg", new JsonObject());
    String host = pg.getString("host");
    if (host == null || host.isBlank()) {
      return null;
    }
    int port = port(pg.getValue("port", 5432), "PGPORT");
    if (port == 0) {
      throw new ConfigException("PGPORT", "must be 1..65535");
    }
    return new DatabaseTarget(host, port, pg.getString("database", "postgres"), pg.getString("user", "postgres"),
        pg.getString("password"));
  }

  private static String plaidBaseUrl(JsonObject raw) {
    JsonObject plaid = section(raw, "plaid");
    String url = plaid.getString("base_url");
    if (url == null || url.isBlank()) {
      return null;
    }
    try {
      URI uri = URI.create(url.trim());
      if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new ConfigException("PLAID_BASE_URL", "must be an http(s) URL such as https://sandbox.plaid.com");
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException("PLAID_BASE_URL", "is not a URL: " + e.getMessage());
    }
    if (blank(plaid.getString("client_id")) || blank(plaid.getString("secret"))) {
      throw new ConfigException("PLAID_CLIENT_ID", "PLAID_CLIENT_ID and PLAID_SECRET are required with PLAID_BASE_URL");
    }
    return url.trim().replaceAll("/+$", "");
  }

  /** The operators' alert channels (docs/notify.md, "Operator alerts"); notify checks them again when it starts. */
  private static void operatorAlerts(JsonObject operator) {
    Object url = operator.getValue("webhook_url");
    Object secret = operator.getValue("webhook_secret");
    Object email = operator.getValue("email");
    if (url != null && !(url instanceof String text && (text.isBlank() || validUrl(text)))) {
      throw new ConfigException("NOTIFY_OPERATOR_WEBHOOK_URL", "must be an http(s) URL such as https://ops.example.com/hooks");
    }
    if (url instanceof String text && !text.isBlank() && !(secret instanceof String key && key.startsWith("whsec_"))) {
      throw new ConfigException("NOTIFY_OPERATOR_WEBHOOK_SECRET", "is required with NOTIFY_OPERATOR_WEBHOOK_URL: "
          + "whsec_ followed by base64 of 24 to 64 bytes, the key the receiver verifies signatures with");
    }
    if (email != null && !(email instanceof String text && (text.isBlank() || text.trim().matches("[^@\\s]+@[^@\\s]+\\.[^@\\s]+")))) {
      throw new ConfigException("NOTIFY_OPERATOR_EMAIL", "is not an e-mail address");
    }
  }

  private static boolean validUrl(String text) {
    try {
      URI uri = URI.create(text.trim());
      return ("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) && uri.getHost() != null;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean blank(String text) {
    return text == null || text.isBlank();
  }

  private static JsonObject section(JsonObject raw, String name) {
    Object value = raw.getValue(name);
    if (value == null) {
      return new JsonObject();
    }
    if (!(value instanceof JsonObject object)) {
      throw new ConfigException(name, "must be a JSON object in conf/config.json");
    }
    return object;
  }

  private static int port(Object value, String setting) {
    int port = positive(value, setting, 0, 65535);
    return port;
  }

  private static int positive(Object value, String setting, int min, int max) {
    if (!(value instanceof Number number) || number.doubleValue() != Math.floor(number.doubleValue())) {
      throw new ConfigException(setting, "must be a whole number, got '" + value + "'");
    }
    long n = number.longValue();
    if (n < min || n > max) {
      throw new ConfigException(setting, "must be between " + min + " and " + max + ", got " + n);
    }
    return (int) n;
  }

  private static String string(Object value, String setting) {
    if (!(value instanceof String text)) {
      throw new ConfigException(setting, "must be text, got '" + value + "'");
    }
    return text;
  }

  private static boolean bool(Object value, String setting) {
    if (!(value instanceof Boolean b)) {
      throw new ConfigException(setting, "must be true or false, got '" + value + "'");
    }
    return b;
  }
}
