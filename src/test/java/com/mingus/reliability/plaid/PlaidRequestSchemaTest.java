package com.mingus.reliability.plaid;

import static com.mingus.reliability.plaid.ScriptedPlaid.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every request body the client sends, captured by a local server, validates against the request schema
 * of Plaid's OpenAPI file, and declares no field the schema does not know.
 */
@ExtendWith(VertxExtension.class)
class PlaidRequestSchemaTest {
  static final String TOKEN = PlaidClientFailuresTest.TOKEN;

  @BeforeAll
  static void loadSchemas() {
    OpenApiSchemas.violations("ItemGetRequest", new JsonObject().put("access_token", TOKEN));
  }

  @Test
  void everyRequestTheClientSendsValidatesAgainstPlaidsSchema(Vertx vertx, VertxTestContext ctx) {
    ScriptedPlaid.start(vertx).onComplete(ctx.succeeding(server -> {
      script(server);
      PlaidClient client = PlaidClient.create(vertx, PlaidClientFailuresTest.config(server.baseUrl()));
      // path -> (schema, call); calls run one after another so captured bodies line up with paths
      Map<String, Map.Entry<String, Supplier<Future<?>>>> calls = new LinkedHashMap<>();
      calls.put("/item/public_token/exchange", Map.entry("ItemPublicTokenExchangeRequest",
          () -> client.exchangePublicToken("public-sandbox-0a1b2c")));
      calls.put("/item/get", Map.entry("ItemGetRequest", () -> client.getItem(TOKEN)));
      calls.put("/item/remove", Map.entry("ItemRemoveRequest", () -> client.removeItem(TOKEN)));
      calls.put("/accounts/get", Map.entry("AccountsGetRequest", () -> client.getAccounts(TOKEN)));
      calls.put("/accounts/balance/get", Map.entry("AccountsBalanceGetRequest",
          () -> client.getBalances(TOKEN, List.of("acc-1", "acc-2"))));
      calls.put("/transactions/sync", Map.entry("TransactionsSyncRequest",
          () -> client.syncTransactions(new SyncRequest(TOKEN, "cursor-abc", 500, 730))));
      calls.put("/transactions/refresh", Map.entry("TransactionsRefreshRequest", () -> client.refreshTransactions(TOKEN)));
      calls.put("/institutions/get_by_id", Map.entry("InstitutionsGetByIdRequest",
          () -> client.getInstitution("ins_109508", List.of("US", "CA"), true)));
      calls.put("/link/token/create", Map.entry("LinkTokenCreateRequest",
          () -> client.createUpdateLinkToken(new LinkUpdateRequest(TOKEN, "MINGUS", "en", List.of("US"), "user-7",
              "https://mingus.example/api/plaid/webhook", "https://mingus.example/oauth", true))));
      calls.put("/webhook_verification_key/get", Map.entry("WebhookVerificationKeyGetRequest",
          () -> client.getWebhookVerificationKey("6c5516e1-92dc-479e-a8ff-5a51992e0001")));
      calls.put("/sandbox/public_token/create", Map.entry("SandboxPublicTokenCreateRequest",
          () -> client.createSandboxPublicToken(new SandboxPublicTokenRequest("ins_109508", List.of("transactions"),
              "https://mingus.example/api/plaid/webhook", "user_transactions_dynamic",
              LocalDate.parse("2026-01-01"), LocalDate.parse("2026-11-01")))));
      calls.put("/sandbox/item/reset_login", Map.entry("SandboxItemResetLoginRequest", () -> client.resetSandboxLogin(TOKEN)));
      calls.put("/sandbox/item/fire_webhook", Map.entry("SandboxItemFireWebhookRequest",
          () -> client.fireSandboxWebhook(TOKEN, "TRANSACTIONS", "SYNC_UPDATES_AVAILABLE")));

      Future<Void> chain = Future.succeededFuture();
      for (Map.Entry<String, Map.Entry<String, Supplier<Future<?>>>> call : calls.entrySet()) {
        chain = chain.compose(ignored -> call.getValue().getValue().get().mapEmpty());
      }
      chain.onComplete(ctx.succeeding(done -> ctx.verify(() -> {
        List<ScriptedPlaid.Received> received = server.received();
        assertThat(received).extracting(ScriptedPlaid.Received::path).containsExactlyElementsOf(calls.keySet());
        List<String> problems = new ArrayList<>();
        for (ScriptedPlaid.Received request : received) {
          String schema = calls.get(request.path()).getKey();
          OpenApiSchemas.violations(schema, request.json()).forEach(v -> problems.add(request.path() + " " + schema + ": " + v));
        }
        assertThat(problems).isEmpty();
        client.close();
        ctx.completeNow();
      })));
    }));
  }

