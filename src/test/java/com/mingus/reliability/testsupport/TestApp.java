package com.mingus.reliability.testsupport;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.config.Settings;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts the whole application the way {@code java -jar} does, on free ports, against a fresh test
 * database, with the demo off. Overrides use the environment variable names of the README.
 */
public final class TestApp {
  /** A fixed test key, so tests never write a key file into the working directory. */
  public static final String TEST_KEYS = "test1:" + java.util.Base64.getEncoder().encodeToString(
      "mingus-test-token-key-32-bytes!!".getBytes(java.nio.charset.StandardCharsets.US_ASCII));

  /** The test key as a verticle's {@code crypto} config, for tests that deploy one verticle on its own. */
  public static io.vertx.core.json.JsonObject cryptoConfig() {
    return com.mingus.reliability.crypto.TokenCipher.parse(TEST_KEYS, "TOKEN_ENCRYPTION_KEYS").toConfig();
  }

  private TestApp() {}

  public static Application start(Class<?> testClass) {
    return start(testClass, Map.of());
  }

  public static Application start(Class<?> testClass, Map<String, String> overrides) {
    DatabaseTarget db = TestDatabase.fresh(testClass);
    return start(db, overrides);
  }

  /** As {@link #start(DatabaseTarget, Map)}, with configuration paths (e.g. {@code sync.poll_interval_ms}) set too. */
  public static Application start(DatabaseTarget db, Map<String, String> overrides, Map<String, Object> config) {
    Map<String, String> env = environment(db, overrides);
    Settings settings = Settings.fromOverrides(env);
    for (Map.Entry<String, Object> entry : config.entrySet()) {
      settings = settings.with(entry.getKey(), entry.getValue());
    }
    return Application.start(settings);
  }

  public static Application start(DatabaseTarget db, Map<String, String> overrides) {
    return Application.start(Settings.fromOverrides(environment(db, overrides)));
  }

  private static Map<String, String> environment(DatabaseTarget db, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", TestDatabase.url(db));
    env.put("HTTP_PORT", "0");
    env.put("SANDBOX_PORT", "0");
    env.put("MINGUS_DEMO", "false");
    env.put("TOKEN_ENCRYPTION_KEYS", TEST_KEYS);
    env.putAll(overrides);
    return env;
  }
}
