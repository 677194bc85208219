package com.mingus.reliability.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.sandbox.SandboxHarness.Response;
import com.mingus.reliability.testsupport.PlaidSchema;
import com.mingus.reliability.testsupport.PlaidSchemaNulls;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every endpoint's success answer, every kind of error answer and every webhook validates against the
 * schema Plaid publishes for it, with the status Plaid uses.
 */
@ExtendWith(VertxExtension.class)
class SandboxFidelityTest {
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

  private static void valid(String schema, Response response) {
    assertThat(response.status()).as(response.raw()).isEqualTo(200);
    assertThat(response.json().getString("request_id")).isNotBlank();
    conforms(schema, response.raw());
  }

  /** Valid against the component, and null only where the component says nullable (see PlaidSchemaNulls). */
  static void conforms(String schema, String json) {
    PlaidSchema.assertValid(schema, json);
    PlaidSchemaNulls.assertNoneWhereNotNullable(schema, json);
  }

  private static void plaidError(Response response, int status, String type, String code) {
    assertThat(response.status()).as(response.raw()).isEqualTo(status);
    assertThat(response.json().getString("error_type")).isEqualTo(type);
    assertThat(response.json().getString("error_code")).isEqualTo(code);
    assertThat(response.json().getString("request_id")).isNotBlank();
    conforms(PlaidSchema.PLAID_ERROR, response.raw());
  }

  private static JsonObject token(JsonObject item) {
    return new JsonObject().put("access_token", item.getString("access_token"));
  }

  @Test
  void everySuccessAnswerValidatesAgainstPlaidsResponseSchema() {
    Response created = sandbox.plaid("/sandbox/public_token/create", new JsonObject().put("institution_id", "ins_109509")
        .put("initial_products", new JsonArray().add("transactions"))
        .put("options", new JsonObject().put("webhook", receiver.url())));
    valid("SandboxPublicTokenCreateResponse", created);
    Response exchanged = sandbox.plaid("/item/public_token/exchange",
        new JsonObject().put("public_token", created.json().getString("public_token")));
    valid("ItemPublicTokenExchangeResponse", exchanged);
    JsonObject item = exchanged.json();

    valid("ItemGetResponse", sandbox.plaid("/item/get", token(item)));
    valid("AccountsGetResponse", sandbox.plaid("/accounts/get", token(item)));
    valid("AccountsGetResponse", sandbox.plaid("/accounts/balance/get", token(item)));
    Response first = sandbox.plaid("/transactions/sync", token(item).put("count", 500));
    valid("TransactionsSyncResponse", first);
    assertThat(first.json().getJsonArray("added")).isNotEmpty();
    Response paged = sandbox.plaid("/transactions/get", token(item).put("start_date", "2024-01-01").put("end_date", "2026-11-27")
        .put("options", new JsonObject().put("count", 500).put("offset", 0)));
    valid("TransactionsGetResponse", paged);
    assertThat(paged.json().getJsonArray("transactions")).isNotEmpty();
    valid("TransactionsRefreshResponse", sandbox.plaid("/transactions/refresh", token(item)));
    sandbox.control(HttpMethod.POST, "/__control/items/" + item.getString("item_id") + "/transactions",
        new JsonObject().put("added", 3).put("modified", 2).put("removed", 2));
    Response changes = sandbox.plaid("/transactions/sync",
        token(item).put("cursor", first.json().getString("next_cursor")));
    valid("TransactionsSyncResponse", changes);
    assertThat(changes.json().getJsonArray("modified")).isNotEmpty();
    assertThat(changes.json().getJsonArray("removed")).isNotEmpty();

    JsonObject byId = new JsonObject().put("institution_id", "ins_109509").put("country_codes", new JsonArray().add("US"));
    valid("InstitutionsGetByIdResponse", sandbox.plaid("/institutions/get_by_id", byId.copy()));
    Response withStatus = sandbox.plaid("/institutions/get_by_id",
        byId.copy().put("options", new JsonObject().put("include_status", true)));
    valid("InstitutionsGetByIdResponse", withStatus);
    assertThat(withStatus.json().getJsonObject("institution").getJsonObject("status")
        .getJsonObject("item_logins").getString("status")).isEqualTo("HEALTHY");

    JsonObject link = new JsonObject().put("client_name", "MINGUS").put("language", "en")
        .put("country_codes", new JsonArray().add("US")).put("user", new JsonObject().put("client_user_id", "user-1"));
    valid("LinkTokenCreateResponse", sandbox.plaid("/link/token/create",
        link.copy().put("products", new JsonArray().add("transactions"))));
    valid("LinkTokenCreateResponse", sandbox.plaid("/link/token/create",
        link.copy().put("access_token", item.getString("access_token"))));

    Response fired = sandbox.plaid("/sandbox/item/fire_webhook", token(item).put("webhook_code", "SYNC_UPDATES_AVAILABLE"));
    valid("SandboxItemFireWebhookResponse", fired);
    SandboxHarness.Received webhook = receiver.next("SYNC_UPDATES_AVAILABLE");
    String kid = kidOf(webhook.headers().get("Plaid-Verification"));
    valid("WebhookVerificationKeyGetResponse", sandbox.plaid("/webhook_verification_key/get",
        new JsonObject().put("key_id", kid)));

    valid("SandboxItemResetLoginResponse", sandbox.plaid("/sandbox/item/reset_login", token(item)));
    Response inError = sandbox.plaid("/item/get", token(item));
    valid("ItemGetResponse", inError);
    assertThat(inError.json().getJsonObject("item").getJsonObject("error").getString("error_code"))
        .isEqualTo("ITEM_LOGIN_REQUIRED");
    valid("ItemRemoveResponse", sandbox.plaid("/item/remove", token(item)));
  }

