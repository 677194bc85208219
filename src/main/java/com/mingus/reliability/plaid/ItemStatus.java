package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The {@code status} beside the Item in {@code /item/get}: when transactions last updated, and the last
 * webhook Plaid sent. Every field may be null.
 */
public record ItemStatus(
    Instant lastSuccessfulTransactionsUpdate,
    Instant lastFailedTransactionsUpdate,
    Instant lastWebhookSentAt,
    String lastWebhookCode,
    JsonObject raw) {

  static ItemStatus fromJson(JsonObject json) {
    if (json == null) {
      return null;
    }
    JsonObject transactions = LenientJson.object(json, "transactions");
    JsonObject webhook = LenientJson.object(json, "last_webhook");
    return new ItemStatus(
        LenientJson.instant(transactions, "last_successful_update"),
        LenientJson.instant(transactions, "last_failed_update"),
        LenientJson.instant(webhook, "sent_at"),
        LenientJson.text(webhook, "code_sent"),
        json.copy());
  }
}
