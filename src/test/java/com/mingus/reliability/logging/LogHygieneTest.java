package com.mingus.reliability.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Runs after every other test class ({@link ClassOrderer.OrderAnnotation}) and searches the whole suite's
 * log for anything that must never be logged: Plaid tokens, JWTs, bearer credentials, the test secrets.
 */
@Order(Integer.MAX_VALUE)
class LogHygieneTest {
  private static final List<Pattern> FORBIDDEN = List.of(
      Pattern.compile("(access|public)-(sandbox|development|production)-[0-9a-f]{4,}"),
      Pattern.compile("eyJ[A-Za-z0-9_-]{5,}\\.eyJ[A-Za-z0-9_-]{5,}"),
      Pattern.compile("(?i)bearer\\s+(?!\\[redacted)[A-Za-z0-9._~+/=-]{8,}"),
      Pattern.compile(Pattern.quote("mingus-sandbox-secret-0123456789")),
      Pattern.compile(Pattern.quote("test-jwt-secret-for-the-suite-0123456789")));

  @Test
  void noSecretReachesAnyLogLineOfTheSuite() throws IOException {
    // A positive control: this line carries a token and a JWT; the log must hold it only redacted.
    LoggerFactory.getLogger(LogHygieneTest.class).info("control access-sandbox-deadbeef-0000 Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig");
    Path log = Path.of(System.getProperty("mingus.test.logdir", "target/test-logs"), "suite.log");
    assertThat(log).exists();
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(text).contains("control access-sandbox-[redacted]");

    List<String> leaks = new ArrayList<>();
    for (Pattern pattern : FORBIDDEN) {
      Matcher matcher = pattern.matcher(text);
      while (matcher.find() && leaks.size() < 20) {
        int start = Math.max(0, matcher.start() - 80);
        leaks.add(text.substring(start, Math.min(text.length(), matcher.end() + 20)).replace('\n', ' '));
      }
    }
    assertThat(leaks).as("log lines holding a secret").isEmpty();
  }
}
