package com.mingus.reliability.sandbox;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A sandbox Item: its accounts, its current transactions and an append-only change log. Every change to
 * the transactions is appended with the next sequence number; a /transactions/sync cursor names a
 * position in that log and the log head when its update began, so pages are exact slices of the log and
 * a change appended while a pagination is under way is detected, as Plaid does.
 */
final class Item {
  enum Kind { ADDED, MODIFIED, REMOVED }

  /** One entry of the change log; its sequence number is its index + 1. */
  record Change(Kind kind, Txn txn) {}

  /** What one /transactions/sync call returns, before request ids and account balances are added. */
  record Page(List<Txn> added, List<Txn> modified, List<Txn> removed, String nextCursor, boolean hasMore) {}

  /** What a mutation did, for the control surface's answer. */
  record Mutation(List<String> added, List<String> modified, List<String> removed) {
    boolean empty() {
      return added.isEmpty() && modified.isEmpty() && removed.isEmpty();
    }

    JsonObject toJson() {
      return new JsonObject().put("added", new JsonArray(added)).put("modified", new JsonArray(modified))
          .put("removed", new JsonArray(removed));
    }
  }

  final String id;
  final String accessToken;
  final String institutionId;
  final String userId;
  final Instant createdAt;
  final List<Account> accounts;
  private final SplittableRandom random;
  private final LinkedHashMap<String, Txn> current = new LinkedHashMap<>();
  private final ArrayList<Change> log = new ArrayList<>();
  private final Map<String, long[]> sums = new HashMap<>();

  String webhook;
  /** The Item's error (ITEM_LOGIN_REQUIRED and the like), or null when it is healthy. */
  PlaidFailure error;
  String consentExpirationTime;
  boolean syncCalled;
  /** Whether this Item also gets the legacy /transactions/get webhooks (INITIAL_UPDATE, DEFAULT_UPDATE, ...). */
  boolean legacyWebhooks;
  /** Until then the initial pull is "under way": /transactions/sync answers NOT_READY. */
  long readyAtMs;
  boolean removed;
  Instant lastSuccessfulUpdate;
  Instant lastFailedUpdate;
  Instant lastWebhookSentAt;
  String lastWebhookCode;

  Item(String id, String accessToken, String institutionId, String userId, String webhook, Instant createdAt,
      List<Account> accounts, SplittableRandom random) {
    this.id = id;
    this.accessToken = accessToken;
    this.institutionId = institutionId;
    this.userId = userId;
    this.webhook = webhook;
    this.createdAt = createdAt;
    this.lastSuccessfulUpdate = createdAt;
    this.accounts = List.copyOf(accounts);
    this.random = random;
    for (Account account : accounts) {
      sums.put(account.id, new long[2]);
    }
  }

  /** Fills the history: {@code count} transactions spread back in time, the newest few still pending. */
  void generateHistory(int count, LocalDate today) {
    int days = Math.max(30, Math.min(730, count / 3));
    int pendingCount = count == 0 ? 0 : Math.min(10, Math.max(1, count / 50));
    for (int i = count - 1; i >= 0; i--) {
      boolean pending = i < pendingCount;
      long daysAgo = pending ? i % 2 : Math.max(1, (long) i * days / count);
      append(Kind.ADDED, newTxn(today.minusDays(daysAgo), pending));
    }
  }

  private Txn newTxn(LocalDate date, boolean pending) {
    Merchants.Merchant merchant = Merchants.pick(random);
    Account account = accounts.get(random.nextInt(2) == 0 ? 0 : random.nextInt(accounts.size()));
    if (merchant.maxCents() < 0 && account.credit()) {
      account = accounts.stream().filter(a -> !a.credit()).findFirst().orElse(account);
    }
    LocalDate authorized = pending ? date : date.minusDays(random.nextInt(2));
    return new Txn(Ids.plaidId(random), account.id, Merchants.amount(merchant, random), date, authorized, merchant,
        pending, null);
  }

  private void append(Kind kind, Txn txn) {
    Txn before = current.get(txn.id);
    if (before != null) {
      account(before, -1);
    }
    if (kind == Kind.REMOVED) {
      current.remove(txn.id);
    } else {
      current.put(txn.id, txn);
      account(txn, 1);
    }
    log.add(new Change(kind, txn));
  }

