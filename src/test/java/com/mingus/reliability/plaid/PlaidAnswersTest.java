package com.mingus.reliability.plaid;

import static com.mingus.reliability.plaid.ScriptedPlaid.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.PlaidFailure;
import com.mingus.reliability.bus.TransportFailure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Answers become typed results; hostile answers become a PlaidException, never anything else. */
@ExtendWith(VertxExtension.class)
class PlaidAnswersTest {
  static final String TOKEN = PlaidClientFailuresTest.TOKEN;

  static JsonObject transaction(String id, double amount, boolean pending, String pendingId) {
    return new JsonObject().put("transaction_id", id).put("account_id", "acc-1").put("amount", amount)
        .put("iso_currency_code", "USD").put("date", "2026-11-20").put("pending", pending)
        .put("pending_transaction_id", pendingId).put("name", "Coffee").put("merchant_name", "Bean There")
        .put("personal_finance_category", new JsonObject().put("primary", "FOOD_AND_DRINK"));
  }

  @Test
  void aSyncPageKeepsWholeTransactionsWithTypedAccessors(Vertx vertx, VertxTestContext ctx) {
    JsonObject page = new JsonObject()
        .put("added", new JsonArray().add(transaction("tx-posted", 4.35, false, "tx-pending")).add("not an object"))
        .put("modified", new JsonArray().add(transaction("tx-mod", -1200.10, false, null)))
        .put("removed", new JsonArray().add(new JsonObject().put("transaction_id", "tx-pending").put("account_id", "acc-1")))
        .put("accounts", new JsonArray().add(new JsonObject().put("account_id", "acc-1").put("name", "Checking")
            .put("balances", new JsonObject().put("available", 0.1).put("current", 1234567.89).put("limit", (Object) null)
                .put("iso_currency_code", "USD"))))
        .put("next_cursor", "cursor-2").put("has_more", true)
        .put("transactions_update_status", "SOMETHING_NEW").put("request_id", "req-sync");
    ScriptedPlaid.start(vertx).onComplete(ctx.succeeding(server -> {
      server.on("/transactions/sync", json(200, page));
      PlaidClient client = PlaidClient.create(vertx, PlaidClientFailuresTest.config(server.baseUrl()));
      client.syncTransactions(TOKEN, "cursor-1", 2).onComplete(ctx.succeeding(result -> ctx.verify(() -> {
        assertThat(server.last().json()).isEqualTo(new JsonObject().put("access_token", TOKEN).put("count", 2).put("cursor", "cursor-1"));
        assertThat(result.added()).hasSize(1);
        Transaction posted = result.added().get(0);
        assertThat(posted.transactionId()).isEqualTo("tx-posted");
        assertThat(posted.accountId()).isEqualTo("acc-1");
        assertThat(posted.amount()).isEqualByComparingTo(new BigDecimal("4.35"));
        assertThat(posted.date()).isEqualTo(LocalDate.of(2026, 11, 20));
        assertThat(posted.pending()).isFalse();
        assertThat(posted.pendingTransactionId()).isEqualTo("tx-pending");
        assertThat(posted.json().getString("merchant_name")).isEqualTo("Bean There");
        assertThat(posted.json()).isEqualTo(transaction("tx-posted", 4.35, false, "tx-pending"));
        assertThat(result.modified().get(0).amount()).isEqualByComparingTo(new BigDecimal("-1200.10"));
        assertThat(result.modified().get(0).pendingTransactionId()).isNull();
        assertThat(result.removed()).containsExactly(new RemovedTransaction("tx-pending", "acc-1"));
        assertThat(result.accounts().get(0).balances().current()).isEqualByComparingTo(new BigDecimal("1234567.89"));
        assertThat(result.accounts().get(0).balances().limit()).isNull();
        assertThat(result.nextCursor()).isEqualTo("cursor-2");
        assertThat(result.hasMore()).isTrue();
        assertThat(result.transactionsUpdateStatus()).isEqualTo("SOMETHING_NEW");
        assertThat(result.requestId()).isEqualTo("req-sync");
        client.close();
        ctx.completeNow();
      })));
    }));
  }

