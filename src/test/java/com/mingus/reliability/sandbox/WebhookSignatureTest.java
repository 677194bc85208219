package com.mingus.reliability.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The sandbox signs webhooks exactly as Plaid does, checked with an independent ES256 implementation
 * (nimbus-jose-jwt) and the key fetched from /webhook_verification_key/get.
 */
@ExtendWith(VertxExtension.class)
class WebhookSignatureTest {
  private SandboxHarness sandbox;
  private SandboxHarness.Receiver receiver;

  @BeforeEach
  void start(Vertx vertx) {
    sandbox = SandboxHarness.start(vertx, new JsonObject());
    receiver = new SandboxHarness.Receiver(vertx);
  }

  @AfterEach
  void stop() {
    receiver.close();
    sandbox.close();
  }

  private SandboxHarness.Received webhook() {
    JsonObject item = sandbox.newItem(10, receiver.url());
    sandbox.plaid("/sandbox/item/fire_webhook", new JsonObject().put("access_token", item.getString("access_token"))
        .put("webhook_code", "SYNC_UPDATES_AVAILABLE"));
    return receiver.next();
  }

  private ECKey keyFor(SignedJWT jwt) throws Exception {
    SandboxHarness.Response key = sandbox.plaid("/webhook_verification_key/get",
        new JsonObject().put("key_id", jwt.getHeader().getKeyID()));
    assertThat(key.status()).isEqualTo(200);
    return ECKey.parse(key.json().getJsonObject("key").encode());
  }

  private static boolean bodyMatches(SignedJWT jwt, byte[] body) throws Exception {
    String claimed = jwt.getJWTClaimsSet().getStringClaim("request_body_sha256");
    String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    return MessageDigest.isEqual(claimed.getBytes(), actual.getBytes());
  }

  @Test
  void aWebhookCarriesAnEs256JwtThatVerifiesWithTheServedKeyAndHashesTheExactBody() throws Exception {
    SandboxHarness.Received webhook = webhook();
    SignedJWT jwt = SignedJWT.parse(webhook.headers().get("Plaid-Verification"));

    assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
    ECKey key = keyFor(jwt);
    assertThat(key.getCurve()).isEqualTo(Curve.P_256);
    assertThat(jwt.verify(new ECDSAVerifier(key))).isTrue();
    long iat = jwt.getJWTClaimsSet().getIssueTime().getTime() / 1000;
    assertThat(iat).isBetween(System.currentTimeMillis() / 1000 - 300, System.currentTimeMillis() / 1000 + 5);
    assertThat(bodyMatches(jwt, webhook.body().getBytes())).isTrue();
  }

  @Test
  void aBodyAlteredByOneByteFailsTheHashCheckAndAnAlteredSignatureFailsVerification() throws Exception {
    SandboxHarness.Received webhook = webhook();
    SignedJWT jwt = SignedJWT.parse(webhook.headers().get("Plaid-Verification"));
    byte[] altered = webhook.body().getBytes();
    int index = Buffer.buffer(altered).toString().indexOf("SYNC_UPDATES");
    altered[index] = (byte) 'X';

    assertThat(jwt.verify(new ECDSAVerifier(keyFor(jwt)))).isTrue();
    assertThat(bodyMatches(jwt, altered)).isFalse();

    String[] parts = webhook.headers().get("Plaid-Verification").split("\\.");
    char[] signature = parts[2].toCharArray();
    signature[5] = signature[5] == 'A' ? 'B' : 'A';
    SignedJWT forged = SignedJWT.parse(parts[0] + "." + parts[1] + "." + new String(signature));
    assertThat(forged.verify(new ECDSAVerifier(keyFor(jwt)))).isFalse();
  }

  @Test
  void everyRedeliveryIsSignedAfreshWithTheSameBody() throws Exception {
    sandbox.control(HttpMethod.PUT, "/__control/webhooks", new JsonObject().put("time_scale", 0.0005));
    receiver.failuresLeft.set(2);
    SandboxHarness.Received first = webhook();
    SandboxHarness.Received second = receiver.next();
    SandboxHarness.Received third = receiver.next();
    assertThat(second.body()).isEqualTo(first.body());
    assertThat(third.body()).isEqualTo(first.body());
    for (SandboxHarness.Received delivery : new SandboxHarness.Received[] {first, second, third}) {
      SignedJWT jwt = SignedJWT.parse(delivery.headers().get("Plaid-Verification"));
      assertThat(jwt.verify(new ECDSAVerifier(keyFor(jwt)))).isTrue();
      assertThat(bodyMatches(jwt, delivery.body().getBytes())).isTrue();
    }
  }
}
