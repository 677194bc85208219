package com.mingus.reliability.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Bearer JWT verification with vertx-auth-jwt. Only the algorithms that are both allow-listed
 * ({@code auth.jwt.algorithms}) and configured with a key are accepted: HS256 with {@code auth.jwt.secret},
 * RS256 or ES256 with {@code auth.jwt.public_key} (PEM). The header's {@code alg} is checked against that
 * set before any signature work, so {@code none} and HS/RS confusion never reach a verifier; {@code iss},
 * {@code aud} and {@code exp} are required.
 */
final class Auth {
  /** Why a token was refused; the message is safe to show (it never echoes the token). */
  static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  private final JWTAuth provider;
  private final Set<String> algorithms;
  /**
   * Tokens already verified by this instance, until their own expiry: a client sends the same token with
   * every request, and a signature check plus claim parsing per request is the bulk of an API call's cost.
   * A token is immutable, so a verified one stays valid exactly until its exp.
   */
  private final java.util.LinkedHashMap<String, Verified> verified = new java.util.LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(java.util.Map.Entry<String, Verified> eldest) {
      return size() > 10_000;
    }
  };

  private record Verified(Principal principal, long expiresAtMs) {}
  private final String issuer;
  private final String audience;

  private Auth(JWTAuth provider, Set<String> algorithms, String issuer, String audience) {
    this.provider = provider;
    this.algorithms = algorithms;
    this.issuer = issuer;
    this.audience = audience;
  }

  /** From the {@code auth.jwt} section: secret, public_key, public_key_algorithm, algorithms, issuer, audience. */
  static Auth create(Vertx vertx, JsonObject jwt) {
    String issuer = jwt.getString("issuer", "mingus");
    String audience = jwt.getString("audience", "mingus-reliability");
    Set<String> allowed = new HashSet<>();
    jwt.getJsonArray("algorithms", new JsonArray().add("HS256").add("RS256").add("ES256"))
        .forEach(alg -> allowed.add(String.valueOf(alg)));
    allowed.retainAll(Set.of("HS256", "RS256", "ES256"));

    JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(new JWTOptions()
        .setIssuer(issuer).setAudience(List.of(audience)).setLeeway(5));
    Set<String> usable = new HashSet<>();
    String secret = jwt.getString("secret");
    if (secret != null && allowed.contains("HS256")) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret));
      usable.add("HS256");
      // rotation with an overlap (docs/secrets.md): tokens signed with a previous secret verify until it is removed
      String previous = jwt.getString("previous_secrets");
      if (previous != null) {
        for (String old : previous.split(",")) {
          if (!old.isBlank()) {
            options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(old.trim()));
          }
        }
      }
    }
    String publicKey = jwt.getString("public_key");
    String publicAlg = jwt.getString("public_key_algorithm", "RS256");
    if (publicKey != null && !publicKey.isBlank() && allowed.contains(publicAlg) && !"HS256".equals(publicAlg)) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm(publicAlg).setBuffer(publicKey));
      usable.add(publicAlg);
    }
    if (usable.isEmpty()) {
      throw new IllegalStateException("auth.jwt: no allowed algorithm has a key (set MINGUS_JWT_SECRET or auth.jwt.public_key)");
    }
    return new Auth(JWTAuth.create(vertx, options), Set.copyOf(usable), issuer, audience);
  }

  /** The header value of {@code Authorization}, or null when there is none or it is not a bearer token. */
  static String bearer(String header) {
    if (header == null || header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = header.substring(7).trim();
    return token.isEmpty() ? null : token;
  }

  /** Verifies a token; fails with {@link Refused} saying why (without the token). */
  Future<Principal> verify(String token) {
    if (token == null || token.length() > 8192) {
      return Future.failedFuture(new Refused("a bearer token is required"));
    }
    Verified known = verified.get(token);
    if (known != null) {
      if (System.currentTimeMillis() < known.expiresAtMs()) {
        return Future.succeededFuture(known.principal());
      }
      verified.remove(token);
    }
    String alg = headerAlgorithm(token);
    if (alg == null || !algorithms.contains(alg)) {
      return Future.failedFuture(new Refused("the token's algorithm is not accepted"));
    }
    return provider.authenticate(new TokenCredentials(token))
        .recover(failure -> Future.failedFuture(new Refused("the token is not valid: " + safe(failure.getMessage()))))
        .compose(user -> principal(user).onSuccess(principal -> {
          JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
          verified.put(token, new Verified(principal, claims.getLong("exp") * 1000));
        }));
  }

  private Future<Principal> principal(User user) {
    JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
    if (!(claims.getValue("exp") instanceof Number)) {
      return Future.failedFuture(new Refused("the token has no expiry"));
    }
    // vertx-auth-jwt checks iss and aud only when present; both are required here.
    if (!issuer.equals(claims.getString("iss"))) {
      return Future.failedFuture(new Refused("the token's issuer is not accepted"));
    }
    Object aud = claims.getValue("aud");
    boolean audienceOk = audience.equals(aud) || (aud instanceof JsonArray list && list.contains(audience));
    if (!audienceOk) {
      return Future.failedFuture(new Refused("the token's audience is not accepted"));
    }
    Object sub = claims.getValue("sub");
    if (!(sub instanceof String userId) || userId.isBlank() || userId.length() > 128) {
      return Future.failedFuture(new Refused("the token has no subject"));
    }
    List<String> roles = new ArrayList<>();
    if (claims.getValue("roles") instanceof JsonArray list) {
      list.forEach(role -> roles.add(String.valueOf(role)));
    }
    return Future.succeededFuture(new Principal(userId, List.copyOf(roles), text(claims, "email"), text(claims, "name")));
  }

  private static String text(JsonObject claims, String key) {
    return claims.getValue(key) instanceof String s && s.length() <= 256 ? s : null;
  }

  private static String headerAlgorithm(String token) {
    int dot = token.indexOf('.');
    if (dot <= 0) {
      return null;
    }
    try {
      JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(token.substring(0, dot)), StandardCharsets.UTF_8));
      return header.getValue("alg") instanceof String alg ? alg : null;
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String safe(String message) {
    if (message == null) {
      return "refused";
    }
    return message.length() > 120 ? message.substring(0, 120) : message;
  }
}