  @Test
  void anInstitutionCarriesItsStatusAndIncidents(Vertx vertx, VertxTestContext ctx) {
    JsonObject breakdown = new JsonObject().put("success", 0.7).put("error_plaid", 0.1).put("error_institution", 0.2)
        .put("refresh_interval", "DELAYED");
    JsonObject institution = new JsonObject().put("institution_id", "ins_3").put("name", "Chase")
        .put("products", new JsonArray().add("transactions")).put("country_codes", new JsonArray().add("US"))
        .put("oauth", true).put("routing_numbers", new JsonArray())
        .put("status", new JsonObject()
            .put("item_logins", new JsonObject().put("status", "DEGRADED").put("last_status_change", "2026-11-29T06:00:00Z").put("breakdown", breakdown))
            .put("transactions_updates", new JsonObject().put("status", "DOWN").put("last_status_change", "2026-11-29T05:00:00Z").put("breakdown", breakdown))
            .put("health_incidents", new JsonArray().add(new JsonObject().put("start_date", "2026-11-29T04:00:00Z")
                .put("end_date", (Object) null).put("title", "Login failures")
                .put("incident_updates", new JsonArray().add(new JsonObject().put("description", "investigating")
                    .put("status", "INVESTIGATING").put("updated_date", "2026-11-29T04:10:00Z"))))));
    ScriptedPlaid.start(vertx).onComplete(ctx.succeeding(server -> {
      server.on("/institutions/get_by_id", json(200, new JsonObject().put("institution", institution).put("request_id", "r")));
      PlaidClient client = PlaidClient.create(vertx, PlaidClientFailuresTest.config(server.baseUrl()));
      client.getInstitution("ins_3", null, true).onComplete(ctx.succeeding(result -> ctx.verify(() -> {
        assertThat(server.last().json().getJsonObject("options").getBoolean("include_status")).isTrue();
        assertThat(result.name()).isEqualTo("Chase");
        assertThat(result.oauth()).isTrue();
        assertThat(result.status().itemLogins().status()).isEqualTo("DEGRADED");
        assertThat(result.status().transactionsUpdates().status()).isEqualTo("DOWN");
        assertThat(result.status().transactionsUpdates().breakdown().refreshInterval()).isEqualTo("DELAYED");
        assertThat(result.status().transactionsUpdates().breakdown().errorInstitution()).isEqualTo(0.2);
        assertThat(result.status().healthIncidents()).hasSize(1);
        assertThat(result.status().healthIncidents().get(0).endDate()).isNull();
        assertThat(result.status().healthIncidents().get(0).updates().get(0).status()).isEqualTo("INVESTIGATING");
        client.close();
        ctx.completeNow();
      })));
    }));
  }

  @Test
  void aPlaidFailureCrossesTheBusAsPlaidShapedJson() {
    PlaidFailure failure = new PlaidFailure("/item/get", "ITEM_ERROR", "ITEM_LOGIN_REQUIRED", "login required",
        "Please log in again", "OAUTH_CONSENT_EXPIRED", "req-1", 400, 30L, null);
    JsonObject json = failure.toJson();
    assertThat(json.fieldNames()).contains("error_type", "error_code", "error_message", "display_message",
        "error_code_reason", "request_id", "http_status", "retry_after_s", "endpoint");
    assertThat(PlaidFailure.fromJson(json)).isEqualTo(failure);
    assertThat(PlaidFailure.fromJson(new JsonObject().put("transport", "SOMETHING_NEWER").put("http_status", "x")))
        .satisfies(parsed -> {
          assertThat(parsed.transport()).isEqualTo(TransportFailure.OTHER);
          assertThat(parsed.httpStatus()).isNull();
        });
    PlaidFailure transport = PlaidFailure.transport("/transactions/sync", TransportFailure.TIMEOUT, null);
    assertThat(transport.isPlaidError()).isFalse();
    assertThat(PlaidFailure.fromJson(transport.toJson())).isEqualTo(transport);
  }

