package com.mingus.reliability.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.sandbox.SandboxHarness.Received;
import com.mingus.reliability.sandbox.SandboxHarness.Response;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every state change the control surface makes to an Item reaches the Item's webhook URL as the webhook
 * Plaid would send for it (docs/sandbox.md "Webhooks per control call"), signed as Plaid signs; the calls
 * that change no Item send nothing. Each webhook is received by a real HTTP server, its Plaid-Verification
 * JWT verified with the key from /webhook_verification_key/get, its body hash compared and its body checked
 * against Plaid's schema for that webhook.
 */
@ExtendWith(VertxExtension.class)
class SandboxControlWebhooksTest {
  private SandboxHarness sandbox;
  private SandboxHarness.Receiver receiver;

  @BeforeEach
  void start(Vertx vertx) {
    sandbox = SandboxHarness.start(vertx, new JsonObject().put("webhook_time_scale", 0.001));
    receiver = new SandboxHarness.Receiver(vertx);
  }

  @AfterEach
  void stop() {
    receiver.close();
    sandbox.close();
  }

  private static JsonObject token(JsonObject item) {
    return new JsonObject().put("access_token", item.getString("access_token"));
  }

  private Response control(HttpMethod method, String path, JsonObject body) {
    Response response = sandbox.control(method, path, body);
    assertThat(response.status()).as(path + ": " + response.raw()).isBetween(200, 201);
    return response;
  }

