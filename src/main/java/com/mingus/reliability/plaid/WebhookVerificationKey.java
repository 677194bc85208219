package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonObject;

/**
 * The public key (a P-256 JWK) that signs Plaid's webhooks, from {@code /webhook_verification_key/get}.
 *
 * @param createdAt seconds since the epoch
 * @param expiredAt seconds since the epoch when the key was retired, or null while it is current
 * @param jwk       the key object as received, ready for a JWK parser
 */
public record WebhookVerificationKey(
    String alg,
    String crv,
    String kid,
    String kty,
    String use,
    String x,
    String y,
    Long createdAt,
    Long expiredAt,
    JsonObject jwk,
    String requestId) {

  static WebhookVerificationKey fromJson(JsonObject key, String requestId) {
    return new WebhookVerificationKey(
        LenientJson.text(key, "alg"),
        LenientJson.text(key, "crv"),
        LenientJson.text(key, "kid"),
        LenientJson.text(key, "kty"),
        LenientJson.text(key, "use"),
        LenientJson.text(key, "x"),
        LenientJson.text(key, "y"),
        LenientJson.longValue(key, "created_at"),
        LenientJson.longValue(key, "expired_at"),
        key.copy(),
        requestId);
  }

  /** True when Plaid has retired this key. */
  public boolean expired() {
    return expiredAt != null;
  }
}
