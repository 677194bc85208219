package com.mingus.reliability.plaid;

import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.time.Instant;

/** An account with its balances, as {@code /accounts/get}, {@code /accounts/balance/get} and sync return it. */
public record Account(
    String accountId,
    String name,
    String officialName,
    String mask,
    String type,
    String subtype,
    Balances balances,
    JsonObject raw) {

  /** Amounts as written by Plaid (no floating-point rounding); each may be null. */
  public record Balances(
      BigDecimal available,
      BigDecimal current,
      BigDecimal limit,
      String isoCurrencyCode,
      String unofficialCurrencyCode,
      Instant lastUpdated) {

    static Balances fromJson(JsonObject json) {
      return new Balances(
          LenientJson.money(json, "available"),
          LenientJson.money(json, "current"),
          LenientJson.money(json, "limit"),
          LenientJson.text(json, "iso_currency_code"),
          LenientJson.text(json, "unofficial_currency_code"),
          LenientJson.instant(json, "last_updated_datetime"));
    }
  }

  static Account fromJson(JsonObject json) {
    return new Account(
        LenientJson.text(json, "account_id"),
        LenientJson.text(json, "name"),
        LenientJson.text(json, "official_name"),
        LenientJson.text(json, "mask"),
        LenientJson.text(json, "type"),
        LenientJson.text(json, "subtype"),
        Balances.fromJson(LenientJson.object(json, "balances")),
        json.copy());
  }

  /** The account as Plaid wrote it. */
  public JsonObject toJson() {
    return raw.copy();
  }
}
