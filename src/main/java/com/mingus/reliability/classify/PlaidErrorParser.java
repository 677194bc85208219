package com.mingus.reliability.classify;

import io.vertx.core.json.JsonObject;

/**
 * Reads Plaid's error object out of a raw response body. Never throws: a body that is not JSON, cut off,
 * huge or hostile still yields whatever fields can be recognised, so the failure still classifies. Only
 * the first {@code maxChars} characters are read; a body that is not valid JSON is scanned for the
 * {@code "error_code": "..."} style pairs one by one.
 */
final class PlaidErrorParser {
  private PlaidErrorParser() {}

  static final int MAX_CODE_CHARS = 100;
  static final int MAX_MESSAGE_CHARS = 500;
  private static final int MAX_KEY_HITS = 32;

  /** The fields of Plaid's error object that classification uses; any of them may be null. */
  record ParsedError(String errorType, String errorCode, String errorCodeReason, String displayMessage,
      String requestId, Integer status) {
    static final ParsedError EMPTY = new ParsedError(null, null, null, null, null, null);

    boolean hasError() {
      return errorType != null || errorCode != null;
    }
  }

  static ParsedError parse(String body, int maxChars) {
    if (body == null || body.isEmpty()) {
      return ParsedError.EMPTY;
    }
    try {
      boolean cut = body.length() > maxChars;
      String text = cut ? body.substring(0, maxChars) : body;
      if (!cut) {
        ParsedError fromJson = fromJson(text);
        if (fromJson != null && fromJson.hasError()) {
          return fromJson;
        }
      }
      return scan(text);
    } catch (RuntimeException | StackOverflowError unexpected) {
      // the scan below cannot fail; this guards the JSON library against inputs nobody foresaw
      return ParsedError.EMPTY;
    }
  }

  private static ParsedError fromJson(String text) {
    int start = firstNonSpace(text);
    if (start < 0 || text.charAt(start) != '{') {
      return null;
    }
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (RuntimeException | StackOverflowError notJson) {
      return null;
    }
    // a webhook carries the error object under "error"; an API answer is the error object itself
    JsonObject error = json.getValue("error") instanceof JsonObject nested ? nested : json;
    Object status = error.getValue("status");
    return new ParsedError(
        code(str(error.getValue("error_type"))),
        code(str(error.getValue("error_code"))),
        code(str(error.getValue("error_code_reason"))),
        message(str(error.getValue("display_message"))),
        message(str(error.getValue("request_id") != null ? error.getValue("request_id") : json.getValue("request_id"))),
        status instanceof Number n && n.intValue() >= 100 && n.intValue() <= 599 ? n.intValue() : null);
  }

  private static ParsedError scan(String text) {
    return new ParsedError(
        code(stringAfterKey(text, "error_type")),
        code(stringAfterKey(text, "error_code")),
        code(stringAfterKey(text, "error_code_reason")),
        message(stringAfterKey(text, "display_message")),
        message(stringAfterKey(text, "request_id")),
        null);
  }

  /** The first {@code "key" : "value"} in the text whose value string is complete, decoded; else null. */
  static String stringAfterKey(String text, String key) {
    String quoted = '"' + key + '"';
    int from = 0;
    for (int hits = 0; hits < MAX_KEY_HITS; hits++) {
      int at = text.indexOf(quoted, from);
      if (at < 0) {
        return null;
      }
      from = at + quoted.length();
      int i = skipSpace(text, from);
      if (i >= text.length() || text.charAt(i) != ':') {
        continue;
      }
      i = skipSpace(text, i + 1);
      if (i >= text.length() || text.charAt(i) != '"') {
        continue;
      }
      String value = readString(text, i + 1);
      if (value != null) {
        return value;
      }
    }
    return null;
  }

  /** Reads a JSON string body starting after its opening quote; null when it never closes within bounds. */
  private static String readString(String text, int start) {
    StringBuilder out = new StringBuilder();
    int limit = Math.min(text.length(), start + 4 * MAX_MESSAGE_CHARS);
    for (int i = start; i < limit; i++) {
      char c = text.charAt(i);
      if (c == '"') {
        return out.toString();
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (++i >= limit) {
        return null;
      }
      char e = text.charAt(i);
      switch (e) {
        case 'n', 'r', 't', 'b', 'f' -> out.append(' ');
        case 'u' -> {
          if (i + 4 >= limit) {
            return null;
          }
          int cp = hex4(text, i + 1);
          out.append(cp < 0 ? '?' : (char) cp);
          i += 4;
        }
        default -> out.append(e);
      }
    }
    return null;
  }

  private static int hex4(String text, int at) {
    int value = 0;
    for (int k = 0; k < 4; k++) {
      int digit = Character.digit(text.charAt(at + k), 16);
      if (digit < 0) {
        return -1;
      }
      value = value * 16 + digit;
    }
    return value;
  }

  /** A Plaid code as we compare it: upper-case letters, digits and underscores only, bounded; else null. */
  static String code(String raw) {
    if (raw == null) {
      return null;
    }
    String trimmed = raw.strip();
    if (trimmed.isEmpty()) {
      return null;
    }
    if (trimmed.length() > MAX_CODE_CHARS) {
      trimmed = trimmed.substring(0, MAX_CODE_CHARS);
    }
    StringBuilder out = new StringBuilder(trimmed.length());
    // char by char: String.toUpperCase can lengthen the text ("ß" becomes "SS"), past the bound just checked
    for (int i = 0; i < trimmed.length(); i++) {
      char c = trimmed.charAt(i);
      char upper = c >= 'a' && c <= 'z' ? (char) (c - 'a' + 'A') : c;
      out.append((upper >= 'A' && upper <= 'Z') || (upper >= '0' && upper <= '9') || upper == '_' ? upper : '_');
    }
    return out.toString();
  }

  /** Text fit to show a person: no control characters, runs of space collapsed, bounded; blank is null. */
  static String message(String raw) {
    if (raw == null) {
      return null;
    }
    StringBuilder out = new StringBuilder(Math.min(raw.length(), MAX_MESSAGE_CHARS));
    boolean space = false;
    for (int i = 0; i < raw.length() && out.length() < MAX_MESSAGE_CHARS; i++) {
      char c = raw.charAt(i);
      boolean blank = Character.isWhitespace(c) || Character.isISOControl(c) || Character.getType(c) == Character.FORMAT;
      if (blank) {
        space = out.length() > 0;
        continue;
      }
      if (Character.isSurrogate(c) && !validSurrogateAt(raw, i)) {
        continue;
      }
      if (out.length() + (space ? 2 : 1) > MAX_MESSAGE_CHARS) {
        break;
      }
      if (space) {
        out.append(' ');
        space = false;
      }
      out.append(c);
    }
    // do not end on half a surrogate pair after the cut
    if (out.length() > 0 && Character.isHighSurrogate(out.charAt(out.length() - 1))) {
      out.setLength(out.length() - 1);
    }
    return out.length() == 0 ? null : out.toString();
  }

  private static boolean validSurrogateAt(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
    }
    return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
  }

  private static String str(Object value) {
    return value instanceof String s ? s : null;
  }

  private static int firstNonSpace(String text) {
    int i = skipSpace(text, 0);
    return i < text.length() ? i : -1;
  }

  private static int skipSpace(String text, int from) {
    int i = from;
    while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
      i++;
    }
    return i;
  }
}
