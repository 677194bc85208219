package com.mingus.reliability.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.sandbox.SandboxHarness.Response;
import com.mingus.reliability.testsupport.PlaidSchema;
import com.mingus.reliability.testsupport.SandboxControl;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * /transactions/get, Plaid's older paged endpoint: offset/count paging over the date range reconstructs
 * exactly the sandbox's truth, dates filter inclusively, bad requests answer Plaid's errors, and it goes
 * through the same pipeline (Item and bank state, rate limits, faults) as the other data endpoints.
 */
@ExtendWith(VertxExtension.class)
class SandboxTransactionsGetTest {
  private static final String ALL_FROM = "2000-01-01";
  private static final String ALL_TO = "2030-12-31";
  private SandboxHarness sandbox;

  @BeforeEach
  void start(Vertx vertx) {
    sandbox = SandboxHarness.start(vertx, new JsonObject()
        .put("rate_limits", new JsonObject().put("/transactions/get", new JsonObject().put("per_item_per_minute", 10_000))
            .put("/transactions/sync", new JsonObject().put("per_item_per_minute", 10_000))));
  }

  @AfterEach
  void stop() {
    sandbox.close();
  }

  private static JsonObject request(JsonObject item, String from, String to, JsonObject options) {
    JsonObject body = new JsonObject().put("access_token", item.getString("access_token")).put("start_date", from)
        .put("end_date", to);
    if (options != null) {
      body.put("options", options);
    }
    return body;
  }

  /** A successful call: 200, valid against TransactionsGetResponse (request against TransactionsGetRequest too). */
  private JsonObject get(JsonObject body) {
    SandboxFidelityTest.conforms("TransactionsGetRequest", body.encode());
    Response response = sandbox.plaid("/transactions/get", body);
    assertThat(response.status()).as(response.raw()).isEqualTo(200);
    assertThat(response.json().getString("request_id")).isNotBlank();
    SandboxFidelityTest.conforms("TransactionsGetResponse", response.raw());
    return response.json();
  }

  /** Every page of the range at this page size, in order, checking each page's total on the way. */
  private List<JsonObject> allPages(JsonObject item, String from, String to, int count, int expectedTotal) {
    List<JsonObject> out = new ArrayList<>();
    for (int offset = 0; ; offset += count) {
      JsonObject page = get(request(item, from, to, new JsonObject().put("count", count).put("offset", offset)));
      assertThat(page.getInteger("total_transactions")).isEqualTo(expectedTotal);
      JsonArray transactions = page.getJsonArray("transactions");
      assertThat(transactions.size()).isEqualTo(Math.max(0, Math.min(count, expectedTotal - offset)));
      transactions.forEach(txn -> out.add((JsonObject) txn));
      if (offset + count >= expectedTotal) {
        return out;
      }
    }
  }

  private static Map<String, JsonObject> byId(List<JsonObject> transactions) {
    Map<String, JsonObject> out = new LinkedHashMap<>();
    for (JsonObject txn : transactions) {
      assertThat(out.put(txn.getString("transaction_id"), txn)).as("no transaction twice").isNull();
    }
    return out;
  }

  /**
   * The sandbox's ground truth (GET /__control/items/:id/ground-truth), read with the harness's Vert.x client:
   * testsupport's SandboxControl uses the JDK client, whose h2c upgrade breaks on multi-megabyte answers.
   */
  private JsonObject groundTruthJson(String itemId) {
    Response response = sandbox.control(HttpMethod.GET, "/__control/items/" + itemId + "/ground-truth", null);
    assertThat(response.status()).isEqualTo(200);
    return response.json();
  }

  private Map<String, JsonObject> groundTruth(String itemId) {
    Map<String, JsonObject> out = new HashMap<>();
    groundTruthJson(itemId).getJsonArray("transactions").forEach(txn -> out.put(((JsonObject) txn).getString("transaction_id"),
        (JsonObject) txn));
    return out;
  }

