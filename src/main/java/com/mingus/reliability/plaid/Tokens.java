package com.mingus.reliability.plaid;

/** How tokens appear in toString and messages: their kind and environment, never their identifier. */
final class Tokens {
  private Tokens() {}

  static String mask(String token) {
    if (token == null) {
      return "null";
    }
    // "access-sandbox-<uuid>" keeps "access-sandbox-" so a reader still sees which kind of token it was.
    int second = token.indexOf('-', token.indexOf('-') + 1);
    String prefix = second > 0 && second < 32 ? token.substring(0, second + 1) : "";
    return prefix + "***";
  }
}
