package com.mingus.reliability.crypto;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.util.List;

/** Issues MINGUS JWTs (HS256): the demo tokens printed at start-up, and tokens in tests and benchmarks. */
public final class JwtIssuer {
  private JwtIssuer() {}

  /**
   * Mints an HS256 token, for the demo tokens printed at start-up and for tests; {@code ttlSeconds} sets
   * {@code exp}.
   */
  public static String issue(Vertx vertx, String secret, String userId, List<String> roles, String name,
      String email, int ttlSeconds) {
    JWTAuth minter = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    JsonObject claims = new JsonObject().put("sub", userId).put("roles", new JsonArray(roles));
    if (name != null) {
      claims.put("name", name);
    }
    if (email != null) {
      claims.put("email", email);
    }
    return minter.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setIssuer("mingus")
        .setAudience(List.of("mingus-reliability")).setExpiresInSeconds(ttlSeconds));
  }
}
