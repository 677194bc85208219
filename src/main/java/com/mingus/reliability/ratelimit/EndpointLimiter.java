package com.mingus.reliability.ratelimit;

import com.mingus.reliability.bus.PermitPriority;
import com.mingus.reliability.bus.PermitReply;
import com.mingus.reliability.bus.PermitRequest;
import com.mingus.reliability.bus.RateLimitReport;
import com.mingus.reliability.bus.RateLimitReportReply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Every budget of one Plaid endpoint: the client-wide scope, one scope per Item, and the callers waiting
 * for a permit. Waiting callers are served strictly by priority; within a priority the Items take turns
 * (round robin), so one busy Item cannot starve the others. An Item blocked only by its own budget does
 * not hold up the others. Not thread-safe: exactly one owner (one verticle instance, on its event loop)
 * calls it, which is what makes every decision atomic without locks.
 */
final class EndpointLimiter {
  /** Timers of the owner's context, so waits and wake-ups run on the owner's event loop. */
  interface Timers {
    long set(long delayMs, Runnable task);

    void cancel(long id);
  }

  /**
   * Told of every grant that counts in a budget (its time and its Item, null without an Item scope) in
   * place of answering the caller: it answers once the grant is safe to use (single node: at once, the
   * grant written behind; cluster owner: once the grant is committed to the fenced journal).
   */
  interface Journal {
    void granted(long at, String itemId, PermitReply reply, Consumer<PermitReply> caller);
  }

  static final Journal UNRECORDED = (at, itemId, reply, caller) -> caller.accept(reply);

  private static final String NO_ITEM = "";

  private final String endpoint;
  private final RateLimitConfig config;
  private final RateLimitConfig.Budget budget;
  private final LongSupplier clock;
  private final Timers timers;
  private final Scope client;
  private final Map<String, Scope> items = new HashMap<>();
  private final List<LinkedHashMap<String, ArrayDeque<Waiter>>> queues = new ArrayList<>();
  private int waiting;
  private long wakeAt = Long.MAX_VALUE;
  private long wakeTimer = -1;
  private long granted;
  private long denied;
  private long rateLimited;
  private Journal journal = UNRECORDED;

  private final class Waiter {
    final String itemKey;
    final PermitPriority priority;
    final long arrivedAt;
    final Consumer<PermitReply> reply;
    long deadlineTimer = -1;

    Waiter(String itemKey, PermitPriority priority, long arrivedAt, Consumer<PermitReply> reply) {
      this.itemKey = itemKey;
      this.priority = priority;
      this.arrivedAt = arrivedAt;
      this.reply = reply;
    }
  }

  /** A named request ({@link PermitRequest#requestId}): who listens for its answer, and the permit it was given. */
  private static final class Asked {
    final long askedAt;
    Consumer<PermitReply> reply;
    Waiter waiter;
    PermitReply granted;
    long grantedAt;

    Asked(Consumer<PermitReply> reply, long askedAt) {
      this.reply = reply;
      this.askedAt = askedAt;
    }
  }

