package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonObject;

/** A transaction that sync reports removed: only its ids. */
public record RemovedTransaction(String transactionId, String accountId) {

  static RemovedTransaction fromJson(JsonObject json) {
    return new RemovedTransaction(LenientJson.text(json, "transaction_id"), LenientJson.text(json, "account_id"));
  }

  public JsonObject toJson() {
    return new JsonObject().put("transaction_id", transactionId).put("account_id", accountId);
  }
}
