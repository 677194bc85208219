package com.mingus.reliability.sandbox;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Signs webhooks as Plaid does: a {@code Plaid-Verification} ES256 JWT whose claims are {@code iat} and
 * {@code request_body_sha256}, the hex SHA-256 of the exact body bytes; the public key is served as a
 * P-256 JWK by /webhook_verification_key/get. The JDK's P1363 ECDSA gives the JOSE signature (R||S)
 * directly, so no DER conversion is needed.
 */
final class WebhookSigner {
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  private final KeyPair keys;
  final String kid;
  final long createdAt;

  WebhookSigner(long createdAtSeconds) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      this.keys = generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot make P-256 keys", e);
    }
    this.kid = UUID.randomUUID().toString();
    this.createdAt = createdAtSeconds;
  }

  /** The JWT for one delivery of {@code body}. */
  String sign(byte[] body, long iatSeconds) {
    String header = new JsonObject().put("alg", "ES256").put("kid", kid).put("typ", "JWT").encode();
    String claims = new JsonObject().put("iat", iatSeconds).put("request_body_sha256", sha256Hex(body)).encode();
    String signingInput = B64URL.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
        + B64URL.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
    try {
      Signature signature = Signature.getInstance("SHA256withECDSAinP1363Format");
      signature.initSign(keys.getPrivate());
      signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64URL.encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing a webhook failed", e);
    }
  }

  /** Plaid's JWKPublicKey. */
  JsonObject jwk() {
    ECPublicKey publicKey = (ECPublicKey) keys.getPublic();
    return new JsonObject()
        .put("alg", "ES256")
        .put("created_at", createdAt)
        .put("crv", "P-256")
        .put("expired_at", null)
        .put("kid", kid)
        .put("kty", "EC")
        .put("use", "sig")
        .put("x", B64URL.encodeToString(unsigned32(publicKey.getW().getAffineX())))
        .put("y", B64URL.encodeToString(unsigned32(publicKey.getW().getAffineY())));
  }

  static String sha256Hex(byte[] body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  /** A coordinate as exactly 32 big-endian bytes (BigInteger adds a sign byte or drops leading zeros). */
  private static byte[] unsigned32(BigInteger value) {
    byte[] bytes = value.toByteArray();
    if (bytes.length == 32) {
      return bytes;
    }
    byte[] out = new byte[32];
    if (bytes.length > 32) {
      System.arraycopy(bytes, bytes.length - 32, out, 0, 32);
    } else {
      System.arraycopy(bytes, 0, out, 32 - bytes.length, bytes.length);
    }
    return Arrays.copyOf(out, 32);
  }
}
