package com.mingus.reliability.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Builds the configuration: the defaults bundled in the jar ({@code conf/config.json}), then the file at
 * {@code CONFIG_FILE} or {@code ./conf/config.json} when present, then the environment variables of
 * {@link #ENVIRONMENT}. Later layers win, key by key.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  /** An environment variable, the configuration path it sets, and how its text becomes a value. */
  public record EnvSetting(String variable, String path, Kind kind) {}

  public enum Kind { STRING, INT, BOOLEAN }

  public static final List<EnvSetting> ENVIRONMENT = List.of(
      new EnvSetting("HTTP_PORT", "http.port", Kind.INT),
      new EnvSetting("HTTP_HOST", "http.host", Kind.STRING),
      new EnvSetting("DATA_DIR", "database.data_dir", Kind.STRING),
      new EnvSetting("DATABASE_URL", "database.url", Kind.STRING),
      new EnvSetting("PGHOST", "database.pg.host", Kind.STRING),
      new EnvSetting("PGPORT", "database.pg.port", Kind.INT),
      new EnvSetting("PGDATABASE", "database.pg.database", Kind.STRING),
      new EnvSetting("PGUSER", "database.pg.user", Kind.STRING),
      new EnvSetting("PGPASSWORD", "database.pg.password", Kind.STRING),
      new EnvSetting("DB_POOL_SIZE", "database.pool_size", Kind.INT),
      new EnvSetting("MINGUS_JWT_SECRET", "auth.jwt.secret", Kind.STRING),
      new EnvSetting("MINGUS_JWT_PREVIOUS_SECRETS", "auth.jwt.previous_secrets", Kind.STRING),
      new EnvSetting("MINGUS_JWT_PUBLIC_KEY", "auth.jwt.public_key", Kind.STRING),
      new EnvSetting("MINGUS_JWT_PUBLIC_KEY_ALG", "auth.jwt.public_key_algorithm", Kind.STRING),
      new EnvSetting("PLAID_BASE_URL", "plaid.base_url", Kind.STRING),
      new EnvSetting("PLAID_CLIENT_ID", "plaid.client_id", Kind.STRING),
      new EnvSetting("PLAID_SECRET", "plaid.secret", Kind.STRING),
      new EnvSetting("SANDBOX_PORT", "sandbox.port", Kind.INT),
      new EnvSetting("SANDBOX_HOST", "sandbox.host", Kind.STRING),
      new EnvSetting("MINGUS_DEMO", "demo.enabled", Kind.BOOLEAN),
      new EnvSetting("TOKEN_ENCRYPTION_KEYS", "crypto.token_encryption_keys", Kind.STRING),
      new EnvSetting("SMTP_HOST", "smtp.host", Kind.STRING),
      new EnvSetting("SMTP_PORT", "smtp.port", Kind.INT),
      new EnvSetting("SMTP_USERNAME", "smtp.username", Kind.STRING),
      new EnvSetting("SMTP_PASSWORD", "smtp.password", Kind.STRING),
      new EnvSetting("SMTP_FROM", "smtp.from", Kind.STRING),
      new EnvSetting("NOTIFY_OPERATOR_WEBHOOK_URL", "notify.operator.webhook_url", Kind.STRING),
      new EnvSetting("NOTIFY_OPERATOR_WEBHOOK_SECRET", "notify.operator.webhook_secret", Kind.STRING),
      new EnvSetting("NOTIFY_OPERATOR_EMAIL", "notify.operator.email", Kind.STRING),
      new EnvSetting("CLUSTER", "cluster.enabled", Kind.BOOLEAN),
      new EnvSetting("CLUSTER_MEMBERS", "cluster.members", Kind.STRING),
      new EnvSetting("CLUSTER_NAME", "cluster.name", Kind.STRING),
      new EnvSetting("CLUSTER_HOST", "cluster.host", Kind.STRING),
      new EnvSetting("CLUSTER_PORT", "cluster.port", Kind.INT),
      new EnvSetting("CLUSTER_PORT_COUNT", "cluster.port_count", Kind.INT),
      new EnvSetting("CLUSTER_MEMBER_TIMEOUT_MS", "cluster.member_timeout_ms", Kind.INT),
      new EnvSetting("EVENT_BUS_HOST", "cluster.event_bus_host", Kind.STRING),
      new EnvSetting("EVENT_BUS_PORT", "cluster.event_bus_port", Kind.INT),
      new EnvSetting("CLUSTER_TLS_CA", "cluster.tls.ca", Kind.STRING),
      new EnvSetting("CLUSTER_TLS_CERT", "cluster.tls.cert", Kind.STRING),
      new EnvSetting("CLUSTER_TLS_KEY", "cluster.tls.key", Kind.STRING),
      new EnvSetting("CLUSTER_TLS_DIR", "cluster.tls.dir", Kind.STRING),
      new EnvSetting("SHUTDOWN_TIMEOUT_MS", "shutdown.timeout_ms", Kind.INT));

  /** Loads the layered configuration for this process. */
  public static JsonObject load(Map<String, String> env) {
    JsonObject config = bundledDefaults();
    Path file = Path.of(env.getOrDefault("CONFIG_FILE", "conf/config.json"));
    if (Files.isRegularFile(file)) {
      config.mergeIn(readFile(file, env.containsKey("CONFIG_FILE") ? "CONFIG_FILE" : "conf/config.json"), true);
    } else if (env.containsKey("CONFIG_FILE")) {
      throw new ConfigException("CONFIG_FILE", "no such file: " + file);
    }
    applyEnvironment(config, env);
    return config;
  }

  /** The defaults that travel inside the jar. */
  public static JsonObject bundledDefaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream("/conf/config.json")) {
      if (in == null) {
        throw new ConfigException("conf/config.json", "the bundled defaults are missing from the jar");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException | DecodeException e) {
      throw new ConfigException("conf/config.json", "the bundled defaults cannot be read: " + e.getMessage());
    }
  }

  private static JsonObject readFile(Path file, String setting) {
    try {
      return new JsonObject(Files.readString(file));
    } catch (IOException e) {
      throw new ConfigException(setting, "cannot read " + file + ": " + e.getMessage());
    } catch (DecodeException e) {
      throw new ConfigException(setting, file + " is not valid JSON: " + firstLine(e.getMessage()));
    }
  }

  /** Applies the environment variables that are set (an empty value counts as unset). */
  public static void applyEnvironment(JsonObject config, Map<String, String> env) {
    for (EnvSetting setting : ENVIRONMENT) {
      String raw = env.get(setting.variable());
      if (raw == null || raw.isBlank()) {
        continue;
      }
      set(config, setting.path(), parse(setting, raw.trim()));
    }
  }

  private static Object parse(EnvSetting setting, String raw) {
    return switch (setting.kind()) {
      case STRING -> raw;
      case INT -> {
        try {
          yield Integer.parseInt(raw);
        } catch (NumberFormatException e) {
          throw new ConfigException(setting.variable(), "must be a whole number, got '" + raw + "'");
        }
      }
      case BOOLEAN -> {
        if (raw.equalsIgnoreCase("true") || raw.equals("1") || raw.equalsIgnoreCase("yes")) {
          yield true;
        }
        if (raw.equalsIgnoreCase("false") || raw.equals("0") || raw.equalsIgnoreCase("no")) {
          yield false;
        }
        throw new ConfigException(setting.variable(), "must be true or false, got '" + raw + "'");
      }
    };
  }

  /** Sets a dotted path, creating the objects on the way. */
  public static void set(JsonObject config, String path, Object value) {
    String[] parts = path.split("\\.");
    JsonObject node = config;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonObject next = node.getJsonObject(parts[i]);
      if (next == null) {
        next = new JsonObject();
        node.put(parts[i], next);
      }
      node = next;
    }
    node.put(parts[parts.length - 1], value);
  }

  /** Reads a dotted path, or null. */
  public static Object get(JsonObject config, String path) {
    String[] parts = path.split("\\.");
    Object node = config;
    for (String part : parts) {
      if (!(node instanceof JsonObject object)) {
        return null;
      }
      node = object.getValue(part);
    }
    return node instanceof JsonArray array ? array.copy() : node;
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "";
    }
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }
}