  /** Bodies no honest server sends: each must end in a result or a PlaidException, never anything else. */
  static List<Buffer> hostileBodies(long seed) {
    List<Buffer> bodies = new ArrayList<>();
    for (String text : List.of("", " ", "null", "42", "\"text\"", "true", "[]", "[{}]", "{}", "{\"error_type\":", "{'a':1}",
        "{\"a\": NaN}", "{\"amount\": 1e999999}", "{\"x\": \"\\ud800\"}", "[".repeat(5_000), "{\"a\":".repeat(3_000))) {
      bodies.add(Buffer.buffer(text));
    }
    bodies.add(Buffer.buffer(new byte[] {(byte) 0xff, (byte) 0xfe, '{', '}'}));
    Object[] wrong = {42, -1.5, "text", true, new JsonArray().add(1), new JsonObject().put("k", "v"), null, Long.MAX_VALUE};
    List<String> fields = List.of("access_token", "item_id", "item", "status", "accounts", "added", "modified", "removed",
        "next_cursor", "has_more", "institution", "link_token", "expiration", "key", "public_token", "reset_login",
        "webhook_fired", "request_id", "error_type", "error_code", "error_message", "display_message", "causes",
        "transaction_id", "amount", "date", "pending", "balances", "current", "breakdown", "health_incidents",
        "item_logins", "kid", "x", "y", "created_at", "consent_expiration_time", "error");
    Random random = new Random(seed);
    JsonObject seedObject = new JsonObject()
        .put("access_token", TOKEN).put("item_id", "i").put("request_id", "r").put("public_token", "p").put("link_token", "l")
        .put("item", new JsonObject().put("item_id", "i").put("error", new JsonObject().put("error_type", "ITEM_ERROR")))
        .put("accounts", new JsonArray().add(new JsonObject().put("account_id", "a").put("balances", new JsonObject().put("current", 1))))
        .put("added", new JsonArray().add(transaction("t", 1, false, null))).put("modified", new JsonArray()).put("removed", new JsonArray())
        .put("next_cursor", "c").put("has_more", false)
        .put("institution", new JsonObject().put("institution_id", "ins").put("status", new JsonObject()
            .put("item_logins", new JsonObject().put("status", "HEALTHY").put("breakdown", new JsonObject().put("success", 1)))))
        .put("key", new JsonObject().put("kid", "k").put("x", "x").put("y", "y").put("created_at", 1))
        .put("error_type", "ITEM_ERROR").put("error_code", "ITEM_LOGIN_REQUIRED");
    for (int i = 0; i < 40; i++) {
      JsonObject mutated = seedObject.copy();
      for (int j = 0; j < 1 + random.nextInt(4); j++) {
        mutate(mutated, fields.get(random.nextInt(fields.size())), wrong[random.nextInt(wrong.length)], 0);
      }
      bodies.add(mutated.toBuffer());
    }
    return bodies;
  }

  /** Puts the value at every occurrence of the field, at any depth. */
  private static void mutate(Object node, String field, Object value, int depth) {
    if (depth > 6) {
      return;
    }
    if (node instanceof JsonObject object) {
      for (String key : List.copyOf(object.fieldNames())) {
        if (key.equals(field)) {
          object.put(key, value);
        } else {
          mutate(object.getValue(key), field, value, depth + 1);
        }
      }
    } else if (node instanceof JsonArray array) {
      for (Object entry : array) {
        mutate(entry, field, value, depth + 1);
      }
    }
  }