  @Test
  void itemGetSaysNoWebhookWithANullLastWebhookThenNamesTheLastOneSentAndWhen() {
    JsonObject item = sandbox.newItem(5, receiver.url());
    Response before = sandbox.plaid("/item/get", token(item));
    valid("ItemGetResponse", before);
    assertThat(before.json().getJsonObject("status").containsKey("last_webhook")).isTrue();
    assertThat(before.json().getJsonObject("status").getValue("last_webhook")).isNull();

    Instant firedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    sandbox.plaid("/sandbox/item/reset_login", token(item));
    receiver.next("ERROR");
    Response after = sandbox.plaid("/item/get", token(item));
    valid("ItemGetResponse", after);
    JsonObject last = after.json().getJsonObject("status").getJsonObject("last_webhook");
    assertThat(last.getString("code_sent")).isEqualTo("ERROR");
    assertThat(Instant.parse(last.getString("sent_at"))).isBetween(firedAt, Instant.now());

    sandbox.control(HttpMethod.POST, "/__control/items/" + item.getString("item_id") + "/repair-login", new JsonObject());
    receiver.next("LOGIN_REPAIRED");
    Response repaired = sandbox.plaid("/item/get", token(item));
    valid("ItemGetResponse", repaired);
    assertThat(repaired.json().getJsonObject("status").getJsonObject("last_webhook").getString("code_sent"))
        .isEqualTo("LOGIN_REPAIRED");
  }

  @Test
  void everyWebhookValidatesAgainstPlaidsWebhookSchema() {
    JsonObject item = sandbox.newItem(20, receiver.url());
    String itemId = item.getString("item_id");
    sandbox.sync(item.getString("access_token"), null, 100);
    sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/transactions", new JsonObject().put("added", 1));
    conforms("SyncUpdatesAvailableWebhook", receiver.next("SYNC_UPDATES_AVAILABLE").body().toString());
    sandbox.plaid("/sandbox/item/reset_login", token(item));
    conforms("ItemErrorWebhook", receiver.next("ERROR").body().toString());
    sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/repair-login", new JsonObject());
    conforms("ItemLoginRepairedWebhook", receiver.next("LOGIN_REPAIRED").body().toString());
    sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/pending-expiration", new JsonObject());
    conforms("PendingExpirationWebhook", receiver.next("PENDING_EXPIRATION").body().toString());
    sandbox.plaid("/sandbox/item/fire_webhook", token(item).put("webhook_code", "PENDING_DISCONNECT"));
    conforms("PendingDisconnectWebhook", receiver.next("PENDING_DISCONNECT").body().toString());
  }

