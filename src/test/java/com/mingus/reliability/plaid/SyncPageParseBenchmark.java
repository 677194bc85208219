package com.mingus.reliability.plaid;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What reading a /transactions/sync page costs: the client's typed, lenient reading (decode, the
 * Plaid-object checks, typed records, private copies of every transaction) beside the peer that any client
 * pays, Vert.x's plain JSON decode of the same bytes. Pages are shaped like the sandbox's (Plaid's full
 * Transaction object). Run: see docs/bench/plaid.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class SyncPageParseBenchmark {

  @Param({"100", "500"})
  public int transactions;

  private Buffer page;

  static JsonObject transaction(int i) {
    return new JsonObject()
        .put("account_id", "acc-" + (i % 3)).put("account_owner", null).put("amount", (i * 137 % 50_000) / 100.0)
        .put("iso_currency_code", "USD").put("unofficial_currency_code", null)
        .put("category", new JsonArray(List.of("Food and Drink", "Restaurants"))).put("category_id", "13005000")
        .put("check_number", null).put("counterparties", new JsonArray()).put("date", "2026-11-" + (10 + i % 18))
        .put("datetime", null).put("authorized_date", "2026-11-" + (10 + i % 18)).put("authorized_datetime", null)
        .put("location", new JsonObject().put("address", null).put("city", "Portland").put("region", "OR")
            .put("postal_code", null).put("country", "US").put("lat", null).put("lon", null).put("store_number", null))
        .put("logo_url", null).put("merchant_entity_id", null).put("merchant_name", "Bean There").put("name", "BEAN THERE 0042")
        .put("payment_channel", "in store")
        .put("payment_meta", new JsonObject().put("by_order_of", null).put("payee", null).put("payer", null)
            .put("payment_method", null).put("payment_processor", null).put("ppd_id", null).put("reason", null)
            .put("reference_number", null))
        .put("pending", i % 10 == 0).put("pending_transaction_id", null)
        .put("personal_finance_category", new JsonObject().put("primary", "FOOD_AND_DRINK")
            .put("detailed", "FOOD_AND_DRINK_COFFEE").put("confidence_level", "VERY_HIGH"))
        .put("transaction_code", null).put("transaction_id", "txn-" + i).put("transaction_type", "place")
        .put("website", "beanthere.example");
  }

  static Buffer page(int count) {
    JsonArray added = new JsonArray();
    for (int i = 0; i < count; i++) {
      added.add(transaction(i));
    }
    JsonArray accounts = new JsonArray();
    for (int a = 0; a < 3; a++) {
      accounts.add(new JsonObject().put("account_id", "acc-" + a).put("name", "Checking").put("official_name", null)
          .put("mask", "000" + a).put("type", "depository").put("subtype", "checking")
          .put("balances", new JsonObject().put("available", 100.5).put("current", 110.25).put("limit", null)
              .put("iso_currency_code", "USD").put("unofficial_currency_code", null)));
    }
    return new JsonObject().put("added", added).put("modified", new JsonArray()).put("removed", new JsonArray())
        .put("accounts", accounts).put("next_cursor", "cursor-" + count).put("has_more", true)
        .put("transactions_update_status", "HISTORICAL_UPDATE_COMPLETE").put("request_id", "req").toBuffer();
  }

  @Setup
  public void setUp() {
    page = page(transactions);
  }

  @Benchmark
  public SyncPage ours() {
    return PlaidClient.syncPage(PlaidClient.parseObject(page));
  }

  @Benchmark
  public Object peerDecodeOnly() {
    return Json.decodeValue(page);
  }
}