  /** What a user sees of each transaction (SandboxControl's truth form: amount, date, pending). */
  private static Map<String, String> fingerprints(Map<String, JsonObject> transactions) {
    Map<String, String> out = new HashMap<>();
    transactions.forEach((id, txn) -> out.put(id, SandboxControl.fingerprint(String.valueOf(txn.getValue("amount")),
        txn.getString("date"), txn.getBoolean("pending"))));
    return out;
  }

  private static void newestFirst(List<JsonObject> transactions) {
    for (int i = 1; i < transactions.size(); i++) {
      assertThat(transactions.get(i).getString("date")).as("position " + i)
          .isLessThanOrEqualTo(transactions.get(i - 1).getString("date"));
    }
  }

  @Test
  void pagingByOffsetAndCountOverMoreThan500TransactionsReconstructsTheSandboxsTruthExactly() {
    JsonObject item = sandbox.newItem(1_234, null);
    String itemId = item.getString("item_id");

    List<JsonObject> by500 = allPages(item, ALL_FROM, ALL_TO, 500, 1_234);
    Map<String, JsonObject> got = byId(by500);
    Map<String, JsonObject> expected = groundTruth(itemId);
    assertThat(got).isEqualTo(expected);
    assertThat(fingerprints(got)).isEqualTo(fingerprints(expected));
    assertThat(got.values().stream().filter(txn -> txn.getBoolean("pending")).count()).isPositive();
    newestFirst(by500);

    // another page size pages the same order; the default count is 100
    List<JsonObject> by137 = allPages(item, ALL_FROM, ALL_TO, 137, 1_234);
    assertThat(by137).isEqualTo(by500);
    JsonObject defaults = get(request(item, ALL_FROM, ALL_TO, null));
    assertThat(defaults.getJsonArray("transactions")).isEqualTo(new JsonArray(new ArrayList<>(by500.subList(0, 100))));
    JsonObject pastTheEnd = get(request(item, ALL_FROM, ALL_TO, new JsonObject().put("offset", 5_000)));
    assertThat(pastTheEnd.getJsonArray("transactions")).isEmpty();
    assertThat(pastTheEnd.getInteger("total_transactions")).isEqualTo(1_234);
    assertThat(pastTheEnd.getJsonArray("accounts")).isEqualTo(groundTruthJson(itemId).getJsonArray("accounts"));

    // the same transaction objects as /transactions/sync's added
    Map<String, JsonObject> synced = new HashMap<>();
    String cursor = null;
    do {
      JsonObject page = sandbox.sync(item.getString("access_token"), cursor, 500);
      page.getJsonArray("added").forEach(txn -> synced.put(((JsonObject) txn).getString("transaction_id"), (JsonObject) txn));
      cursor = page.getBoolean("has_more") ? page.getString("next_cursor") : null;
    } while (cursor != null);
    assertThat(got).isEqualTo(synced);

    // after every kind of change, still exactly the truth
    sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/transactions",
        new JsonObject().put("added", 7).put("modified", 11).put("removed", 13).put("post_pending", true));
    Map<String, JsonObject> changedTruth = groundTruth(itemId);
    Map<String, JsonObject> changed = byId(allPages(item, ALL_FROM, ALL_TO, 500, changedTruth.size()));
    assertThat(changed).isEqualTo(changedTruth);
    assertThat(fingerprints(changed)).isEqualTo(fingerprints(changedTruth));
  }

  @Test
  void datesFilterInclusivelyAndAccountIdsNarrowTheTransactionsAndAccounts() {
    JsonObject item = sandbox.newItem(new JsonObject().put("institution_id", "ins_109508").put("transactions", 900)
        .put("accounts", 3));
    Map<String, JsonObject> all = groundTruth(item.getString("item_id"));
    String from = "2026-08-01";
    String to = "2026-09-15";
    Set<String> expected = all.values().stream()
        .filter(txn -> txn.getString("date").compareTo(from) >= 0 && txn.getString("date").compareTo(to) <= 0)
        .map(txn -> txn.getString("transaction_id")).collect(Collectors.toSet());
    assertThat(expected).isNotEmpty();
    List<JsonObject> inRange = allPages(item, from, to, 500, expected.size());
    assertThat(byId(inRange).keySet()).isEqualTo(expected);
    newestFirst(inRange);

    String day = inRange.get(0).getString("date");
    long onThatDay = all.values().stream().filter(txn -> txn.getString("date").equals(day)).count();
    JsonObject oneDay = get(request(item, day, day, new JsonObject().put("count", 500)));
    assertThat(oneDay.getInteger("total_transactions")).isEqualTo((int) onThatDay);
    assertThat(oneDay.getJsonArray("transactions").stream().map(JsonObject.class::cast)
        .allMatch(txn -> txn.getString("date").equals(day))).isTrue();

    // today's pending transactions are there too
    JsonObject today = get(request(item, "2026-11-26", "2026-11-27", new JsonObject().put("count", 500)));
    assertThat(today.getJsonArray("transactions").stream().map(JsonObject.class::cast)
        .anyMatch(txn -> txn.getBoolean("pending"))).isTrue();

    String account = groundTruthJson(item.getString("item_id")).getJsonArray("accounts").getJsonObject(1).getString("account_id");
    long onAccount = all.values().stream().filter(txn -> txn.getString("account_id").equals(account)).count();
    JsonObject narrowed = get(request(item, ALL_FROM, ALL_TO,
        new JsonObject().put("count", 500).put("account_ids", new JsonArray().add(account))));
    assertThat(narrowed.getInteger("total_transactions")).isEqualTo((int) onAccount);
    assertThat(narrowed.getJsonArray("transactions").stream().map(JsonObject.class::cast)
        .allMatch(txn -> txn.getString("account_id").equals(account))).isTrue();
    assertThat(narrowed.getJsonArray("accounts")).hasSize(1);
    assertThat(narrowed.getJsonArray("accounts").getJsonObject(0).getString("account_id")).isEqualTo(account);

    JsonObject empty = get(request(item, "2001-01-01", "2001-12-31", new JsonObject().put("include_personal_finance_category", true)));
    assertThat(empty.getJsonArray("transactions")).isEmpty();
    assertThat(empty.getInteger("total_transactions")).isZero();
  }

  private static void plaidError(Response response, int status, String type, String code) {
    assertThat(response.status()).as(response.raw()).isEqualTo(status);
    assertThat(response.json().getString("error_type")).as(response.raw()).isEqualTo(type);
    assertThat(response.json().getString("error_code")).as(response.raw()).isEqualTo(code);
    assertThat(response.json().getString("request_id")).isNotBlank();
    SandboxFidelityTest.conforms(PlaidSchema.PLAID_ERROR, response.raw());
  }

  @Test
  void badDatesCountsAndOptionsAnswerPlaidsInvalidRequestErrors() {
    JsonObject item = sandbox.newItem(20, null);
    for (Object date : new Object[] {"2026-13-01", "2026/01/01", "20260101", "2026-02-30", "2026-1-5", "", 20260101,
        new JsonObject()}) {
      plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO, null).put("start_date", date)), 400,
          "INVALID_REQUEST", "INVALID_FIELD");
      plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO, null).put("end_date", date)), 400,
          "INVALID_REQUEST", "INVALID_FIELD");
    }
    Response backwards = sandbox.plaid("/transactions/get", request(item, "2026-11-01", "2026-10-01", null));
    plaidError(backwards, 400, "INVALID_REQUEST", "INVALID_FIELD");
    assertThat(backwards.json().getString("error_message")).contains("end_date");

    JsonObject noStart = request(item, ALL_FROM, ALL_TO, null);
    noStart.remove("start_date");
    Response missing = sandbox.plaid("/transactions/get", noStart);
    plaidError(missing, 400, "INVALID_REQUEST", "MISSING_FIELDS");
    assertThat(missing.json().getString("error_message")).contains("start_date");

    for (Object count : new Object[] {0, 501, -1, 1.5, "10", true}) {
      plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO, new JsonObject().put("count", count))), 400,
          "INVALID_REQUEST", "INVALID_FIELD");
    }
    for (Object offset : new Object[] {-1, 2.5, "0"}) {
      plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO, new JsonObject().put("offset", offset))), 400,
          "INVALID_REQUEST", "INVALID_FIELD");
    }
    plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO, null).put("options", "all")), 400,
        "INVALID_REQUEST", "INVALID_FIELD");
    plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO,
        new JsonObject().put("include_personal_finance_category", "yes"))), 400, "INVALID_REQUEST", "INVALID_FIELD");
    plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO, new JsonObject().put("colour", "blue"))), 400,
        "INVALID_REQUEST", "UNKNOWN_FIELDS");
    plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO, null).put("cursor", "x")), 400,
        "INVALID_REQUEST", "UNKNOWN_FIELDS");
    plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO,
        new JsonObject().put("account_ids", new JsonArray().add("no-such-account")))), 400, "INVALID_INPUT", "INVALID_ACCOUNT_ID");
    plaidError(sandbox.plaid("/transactions/get", request(item, ALL_FROM, ALL_TO, null).put("access_token", "public-sandbox-x")), 400,
        "INVALID_INPUT", "INVALID_ACCESS_TOKEN");
  }

  @Test
  void itGoesThroughThePipelineOfEveryDataCallItemAndBankStateRateLimitsAndFaults() {
    JsonObject item = sandbox.newItem(30, null);
    String itemId = item.getString("item_id");
    JsonObject body = request(item, ALL_FROM, ALL_TO, null);

    sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/reset-login", new JsonObject());
    plaidError(sandbox.plaid("/transactions/get", body), 400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED");
    sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/repair-login", new JsonObject());
    get(body);

    sandbox.control(HttpMethod.POST, "/__control/institutions/ins_109508/maintenance",
        new JsonObject().put("until", Instant.now().plus(1, ChronoUnit.HOURS).toString()));
    plaidError(sandbox.plaid("/transactions/get", body), 400, "INSTITUTION_ERROR", "INSTITUTION_DOWN");
    sandbox.control(HttpMethod.DELETE, "/__control/institutions/ins_109508/maintenance", null);
    get(body);

    sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject().put("scope", new JsonObject().put("endpoint", "/transactions/get"))
        .put("error_type", "API_ERROR").put("error_code", "INTERNAL_SERVER_ERROR").put("count", 1));
    plaidError(sandbox.plaid("/transactions/get", body), 500, "API_ERROR", "INTERNAL_SERVER_ERROR");
    get(body);

    JsonObject slow = sandbox.newItem(new JsonObject().put("institution_id", "ins_109509").put("transactions", 10)
        .put("ready_after_ms", 60_000));
    plaidError(sandbox.plaid("/transactions/get", request(slow, ALL_FROM, ALL_TO, null)), 400, "ITEM_ERROR", "PRODUCT_NOT_READY");

    sandbox.control(HttpMethod.PUT, "/__control/rate-limits",
        new JsonObject().put("/transactions/get", new JsonObject().put("per_item_per_minute", 2)));
    JsonObject fresh = sandbox.newItem(3, null);
    JsonObject freshBody = request(fresh, ALL_FROM, ALL_TO, null);
    get(freshBody);
    get(freshBody);
    plaidError(sandbox.plaid("/transactions/get", freshBody), 429, "RATE_LIMIT_EXCEEDED", "TRANSACTIONS_LIMIT");
    JsonObject stats = sandbox.control(HttpMethod.GET, "/__control/stats", null).json();
    assertThat(stats.getJsonObject("endpoints").getJsonObject("/transactions/get").getInteger("rate_limited")).isEqualTo(1);
    assertThat(stats.getJsonObject("items").getJsonObject(fresh.getString("item_id")).getInteger("requests")).isEqualTo(3);

    sandbox.plaid("/item/remove", new JsonObject().put("access_token", item.getString("access_token")));
    plaidError(sandbox.plaid("/transactions/get", body), 400, "ITEM_ERROR", "ITEM_NOT_FOUND");
  }
}
