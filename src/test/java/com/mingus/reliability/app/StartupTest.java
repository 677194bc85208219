package com.mingus.reliability.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.config.Settings;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestDatabase;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StartupTest {

  @Test
  void anUnreachableDatabaseStopsStartUpWithOneLineNamingDatabaseUrl() throws Exception {
    Result result = runMain(Map.of("DATABASE_URL", "postgresql://x@127.0.0.1:1/x", "HTTP_PORT", "0"));
    assertThat(result.exitCode()).isNotZero();
    List<String> errors = result.lines().stream().filter(line -> line.contains("ERROR")).toList();
    assertThat(errors).hasSize(1);
    assertThat(errors.get(0)).contains("DATABASE_URL").contains("127.0.0.1:1");
    assertThat(result.output()).doesNotContain("\tat ").doesNotContain("Exception");
  }

  @Test
  void aMalformedSettingStopsStartUpWithOneLine() throws Exception {
    Result result = runMain(Map.of("HTTP_PORT", "eighty"));
    assertThat(result.exitCode()).isEqualTo(2);
    assertThat(result.output().strip()).contains("HTTP_PORT: must be a whole number").doesNotContain("\tat ");
  }

  @Test
  void theEmbeddedDatabaseKeepsItsDataAcrossARestart() throws Exception {
    TestDatabase.server();
    Path dataDir = Files.createTempDirectory("mingus-restart");
    Map<String, String> env = Map.of("DATA_DIR", dataDir.toString(), "HTTP_PORT", "0", "SANDBOX_PORT", "0",
        "MINGUS_DEMO", "false");
    try (Application first = Application.start(Settings.fromOverrides(env))) {
      assertThat(Http.get(first.httpPort(), "/api/reliability/health").status()).isEqualTo(200);
    }
    try (Application second = Application.start(Settings.fromOverrides(env))) {
      assertThat(Http.get(second.httpPort(), "/api/reliability/health").status()).isEqualTo(200);
      int starts = countStarts(second);
      assertThat(starts).isEqualTo(2);
    }
  }

  private static int countStarts(Application app) throws Exception {
    try (var c = java.sql.DriverManager.getConnection(app.database().jdbcUrl(), app.database().user(), "");
         var s = c.createStatement();
         var rows = s.executeQuery("SELECT count(*) FROM server_starts")) {
      rows.next();
      return rows.getInt(1);
    }
  }

  private record Result(int exitCode, String output) {
    List<String> lines() {
      return output.lines().toList();
    }
  }

  /** Runs the real main class in a new JVM, as {@code java -jar} would. */
  private static Result runMain(Map<String, String> env) throws Exception {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    ProcessBuilder builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Application.class.getName()).redirectErrorStream(true);
    builder.environment().remove("DATABASE_URL");
    builder.environment().putAll(env);
    Process process = builder.start();
    byte[] output = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
  }
}
