package com.mingus.reliability.sync;

import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.plaid.Account;
import com.mingus.reliability.plaid.PlaidException;
import com.mingus.reliability.plaid.Transaction;
import com.mingus.reliability.plaid.TransactionsPage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciliation (docs/sync.md): inside a sync that holds the connection's lease, after its own pages are
 * folded, Plaid's whole history in the range ({@code /transactions/get}, 500 a page, each page under a
 * permit of that endpoint's own budget, asked at background priority and never waited for) is compared
 * with what the store will hold once this sync commits: the stored rows with this sync's changes laid
 * over them. Transactions are compared on id, amount, date and the pending flag; accounts on their
 * current and available balances. Drift is repaired in the same commit: a missing or changed
 * transaction is written as Plaid has it, a stored one Plaid does not have is deleted, a balance that
 * differs is replaced. The run's figures go with the commit ({@code reconciliations}).
 */
final class Reconciler {
  private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
  static final String ENDPOINT = "/transactions/get";
  private static final int PAGE = 500;
  /** At most this many pages a run (100,000 transactions); a longer history is compared in its newest part. */
  private static final int MAX_PAGES = 200;

  /** What one run found and did. */
  record Run(String trigger, String status, OffsetDateTime startedAt, LocalDate startDate, LocalDate endDate,
      int plaidCalls, int checked, int missing, int extra, int changed, int balancesChecked, int balancesChanged,
      String errorCode, String message) {

    int drift() {
      return missing + extra + changed + balancesChanged;
    }

    JsonObject toJson() {
      return new JsonObject().put("trigger", trigger).put("status", status).put("start_date", startDate.toString())
          .put("end_date", endDate.toString()).put("plaid_calls", plaidCalls).put("checked", checked)
          .put("missing", missing).put("extra", extra).put("changed", changed)
          .put("balances_checked", balancesChecked).put("balances_changed", balancesChanged)
          .put("error_code", errorCode).put("message", message);
    }
  }

  private final SyncStore store;
  private final SyncRunner runner;
  private final int historyDays;

  Reconciler(SyncStore store, SyncRunner runner, int historyDays) {
    this.store = store;
    this.runner = runner;
    this.historyDays = historyDays;
  }

  /** True when the claimed sync should also reconcile: due, or asked by an operator. */
  static boolean due(Claim claim) {
    return "reconcile".equals(claim.trigger())
        || claim.nextReconcileAt() != null && !claim.nextReconcileAt().isAfter(OffsetDateTime.now(ZoneOffset.UTC));
  }

  /** Reconciles into {@code result} (its repairs and {@code result.reconciliation}); never fails the sync. */
  Future<Void> run(Claim claim, String token, SyncResult result) {
    OffsetDateTime startedAt = OffsetDateTime.now(ZoneOffset.UTC);
    String trigger = "reconcile".equals(claim.trigger()) ? "operator" : "scheduled";
    LocalDate end = startedAt.toLocalDate().plusDays(1);
    LocalDate start = end.minusDays(historyDays);
    Map<String, JsonObject> plaid = new HashMap<>();
    Map<String, JsonObject> accounts = new HashMap<>();
    int[] calls = {0};
    return fetch(claim, token, start, end, 0, plaid, accounts, calls)
        .compose(complete -> {
          if (!complete) {
            result.reconciliation = new Run(trigger, "deferred", startedAt, start, end, calls[0], 0, 0, 0, 0, 0, 0,
                null, "the /transactions/get budget is spent; tried again later");
            return Future.succeededFuture();
          }
          return store.storedForReconcile(claim.connectionId(), start, end)
              .map(stored -> {
                result.reconciliation = compare(trigger, startedAt, start, end, calls[0], stored, plaid, accounts, result);
                return (Void) null;
              });
        })
        .recover(failure -> {
          String code = failure instanceof PlaidException plaidFailure && plaidFailure.error() != null
              ? plaidFailure.error().errorCode() : null;
          log.info("Connection {}: reconciliation not done: {}", claim.connectionId(), failure.getMessage());
          result.reconciliation = new Run(trigger, "failed", startedAt, start, end, calls[0], 0, 0, 0, 0, 0, 0, code,
              truncate(failure.getMessage()));
          return Future.succeededFuture();
        });
  }

