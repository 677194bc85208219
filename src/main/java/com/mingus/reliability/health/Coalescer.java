package com.mingus.reliability.health;

import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * At most one publication per key per interval, the latest value winning: the first change goes out at
 * once, later ones within the interval wait for its end and only the newest of them is sent. Used on one
 * event loop (the verticle's), so it needs no locking.
 */
final class Coalescer<V> {
  private final Vertx vertx;
  private final long intervalMs;
  private final Consumer<V> publish;
  private final Map<String, Long> lastSent = new HashMap<>();
  private final Map<String, V> pending = new HashMap<>();
  private final Map<String, Long> timers = new HashMap<>();

  Coalescer(Vertx vertx, long intervalMs, Consumer<V> publish) {
    this.vertx = vertx;
    this.intervalMs = intervalMs;
    this.publish = publish;
  }

  void offer(String key, V value) {
    long now = System.currentTimeMillis();
    Long last = lastSent.get(key);
    if (intervalMs == 0 || (!timers.containsKey(key) && (last == null || now - last >= intervalMs))) {
      lastSent.put(key, now);
      publish.accept(value);
      return;
    }
    pending.put(key, value);
    if (!timers.containsKey(key)) {
      long delay = Math.max(1, last + intervalMs - now);
      timers.put(key, vertx.setTimer(delay, id -> flush(key)));
    }
  }

  private void flush(String key) {
    timers.remove(key);
    V value = pending.remove(key);
    if (value != null) {
      lastSent.put(key, System.currentTimeMillis());
      publish.accept(value);
    }
  }

  /** Forgets keys idle for more than an interval, so the maps stay as small as the set of busy keys. */
  void sweep() {
    long now = System.currentTimeMillis();
    lastSent.entrySet().removeIf(e -> now - e.getValue() > intervalMs && !timers.containsKey(e.getKey()));
  }

  void cancel() {
    timers.values().forEach(vertx::cancelTimer);
    timers.clear();
    pending.clear();
  }
}
