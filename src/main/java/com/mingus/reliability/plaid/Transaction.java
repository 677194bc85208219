package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.time.LocalDate;

/**
 * One Plaid transaction, kept whole as Plaid sent it (the sync engine stores the Plaid shape) with typed
 * accessors for the fields the engine keys and orders by. The object is a private copy; {@link #json()}
 * returns another copy.
 */
public final class Transaction {
  private final JsonObject json;

  private Transaction(JsonObject json) {
    this.json = json;
  }

  /** Wraps a copy of a Plaid transaction object. */
  public static Transaction fromJson(JsonObject json) {
    return new Transaction(json.copy());
  }

  /** Wraps an object nobody else holds (one just decoded from an answer) without copying it. */
  static Transaction owning(JsonObject json) {
    return new Transaction(json);
  }

  public String transactionId() {
    return LenientJson.text(json, "transaction_id");
  }

  public String accountId() {
    return LenientJson.text(json, "account_id");
  }

  /** Positive when money leaves the account (Plaid's sign convention); null when absent. */
  public BigDecimal amount() {
    return LenientJson.money(json, "amount");
  }

  public LocalDate date() {
    return LenientJson.date(json, "date");
  }

  public boolean pending() {
    return LenientJson.bool(json, "pending", false);
  }

  /** For a posted transaction, the pending one it replaces (may be null even then). */
  public String pendingTransactionId() {
    return LenientJson.text(json, "pending_transaction_id");
  }

  public String name() {
    return LenientJson.text(json, "name");
  }

  public String isoCurrencyCode() {
    return LenientJson.text(json, "iso_currency_code");
  }

  /** A copy of the whole transaction object. */
  public JsonObject json() {
    return json.copy();
  }

  /** The whole transaction object as JSON text, for storing it as Plaid sent it (no copy made). */
  public String encode() {
    return json.encode();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Transaction that && json.equals(that.json);
  }

  @Override
  public int hashCode() {
    return json.hashCode();
  }

  @Override
  public String toString() {
    return "Transaction[" + transactionId() + ", account " + accountId() + ", " + amount() + " on " + date()
        + (pending() ? ", pending" : "") + "]";
  }
}