  /** Named requests in the order they were first asked, kept for one horizon (and at most {@link #MAX_ASKED}). */
  private static final int MAX_ASKED = 10_000;
  private final LinkedHashMap<String, Asked> asked = new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(java.util.Map.Entry<String, Asked> eldest) {
      return size() > MAX_ASKED;
    }
  };
  private long repeated;

  EndpointLimiter(String endpoint, RateLimitConfig config, LongSupplier clock, Timers timers) {
    this.endpoint = endpoint;
    this.config = config;
    this.budget = config.budgets().getOrDefault(endpoint, new RateLimitConfig.Budget(0, 0, 0));
    this.clock = clock;
    this.timers = timers;
    List<SlidingWindow> windows = new ArrayList<>();
    if (budget.perMinute() > 0) {
      windows.add(new SlidingWindow("minute", config.minuteMs(), config.marginMs(), budget.perMinute(), config.learning()));
    }
    if (budget.perHour() > 0) {
      windows.add(new SlidingWindow("hour", config.hourMs(), config.marginMs(), budget.perHour(), config.learning()));
    }
    this.client = new Scope("client", windows);
    for (int i = 0; i < PermitPriority.values().length; i++) {
      queues.add(new LinkedHashMap<>());
    }
  }

  String endpoint() {
    return endpoint;
  }

  /**
   * How long a grant stays good for sending (PermitReply.validMs): half the window margin, so that with
   * the call on the wire within that time, the rest of the margin covers the way to Plaid. 0 (no limit)
   * for an endpoint without a budget, and when there is no margin to share (margin_ms 0).
   */
  long validMs() {
    return (client.limited() || budget.perItemPerMinute() > 0) && config.marginMs() >= 2 ? config.marginMs() / 2 : 0;
  }

  /** Where grants go before their caller hears of them (see {@link Journal}). */
  void journal(Journal journal) {
    this.journal = journal;
  }

  Scope client() {
    return client;
  }

  int waiting() {
    return waiting;
  }

  long granted() {
    return granted;
  }

  long denied() {
    return denied;
  }

  long rateLimited() {
    return rateLimited;
  }

  long now() {
    return clock.getAsLong();
  }

  /**
   * The permit decision without waiting, when nobody is queued: the hot path, allocation-free for calls
   * without an Item. Returns 0 when granted, else the earliest time a permit may free up.
   */
  long tryAcquire(String itemId, long now) {
    Scope item = item(itemId);
    long free = client.nextFree(now);
    if (item != null) {
      free = Math.max(free, item.nextFree(now));
    }
    if (free > now) {
      denied++;
      return free;
    }
    client.record(now);
    if (item != null) {
      item.record(now);
    }
    granted++;
    return 0;
  }

  /** Hands a grant to the journal when it counts in some budget, else answers at once. */
  private void answerGrant(long now, String itemId, PermitReply reply, Consumer<PermitReply> caller) {
    if (client.limited() || item(itemId) != null) {
      journal.granted(now, item(itemId) == null ? null : itemId, reply, caller);
    } else {
      caller.accept(reply);
    }
  }

  /**
   * Answers a permit request now, or holds it (bounded by {@code maxWaitMs}) until a permit frees up. A
   * request that names itself ({@link PermitRequest#requestId}) and is asked again gets the permit its
   * earlier attempt was given, or takes that attempt's place in the queue: one call, one permit.
   */
  void acquire(PermitRequest request, Consumer<PermitReply> reply) {
    String id = request.requestId();
    if (id == null) {
      decide(request, reply);
      return;
    }
    long now = now();
    forgetAskedBefore(now - horizonMs());
    Asked earlier = asked.get(id);
    if (earlier != null && earlier.granted != null) {
      long age = now - earlier.grantedAt;
      long valid = earlier.granted.validMs();
      if (valid <= 0 || age < valid) {
        repeated++;
        reply.accept(PermitReply.grant(0, valid <= 0 ? 0 : valid - age));
        return;
      }
      // the permit it was given has lapsed unused by now: the call needs a fresh one
      asked.remove(id);
    } else if (earlier != null) {
      repeated++;
      // still being decided: the earlier attempt's caller has stopped listening, this one listens instead
      earlier.reply = reply;
      Waiter waiter = earlier.waiter;
      if (waiter != null && queued(waiter)) {
        if (waiter.deadlineTimer >= 0) {
          timers.cancel(waiter.deadlineTimer);
        }
        long maxWait = Math.min(request.maxWaitMs(), config.maxWaitMs());
        if (maxWait == 0) {
          expire(waiter);
        } else {
          waiter.deadlineTimer = timers.set(maxWait, () -> expire(waiter));
        }
      }
      return;
    }
    Asked entry = new Asked(reply, now);
    asked.put(id, entry);
    entry.waiter = decide(request, answer -> {
      entry.waiter = null;
      if (answer.granted()) {
        entry.granted = answer;
        entry.grantedAt = now();
      } else {
        asked.remove(id, entry);
      }
      entry.reply.accept(answer);
    });
  }

  /** Drops what is remembered of named requests asked before {@code before}, once decided. */
  private void forgetAskedBefore(long before) {
    var oldest = asked.entrySet().iterator();
    while (oldest.hasNext()) {
      Asked entry = oldest.next().getValue();
      if (entry.askedAt >= before || entry.granted == null) {
        return;
      }
      oldest.remove();
    }
  }

  /** Requests repeated by id and answered without spending again. */
  long repeated() {
    return repeated;
  }

  /** Decides a request; the waiter when it is held in the queue, else null (answered, or being journaled). */
  private Waiter decide(PermitRequest request, Consumer<PermitReply> reply) {
    long now = now();
    long maxWait = Math.min(request.maxWaitMs(), config.maxWaitMs());
    if (waiting == 0 && maxWait == 0) {
      long free = tryAcquire(request.itemId(), now);
      if (free == 0) {
        answerGrant(now, request.itemId(), PermitReply.grant(0, validMs()), reply);
      } else {
        reply.accept(deny(request.itemId(), now, free, 0));
      }
      return null;
    }
    if (waiting >= config.maxWaiters()) {
      denied++;
      reply.accept(PermitReply.deny(notBefore(request.itemId(), now), "queue_full", 0));
      return null;
    }
    // an answer-at-once request queues behind the waiters of its priority like anyone else, then leaves
    Waiter waiter = new Waiter(request.itemId() == null ? NO_ITEM : request.itemId(), request.priority(), now, reply);
    queues.get(waiter.priority.ordinal()).computeIfAbsent(waiter.itemKey, key -> new ArrayDeque<>()).add(waiter);
    waiting++;
    dispatch(now);
    if (!queued(waiter)) {
      return null;
    }
    if (maxWait == 0) {
      remove(waiter);
      reply.accept(deny(itemIdOf(waiter), now, notBefore(itemIdOf(waiter), now), 0));
      return null;
    }
    waiter.deadlineTimer = timers.set(maxWait, () -> expire(waiter));
    return waiter;
  }

  /** How far back a grant can still count in some window of this endpoint: its longest window plus margin. */
  long horizonMs() {
    long longest = budget.perItemPerMinute() > 0 ? config.minuteMs() : 0;
    for (SlidingWindow window : client.windows()) {
      longest = Math.max(longest, window.lengthMs());
    }
    return longest + config.marginMs();
  }

  /**
   * Puts back grants made before (by a previous process, or by the previous cluster owner, from its
   * journal), in time order, in the limiter's clock: every client window counts each one, and an Item's
   * minute window those of its minute. The counts continue exactly where they were.
   */
  void restore(long at, String itemId, int count, long now) {
    for (SlidingWindow window : client.windows()) {
      for (int i = 0; i < count; i++) {
        window.restore(at);
      }
    }
    if (itemId != null && at > now - config.minuteMs() - config.marginMs()) {
      Scope item = item(itemId);
      if (item != null) {
        for (SlidingWindow window : item.windows()) {
          for (int i = 0; i < count; i++) {
            window.restore(at);
          }
        }
      }
    }
  }

  /** Charges a 429 to the Item or the client scope and closes that scope for a cool-down. */
  RateLimitReportReply report(RateLimitReport report, long retryAfterMs) {
    long now = now();
    String code = report.errorCode() == null ? "" : report.errorCode().toUpperCase(Locale.ROOT);
    if (config.ignoredCodes().contains(code)) {
      return new RateLimitReportReply("none", 0, client.effective(now));
    }
    rateLimited++;
    Scope item = item(report.itemId());
    Scope target = chargesItem(code, item, now) ? item : client;
    long coolDown = retryAfterMs >= 0 ? retryAfterMs : config.cooldownMs();
    target.rejected(now, now + coolDown);
    return new RateLimitReportReply(target.kind(), target.coolingUntil(), target.effective(now));
  }

  /**
   * The scope rule (docs/ratelimit.md): a code that names a scope decides (BALANCE_LIMIT is per Item,
   * ACCOUNTS_BALANCE_GET_LIMIT client-wide); Plaid's other codes name only the endpoint, so the 429 goes to
   * the Item when the call had one and the Item's budget is at least as used up as the client's (it is
   * the one that binds), else to the client.
   */
  private boolean chargesItem(String code, Scope item, long now) {
    if (item == null || config.clientCodes().contains(code)) {
      return false;
    }
    if (config.itemCodes().contains(code) || !client.limited()) {
      return true;
    }
    return item.pressure(now) >= client.pressure(now);
  }

  private void dispatch(long now) {
    while (waiting > 0) {
      long clientFree = client.nextFree(now);
      if (clientFree > now) {
        wakeAt(clientFree, now);
        return;
      }
      Waiter next = null;
      for (LinkedHashMap<String, ArrayDeque<Waiter>> queue : queues) {
        Iterator<Map.Entry<String, ArrayDeque<Waiter>>> entries = queue.entrySet().iterator();
        while (next == null && entries.hasNext()) {
          Map.Entry<String, ArrayDeque<Waiter>> entry = entries.next();
          Scope item = item(entry.getKey());
          if (item == null || item.nextFree(now) <= now) {
            ArrayDeque<Waiter> line = entry.getValue();
            next = line.poll();
            // the Item goes to the back of its priority's turn order
            entries.remove();
            if (!line.isEmpty()) {
              queue.put(entry.getKey(), line);
            }
          }
        }
        if (next != null) {
          break;
        }
      }
      if (next == null) {
        wakeAt(earliestItemFree(now), now);
        return;
      }
      waiting--;
      Scope item = item(next.itemKey);
      client.record(now);
      if (item != null) {
        item.record(now);
      }
      granted++;
      if (next.deadlineTimer >= 0) {
        timers.cancel(next.deadlineTimer);
      }
      answerGrant(now, itemIdOf(next), PermitReply.grant(now - next.arrivedAt, validMs()), next.reply);
    }
  }

  private long earliestItemFree(long now) {
    long earliest = Long.MAX_VALUE;
    for (LinkedHashMap<String, ArrayDeque<Waiter>> queue : queues) {
      for (String key : queue.keySet()) {
        Scope item = item(key);
        earliest = Math.min(earliest, item == null ? now : item.nextFree(now));
      }
    }
    return earliest;
  }

  private void wakeAt(long at, long now) {
    if (at == Long.MAX_VALUE || (wakeTimer >= 0 && wakeAt <= at)) {
      return;
    }
    if (wakeTimer >= 0) {
      timers.cancel(wakeTimer);
    }
    wakeAt = at;
    wakeTimer = timers.set(Math.max(1, at - now), () -> {
      wakeTimer = -1;
      wakeAt = Long.MAX_VALUE;
      dispatch(now());
    });
  }

  private void expire(Waiter waiter) {
    if (!queued(waiter)) {
      return;
    }
    remove(waiter);
    long now = now();
    waiter.reply.accept(deny(itemIdOf(waiter), now, notBefore(itemIdOf(waiter), now), now - waiter.arrivedAt));
  }

  private boolean queued(Waiter waiter) {
    ArrayDeque<Waiter> line = queues.get(waiter.priority.ordinal()).get(waiter.itemKey);
    return line != null && line.contains(waiter);
  }

  private void remove(Waiter waiter) {
    LinkedHashMap<String, ArrayDeque<Waiter>> queue = queues.get(waiter.priority.ordinal());
    ArrayDeque<Waiter> line = queue.get(waiter.itemKey);
    if (line != null && line.remove(waiter)) {
      waiting--;
      if (line.isEmpty()) {
        queue.remove(waiter.itemKey);
      }
    }
  }

  private static String itemIdOf(Waiter waiter) {
    return waiter.itemKey.isEmpty() ? null : waiter.itemKey;
  }

  private PermitReply deny(String itemId, long now, long notBefore, long waited) {
    denied++;
    Scope item = item(itemId);
    String blockedBy = client.blockedBy(now);
    if (blockedBy == null && item != null) {
      blockedBy = item.blockedBy(now);
    }
    return PermitReply.deny(notBefore, blockedBy == null ? "queue" : blockedBy, waited);
  }

  private long notBefore(String itemId, long now) {
    Scope item = item(itemId);
    long free = client.nextFree(now);
    return item == null ? free : Math.max(free, item.nextFree(now));
  }

  /** The Item's scope, created on first use; null when the endpoint has no per-Item budget or no Item. */
  private Scope item(String itemId) {
    if (itemId == null || itemId.isEmpty() || budget.perItemPerMinute() <= 0) {
      return null;
    }
    Scope scope = items.get(itemId);
    if (scope == null) {
      scope = new Scope("item", List.of(new SlidingWindow("minute", config.minuteMs(), config.marginMs(),
          budget.perItemPerMinute(), config.learning())));
      items.put(itemId, scope);
    }
    return scope;
  }

  /** Forgets Items with nothing to remember: no grant in the window, no cool-down, no lowered budget, nobody waiting. */
  int sweep(long now) {
    int before = items.size();
    items.entrySet().removeIf(entry -> entry.getValue().idle(now) && !hasWaiters(entry.getKey()));
    return before - items.size();
  }

  private boolean hasWaiters(String itemKey) {
    for (LinkedHashMap<String, ArrayDeque<Waiter>> queue : queues) {
      if (queue.containsKey(itemKey)) {
        return true;
      }
    }
    return false;
  }

  int trackedItems() {
    return items.size();
  }

  int coolingItems(long now) {
    int cooling = 0;
    for (Scope scope : items.values()) {
      if (scope.coolingUntil() > now) {
        cooling++;
      }
    }
    return cooling;
  }

  /** Budget, use and remainder per window, for {@code ratelimit.status}. */
  JsonObject status(String itemId, long now) {
    JsonObject json = new JsonObject()
        .put("windows", client.windowsJson(now))
        .put("cooling_until", client.coolingUntil() > now ? client.coolingUntil() : null)
        .put("waiting", waiting)
        .put("granted", granted)
        .put("denied", denied)
        .put("rate_limited", rateLimited)
        .put("items", new JsonObject()
            .put("per_item_per_minute", budget.perItemPerMinute() > 0 ? budget.perItemPerMinute() : null)
            .put("tracked", items.size())
            .put("cooling", coolingItems(now)));
    if (itemId != null && budget.perItemPerMinute() > 0) {
      Scope item = items.get(itemId);
      json.put("item", item == null
          ? new JsonObject().put("item_id", itemId).put("windows", new JsonArray())
          : new JsonObject().put("item_id", itemId).put("windows", item.windowsJson(now))
              .put("cooling_until", item.coolingUntil() > now ? item.coolingUntil() : null));
    }
    return json;
  }

  /** Replies to every waiter that the limiter is going away, so no caller waits for a timeout. */
  void close(long now) {
    for (LinkedHashMap<String, ArrayDeque<Waiter>> queue : queues) {
      for (ArrayDeque<Waiter> line : queue.values()) {
        for (Waiter waiter : line) {
          if (waiter.deadlineTimer >= 0) {
            timers.cancel(waiter.deadlineTimer);
          }
          waiter.reply.accept(PermitReply.deny(notBefore(itemIdOf(waiter), now), "stopping", now - waiter.arrivedAt));
        }
      }
      queue.clear();
    }
    waiting = 0;
    if (wakeTimer >= 0) {
      timers.cancel(wakeTimer);
    }
  }
}
