package com.mingus.reliability.plaid;

import java.util.List;

/** The answer of {@code /accounts/get} and {@code /accounts/balance/get}. */
public record AccountsResult(List<Account> accounts, PlaidItem item, String requestId) {}
