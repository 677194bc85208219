package com.mingus.reliability.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/**
 * The server's own logback.xml (not the tests'), configured as the jar does, with each LOG_FORMAT: text lines
 * carry the date; json lines are one object each with ts, level, logger, thread, message and error; both are
 * redacted; an unknown format falls back to text and says so.
 */
class LogFormatTest {
  private static final String TOKEN = "access-sandbox-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901";

  @Test
  void jsonLinesAreObjectsWithEveryFieldAndNothingSecret() {
    List<String> lines = logWith("json", log -> {
      log.info("exchanged {} for the Item", TOKEN);
      log.warn("Plaid refused", new IllegalStateException("Authorization: Bearer " + TOKEN));
    });
    assertThat(lines).hasSize(2);
    JsonObject info = new JsonObject(lines.get(0));
    assertThat(info.fieldNames()).containsExactlyInAnyOrder("ts", "level", "logger", "thread", "message");
    assertThat(Duration.between(Instant.parse(info.getString("ts")), Instant.now()).abs()).isLessThan(Duration.ofMinutes(1));
    assertThat(info.getString("level")).isEqualTo("INFO");
    assertThat(info.getString("logger")).isEqualTo("format.test");
    assertThat(info.getString("message")).isEqualTo("exchanged access-sandbox-[redacted] for the Item");
    JsonObject warn = new JsonObject(lines.get(1));
    assertThat(warn.getString("level")).isEqualTo("WARN");
    assertThat(warn.getString("error")).contains("IllegalStateException", "[redacted]", "at com.mingus.reliability");
    assertThat(String.join("\n", lines)).doesNotContain(TOKEN.substring("access-sandbox-".length()));
  }

  @Test
  void textLinesCarryTheDateAndAreRedacted() {
    List<String> lines = logWith("text", log -> log.info("exchanged {} for the Item", TOKEN));
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).matches("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  test\\s+exchanged "
        + "access-sandbox-\\[redacted\\] for the Item");
  }

  @Test
  void anUnknownFormatFallsBackToTextAndSaysSo() {
    List<String> lines = logWith("xml", log -> log.info("hello"));
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).isEqualTo("LOG_FORMAT=xml is neither text nor json: text is used");
    assertThat(lines.get(1)).endsWith(" hello").startsWith(String.valueOf(java.time.LocalDate.now().getYear()));
  }

  private static List<String> logWith(String format, java.util.function.Consumer<Logger> body) {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      context.putProperty("LOG_FORMAT", format);
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
      body.accept(context.getLogger("format.test"));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      context.stop();
      System.setOut(original);
    }
    return out.toString(StandardCharsets.UTF_8).lines().filter(line -> !line.isBlank()).toList();
  }
}
