package com.mingus.reliability.plaid;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.PlaidFailure;
import com.mingus.reliability.bus.TransportFailure;
import com.mingus.reliability.sandbox.SandboxVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The client against the real sandbox verticle over HTTP: Items made and synced to the sandbox's ground
 * truth, and the sandbox's Plaid errors, rate limits and transport faults reported as they should be.
 * Steps run on the JUnit thread and wait for each answer (never on an event loop).
 */
@ExtendWith(VertxExtension.class)
class PlaidClientAgainstSandboxTest {
  static final String CLIENT_ID = "sandbox-test-client";
  static final String SECRET = "sandbox-test-secret-0123456789";

  private PlaidClient client;
  private WebClient control;
  private int port;

  @BeforeEach
  void start(Vertx vertx) {
    SandboxVerticle sandbox = new SandboxVerticle();
    JsonObject config = new JsonObject().put("port", 0).put("seed", 42).put("client_id", CLIENT_ID).put("secret", SECRET)
        .put("today", "2026-11-27").put("default_transactions", 250).put("hang_ms", 30_000);
    await(vertx.deployVerticle(sandbox, new DeploymentOptions().setConfig(config)));
    port = sandbox.port();
    client = client(vertx, 10_000, 20_000);
    control = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
  }

  /** A client of the sandbox; generous timeouts unless a test wants a TIMEOUT. */
  private PlaidClient client(Vertx vertx, long idleMs, long totalMs) {
    return PlaidClient.create(vertx, new JsonObject().put("base_url", "http://127.0.0.1:" + port)
        .put("client_id", CLIENT_ID).put("secret", SECRET).put("version", "2020-09-14")
        .put("timeouts", new JsonObject().put("connect_ms", 5_000).put("idle_ms", idleMs).put("total_ms", totalMs)));
  }