  private void account(Txn txn, int sign) {
    long[] sum = sums.get(txn.accountId);
    if (sum != null) {
      sum[txn.pending ? 1 : 0] += sign * txn.amountCents;
    }
  }

  int head() {
    return log.size();
  }

  /** Adds, modifies and removes transactions (distinct ones, chosen by the Item's seeded generator). */
  Mutation mutate(int added, int modified, int removed, LocalDate today) {
    List<String> addedIds = new ArrayList<>();
    List<String> modifiedIds = new ArrayList<>();
    List<String> removedIds = new ArrayList<>();
    List<Txn> chosen = choose(modified + removed);
    for (int i = 0; i < chosen.size(); i++) {
      Txn txn = chosen.get(i);
      if (i < modified) {
        long delta = 1 + random.nextInt(500);
        long amount = txn.amountCents < 0 ? txn.amountCents - delta : txn.amountCents + delta;
        append(Kind.MODIFIED, txn.withAmount(amount));
        modifiedIds.add(txn.id);
      } else {
        append(Kind.REMOVED, txn);
        removedIds.add(txn.id);
      }
    }
    for (int i = 0; i < added; i++) {
      Txn txn = newTxn(today, random.nextInt(5) == 0);
      append(Kind.ADDED, txn);
      addedIds.add(txn.id);
    }
    return new Mutation(addedIds, modifiedIds, removedIds);
  }

  /** Posts every pending transaction: the pending one is removed, a posted one points back to it. */
  Mutation postPending(LocalDate today) {
    List<String> addedIds = new ArrayList<>();
    List<String> removedIds = new ArrayList<>();
    for (Txn txn : List.copyOf(current.values())) {
      if (txn.pending) {
        append(Kind.REMOVED, txn);
        Txn posted = txn.posted(Ids.plaidId(random), today);
        append(Kind.ADDED, posted);
        removedIds.add(txn.id);
        addedIds.add(posted.id);
      }
    }
    return new Mutation(addedIds, List.of(), removedIds);
  }

  /**
   * What Plaid's dynamic sandbox user does on /transactions/refresh: posts the pending transactions,
   * adds a new pending one and changes the amount of an older one.
   */
  Mutation refresh(LocalDate today) {
    Mutation posted = postPending(today);
    Mutation more = mutate(0, current.isEmpty() ? 0 : 1, 0, today);
    Txn pending = newTxn(today, true);
    append(Kind.ADDED, pending);
    List<String> added = new ArrayList<>(posted.added());
    added.add(pending.id);
    return new Mutation(added, more.modified(), posted.removed());
  }

  private List<Txn> choose(int n) {
    List<Txn> pool = new ArrayList<>(current.values());
    int take = Math.min(n, pool.size());
    for (int i = 0; i < take; i++) {
      int j = i + random.nextInt(pool.size() - i);
      Txn swap = pool.get(i);
      pool.set(i, pool.get(j));
      pool.set(j, swap);
    }
    return pool.subList(0, take);
  }

  /**
   * One page of /transactions/sync. The cursor holds (item, start, position): start is the log head when
   * this update began; while position &lt; start a pagination is under way and any change appended since
   * start invalidates it.
   */
  Page sync(String cursor, int count) {
    int head = log.size();
    int start;
    int position;
    if (cursor == null || cursor.isEmpty()) {
      start = head;
      position = 0;
    } else if ("now".equals(cursor)) {
      return new Page(List.of(), List.of(), List.of(), encode(head, head), false);
    } else {
      int[] decoded = decode(cursor);
      start = decoded[0];
      position = decoded[1];
      if (position < start) {
        if (head > start) {
          throw PlaidFailure.mutationDuringPagination();
        }
      } else {
        start = head;
      }
    }
    int end = Math.min(start, position + count);
    // net changes within the page, in log order: an add then a modify is one add of the newer version,
    // an add then a remove is nothing at all
    LinkedHashMap<String, Change> net = new LinkedHashMap<>();
    for (int seq = position; seq < end; seq++) {
      Change change = log.get(seq);
      Change earlier = net.get(change.txn().id);
      if (earlier != null && earlier.kind() == Kind.ADDED) {
        if (change.kind() == Kind.REMOVED) {
          net.remove(change.txn().id);
        } else {
          net.put(change.txn().id, new Change(Kind.ADDED, change.txn()));
        }
      } else {
        net.put(change.txn().id, change);
      }
    }
    List<Txn> added = new ArrayList<>();
    List<Txn> modified = new ArrayList<>();
    List<Txn> removed = new ArrayList<>();
    for (Change change : net.values()) {
      (change.kind() == Kind.ADDED ? added : change.kind() == Kind.MODIFIED ? modified : removed).add(change.txn());
    }
    boolean hasMore = end < start;
    return new Page(added, modified, removed, encode(hasMore ? start : end, end), hasMore);
  }