  /** Pages of Plaid's history; false when a permit was refused (the run is deferred, nothing compared). */
  private Future<Boolean> fetch(Claim claim, String token, LocalDate start, LocalDate end, int offset,
      Map<String, JsonObject> plaid, Map<String, JsonObject> accounts, int[] calls) {
    return runner.permit(ENDPOINT, claim.itemId(), PermitPriority.BACKGROUND, 0).compose(permit -> {
      if (!permit.reply().granted()) {
        return Future.succeededFuture(false);
      }
      calls[0]++;
      return permit.plaid().getTransactions(token, start, end, PAGE, offset).compose((TransactionsPage page) -> {
        for (Transaction transaction : page.transactions()) {
          JsonObject json = transaction.json();
          plaid.put(json.getString("transaction_id"), json);
        }
        for (Account account : page.accounts()) {
          accounts.put(account.accountId(), account.raw());
        }
        int next = offset + page.transactions().size();
        if (page.transactions().isEmpty() || next >= page.totalTransactions() || calls[0] >= MAX_PAGES) {
          return Future.succeededFuture(true);
        }
        return fetch(claim, token, start, end, next, plaid, accounts, calls);
      });
    });
  }

  /** What the store will hold after this sync, against Plaid; the repairs go into {@code result}. */
  static Run compare(String trigger, OffsetDateTime startedAt, LocalDate start, LocalDate end, int calls,
      SyncStore.Stored stored, Map<String, JsonObject> plaid, Map<String, JsonObject> plaidAccounts, SyncResult result) {
    Map<String, String> expected = new HashMap<>(stored.transactions());
    Set<String> replacedPending = new HashSet<>();
    result.changes.forEach((id, tx) -> {
      if (tx == null) {
        expected.remove(id);
        return;
      }
      String pendingId = tx.getString("pending_transaction_id");
      if (pendingId != null && !tx.getBoolean("pending", false)) {
        replacedPending.add(pendingId);
      }
      LocalDate date = parse(tx.getString("date"));
      if (date == null || date.isBefore(start) || date.isAfter(end)) {
        expected.remove(id);
      } else {
        expected.put(id, fingerprint(tx));
      }
    });
    replacedPending.forEach(expected::remove);

    int missing = 0;
    int changed = 0;
    for (Map.Entry<String, JsonObject> entry : plaid.entrySet()) {
      String have = expected.get(entry.getKey());
      if (have == null) {
        missing++;
      } else if (!have.equals(fingerprint(entry.getValue()))) {
        changed++;
      } else {
        continue;
      }
      result.changes.put(entry.getKey(), entry.getValue());
    }
    int extra = 0;
    for (String id : expected.keySet()) {
      if (!plaid.containsKey(id)) {
        extra++;
        result.changes.put(id, null);
      }
    }
    Map<String, String> balances = new HashMap<>(stored.balances());
    result.accounts.forEach((id, account) -> balances.put(id, balance(account.getJsonObject("balances"))));
    int balancesChanged = 0;
    for (Map.Entry<String, JsonObject> account : plaidAccounts.entrySet()) {
      if (!balance(account.getValue().getJsonObject("balances")).equals(balances.get(account.getKey()))) {
        balancesChanged++;
        result.accounts.put(account.getKey(), account.getValue());
      }
    }
    int drift = missing + extra + changed + balancesChanged;
    String message = drift == 0 ? null : "repaired " + missing + " missing, " + extra + " extra, " + changed
        + " changed transaction(s) and " + balancesChanged + " balance(s)";
    return new Run(trigger, drift == 0 ? "clean" : "repaired", startedAt, start, end, calls, plaid.size(), missing,
        extra, changed, plaidAccounts.size(), balancesChanged, null, message);
  }

  /** A transaction as compared: amount (as a plain number), date, pending. */
  static String fingerprint(JsonObject tx) {
    return fingerprint(number(tx.getValue("amount")), tx.getString("date"), tx.getBoolean("pending", false));
  }

  static String fingerprint(BigDecimal amount, String date, boolean pending) {
    return (amount == null ? "" : amount.stripTrailingZeros().toPlainString()) + "|" + date + "|" + pending;
  }

  /** An account's balances as compared: current and available, as plain numbers. */
  static String balance(JsonObject balances) {
    if (balances == null) {
      return "|";
    }
    BigDecimal current = number(balances.getValue("current"));
    BigDecimal available = number(balances.getValue("available"));
    return (current == null ? "" : current.stripTrailingZeros().toPlainString()) + "|"
        + (available == null ? "" : available.stripTrailingZeros().toPlainString());
  }

  private static BigDecimal number(Object value) {
    if (value instanceof Number number) {
      return new BigDecimal(number.toString());
    }
    if (value instanceof String text) {
      try {
        return new BigDecimal(text);
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  private static LocalDate parse(String date) {
    try {
      return date == null ? null : LocalDate.parse(date);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static String truncate(String message) {
    return message == null ? null : message.length() > 500 ? message.substring(0, 500) : message;
  }
}