  @Test
  void hostileBodiesNeverEscapeAsAnythingButAPlaidException(Vertx vertx, VertxTestContext ctx) {
    List<Buffer> bodies = hostileBodies(20261129L);
    AtomicReference<Buffer> nextBody = new AtomicReference<>();
    AtomicInteger nextStatus = new AtomicInteger(200);
    ScriptedPlaid.start(vertx).onComplete(ctx.succeeding(server -> {
      PlaidClient client = PlaidClient.create(vertx, PlaidClientFailuresTest.config(server.baseUrl()));
      List<Supplier<Future<?>>> endpoints = List.of(
          () -> client.exchangePublicToken("public-sandbox-x"), () -> client.getItem(TOKEN), () -> client.removeItem(TOKEN),
          () -> client.getAccounts(TOKEN), () -> client.getBalances(TOKEN, null), () -> client.syncTransactions(TOKEN, null, 100),
          () -> client.refreshTransactions(TOKEN), () -> client.getInstitution("ins", null, true),
          () -> client.createUpdateLinkToken(LinkUpdateRequest.of(TOKEN, "MINGUS", "u")),
          () -> client.getWebhookVerificationKey("k"), () -> client.createSandboxPublicToken(SandboxPublicTokenRequest.of("ins")),
          () -> client.resetSandboxLogin(TOKEN), () -> client.fireSandboxWebhook(TOKEN, "ITEM", "ERROR"));
      for (String path : List.of("/item/public_token/exchange", "/item/get", "/item/remove", "/accounts/get",
          "/accounts/balance/get", "/transactions/sync", "/transactions/refresh", "/institutions/get_by_id",
          "/link/token/create", "/webhook_verification_key/get", "/sandbox/public_token/create",
          "/sandbox/item/reset_login", "/sandbox/item/fire_webhook")) {
        server.on(path, (request, ignored) -> request.response().setStatusCode(nextStatus.get()).end(nextBody.get()));
      }
      List<String> escapes = new ArrayList<>();
      AtomicInteger outcomes = new AtomicInteger();
      Future<Void> chain = Future.succeededFuture();
      for (int status : new int[] {200, 400}) {
        for (Buffer body : bodies) {
          for (Supplier<Future<?>> endpoint : endpoints) {
            chain = chain.compose(ignored -> {
              nextStatus.set(status);
              nextBody.set(body);
              return endpoint.get().transform(done -> {
                outcomes.incrementAndGet();
                if (done.failed() && !(done.cause() instanceof PlaidException)) {
                  escapes.add(status + " " + done.cause() + " for " + body.toString().substring(0, Math.min(80, body.length())));
                } else if (done.failed()) {
                  ((PlaidException) done.cause()).toFailure().toJson().encode();
                  // the client's last-resort catch firing means a lenient reader threw: a bug to fix
                  if (done.cause().getMessage().contains("answer unreadable")) {
                    escapes.add(status + " reader threw: " + done.cause().getMessage());
                  }
                } else if (done.result() instanceof SyncPage page) {
                  page.added().forEach(t -> List.of(String.valueOf(t.amount()), String.valueOf(t.date()), String.valueOf(t.pending())));
                }
                return Future.<Void>succeededFuture();
              });
            });
          }
        }
      }
      int expected = 2 * bodies.size() * endpoints.size();
      chain.onComplete(ctx.succeeding(done -> ctx.verify(() -> {
        assertThat(outcomes.get()).isEqualTo(expected);
        assertThat(escapes).isEmpty();
        client.close();
        ctx.completeNow();
      })));
    }));
  }

  @Test
  void aPlaidErrorReadsLenientlyWhateverItsFieldTypes() {
    PlaidError error = PlaidError.fromJson(new JsonObject(Map.of("error_type", 7, "error_code", List.of(1), "causes", "oops",
        "status", "400", "display_message", new JsonObject())));
    assertThat(error.errorType()).isEqualTo("7");
    assertThat(error.errorCode()).isNull();
    assertThat(error.causes()).isEmpty();
    assertThat(error.status()).isNull();
    assertThat(error.displayMessage()).isNull();
  }
}