  @Test
  void theValidatorRejectsWhatPlaidWouldReject() {
    assertThat(OpenApiSchemas.violations("TransactionsSyncRequest", new JsonObject().put("count", 0)))
        .anyMatch(v -> v.contains("access_token"))
        .anyMatch(v -> v.contains("count"));
    assertThat(OpenApiSchemas.violations("TransactionsSyncRequest",
        new JsonObject().put("access_token", TOKEN).put("acess_token_typo", "x")))
        .anyMatch(v -> v.contains("acess_token_typo"));
    assertThat(OpenApiSchemas.violations("InstitutionsGetByIdRequest",
        new JsonObject().put("institution_id", "ins_1").put("country_codes", new JsonArray().add("US"))
            .put("options", new JsonObject().put("include_status", "yes"))))
        .anyMatch(v -> v.contains("include_status"));
    // nullable (OpenAPI 3.0) is honoured: a null where the schema says nullable is fine
    assertThat(OpenApiSchemas.violations("TransactionsSyncRequest", new JsonObject().put("access_token", TOKEN)
        .put("options", new JsonObject().put("include_original_description", (Object) null)))).isEmpty();
  }

  private static void script(ScriptedPlaid server) {
    JsonObject account = new JsonObject().put("account_id", "acc-1").put("name", "Checking").put("mask", "0000")
        .put("official_name", (Object) null).put("type", "depository").put("subtype", "checking")
        .put("balances", new JsonObject().put("available", 100.5).put("current", 110.25).put("limit", (Object) null)
            .put("iso_currency_code", "USD").put("unofficial_currency_code", (Object) null));
    server.on("/item/public_token/exchange", json(200, new JsonObject().put("access_token", TOKEN).put("item_id", "item-1").put("request_id", "r")));
    server.on("/item/get", json(200, new JsonObject().put("item", new JsonObject().put("item_id", "item-1")).put("request_id", "r")));
    server.on("/item/remove", json(200, new JsonObject().put("request_id", "r")));
    server.on("/accounts/get", json(200, new JsonObject().put("accounts", new JsonArray().add(account)).put("request_id", "r")));
    server.on("/accounts/balance/get", json(200, new JsonObject().put("accounts", new JsonArray().add(account)).put("request_id", "r")));
    server.on("/transactions/sync", json(200, new JsonObject().put("added", new JsonArray()).put("modified", new JsonArray())
        .put("removed", new JsonArray()).put("accounts", new JsonArray()).put("next_cursor", "c2").put("has_more", false)
        .put("transactions_update_status", "HISTORICAL_UPDATE_COMPLETE").put("request_id", "r")));
    server.on("/transactions/refresh", json(200, new JsonObject().put("request_id", "r")));
    server.on("/institutions/get_by_id", json(200, new JsonObject().put("institution", new JsonObject()
        .put("institution_id", "ins_109508").put("name", "First Platypus Bank")).put("request_id", "r")));
    server.on("/link/token/create", json(200, new JsonObject().put("link_token", "link-sandbox-123")
        .put("expiration", "2026-11-29T12:00:00Z").put("request_id", "r")));
    server.on("/webhook_verification_key/get", json(200, new JsonObject().put("key", new JsonObject()
        .put("alg", "ES256").put("crv", "P-256").put("kid", "6c5516e1-92dc-479e-a8ff-5a51992e0001").put("kty", "EC")
        .put("use", "sig").put("x", "x-coord").put("y", "y-coord").put("created_at", 1_700_000_000).put("expired_at", (Object) null))
        .put("request_id", "r")));
    server.on("/sandbox/public_token/create", json(200, new JsonObject().put("public_token", "public-sandbox-1").put("request_id", "r")));
    server.on("/sandbox/item/reset_login", json(200, new JsonObject().put("reset_login", true).put("request_id", "r")));
    server.on("/sandbox/item/fire_webhook", json(200, new JsonObject().put("webhook_fired", true).put("request_id", "r")));
  }
}
