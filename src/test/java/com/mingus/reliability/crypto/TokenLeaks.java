package com.mingus.reliability.crypto;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * The shapes in which one secret can sit in captured text or bytes: as it is, without its kind prefix
 * ({@code access-sandbox-}), in hex, and in base64 or base64url at each of the three byte alignments (a
 * secret inside a longer value encodes differently depending on where it starts, so each alignment's
 * stable middle is searched for).
 */
final class TokenLeaks {
  private final String secret;
  private final List<String> texts = new ArrayList<>();

  TokenLeaks(String secret) {
    this.secret = secret;
    texts.add(secret);
    int second = secret.indexOf('-', secret.indexOf('-') + 1);
    String core = second > 0 ? secret.substring(second + 1) : secret;
    if (core.length() >= 16) {
      texts.add(core);
    }
    texts.add(HexFormat.of().formatHex(core.getBytes(StandardCharsets.UTF_8)));
    for (int shift = 0; shift < 3; shift++) {
      byte[] shifted = ("xx".substring(0, shift) + core).getBytes(StandardCharsets.UTF_8);
      String b64 = Base64.getEncoder().withoutPadding().encodeToString(shifted);
      // the characters that depend only on the secret: skip the ones shared with the prefix, drop the last partial
      int skip = shift == 0 ? 0 : (shift == 1 ? 2 : 3);
      String middle = b64.substring(skip, Math.max(skip, b64.length() - 2));
      if (middle.length() >= 12) {
        texts.add(middle);
        texts.add(middle.replace('+', '-').replace('/', '_'));
      }
    }
  }

  String secret() {
    return secret;
  }

  /** The first shape of the secret found in the text, or null. */
  String foundIn(String text) {
    if (text == null) {
      return null;
    }
    String lower = text.toLowerCase(Locale.ROOT);
    for (String shape : texts) {
      if (text.contains(shape) || lower.contains(shape.toLowerCase(Locale.ROOT)) && isHex(shape)) {
        return shape;
      }
    }
    return null;
  }

  /** As {@link #foundIn(String)}, for raw bytes (a bytea column, a wire-encoded message). */
  String foundIn(byte[] bytes) {
    return bytes == null ? null : foundIn(new String(bytes, StandardCharsets.ISO_8859_1));
  }

  private static boolean isHex(String shape) {
    return shape.chars().allMatch(c -> Character.digit(c, 16) >= 0);
  }
}
