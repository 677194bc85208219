package com.mingus.reliability.notify;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Standard Web Push with JDK crypto only: the payload encrypted per RFC 8291 in the aes128gcm content coding
 * of RFC 8188 (ECDH P-256, HKDF-SHA256, AES-128-GCM, one record), and the VAPID authorization of RFC 8292
 * (an ES256 JWT for the push service's origin).
 */
final class WebPush {
  static final int RECORD_SIZE = 4096;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
  private static final ECParameterSpec P256 = p256();

  private WebPush() {}

  /** The application server's VAPID key pair; keys travel as base64url (65-byte point, 32-byte scalar). */
  record Vapid(ECPublicKey publicKey, ECPrivateKey privateKey, String subject) {
    String publicKeyText() {
      return B64URL.encodeToString(encodePoint(publicKey));
    }

    String privateKeyText() {
      return B64URL.encodeToString(unsigned(privateKey.getS(), 32));
    }

    static Vapid generate(String subject) {
      KeyPair pair = newKeyPair();
      return new Vapid((ECPublicKey) pair.getPublic(), (ECPrivateKey) pair.getPrivate(), subject);
    }

    static Vapid parse(String publicKey, String privateKey, String subject) {
      try {
        KeyFactory factory = KeyFactory.getInstance("EC");
        ECPrivateKey priv = (ECPrivateKey) factory.generatePrivate(
            new ECPrivateKeySpec(new BigInteger(1, decode(privateKey)), P256));
        return new Vapid(decodePoint(decode(publicKey)), priv, subject);
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException("not a P-256 VAPID key pair: " + e.getMessage(), e);
      }
    }

    /** {@code vapid t=<jwt>, k=<public key>} for a push endpoint, valid for {@code ttlSeconds}. */
    String authorization(String endpoint, long nowSeconds, long ttlSeconds) {
      URI uri = URI.create(endpoint);
      String audience = uri.getScheme() + "://" + uri.getRawAuthority();
      String header = B64URL.encodeToString("{\"typ\":\"JWT\",\"alg\":\"ES256\"}".getBytes(StandardCharsets.UTF_8));
      String claims = B64URL.encodeToString(new JsonObject().put("aud", audience).put("exp", nowSeconds + ttlSeconds)
          .put("sub", subject).encode().getBytes(StandardCharsets.UTF_8));
      String signingInput = header + "." + claims;
      try {
        Signature signer = Signature.getInstance("SHA256withECDSAinP1363Format");
        signer.initSign(privateKey);
        signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return "vapid t=" + signingInput + "." + B64URL.encodeToString(signer.sign()) + ", k=" + publicKeyText();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("VAPID signing failed", e);
      }
    }
  }

  /**
   * Encrypts a payload for one subscription: {@code salt(16) | rs(4) | idlen(1)=65 | as_public(65) | ciphertext}.
   * The salt and the ephemeral key are fresh each call, as RFC 8291 requires.
   */
  static byte[] encrypt(byte[] plaintext, String p256dh, String auth) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    return encrypt(plaintext, decode(p256dh), decode(auth), newKeyPair(), salt);
  }

  /** The deterministic core, given the ephemeral key pair and the salt (RFC 8291 Appendix A tests it). */
  static byte[] encrypt(byte[] plaintext, byte[] uaPublic, byte[] authSecret, KeyPair ephemeral, byte[] salt) {
    try {
      if (authSecret.length != 16) {
        throw new IllegalArgumentException("keys.auth must be 16 bytes");
      }
      ECPublicKey uaKey = decodePoint(uaPublic);
      byte[] asPublic = encodePoint((ECPublicKey) ephemeral.getPublic());
      KeyAgreement agreement = KeyAgreement.getInstance("ECDH");
      agreement.init(ephemeral.getPrivate());
      agreement.doPhase(uaKey, true);
      byte[] ecdhSecret = agreement.generateSecret();
      byte[][] keys = deriveKeys(ecdhSecret, authSecret, uaPublic, asPublic, salt);
      if (plaintext.length + 1 + 16 > RECORD_SIZE) {
        throw new IllegalArgumentException("payload too large for one record");
      }
      byte[] padded = Arrays.copyOf(plaintext, plaintext.length + 1);
      padded[plaintext.length] = 0x02; // the last (and only) record's delimiter
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(keys[0], "AES"), new GCMParameterSpec(128, keys[1]));
      byte[] ciphertext = cipher.doFinal(padded);
      ByteBuffer out = ByteBuffer.allocate(16 + 4 + 1 + asPublic.length + ciphertext.length);
      out.put(salt).putInt(RECORD_SIZE).put((byte) asPublic.length).put(asPublic).put(ciphertext);
      return out.array();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot encrypt for this subscription: " + e.getMessage(), e);
    }
  }

  /** A P-256 private key from its 32-byte scalar. */
  static ECPrivateKey privateKey(byte[] scalar) {
    try {
      return (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new ECPrivateKeySpec(new BigInteger(1, scalar), P256));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not a P-256 private key", e);
    }
  }

  /** RFC 8291 section 3.4: {CEK(16), NONCE(12)} from the ECDH secret, the auth secret and both public keys. */
  static byte[][] deriveKeys(byte[] ecdhSecret, byte[] authSecret, byte[] uaPublic, byte[] asPublic, byte[] salt) {
    byte[] prkKey = hmac(authSecret, ecdhSecret);
    byte[] keyInfo = concat("WebPush: info\0".getBytes(StandardCharsets.US_ASCII), uaPublic, asPublic, new byte[] {1});
    byte[] ikm = hmac(prkKey, keyInfo);
    byte[] prk = hmac(salt, ikm);
    byte[] cek = Arrays.copyOf(hmac(prk, concat("Content-Encoding: aes128gcm\0".getBytes(StandardCharsets.US_ASCII),
        new byte[] {1})), 16);
    byte[] nonce = Arrays.copyOf(hmac(prk, concat("Content-Encoding: nonce\0".getBytes(StandardCharsets.US_ASCII),
        new byte[] {1})), 12);
    return new byte[][] {cek, nonce};
  }

  static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] encodePoint(ECPublicKey key) {
    ECPoint point = key.getW();
    return concat(new byte[] {4}, unsigned(point.getAffineX(), 32), unsigned(point.getAffineY(), 32));
  }

  static ECPublicKey decodePoint(byte[] bytes) {
    if (bytes.length != 65 || bytes[0] != 4) {
      throw new IllegalArgumentException("keys.p256dh must be an uncompressed P-256 point (65 bytes)");
    }
    try {
      ECPoint point = new ECPoint(new BigInteger(1, Arrays.copyOfRange(bytes, 1, 33)),
          new BigInteger(1, Arrays.copyOfRange(bytes, 33, 65)));
      return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, P256));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("keys.p256dh is not a point on P-256", e);
    }
  }

  static byte[] decode(String base64url) {
    if (base64url == null) {
      throw new IllegalArgumentException("missing key");
    }
    String text = base64url.trim().replace('+', '-').replace('/', '_').replace("=", "");
    return Base64.getUrlDecoder().decode(text);
  }

  static byte[] unsigned(BigInteger value, int length) {
    byte[] raw = value.toByteArray();
    if (raw.length == length) {
      return raw;
    }
    byte[] out = new byte[length];
    int copy = Math.min(raw.length, length);
    System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
    return out;
  }

  static byte[] concat(byte[]... parts) {
    int length = 0;
    for (byte[] part : parts) {
      length += part.length;
    }
    byte[] out = new byte[length];
    int at = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, out, at, part.length);
      at += part.length;
    }
    return out;
  }

  private static ECParameterSpec p256() {
    try {
      AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
      parameters.init(new ECGenParameterSpec("secp256r1"));
      return parameters.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