  @Test
  void requestErrorsAreInvalidRequestOrInvalidInputWithStatus400() {
    JsonObject item = sandbox.newItem(5, null);
    Response noKeys = sandbox.raw("/item/get", MultiMap.caseInsensitiveMultiMap(), Buffer.buffer(token(item).encode()));
    plaidError(noKeys, 400, "INVALID_REQUEST", "MISSING_FIELDS");
    Response wrongKeys = sandbox.raw("/item/get", MultiMap.caseInsensitiveMultiMap(),
        Buffer.buffer(token(item).put("client_id", SandboxHarness.CLIENT_ID).put("secret", "wrong").encode()));
    plaidError(wrongKeys, 400, "INVALID_INPUT", "INVALID_API_KEYS");
    Response bodyKeys = sandbox.raw("/item/get", MultiMap.caseInsensitiveMultiMap(),
        Buffer.buffer(token(item).put("client_id", SandboxHarness.CLIENT_ID).put("secret", SandboxHarness.SECRET).encode()));
    valid("ItemGetResponse", bodyKeys);

    plaidError(sandbox.plaid("/transactions/sync", new JsonObject()), 400, "INVALID_REQUEST", "MISSING_FIELDS");
    plaidError(sandbox.plaid("/transactions/get", token(item)), 400, "INVALID_REQUEST", "MISSING_FIELDS");
    plaidError(sandbox.plaid("/transactions/get", token(item).put("start_date", "2026-11-31").put("end_date", "2026-12-01")),
        400, "INVALID_REQUEST", "INVALID_FIELD");
    plaidError(sandbox.plaid("/transactions/get", token(item).put("start_date", "2026-11-01").put("end_date", "2026-12-01")
        .put("options", new JsonObject().put("count", 501))), 400, "INVALID_REQUEST", "INVALID_FIELD");
    plaidError(sandbox.plaid("/transactions/sync", token(item).put("count", 501)), 400, "INVALID_REQUEST", "INVALID_FIELD");
    plaidError(sandbox.plaid("/transactions/sync", token(item).put("count", 0)), 400, "INVALID_REQUEST", "INVALID_FIELD");
    plaidError(sandbox.plaid("/transactions/sync", token(item).put("cursor", "bm90LWEtY3Vyc29y")), 400, "INVALID_REQUEST",
        "INVALID_FIELD");
    plaidError(sandbox.plaid("/transactions/sync", token(item).put("colour", "blue")), 400, "INVALID_REQUEST",
        "UNKNOWN_FIELDS");
    plaidError(sandbox.raw("/item/get", MultiMap.caseInsensitiveMultiMap().add("PLAID-CLIENT-ID", SandboxHarness.CLIENT_ID)
        .add("PLAID-SECRET", SandboxHarness.SECRET), Buffer.buffer("{not json")), 400, "INVALID_REQUEST", "INVALID_BODY");
    plaidError(sandbox.plaid("/item/get", new JsonObject().put("access_token", "public-sandbox-123")), 400, "INVALID_INPUT",
        "INVALID_ACCESS_TOKEN");
    plaidError(sandbox.plaid("/item/get", new JsonObject().put("access_token", "access-sandbox-00000000-0000")), 400,
        "INVALID_INPUT", "INVALID_ACCESS_TOKEN");
    plaidError(sandbox.plaid("/item/public_token/exchange", new JsonObject().put("public_token", "public-sandbox-nope")), 400,
        "INVALID_INPUT", "INVALID_PUBLIC_TOKEN");
    plaidError(sandbox.plaid("/institutions/get_by_id", new JsonObject().put("institution_id", "ins_404")
        .put("country_codes", new JsonArray().add("US"))), 400, "INVALID_INPUT", "INVALID_INSTITUTION");
    plaidError(sandbox.plaid("/institutions/get_by_id", new JsonObject().put("institution_id", "ins_109508")
        .put("country_codes", new JsonArray())), 400, "INVALID_REQUEST", "INVALID_FIELD");
    plaidError(sandbox.plaid("/link/token/create", new JsonObject().put("client_name", "MINGUS").put("language", "en")
        .put("country_codes", new JsonArray().add("US"))), 400, "INVALID_REQUEST", "MISSING_FIELDS");
    plaidError(sandbox.plaid("/webhook_verification_key/get", new JsonObject().put("key_id", "nope")), 400, "INVALID_INPUT",
        "INVALID_WEBHOOK_VERIFICATION_KEY_ID");
    plaidError(sandbox.plaid("/no/such/endpoint", new JsonObject()), 404, "INVALID_REQUEST", "NOT_FOUND");

    sandbox.plaid("/item/remove", token(item));
    plaidError(sandbox.plaid("/accounts/get", token(item)), 400, "ITEM_ERROR", "ITEM_NOT_FOUND");
  }

