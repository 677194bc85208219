package com.mingus.reliability.plaid;

/** The answer of {@code /item/get}: the Item, its update status (may be null) and the request id. */
public record ItemGetResult(PlaidItem item, ItemStatus status, String requestId) {}
