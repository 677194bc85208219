package com.mingus.reliability.health;

import com.mingus.reliability.bus.ConnectionHealth;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The last read of each connection's health, kept for {@code health.read_cache_ms} so that a dashboard or an
 * app polling one connection costs no transaction per request (docs/health.md, "Reads").
 *
 * <p>An entry remembers who read it: the user (or the operator, a null user) whose row-level-security scoped
 * read returned it. A hit is served only to one of them, so the cache never shows a row to anyone the
 * database itself had not shown it to. This node's writes drop the entry at once (every applied event, a
 * removal, a registry reconciliation), so on the node that applied a change a read is never older than it;
 * another node's change drops it when that node's {@code health.changed} arrives, and the time to live bounds
 * what a change that publishes nothing (a sync that changed no status) may leave behind.
 *
 * <p>A read that began before a drop does not store what it read (the drop leaves a tombstone with its time),
 * so a slow read cannot put back a row older than the write that dropped it. Bounded: least recently used
 * entries go first. Used on the health verticle's own context only.
 */
final class ReadCache {
  private final long ttlNanos;
  private final int maxEntries;
  private final LongSupplier clock;
  private final LinkedHashMap<String, Entry> entries;
  private long droppedAllAt = Long.MIN_VALUE;
  private long hits;
  private long misses;

  /** A connection's cached health (null in a tombstone), who may see it, and until when. */
  private static final class Entry {
    final ConnectionHealth health;
    final Set<String> readers = new HashSet<>(2);
    long storedAt;

    Entry(ConnectionHealth health, long storedAt) {
      this.health = health;
      this.storedAt = storedAt;
    }
  }

  ReadCache(long ttlMs, int maxEntries, LongSupplier clock) {
    this.ttlNanos = ttlMs * 1_000_000L;
    this.maxEntries = maxEntries;
    this.clock = clock;
    this.entries = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
        return size() > ReadCache.this.maxEntries;
      }
    };
  }

  boolean enabled() {
    return ttlNanos > 0 && maxEntries > 0;
  }

  /** The time a read begins; hand it back to {@link #put} with what the read returned. */
  long begin() {
    return clock.getAsLong();
  }

  /** The health this reader was shown within the time to live, or null. */
  ConnectionHealth get(String userId, String connectionId) {
    if (!enabled()) {
      return null;
    }
    Entry entry = entries.get(connectionId);
    if (entry == null || entry.health == null || clock.getAsLong() - entry.storedAt >= ttlNanos
        || !entry.readers.contains(reader(userId))) {
      misses++;
      return null;
    }
    hits++;
    return entry.health;
  }

  /** Keeps what a read begun at {@code began} returned, unless the connection was dropped since it began. */
  void put(String userId, String connectionId, ConnectionHealth health, long began) {
    if (!enabled() || health == null) {
      return;
    }
    Entry entry = entries.get(connectionId);
    if (began <= droppedAllAt || entry != null && entry.storedAt >= began) {
      return; // dropped (or read again) after this read began: what it read may be older than the write
    }
    if (entry == null || entry.health == null || !entry.health.equals(health)) {
      entry = new Entry(health, began);
      entries.put(connectionId, entry);
    } else {
      entry.storedAt = began; // the same row read again: current as of this read
    }
    entry.readers.add(reader(userId));
  }

  /** This connection's health was written (here or on another node): the next read goes to the database. */
  void drop(String connectionId) {
    if (enabled()) {
      entries.put(connectionId, new Entry(null, clock.getAsLong()));
    }
  }

  /** Every connection may have changed (the registry's reconciliation inserted or deleted rows). */
  void dropAll() {
    if (enabled()) {
      droppedAllAt = clock.getAsLong();
      entries.clear();
    }
  }

  long hits() {
    return hits;
  }

  long misses() {
    return misses;
  }

  private static String reader(String userId) {
    return userId == null ? "" : "u:" + userId;
  }
}