  @Test
  void itemInstitutionRateLimitAndApiErrorsUseTheStatusPlaidUses() {
    JsonObject item = sandbox.newItem(30, null);
    String itemId = item.getString("item_id");

    sandbox.plaid("/sandbox/item/reset_login", token(item));
    plaidError(sandbox.plaid("/transactions/sync", token(item)), 400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED");
    plaidError(sandbox.plaid("/accounts/get", token(item)), 400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED");
    sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/repair-login", new JsonObject());

    sandbox.control(HttpMethod.POST, "/__control/institutions/ins_109508/maintenance",
        new JsonObject().put("until", Instant.now().plus(1, ChronoUnit.HOURS).toString()));
    plaidError(sandbox.plaid("/transactions/sync", token(item)), 400, "INSTITUTION_ERROR", "INSTITUTION_DOWN");
    Response down = sandbox.plaid("/institutions/get_by_id", new JsonObject().put("institution_id", "ins_109508")
        .put("country_codes", new JsonArray().add("US")).put("options", new JsonObject().put("include_status", true)));
    valid("InstitutionsGetByIdResponse", down);
    JsonObject status = down.json().getJsonObject("institution").getJsonObject("status");
    assertThat(status.getJsonObject("transactions_updates").getString("status")).isEqualTo("DOWN");
    assertThat(status.getJsonArray("health_incidents")).hasSize(1);
    sandbox.control(HttpMethod.DELETE, "/__control/institutions/ins_109508/maintenance", null);

    sandbox.control(HttpMethod.PUT, "/__control/rate-limits",
        new JsonObject().put("/transactions/sync", new JsonObject().put("per_item_per_minute", 1)));
    JsonObject fresh = sandbox.newItem(3, null);
    sandbox.sync(fresh.getString("access_token"), null, 10);
    plaidError(sandbox.plaid("/transactions/sync", token(fresh)), 429, "RATE_LIMIT_EXCEEDED", "TRANSACTIONS_SYNC_LIMIT");
    sandbox.control(HttpMethod.PUT, "/__control/rate-limits",
        new JsonObject().put("/transactions/sync", new JsonObject().put("per_item_per_minute", 1000)));

    fault(new JsonObject().put("error_type", "API_ERROR").put("error_code", "INTERNAL_SERVER_ERROR").put("count", 1));
    plaidError(sandbox.plaid("/item/get", token(item)), 500, "API_ERROR", "INTERNAL_SERVER_ERROR");
    fault(new JsonObject().put("error_type", "API_ERROR").put("error_code", "PLANNED_MAINTENANCE").put("count", 1));
    plaidError(sandbox.plaid("/item/get", token(item)), 503, "API_ERROR", "PLANNED_MAINTENANCE");
    fault(new JsonObject().put("error_type", "INSTITUTION_ERROR").put("error_code", "INSTITUTION_NOT_RESPONDING")
        .put("count", 1).put("scope", new JsonObject().put("institution_id", "ins_109508")));
    plaidError(sandbox.plaid("/accounts/balance/get", token(item)), 400, "INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING");

    JsonObject big = sandbox.newItem(300, null);
    JsonObject page = sandbox.sync(big.getString("access_token"), null, 100);
    sandbox.control(HttpMethod.POST, "/__control/items/" + big.getString("item_id") + "/transactions",
        new JsonObject().put("added", 1));
    plaidError(sandbox.plaid("/transactions/sync", token(big).put("cursor", page.getString("next_cursor"))), 400,
        "TRANSACTIONS_ERROR", "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION");
  }

  private void fault(JsonObject spec) {
    Response added = sandbox.control(HttpMethod.POST, "/__control/faults", spec);
    assertThat(added.status()).as(added.raw()).isEqualTo(201);
  }

  static String kidOf(String jwt) {
    String header = new String(java.util.Base64.getUrlDecoder().decode(jwt.split("\\.")[0]));
    return new JsonObject(header).getString("kid");
  }
}
