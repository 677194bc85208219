package com.mingus.reliability.crypto;

import com.mingus.reliability.config.ConfigException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for Plaid access tokens at rest: a random 96-bit nonce per encryption, the key id stored
 * beside the ciphertext so keys can rotate, and the owner (user id, item id) bound as associated data so
 * a ciphertext copied onto another row does not decrypt. The first key encrypts; every key decrypts.
 */
public final class TokenCipher {
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Map<String, SecretKey> keys;
  private final String primaryId;

  /** A sealed token: which key, which nonce, and the ciphertext with its tag. */
  public record Sealed(String keyId, byte[] nonce, byte[] ciphertext) {
    @Override
    public String toString() {
      return "Sealed[keyId=" + keyId + "]";
    }
  }

  private TokenCipher(Map<String, SecretKey> keys, String primaryId) {
    this.keys = keys;
    this.primaryId = primaryId;
  }

  /** Parses {@code id:base64key,...}; every key must be 32 bytes. */
  public static TokenCipher parse(String spec, String setting) {
    Map<String, SecretKey> keys = new LinkedHashMap<>();
    String primary = null;
    for (String part : spec.split(",")) {
      String entry = part.trim();
      if (entry.isEmpty()) {
        continue;
      }
      int colon = entry.indexOf(':');
      if (colon <= 0) {
        throw new ConfigException(setting, "each key must be id:base64key");
      }
      String id = entry.substring(0, colon).trim();
      if (!id.matches("[A-Za-z0-9_.-]{1,32}")) {
        throw new ConfigException(setting, "key id '" + id + "' must be 1-32 letters, digits, '.', '_' or '-'");
      }
      byte[] raw;
      try {
        raw = Base64.getDecoder().decode(entry.substring(colon + 1).trim());
      } catch (IllegalArgumentException e) {
        throw new ConfigException(setting, "key '" + id + "' is not valid base64");
      }
      if (raw.length != 32) {
        throw new ConfigException(setting, "key '" + id + "' must be 32 bytes (AES-256), got " + raw.length);
      }
      if (keys.put(id, new SecretKeySpec(raw, "AES")) != null) {
        throw new ConfigException(setting, "key id '" + id + "' appears twice");
      }
      if (primary == null) {
        primary = id;
      }
    }
    if (primary == null) {
      throw new ConfigException(setting, "names no key");
    }
    return new TokenCipher(keys, primary);
  }

  /** The keys from the setting, or else the key file in {@code dataDir}, created on first use. */
  public static TokenCipher load(String spec, Path dataDir) {
    if (spec != null && !spec.isBlank()) {
      return parse(spec, "TOKEN_ENCRYPTION_KEYS");
    }
    Path file = dataDir.resolve("token-encryption-keys");
    try {
      if (!Files.exists(file)) {
        Files.createDirectories(dataDir);
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        Files.writeString(file, "k1:" + Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII);
        try {
          Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
          // not a POSIX file system; the directory's permissions apply
        }
      }
      return parse(Files.readString(file, StandardCharsets.US_ASCII).trim(), "DATA_DIR (" + file + ")");
    } catch (IOException e) {
      throw new ConfigException("TOKEN_ENCRYPTION_KEYS", "no keys set and " + file + " cannot be used: " + e.getMessage());
    }
  }

  /** The keys as verticle configuration (kept off logs by the caller). */
  public JsonObject toConfig() {
    JsonArray list = new JsonArray();
    keys.forEach((id, key) -> list.add(new JsonObject().put("id", id)
        .put("key", Base64.getEncoder().encodeToString(key.getEncoded()))));
    return new JsonObject().put("keys", list);
  }

  public static TokenCipher fromConfig(JsonObject config) {
    StringBuilder spec = new StringBuilder();
    for (Object entry : config.getJsonArray("keys", new JsonArray())) {
      JsonObject key = (JsonObject) entry;
      spec.append(key.getString("id")).append(':').append(key.getString("key")).append(',');
    }
    return parse(spec.toString(), "crypto.keys");
  }

  public String primaryKeyId() {
    return primaryId;
  }

  /** The configured key ids, the primary first (ids only: never a key). */
  public java.util.List<String> keyIds() {
    return java.util.List.copyOf(keys.keySet());
  }

  public boolean knows(String keyId) {
    return keys.containsKey(keyId);
  }

  public Sealed seal(String plaintext, String userId, String itemId) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, keys.get(primaryId), new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(associatedData(userId, itemId));
      return new Sealed(primaryId, nonce, cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("token encryption failed", e);
    }
  }

  /** Opens a sealed token; fails (without revealing anything) on a wrong key, owner or tampering. */
  public String open(Sealed sealed, String userId, String itemId) {
    SecretKey key = keys.get(sealed.keyId());
    if (key == null) {
      throw new IllegalStateException("token was sealed with key '" + sealed.keyId() + "', which is not configured");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed.nonce()));
      cipher.updateAAD(associatedData(userId, itemId));
      return new String(cipher.doFinal(sealed.ciphertext()), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("token cannot be decrypted for this connection");
    }
  }

  /** Prefix of a secret sealed into one text column by {@link #sealText}. */
  public static final String TEXT_PREFIX = "enc1:";

  /**
   * Seals a secret (a webhook signing secret, a private key) into one text value,
   * {@code enc1:<key id>:<nonce>:<ciphertext>}, bound to {@code context} (what it is and whose).
   */
  public String sealText(String plaintext, String context) {
    Sealed sealed = seal(plaintext, "secret", context);
    Base64.Encoder b64 = Base64.getEncoder();
    return TEXT_PREFIX + sealed.keyId() + ":" + b64.encodeToString(sealed.nonce()) + ":"
        + b64.encodeToString(sealed.ciphertext());
  }

  /** Opens a value of {@link #sealText}; a value without the prefix (stored before sealing) is returned as it is. */
  public String openText(String stored, String context) {
    if (stored == null || !stored.startsWith(TEXT_PREFIX)) {
      return stored;
    }
    String[] parts = stored.substring(TEXT_PREFIX.length()).split(":");
    if (parts.length != 3) {
      throw new IllegalStateException("a sealed secret is malformed");
    }
    Base64.Decoder b64 = Base64.getDecoder();
    return open(new Sealed(parts[0], b64.decode(parts[1]), b64.decode(parts[2])), "secret", context);
  }

  /** A cipher with one random key for this process only, for a component started without configured keys (tests). */
  public static TokenCipher ephemeral() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return parse("ephemeral:" + Base64.getEncoder().encodeToString(key), "crypto");
  }

  private static byte[] associatedData(String userId, String itemId) {
    return ("mingus-token-v1\u0000" + userId + "\u0000" + itemId).getBytes(StandardCharsets.UTF_8);
  }
}
