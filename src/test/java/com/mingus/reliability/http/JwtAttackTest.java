package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JWT attack set: every token that is not exactly what MINGUS issues is refused with 401, and the
 * two real kinds (HS256 with the secret, RS256 with the configured key) are accepted.
 */
class JwtAttackTest {
  private static Application app;
  private static KeyPair rsa;
  private static String publicPem;

  @BeforeAll
  static void start() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    rsa = generator.generateKeyPair();
    publicPem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(rsa.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
    app = TestApp.start(JwtAttackTest.class, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET,
        "MINGUS_JWT_PUBLIC_KEY", publicPem, "MINGUS_JWT_PUBLIC_KEY_ALG", "RS256"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static JWTClaimsSet.Builder claims() {
    return new JWTClaimsSet.Builder().subject("mallory").issuer("mingus").audience("mingus-reliability")
        .expirationTime(new Date(System.currentTimeMillis() + 600_000)).issueTime(new Date())
        .claim("roles", List.of("user", "admin"));
  }

  private static String hs256(JWTClaimsSet claims, byte[] secret) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(new MACSigner(secret));
    return jwt.serialize();
  }

  private static String rs256(JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(new RSASSASigner(rsa.getPrivate()));
    return jwt.serialize();
  }

  private static int status(String token) {
    return ApiCaller.withToken(app, token).get("/api/reliability/connections/health").status();
  }

  private static void refused(String what, String token) {
    Http.Response response = ApiCaller.withToken(app, token).get("/api/reliability/connections/health");
    assertThat(response.status()).as(what).isEqualTo(401);
    assertThat(ApiCaller.errorCode(response)).isEqualTo("UNAUTHORIZED");
  }

  @Test
  void theRealKindsOfTokenAreAccepted() throws Exception {
    assertThat(status(hs256(claims().build(), ApiCaller.SECRET.getBytes(StandardCharsets.UTF_8)))).isEqualTo(200);
    assertThat(status(rs256(claims().build()))).isEqualTo(200);
    assertThat(status(ApiCaller.user(app, "ursula").token)).isEqualTo(200);
  }

  @Test
  void algNoneIsRefused() throws Exception {
    refused("alg none", new PlainJWT(claims().build()).serialize());
    String header = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}");
    String payload = b64(claims().build().toString());
    refused("alg none with a signature", header + "." + payload + ".c2ln");
    refused("alg NONE", b64("{\"alg\":\"NONE\"}") + "." + payload + ".");
  }

  @Test
  void hsRsConfusionIsRefused() throws Exception {
    // the classic: HS256 keyed with the RSA public key the server verifies RS256 with
    refused("HS256 signed with the RSA public key PEM", hs256(claims().build(), publicPem.getBytes(StandardCharsets.US_ASCII)));
    refused("HS256 signed with the RSA public key DER", hs256(claims().build(), padded(rsa.getPublic().getEncoded())));
    // an RS256 header over an HS256 signature
    String hs = hs256(claims().build(), ApiCaller.SECRET.getBytes(StandardCharsets.UTF_8));
    String[] parts = hs.split("\\.");
    refused("RS256 header, HS256 signature", b64("{\"alg\":\"RS256\",\"typ\":\"JWT\"}") + "." + parts[1] + "." + parts[2]);
  }

  @Test
  void algorithmsWithoutAConfiguredKeyAreRefused() throws Exception {
    SignedJWT es = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).build(), claims().build());
    es.sign(new ECDSASigner(new ECKeyGenerator(Curve.P_256).generate()));
    refused("ES256 by a key nobody configured", es.serialize());
    SignedJWT hs512 = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS512).build(), claims().build());
    hs512.sign(new MACSigner((ApiCaller.SECRET + ApiCaller.SECRET).getBytes(StandardCharsets.UTF_8)));
    refused("HS512 (not allow-listed)", hs512.serialize());
  }

  @Test
  void expiredMissingExpiryWrongIssuerOrAudienceAreRefused() throws Exception {
    byte[] secret = ApiCaller.SECRET.getBytes(StandardCharsets.UTF_8);
    refused("expired", hs256(claims().expirationTime(new Date(System.currentTimeMillis() - 120_000)).build(), secret));
    refused("no exp", hs256(claims().expirationTime(null).build(), secret));
    refused("wrong iss", hs256(claims().issuer("someone-else").build(), secret));
    refused("no iss", hs256(claims().issuer(null).build(), secret));
    refused("wrong aud", hs256(claims().audience("another-service").build(), secret));
    refused("no aud", hs256(claims().audience((String) null).build(), secret));
    refused("no sub", hs256(claims().subject(null).build(), secret));
    refused("expired RS256", rs256(claims().expirationTime(new Date(System.currentTimeMillis() - 120_000)).build()));
  }

  @Test
  void badSignaturesAreRefused() throws Exception {
    refused("another secret", hs256(claims().build(), "another-secret-that-is-long-enough-0123456789".getBytes(StandardCharsets.UTF_8)));
    String good = hs256(claims().subject("alice").build(), ApiCaller.SECRET.getBytes(StandardCharsets.UTF_8));
    String[] parts = good.split("\\.");
    String forgedPayload = b64(claims().subject("bob").build().toString());
    refused("payload swapped", parts[0] + "." + forgedPayload + "." + parts[2]);
    char last = parts[2].charAt(5);
    refused("signature changed", parts[0] + "." + parts[1] + "." + parts[2].substring(0, 5) + (last == 'A' ? 'B' : 'A') + parts[2].substring(6));
    refused("signature removed", parts[0] + "." + parts[1] + ".");
    refused("garbage", "not.a.jwt");
    refused("empty", "");
  }

  @Test
  void theFeedTicketAndOperatorRoutesAreAlsoBehindTheToken() throws Exception {
    String expired = hs256(claims().expirationTime(new Date(System.currentTimeMillis() - 120_000)).build(),
        ApiCaller.SECRET.getBytes(StandardCharsets.UTF_8));
    assertThat(ApiCaller.withToken(app, expired).post("/api/reliability/feed/ticket", null).status()).isEqualTo(401);
    assertThat(ApiCaller.withToken(app, expired).get("/api/reliability/metrics/overview").status()).isEqualTo(401);
  }

  private static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] padded(byte[] key) {
    return key.length >= 32 ? key : java.util.Arrays.copyOf(key, 32);
  }
}