  /** The next webhook, which must be {@code code}, genuinely signed, about the Item and valid as {@code schema}. */
  private JsonObject expect(String code, String schema, String itemId) throws Exception {
    Received received = receiver.next();
    JsonObject body = received.json();
    assertThat(body.getString("webhook_code")).as(body.encode()).isEqualTo(code);
    assertThat(body.getString("item_id")).isEqualTo(itemId);
    assertThat(body.getString("environment")).isEqualTo("sandbox");
    SignedJWT jwt = SignedJWT.parse(received.headers().get("Plaid-Verification"));
    assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
    Response key = sandbox.plaid("/webhook_verification_key/get", new JsonObject().put("key_id", jwt.getHeader().getKeyID()));
    assertThat(key.status()).isEqualTo(200);
    assertThat(jwt.verify(new ECDSAVerifier(ECKey.parse(key.json().getJsonObject("key").encode())))).isTrue();
    assertThat(jwt.getJWTClaimsSet().getIssueTime().getTime()).isBetween(System.currentTimeMillis() - 300_000,
        System.currentTimeMillis() + 5_000);
    String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(received.body().getBytes()));
    assertThat(jwt.getJWTClaimsSet().getStringClaim("request_body_sha256")).isEqualTo(hash);
    SandboxFidelityTest.conforms(schema, received.body().toString());
    return body;
  }

  /** No webhook arrives for a while, and the sandbox recorded none for the Item. */
  private void nothingFor(String itemId) throws InterruptedException {
    Received stray = receiver.received.poll(300, TimeUnit.MILLISECONDS);
    assertThat(stray).as(stray == null ? "" : stray.json().encode()).isNull();
    assertThat(sandbox.control(HttpMethod.GET, "/__control/items/" + itemId + "/webhooks", null).json()
        .getJsonArray("webhooks")).isEmpty();
  }

  private String lastWebhookCode(JsonObject item) {
    JsonObject last = sandbox.plaid("/item/get", token(item)).json().getJsonObject("status").getJsonObject("last_webhook");
    return last == null ? null : last.getString("code_sent");
  }

  @Test
  void resetLoginFiresItemErrorWithTheErrorObjectAndRepairLoginFiresLoginRepaired() throws Exception {
    JsonObject item = sandbox.newItem(10, receiver.url());
    String id = item.getString("item_id");

    control(HttpMethod.POST, "/__control/items/" + id + "/reset-login", new JsonObject());
    JsonObject error = expect("ERROR", "ItemErrorWebhook", id);
    assertThat(error.getString("webhook_type")).isEqualTo("ITEM");
    assertThat(error.getJsonObject("error").getString("error_type")).isEqualTo("ITEM_ERROR");
    assertThat(error.getJsonObject("error").getString("error_code")).isEqualTo("ITEM_LOGIN_REQUIRED");
    assertThat(error.getJsonObject("error").getInteger("status")).isEqualTo(400);
    assertThat(error.getJsonObject("error").containsKey("request_id")).isFalse();
    assertThat(lastWebhookCode(item)).isEqualTo("ERROR");

    Response repaired = control(HttpMethod.POST, "/__control/items/" + id + "/repair-login", new JsonObject());
    assertThat(repaired.json().getBoolean("repaired")).isTrue();
    assertThat(expect("LOGIN_REPAIRED", "ItemLoginRepairedWebhook", id).getString("webhook_type")).isEqualTo("ITEM");
    assertThat(lastWebhookCode(item)).isEqualTo("LOGIN_REPAIRED");

    // repairing a healthy Item changes nothing, so Plaid has nothing to say
    assertThat(control(HttpMethod.POST, "/__control/items/" + id + "/repair-login", new JsonObject()).json()
        .getBoolean("repaired")).isFalse();
    assertThat(receiver.received.poll(300, TimeUnit.MILLISECONDS)).isNull();
  }

  @Test
  void pendingExpirationWarnsAndWhenTheConsentRunsOutTheItemNeedsItsUserWithItemError() throws Exception {
    JsonObject item = sandbox.newItem(10, receiver.url());
    String id = item.getString("item_id");
    Instant expires = Instant.now().plusSeconds(2).truncatedTo(ChronoUnit.SECONDS);

    control(HttpMethod.POST, "/__control/items/" + id + "/pending-expiration",
        new JsonObject().put("consent_expiration_time", expires.toString()));
    JsonObject warning = expect("PENDING_EXPIRATION", "PendingExpirationWebhook", id);
    assertThat(warning.getString("webhook_type")).isEqualTo("ITEM");
    assertThat(Instant.parse(warning.getString("consent_expiration_time"))).isEqualTo(expires);
    assertThat(sandbox.plaid("/transactions/sync", token(item)).status()).isEqualTo(200);

    JsonObject expired = expect("ERROR", "ItemErrorWebhook", id);
    assertThat(Instant.now()).isAfterOrEqualTo(expires);
    assertThat(expired.getJsonObject("error").getString("error_code")).isEqualTo("ITEM_LOGIN_REQUIRED");
    assertThat(sandbox.plaid("/transactions/sync", token(item)).errorCode()).isEqualTo("ITEM_LOGIN_REQUIRED");

    control(HttpMethod.POST, "/__control/items/" + id + "/repair-login", new JsonObject());
    expect("LOGIN_REPAIRED", "ItemLoginRepairedWebhook", id);
    JsonObject renewed = sandbox.plaid("/item/get", token(item)).json().getJsonObject("item");
    assertThat(renewed.getValue("consent_expiration_time")).isNull();
    assertThat(renewed.getValue("error")).isNull();
  }

  @Test
  void aConsentRenewedBeforeItRunsOutDoesNotExpireAtTheOldTime() throws Exception {
    JsonObject item = sandbox.newItem(10, receiver.url());
    String id = item.getString("item_id");
    control(HttpMethod.POST, "/__control/items/" + id + "/pending-expiration",
        new JsonObject().put("consent_expiration_time", Instant.now().plusSeconds(1).toString()));
    expect("PENDING_EXPIRATION", "PendingExpirationWebhook", id);
    control(HttpMethod.POST, "/__control/items/" + id + "/pending-expiration",
        new JsonObject().put("consent_expiration_time", Instant.now().plus(30, ChronoUnit.DAYS).toString()));
    expect("PENDING_EXPIRATION", "PendingExpirationWebhook", id);
    assertThat(receiver.received.poll(1_800, TimeUnit.MILLISECONDS)).isNull();
    assertThat(sandbox.plaid("/transactions/sync", token(item)).status()).isEqualTo(200);
  }

  @Test
  void everyKindOfTransactionChangeFiresSyncUpdatesAvailableOnceTheItemHasBeenSynced() throws Exception {
    JsonObject item = sandbox.newItem(60, receiver.url());
    String id = item.getString("item_id");
    String path = "/__control/items/" + id + "/transactions";

    // before the first /transactions/sync Plaid sends no SYNC_UPDATES_AVAILABLE
    assertThat(control(HttpMethod.POST, path, new JsonObject().put("added", 1)).json().getBoolean("webhook_fired")).isFalse();
    nothingFor(id);

    sandbox.sync(item.getString("access_token"), null, 500);
    for (JsonObject change : new JsonObject[] {new JsonObject().put("added", 2), new JsonObject().put("modified", 2),
        new JsonObject().put("removed", 2), new JsonObject().put("post_pending", true),
        new JsonObject().put("added", 1).put("modified", 1).put("removed", 1)}) {
      Response changed = control(HttpMethod.POST, path, change);
      assertThat(changed.json().getBoolean("webhook_fired")).as(change.encode()).isTrue();
      JsonObject webhook = expect("SYNC_UPDATES_AVAILABLE", "SyncUpdatesAvailableWebhook", id);
      assertThat(webhook.getString("webhook_type")).isEqualTo("TRANSACTIONS");
      assertThat(webhook.getBoolean("initial_update_complete")).isTrue();
      assertThat(webhook.getBoolean("historical_update_complete")).isTrue();
    }
    // a call that changes nothing (nothing pending left to post) is no change
    assertThat(control(HttpMethod.POST, path, new JsonObject().put("post_pending", true)).json()
        .getBoolean("webhook_fired")).isFalse();
    assertThat(receiver.received.poll(300, TimeUnit.MILLISECONDS)).isNull();
    assertThat(lastWebhookCode(item)).isEqualTo("SYNC_UPDATES_AVAILABLE");
  }

  @Test
  void anItemWithLegacyWebhooksAlsoGetsInitialHistoricalDefaultUpdateAndTransactionsRemoved() throws Exception {
    Response created = control(HttpMethod.POST, "/__control/items", new JsonObject().put("institution_id", "ins_109508")
        .put("transactions", 300).put("webhook", receiver.url()).put("legacy_webhooks", true));
    String id = created.json().getString("item_id");
    JsonArray truth = sandbox.control(HttpMethod.GET, "/__control/items/" + id + "/ground-truth", null).json()
        .getJsonArray("transactions");
    // the harness's sandbox ends its histories on 2026-11-27; the initial pull covers the last 30 days
    String since = java.time.LocalDate.parse("2026-11-27").minusDays(30).toString();
    long recent = truth.stream().map(JsonObject.class::cast).filter(txn -> txn.getString("date").compareTo(since) >= 0).count();

    JsonObject initial = expect("INITIAL_UPDATE", "InitialUpdateWebhook", id);
    assertThat(initial.getString("webhook_type")).isEqualTo("TRANSACTIONS");
    assertThat(initial.getLong("new_transactions")).isEqualTo(recent);
    assertThat(expect("HISTORICAL_UPDATE", "HistoricalUpdateWebhook", id).getInteger("new_transactions")).isEqualTo(300);

    // legacy webhooks do not wait for a first /transactions/sync
    String path = "/__control/items/" + id + "/transactions";
    control(HttpMethod.POST, path, new JsonObject().put("added", 3));
    assertThat(expect("DEFAULT_UPDATE", "DefaultUpdateWebhook", id).getInteger("new_transactions")).isEqualTo(3);
    Response removed = control(HttpMethod.POST, path, new JsonObject().put("removed", 2));
    JsonObject gone = expect("TRANSACTIONS_REMOVED", "TransactionsRemovedWebhook", id);
    assertThat(gone.getJsonArray("removed_transactions")).isEqualTo(removed.json().getJsonArray("removed"));
    control(HttpMethod.POST, path, new JsonObject().put("modified", 1));
    assertThat(expect("DEFAULT_UPDATE", "DefaultUpdateWebhook", id).getInteger("new_transactions")).isZero();
  }

  @Test
  void aSlowInitialPullSaysWhenItIsDoneWithLegacyWebhooks() throws Exception {
    Response created = control(HttpMethod.POST, "/__control/items", new JsonObject().put("institution_id", "ins_109508")
        .put("transactions", 40).put("webhook", receiver.url()).put("legacy_webhooks", true).put("ready_after_ms", 400));
    String id = created.json().getString("item_id");
    long started = System.currentTimeMillis();
    expect("INITIAL_UPDATE", "InitialUpdateWebhook", id);
    assertThat(System.currentTimeMillis() - started).isGreaterThanOrEqualTo(300);
    expect("HISTORICAL_UPDATE", "HistoricalUpdateWebhook", id);
  }

  @Test
  void controlCallsThatChangeNoItemSendNothing() throws Exception {
    JsonObject item = sandbox.newItem(10, receiver.url());
    String id = item.getString("item_id");
    sandbox.sync(item.getString("access_token"), null, 100);
    Instant now = Instant.now();

    control(HttpMethod.POST, "/__control/institutions/ins_109508/maintenance",
        new JsonObject().put("until", now.plus(1, ChronoUnit.HOURS).toString()));
    control(HttpMethod.DELETE, "/__control/institutions/ins_109508/maintenance", null);
    Response fault = control(HttpMethod.POST, "/__control/faults", new JsonObject().put("scope", new JsonObject().put("item_id", id))
        .put("error_type", "ITEM_ERROR").put("error_code", "ITEM_LOCKED").put("count", 1));
    control(HttpMethod.DELETE, "/__control/faults/" + fault.json().getString("fault_id"), null);
    control(HttpMethod.PUT, "/__control/rate-limits", new JsonObject().put("/item/get", new JsonObject().put("per_item_per_minute", 39)));
    control(HttpMethod.POST, "/__control/institutions", new JsonObject().put("institution_id", "ins_quiet").put("name", "Quiet Bank"));
    control(HttpMethod.GET, "/__control/items/" + id + "/ground-truth", null);
    control(HttpMethod.DELETE, "/__control/stats", null);
    control(HttpMethod.PUT, "/__control/webhooks", new JsonObject().put("time_scale", 0.001));
    nothingFor(id);
    assertThat(lastWebhookCode(item)).isNull();
  }

  @Test
  void aRemovedItemGetsNoMoreWebhooks() throws Exception {
    JsonObject item = sandbox.newItem(10, receiver.url());
    String id = item.getString("item_id");
    sandbox.sync(item.getString("access_token"), null, 100);
    assertThat(sandbox.plaid("/item/remove", token(item)).status()).isEqualTo(200);

    control(HttpMethod.POST, "/__control/items/" + id + "/transactions", new JsonObject().put("added", 2));
    control(HttpMethod.POST, "/__control/items/" + id + "/reset-login", new JsonObject());
    control(HttpMethod.POST, "/__control/items/" + id + "/pending-expiration", new JsonObject());
    nothingFor(id);
  }
}
