package com.mingus.reliability.sandbox;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.LocalDate;
import java.util.List;

/**
 * One version of a transaction. Immutable: a modification is a new version with the same id, so the
 * change log can keep exactly what each change said.
 */
final class Txn {
  final String id;
  final String accountId;
  final long amountCents;
  final LocalDate date;
  final LocalDate authorizedDate;
  final Merchants.Merchant merchant;
  final boolean pending;
  final String pendingTransactionId;
  private JsonObject json;
  private Buffer encoded;

  Txn(String id, String accountId, long amountCents, LocalDate date, LocalDate authorizedDate,
      Merchants.Merchant merchant, boolean pending, String pendingTransactionId) {
    this.id = id;
    this.accountId = accountId;
    this.amountCents = amountCents;
    this.date = date;
    this.authorizedDate = authorizedDate;
    this.merchant = merchant;
    this.pending = pending;
    this.pendingTransactionId = pendingTransactionId;
  }

  Txn withAmount(long cents) {
    return new Txn(id, accountId, cents, date, authorizedDate, merchant, pending, pendingTransactionId);
  }

  /** The posted version of this pending transaction: a new id pointing back to the pending one. */
  Txn posted(String newId, LocalDate postedOn) {
    return new Txn(newId, accountId, amountCents, postedOn, authorizedDate, merchant, false, id);
  }

  /** Plaid's Transaction shape. Built once per version and shared read-only: callers must not modify it. */
  JsonObject toJson() {
    if (json == null) {
      json = new JsonObject()
          .put("account_id", accountId)
          .put("account_owner", null)
          .put("amount", amountCents / 100.0)
          .put("iso_currency_code", "USD")
          .put("unofficial_currency_code", null)
          .put("category", new JsonArray(List.copyOf(merchant.category())))
          .put("category_id", merchant.categoryId())
          .put("check_number", null)
          .put("counterparties", new JsonArray())
          .put("date", date.toString())
          .put("datetime", null)
          .put("authorized_date", authorizedDate == null ? null : authorizedDate.toString())
          .put("authorized_datetime", null)
          .put("location", new JsonObject().put("address", null).put("city", merchant.city()).put("region", merchant.region())
              .put("postal_code", null).put("country", merchant.city() == null ? null : "US").put("lat", null)
              .put("lon", null).put("store_number", null))
          .put("logo_url", null)
          .put("merchant_entity_id", null)
          .put("merchant_name", merchant.merchantName())
          .put("name", merchant.name())
          .put("payment_channel", merchant.channel())
          .put("payment_meta", new JsonObject().put("by_order_of", null).put("payee", null).put("payer", null)
              .put("payment_method", null).put("payment_processor", null).put("ppd_id", null).put("reason", null)
              .put("reference_number", null))
          .put("pending", pending)
          .put("pending_transaction_id", pendingTransactionId)
          .put("personal_finance_category", new JsonObject().put("primary", merchant.pfcPrimary())
              .put("detailed", merchant.pfcDetailed()).put("confidence_level", "VERY_HIGH"))
          .put("transaction_code", null)
          .put("transaction_id", id)
          .put("transaction_type", merchant.channel().equals("online") ? "digital" : merchant.channel().equals("in store") ? "place" : "special")
          .put("website", merchant.website());
    }
    return json;
  }

  /** The JSON bytes of {@link #toJson()}, encoded once: a sync page is assembled from these. */
  Buffer encoded() {
    if (encoded == null) {
      encoded = toJson().toBuffer();
    }
    return encoded;
  }
}