  private String encode(int start, int position) {
    String raw = id + ":" + start + ":" + position;
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  private int[] decode(String cursor) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      String[] parts = raw.split(":");
      if (parts.length == 3 && parts[0].equals(id)) {
        int start = Integer.parseInt(parts[1]);
        int position = Integer.parseInt(parts[2]);
        if (position >= 0 && position <= start && start <= log.size()) {
          return new int[] {start, position};
        }
      }
    } catch (IllegalArgumentException e) {
      // falls through to the Plaid error below
    }
    throw PlaidFailure.invalidField("cursor is invalid: it does not belong to this Item or is malformed");
  }

  JsonArray accountsJson(List<String> onlyIds) {
    JsonArray out = new JsonArray();
    for (Account account : accounts) {
      if (onlyIds == null || onlyIds.contains(account.id)) {
        long[] sum = sums.get(account.id);
        out.add(account.toJson(sum[0], sum[1]));
      }
    }
    return out;
  }

  boolean hasAccount(String accountId) {
    return sums.containsKey(accountId);
  }

  /** Every current transaction, oldest first. */
  JsonArray transactionsJson() {
    JsonArray out = new JsonArray();
    for (Txn txn : current.values()) {
      out.add(txn.toJson().copy());
    }
    return out;
  }

  /**
   * The current transactions dated within [start, end] (and on the given accounts, when given), newest
   * date first; within a date, the most recently added first, so the order is total and stable while
   * nothing changes.
   */
  List<Txn> transactionsNewestFirst(LocalDate start, LocalDate end, List<String> accountIds) {
    List<Txn> out = new ArrayList<>();
    for (Txn txn : current.values()) {
      if (!txn.date.isBefore(start) && !txn.date.isAfter(end)
          && (accountIds == null || accountIds.contains(txn.accountId))) {
        out.add(txn);
      }
    }
    java.util.Collections.reverse(out);
    out.sort(java.util.Comparator.comparing((Txn txn) -> txn.date).reversed());
    return out;
  }

  /** Current transactions dated on or after {@code since}: what an initial 30-day pull finds. */
  int transactionsSince(LocalDate since) {
    int n = 0;
    for (Txn txn : current.values()) {
      if (!txn.date.isBefore(since)) {
        n++;
      }
    }
    return n;
  }

  int transactionCount() {
    return current.size();
  }

  /** Plaid's Item object (ItemWithConsentFields). */
  JsonObject toJson(String institutionName) {
    return new JsonObject()
        .put("item_id", id)
        .put("institution_id", institutionId)
        .put("institution_name", institutionName)
        .put("webhook", webhook)
        .put("auth_method", null)
        .put("error", error == null ? null : error.toWebhookError())
        .put("available_products", new JsonArray().add("balance"))
        .put("billed_products", new JsonArray().add("transactions"))
        .put("products", new JsonArray().add("transactions"))
        .put("consented_products", new JsonArray().add("transactions"))
        .put("consent_expiration_time", consentExpirationTime)
        .put("update_type", "background")
        .put("created_at", createdAt.toString());
  }

  JsonObject statusJson() {
    return new JsonObject()
        .put("transactions", new JsonObject()
            .put("last_successful_update", lastSuccessfulUpdate == null ? null : lastSuccessfulUpdate.toString())
            .put("last_failed_update", lastFailedUpdate == null ? null : lastFailedUpdate.toString()))
        // Plaid's schema: last_webhook may be null, but once present its code_sent is a string
        .put("last_webhook", lastWebhookCode == null ? null : new JsonObject()
            .put("sent_at", lastWebhookSentAt.toString())
            .put("code_sent", lastWebhookCode));
  }
}
