package com.mingus.reliability.plaid;

import java.util.List;

/**
 * One page of {@code /transactions/sync}. Follow {@link #nextCursor()} while {@link #hasMore()}.
 *
 * @param transactionsUpdateStatus e.g. {@code HISTORICAL_UPDATE_COMPLETE}; unknown values kept as sent
 */
public record SyncPage(
    List<Transaction> added,
    List<Transaction> modified,
    List<RemovedTransaction> removed,
    List<Account> accounts,
    String nextCursor,
    boolean hasMore,
    String transactionsUpdateStatus,
    String requestId) {}
