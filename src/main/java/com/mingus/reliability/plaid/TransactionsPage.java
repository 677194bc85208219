package com.mingus.reliability.plaid;

import java.util.List;

/**
 * One page of {@code /transactions/get}: Plaid's whole history between two dates, newest first, paged by
 * offset. {@link #totalTransactions()} is how many the range holds; page on while the offset is below it.
 */
public record TransactionsPage(
    List<Transaction> transactions,
    List<Account> accounts,
    int totalTransactions,
    String requestId) {}
