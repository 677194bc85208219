package com.mingus.reliability.notify;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Signing per the Standard Webhooks specification: {@code webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">}, keyed with the base64 bytes after the {@code whsec_} prefix of the secret.
 */
final class StandardWebhooks {
  static final String PREFIX = "whsec_";
  private static final SecureRandom RANDOM = new SecureRandom();

  private StandardWebhooks() {}

  /** A fresh secret of 24 random bytes, the size the specification's reference libraries generate. */
  static String newSecret() {
    byte[] key = new byte[24];
    RANDOM.nextBytes(key);
    return PREFIX + Base64.getEncoder().encodeToString(key);
  }

  /** True when the text is {@code whsec_} followed by base64 of 24 to 64 bytes. */
  static boolean validSecret(String secret) {
    try {
      int length = key(secret).length;
      return length >= 24 && length <= 64;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  static String sign(String secret, String id, long timestampSeconds, String body) {
    byte[] content = (id + "." + timestampSeconds + "." + body).getBytes(StandardCharsets.UTF_8);
    return "v1," + Base64.getEncoder().encodeToString(WebPush.hmac(key(secret), content));
  }

  private static byte[] key(String secret) {
    if (secret == null) {
      throw new IllegalArgumentException("no secret");
    }
    String text = secret.startsWith(PREFIX) ? secret.substring(PREFIX.length()) : secret;
    return Base64.getDecoder().decode(text);
  }
}
