package com.mingus.reliability.logging;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one redaction point for log output: every log line and stack trace passes through
 * {@link #redact(String)} in the Logback layout, so Plaid access and public tokens, JWTs, Authorization
 * headers, secret-looking fields and the configured secrets themselves never reach a log.
 */
public final class Redactor {
  private Redactor() {}

  private record Rule(Pattern pattern, String replacement) {}

  private static final List<Rule> RULES = List.of(
      new Rule(Pattern.compile("\\b(access|public|link)-(sandbox|development|production)-[A-Za-z0-9-]+"), "$1-$2-[redacted]"),
      new Rule(Pattern.compile("\\beyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
      new Rule(Pattern.compile("(?i)\\b(authorization|proxy-authorization)(\"?\\s*[:=]\\s*\"?)(bearer\\s+|basic\\s+)?[^\\s\",}]+"), "$1$2[redacted]"),
      new Rule(Pattern.compile("(?i)\\bbearer\\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
      new Rule(Pattern.compile("(?i)(\"?\\b(?:secret|client_secret|password|passwd|access_token|public_token|api_key|apikey|token|ticket|webhook_secret|signing_secret|private_key|plaid-secret)\\b\"?\\s*[:=]\\s*\"?)[^\",\\s}&]+"), "$1[redacted]"));

  /** Literal secrets known to this process (JWT secret, Plaid secret, keys); never printed as they are. */
  private static final Set<String> SECRETS = ConcurrentHashMap.newKeySet();

  /** Values printed on purpose (the demo tokens at start-up): left as they are by every rule. */
  private static final Set<String> PUBLIC = ConcurrentHashMap.newKeySet();

  /** Exempts one exact value from redaction; for tokens the server prints deliberately. Short values are ignored. */
  public static void registerPublic(String value) {
    if (value != null && value.length() >= 32) {
      PUBLIC.add(value);
    }
  }

  /** Registers a configured secret so that any log line containing it is masked. Short values are ignored. */
  public static void registerSecret(String secret) {
    if (secret != null && secret.length() >= 8) {
      SECRETS.add(secret);
    }
  }

  public static String redact(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String out = text;
    List<String> kept = null;
    for (String value : PUBLIC) {
      if (out.contains(value)) {
        kept = kept == null ? new java.util.ArrayList<>() : kept;
        out = out.replace(value, "\u0000" + kept.size() + "\u0000");
        kept.add(value);
      }
    }
    for (String secret : SECRETS) {
      if (out.contains(secret)) {
        out = out.replace(secret, "[redacted]");
      }
    }
    for (Rule rule : RULES) {
      Matcher matcher = rule.pattern().matcher(out);
      if (matcher.find()) {
        out = matcher.replaceAll(rule.replacement());
      }
    }
    if (kept != null) {
      for (int i = 0; i < kept.size(); i++) {
        out = out.replace("\u0000" + i + "\u0000", kept.get(i));
      }
    }
    return out;
  }
}
