package com.mingus.reliability.notify;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fills {@code {placeholder}}s in one pass, so a value that itself contains braces is never expanded again.
 *
 * <p>The rules, deliberately: only the names in {@link #KNOWN} are placeholders (an operator's template
 * with any other name is refused when saved); a known placeholder without a value takes its fallback
 * ("your bank", "there", ...) or disappears; in HTML every value is escaped; in the subject and the other
 * texts control characters are removed so no value can add a header line; an unknown {@code {word}} left
 * in a stored template stays visible, as the operator's text, rather than vanish silently.
 */
final class TemplateRenderer {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z_][a-z0-9_]*)}");
  private static final int MAX_VALUE_LENGTH = 500;

  /** Every placeholder a template may use, with the text used when the request gives none. */
  static final Map<String, String> KNOWN = Map.ofEntries(
      Map.entry("user_name", "there"),
      Map.entry("institution_name", "your bank"),
      Map.entry("action_required_text", ""),
      Map.entry("completion_time", "not yet known"),
      Map.entry("connection_id", ""),
      Map.entry("status", "updated"),
      Map.entry("detail", ""),
      Map.entry("action_url", ""),
      Map.entry("app_name", "MINGUS"),
      Map.entry("occurred_at", ""));

  enum Mode { TEXT, LINE, HTML }

  private TemplateRenderer() {}

  /** The placeholder names a text uses that are not in {@link #KNOWN}. */
  static Set<String> unknownPlaceholders(String text) {
    Set<String> unknown = new LinkedHashSet<>();
    Matcher matcher = PLACEHOLDER.matcher(text == null ? "" : text);
    while (matcher.find()) {
      if (!KNOWN.containsKey(matcher.group(1))) {
        unknown.add(matcher.group(1));
      }
    }
    return unknown;
  }

  static String render(String template, JsonObject values, Mode mode) {
    Matcher matcher = PLACEHOLDER.matcher(template == null ? "" : template);
    StringBuilder out = new StringBuilder();
    while (matcher.find()) {
      String name = matcher.group(1);
      String replacement;
      if (!KNOWN.containsKey(name)) {
        replacement = matcher.group(0);
      } else {
        Object raw = values == null ? null : values.getValue(name);
        String value = raw == null || String.valueOf(raw).isBlank() ? KNOWN.get(name) : String.valueOf(raw);
        replacement = clean(value, mode);
      }
      matcher.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    matcher.appendTail(out);
    String text = out.toString();
    if (mode != Mode.HTML) {
      // a removed value can leave "  " or a dangling space before the end of a sentence
      text = text.replaceAll("[ \\t]{2,}", " ").replaceAll(" +([.,])", "$1").strip();
    }
    if (mode == Mode.LINE) {
      text = text.replaceAll("[\\r\\n]+", " ");
    }
    return text;
  }

  private static String clean(String value, Mode mode) {
    String text = value.length() > MAX_VALUE_LENGTH ? value.substring(0, MAX_VALUE_LENGTH) + "…" : value;
    text = mode == Mode.LINE ? text.replaceAll("\\p{Cntrl}", " ") : text.replaceAll("[\\p{Cntrl}&&[^\\n\\t]]", "");
    return mode == Mode.HTML ? escapeHtml(text) : text;
  }

  static String escapeHtml(String text) {
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
