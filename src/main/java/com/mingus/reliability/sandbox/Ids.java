package com.mingus.reliability.sandbox;

import java.util.SplittableRandom;

/** Plaid-looking identifiers drawn from a seeded generator, so a seed always yields the same ids. */
final class Ids {
  private static final char[] ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

  private Ids() {}

  /** Plaid's 37-character base62 ids (item, account, transaction). */
  static String plaidId(SplittableRandom random) {
    return base62(random, 37);
  }

  static String base62(SplittableRandom random, int length) {
    char[] out = new char[length];
    for (int i = 0; i < length; i++) {
      out[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    }
    return new String(out);
  }

  /** A UUID-shaped token body, as in {@code access-sandbox-<uuid>}. */
  static String uuid(SplittableRandom random) {
    String hex = Long.toHexString(random.nextLong() | Long.MIN_VALUE) + Long.toHexString(random.nextLong() | Long.MIN_VALUE);
    return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-" + hex.substring(16, 20)
        + "-" + hex.substring(20, 32);
  }
}
