package com.mingus.reliability.sandbox;

import io.vertx.core.json.JsonObject;

/** An account of an Item. Balances are derived from the opening balance and the current transactions. */
final class Account {
  /** Plaid's sandbox accounts, in the order an Item gets them. */
  record Template(String name, String officialName, String type, String subtype, String mask) {}

  static final Template[] TEMPLATES = {
      new Template("Plaid Checking", "Plaid Gold Standard 0% Interest Checking", "depository", "checking", "0000"),
      new Template("Plaid Credit Card", "Plaid Diamond 12.5% APR Interest Credit Card", "credit", "credit card", "3333"),
      new Template("Plaid Saving", "Plaid Silver Standard 0.1% Interest Saving", "depository", "savings", "1111"),
      new Template("Plaid Money Market", "Plaid Platinum Standard 1.85% Interest Money Market", "depository", "money market", "4444"),
      new Template("Plaid CD", "Plaid Bronze Standard 0.2% Interest CD", "depository", "cd", "2222"),
  };

  final String id;
  final String name;
  final String officialName;
  final String type;
  final String subtype;
  final String mask;
  final long openingCents;
  final Long limitCents;

  Account(String id, String name, String officialName, String type, String subtype, String mask, long openingCents,
      Long limitCents) {
    this.id = id;
    this.name = name;
    this.officialName = officialName;
    this.type = type;
    this.subtype = subtype;
    this.mask = mask;
    this.openingCents = openingCents;
    this.limitCents = limitCents;
  }

  boolean credit() {
    return "credit".equals(type);
  }

  /**
   * Plaid's AccountBase. Amounts follow Plaid's sign: positive is money leaving the account, so posted
   * spending lowers a depository balance and raises what is owed on a credit card.
   */
  JsonObject toJson(long postedCents, long pendingCents) {
    long current = credit() ? openingCents + postedCents : openingCents - postedCents;
    Long available = credit()
        ? (limitCents == null ? null : limitCents - current - pendingCents)
        : Long.valueOf(current - pendingCents);
    JsonObject balances = new JsonObject()
        .put("available", available == null ? null : available / 100.0)
        .put("current", current / 100.0)
        .put("iso_currency_code", "USD")
        .put("limit", limitCents == null ? null : limitCents / 100.0)
        .put("unofficial_currency_code", null);
    return new JsonObject()
        .put("account_id", id)
        .put("balances", balances)
        .put("mask", mask)
        .put("name", name)
        .put("official_name", officialName)
        .put("subtype", subtype)
        .put("type", type)
        .put("holder_category", "personal");
  }
}
