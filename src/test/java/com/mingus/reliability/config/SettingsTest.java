package com.mingus.reliability.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class SettingsTest {

  @Test
  void defaultsAreTheEmbeddedSetUp() {
    Settings settings = Settings.fromOverrides(Map.of());
    assertThat(settings.httpPort()).isEqualTo(8080);
    assertThat(settings.embeddedDatabase()).isTrue();
    assertThat(settings.useSandbox()).isTrue();
    assertThat(settings.sandboxPort()).isEqualTo(7070);
    assertThat(settings.demo()).isTrue();
    assertThat(settings.cluster()).isFalse();
    assertThat(settings.dataDir().toString()).isEqualTo("./data");
  }

  @Test
  void environmentOverridesTheFile() {
    Settings settings = Settings.fromOverrides(Map.of(
        "HTTP_PORT", "9090", "DATABASE_URL", "postgresql://app:s3cr%40t@db.example:6543/mingus",
        "MINGUS_DEMO", "false", "PLAID_BASE_URL", "https://sandbox.plaid.com/", "PLAID_CLIENT_ID", "id",
        "PLAID_SECRET", "secret"));
    assertThat(settings.httpPort()).isEqualTo(9090);
    assertThat(settings.database()).isEqualTo(new DatabaseTarget("db.example", 6543, "mingus", "app", "s3cr@t"));
    assertThat(settings.database().toString()).doesNotContain("s3cr");
    assertThat(settings.demo()).isFalse();
    assertThat(settings.plaidBaseUrl()).isEqualTo("https://sandbox.plaid.com");
  }

  @Test
  void pgVariablesNameAnExternalDatabase() {
    Settings settings = Settings.fromOverrides(Map.of("PGHOST", "10.1.2.3", "PGPORT", "5433", "PGUSER", "u",
        "PGDATABASE", "d"));
    assertThat(settings.database()).isEqualTo(new DatabaseTarget("10.1.2.3", 5433, "d", "u", null));
  }

  @ParameterizedTest(name = "{0}={1} is refused naming {2}")
  @CsvSource(delimiter = '|', value = {
      "HTTP_PORT|abc|HTTP_PORT",
      "HTTP_PORT|70000|HTTP_PORT",
      "SANDBOX_PORT|-1|SANDBOX_PORT",
      "DATABASE_URL|mysql://u@h/db|DATABASE_URL",
      "DATABASE_URL|postgresql://u@h:5432/|DATABASE_URL",
      "DATABASE_URL|postgresql:///db|DATABASE_URL",
      "DATABASE_URL|not a url|DATABASE_URL",
      "MINGUS_JWT_SECRET|short|MINGUS_JWT_SECRET",
      "PLAID_BASE_URL|ftp://plaid|PLAID_BASE_URL",
      "PLAID_BASE_URL|https://sandbox.plaid.com|PLAID_CLIENT_ID",
      "MINGUS_DEMO|maybe|MINGUS_DEMO",
      "CLUSTER|sometimes|CLUSTER",
      "DB_POOL_SIZE|0|DB_POOL_SIZE",
      "SHUTDOWN_TIMEOUT_MS|forever|SHUTDOWN_TIMEOUT_MS",
      "NOTIFY_OPERATOR_WEBHOOK_URL|ftp://ops.example.com|NOTIFY_OPERATOR_WEBHOOK_URL",
      "NOTIFY_OPERATOR_WEBHOOK_URL|https://ops.example.com/hooks|NOTIFY_OPERATOR_WEBHOOK_SECRET",
      "NOTIFY_OPERATOR_EMAIL|not-an-address|NOTIFY_OPERATOR_EMAIL"})
  void aWrongSettingIsRefusedWithItsName(String variable, String value, String named) {
    assertThatThrownBy(() -> Settings.fromOverrides(Map.of(variable, value)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(named + ": ")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"))
        .satisfies(e -> assertThat(((ConfigException) e).setting()).isEqualTo(named));
  }

  @Test
  void aMissingConfigFileIsNamed() {
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("CONFIG_FILE", "/nonexistent/config.json")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("CONFIG_FILE: ");
  }
}
