package com.mingus.reliability.sync;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The net effect of every page of one /transactions/sync update: the latest state of each transaction
 * touched (or its removal), the accounts, the cursor to store. Pages are folded in order, so a transaction
 * added on one page and removed on a later one ends removed, and nothing is applied twice.
 */
final class SyncResult {
  /** transaction_id → the transaction's JSON, or null when it was removed. */
  final Map<String, JsonObject> changes = new LinkedHashMap<>();
  final Map<String, JsonObject> accounts = new LinkedHashMap<>();
  String nextCursor;
  /**
   * The update started from an empty cursor: Plaid's whole history, so the stored set is replaced by it
   * (what is stored and absent from it goes) once it ends with a cursor.
   */
  boolean full;
  /** Why a sync that had a cursor went back to the whole history ({@code invalid_cursor}), else null. */
  String resync;
  /** Transactions of this update whose id another connection holds: left with it, counted (set by the commit). */
  int conflicts;
  /** Stored transactions a full update did not contain, deleted with its commit. */
  int pruned;
  /** The reconciliation this sync ran, committed with it; null when none was due. */
  Reconciler.Run reconciliation;
  /**
   * When the next reconciliation is due: set with {@link #reconciliation}, committed as {@code next_reconcile_at}
   * and the latest the connection syncs next.
   */
  java.time.OffsetDateTime nextReconcileAt;
  int pages;
  int restarts;
  int added;
  int modified;
  int removed;

  void fold(List<JsonObject> addedPage, List<JsonObject> modifiedPage, List<String> removedIds, List<JsonObject> accountsPage) {
    pages++;
    for (JsonObject tx : addedPage) {
      changes.put(tx.getString("transaction_id"), tx);
      added++;
    }
    for (JsonObject tx : modifiedPage) {
      changes.put(tx.getString("transaction_id"), tx);
      modified++;
    }
    for (String id : removedIds) {
      changes.put(id, null);
      removed++;
    }
    for (JsonObject account : accountsPage) {
      accounts.put(account.getString("account_id"), account);
    }
  }

  /** Nothing to store: no transaction, no account, no new cursor. */
  boolean isEmpty() {
    return changes.isEmpty() && accounts.isEmpty() && nextCursor == null && reconciliation == null;
  }

  /** Starts over from the update's first cursor (mutation during pagination): nothing of it is kept. */
  void discard() {
    changes.clear();
    accounts.clear();
    nextCursor = null;
    added = 0;
    modified = 0;
    removed = 0;
    restarts++;
  }
}
