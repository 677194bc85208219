package com.mingus.reliability.http;

import io.vertx.core.buffer.Buffer;

/**
 * A nesting limit for request bodies, checked on the raw bytes before any parser sees them, so a body of
 * 30,000 brackets costs one pass and no stack.
 */
final class JsonDepth {
  private JsonDepth() {}

  /** True when no object or array in the body nests deeper than {@code max}. */
  static boolean within(Buffer body, int max) {
    int depth = 0;
    boolean inString = false;
    boolean escaped = false;
    for (int i = 0, n = body.length(); i < n; i++) {
      byte b = body.getByte(i);
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (b == '\\') {
          escaped = true;
        } else if (b == '"') {
          inString = false;
        }
        continue;
      }
      if (b == '"') {
        inString = true;
      } else if (b == '{' || b == '[') {
        if (++depth > max) {
          return false;
        }
      } else if (b == '}' || b == ']') {
        depth--;
      }
    }
    return true;
  }
}