  @AfterEach
  void stop() {
    client.close();
    control.close();
  }

  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException("no answer: " + e, e);
    }
  }

  static PlaidException failure(Future<?> future) {
    try {
      await(future);
    } catch (PlaidException expected) {
      return expected;
    }
    throw new AssertionError("expected a PlaidException");
  }

  private JsonObject control(HttpMethod method, String path, JsonObject body) {
    HttpResponse<Buffer> response = await(body == null ? control.request(method, path).send()
        : control.request(method, path).sendJsonObject(body));
    assertThat(response.statusCode()).as(path + " " + response.bodyAsString()).isBetween(200, 299);
    return response.bodyAsJsonObject();
  }

  private PublicTokenExchange newItem() {
    SandboxPublicToken publicToken = await(client.createSandboxPublicToken(SandboxPublicTokenRequest.of("ins_109508")));
    PublicTokenExchange exchanged = await(client.exchangePublicToken(publicToken.publicToken()));
    assertThat(exchanged.accessToken()).startsWith("access-sandbox-");
    return exchanged;
  }

  @Test
  void syncingEveryPageAtACountOfOneHundredEndsEqualToTheGroundTruth() {
    PublicTokenExchange item = newItem();
    Map<String, JsonObject> held = new HashMap<>();
    List<Account> accounts = List.of();
    String cursor = null;
    int pages = 0;
    SyncPage page;
    do {
      page = await(client.syncTransactions(item.accessToken(), cursor, 100));
      pages++;
      page.added().forEach(t -> held.put(t.transactionId(), t.json()));
      page.modified().forEach(t -> held.put(t.transactionId(), t.json()));
      page.removed().forEach(r -> held.remove(r.transactionId()));
      assertThat(page.added().size() + page.modified().size() + page.removed().size()).isLessThanOrEqualTo(100);
      accounts = page.accounts();
      cursor = page.nextCursor();
    } while (page.hasMore());
    assertThat(pages).isGreaterThanOrEqualTo(3);
    assertThat(page.transactionsUpdateStatus()).isNotBlank();

    JsonObject truth = control(HttpMethod.GET, "/__control/items/" + item.itemId() + "/ground-truth", null);
    Map<String, JsonObject> expected = new HashMap<>();
    truth.getJsonArray("transactions").forEach(t -> expected.put(((JsonObject) t).getString("transaction_id"), (JsonObject) t));
    assertThat(expected).hasSize(250);
    assertThat(held).isEqualTo(expected);
    JsonArray truthAccounts = truth.getJsonArray("accounts");
    assertThat(accounts).extracting(Account::accountId)
        .containsExactlyInAnyOrderElementsOf(truthAccounts.stream().map(a -> ((JsonObject) a).getString("account_id")).toList());
    for (Account account : accounts) {
      JsonObject balances = truthAccounts.stream().map(JsonObject.class::cast)
          .filter(a -> a.getString("account_id").equals(account.accountId())).findFirst().orElseThrow().getJsonObject("balances");
      if (balances.getValue("current") != null) {
        assertThat(account.balances().current()).isEqualByComparingTo(balances.getValue("current").toString());
      }
    }

    // typed accessors agree with the raw Plaid objects the engine will store
    Transaction any = Transaction.fromJson(expected.values().iterator().next());
    assertThat(any.amount()).isNotNull();
    assertThat(any.date()).isNotNull();
    assertThat(any.accountId()).isIn(accounts.stream().map(Account::accountId).toList());

    // and a second pass from the final cursor has nothing new
    SyncPage after = await(client.syncTransactions(item.accessToken(), cursor, 100));
    assertThat(after.added()).isEmpty();
    assertThat(after.hasMore()).isFalse();
  }

  @Test
  void anItemNotReadyYetAnswersEmptyPagesThenItsHistoryFromTheStart() throws Exception {
    JsonObject created = control(HttpMethod.POST, "/__control/items", new JsonObject().put("institution_id", "ins_109508")
        .put("transactions", 30).put("ready_after_ms", 600));
    PublicTokenExchange item = await(client.exchangePublicToken(created.getString("public_token")));
    SyncPage early = await(client.syncTransactions(item.accessToken(), null, 100));
    assertThat(early.transactionsUpdateStatus()).isEqualTo("NOT_READY");
    assertThat(early.added()).isEmpty();
    assertThat(early.nextCursor()).isEmpty();
    assertThat(early.hasMore()).isFalse();
    // ask again until the Item's initial pull is done; the empty cursor it handed out means "from the start":
    // the client sends none, and the first ready page carries the whole history
    java.util.concurrent.atomic.AtomicReference<SyncPage> page = new java.util.concurrent.atomic.AtomicReference<>();
    com.mingus.reliability.testsupport.Await.until(() -> {
      page.set(await(client.syncTransactions(item.accessToken(), early.nextCursor(), 100)));
      return !"NOT_READY".equals(page.get().transactionsUpdateStatus());
    }, java.time.Duration.ofSeconds(10), "the Item's initial pull completes");
    SyncPage ready = page.get();
    assertThat(ready.added()).hasSize(30);
    assertThat(ready.transactionsUpdateStatus()).isNotEqualTo("NOT_READY");
  }

  @Test
  void theOtherEndpointsAnswerTyped() {
    PublicTokenExchange item = newItem();
    ItemGetResult got = await(client.getItem(item.accessToken()));
    assertThat(got.item().itemId()).isEqualTo(item.itemId());
    assertThat(got.item().institutionId()).isEqualTo("ins_109508");
    assertThat(got.item().error()).isNull();

    AccountsResult accounts = await(client.getAccounts(item.accessToken()));
    assertThat(accounts.accounts()).isNotEmpty().allSatisfy(a -> assertThat(a.balances()).isNotNull());
    AccountsResult balances = await(client.getBalances(item.accessToken(), List.of(accounts.accounts().get(0).accountId())));
    assertThat(balances.accounts()).extracting(Account::accountId).containsExactly(accounts.accounts().get(0).accountId());

    Institution institution = await(client.getInstitution("ins_109508", List.of("US"), true));
    assertThat(institution.name()).isEqualTo("First Platypus Bank");
    assertThat(institution.status()).isNotNull();
    assertThat(institution.status().itemLogins()).isNotNull();

    LinkToken link = await(client.createUpdateLinkToken(LinkUpdateRequest.of(item.accessToken(), "MINGUS", "user-1")));
    assertThat(link.linkToken()).isNotBlank();
    assertThat(await(client.refreshTransactions(item.accessToken()))).isNotBlank();

    PlaidException badKey = failure(client.getWebhookVerificationKey("no-such-key"));
    assertThat(badKey.error().errorType()).isEqualTo("INVALID_INPUT");

    assertThat(await(client.removeItem(item.accessToken()))).isNotBlank();
    PlaidException removed = failure(client.getItem(item.accessToken()));
    assertThat(removed.isPlaidError()).isTrue();
    assertThat(removed.httpStatus()).isBetween(400, 499);
  }

  @Test
  void resetLoginIsReportedAsItemLoginRequired() {
    PublicTokenExchange item = newItem();
    assertThat(await(client.resetSandboxLogin(item.accessToken()))).isTrue();

    PlaidException sync = failure(client.syncTransactions(item.accessToken(), null, 100));
    assertThat(sync.httpStatus()).isEqualTo(400);
    assertThat(sync.error().errorType()).isEqualTo("ITEM_ERROR");
    assertThat(sync.error().errorCode()).isEqualTo("ITEM_LOGIN_REQUIRED");
    assertThat(sync.requestId()).isNotBlank();
    PlaidFailure onTheBus = PlaidFailure.fromJson(sync.toFailure().toJson());
    assertThat(onTheBus.errorCode()).isEqualTo("ITEM_LOGIN_REQUIRED");
    assertThat(onTheBus.httpStatus()).isEqualTo(400);
    assertThat(onTheBus.endpoint()).isEqualTo("/transactions/sync");

    ItemGetResult got = await(client.getItem(item.accessToken()));
    assertThat(got.item().error()).isNotNull();
    assertThat(got.item().error().errorCode()).isEqualTo("ITEM_LOGIN_REQUIRED");
    // update mode is how the user repairs it
    assertThat(await(client.createUpdateLinkToken(LinkUpdateRequest.of(item.accessToken(), "MINGUS", "user-1"))).linkToken())
        .isNotBlank();
  }

  @Test
  void injectedFaultsAndRateLimitsAreReportedAsPlaidSentThem() {
    PublicTokenExchange item = newItem();
    control(HttpMethod.POST, "/__control/faults", new JsonObject().put("scope", new JsonObject().put("endpoint", "/accounts/get"))
        .put("error_type", "API_ERROR").put("error_code", "INTERNAL_SERVER_ERROR").put("http_status", 500).put("count", 1));
    PlaidException internal = failure(client.getAccounts(item.accessToken()));
    assertThat(internal.httpStatus()).isEqualTo(500);
    assertThat(internal.error().errorType()).isEqualTo("API_ERROR");
    assertThat(internal.error().errorCode()).isEqualTo("INTERNAL_SERVER_ERROR");
    assertThat(await(client.getAccounts(item.accessToken())).accounts()).isNotEmpty();

    control(HttpMethod.POST, "/__control/faults", new JsonObject().put("scope", new JsonObject().put("item_id", item.itemId()))
        .put("error_type", "RATE_LIMIT_EXCEEDED").put("error_code", "TRANSACTIONS_SYNC_LIMIT").put("http_status", 429).put("count", 1));
    PlaidException limited = failure(client.syncTransactions(item.accessToken(), null, 100));
    assertThat(limited.httpStatus()).isEqualTo(429);
    assertThat(limited.error().errorType()).isEqualTo("RATE_LIMIT_EXCEEDED");
    assertThat(limited.toFailure().errorCode()).isEqualTo("TRANSACTIONS_SYNC_LIMIT");

    // the sandbox's own limit: /transactions/refresh allows 2 per Item per minute
    await(client.refreshTransactions(item.accessToken()));
    await(client.refreshTransactions(item.accessToken()));
    PlaidException refreshLimited = failure(client.refreshTransactions(item.accessToken()));
    assertThat(refreshLimited.httpStatus()).isEqualTo(429);
    assertThat(refreshLimited.error().errorCode()).isEqualTo("TRANSACTIONS_REFRESH_LIMIT");
  }

  @Test
  void injectedTransportFaultsAreClassified(Vertx vertx) {
    PublicTokenExchange item = newItem();
    PlaidClient tight = client(vertx, 1_000, 3_000);
    Map<String, TransportFailure> expected = Map.of("reset", TransportFailure.CONNECTION_RESET,
        "garbage", TransportFailure.NOT_JSON, "hang", TransportFailure.TIMEOUT);
    expected.forEach((transport, kind) -> {
      control(HttpMethod.POST, "/__control/faults", new JsonObject()
          .put("scope", new JsonObject().put("endpoint", "/item/get")).put("transport", transport).put("count", 1));
      PlaidException failed = failure(tight.getItem(item.accessToken()));
      assertThat(failed.transport()).as(transport).isEqualTo(kind);
      assertThat(failed.error()).isNull();
    });
    assertThat(await(tight.getItem(item.accessToken())).item().itemId()).isEqualTo(item.itemId());
    tight.close();
  }
}
