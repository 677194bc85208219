package com.mingus.reliability.ratelimit;

/**
 * One budget of one scope over one window length, as an exact sliding log: the grant times of the last
 * window live in a ring buffer as large as the configured budget, and a call may go only while fewer than
 * the effective budget were granted in the last {@code window + margin} milliseconds. Any two grants that
 * far apart in the log are at least that far apart in time, so no interval of one window, wherever a
 * server puts it (fixed, sliding, aligned to its own clock), ever holds more than the budget; and the whole
 * budget is usable at once, unlike a GCRA spacing which caps bursts or one that lets a burst exceed a
 * sliding minute.
 *
 * <p>The window also learns: a 429 lowers the effective budget toward what the server actually accepted
 * (or multiplicatively, at most once per window, when that is unknown), and after a quiet period it climbs
 * back by a fixed step per window toward the configured budget. Not thread-safe: one owner calls it.
 */
final class SlidingWindow {
  private final String name;
  private final long lengthMs;
  private final long holdMs;
  private final int configured;
  private final Learning learning;
  private final long[] grants;
  private int head;
  private int size;
  private final long[] rejects;
  private int rejectHead;
  private int rejectSize;
  private int lowered;
  private long last429At = Long.MIN_VALUE;
  private long episodeStart = Long.MIN_VALUE;
  private int episodeBase;

  /** How a window reacts to 429s; every figure from config. */
  record Learning(double decreaseFactor, double minFraction, int quietWindows, double stepFraction) {
    static final Learning NONE = new Learning(1.0, 1.0, 0, 1.0);
  }

  SlidingWindow(String name, long lengthMs, long marginMs, int configured, Learning learning) {
    if (configured < 1 || lengthMs < 1 || marginMs < 0) {
      throw new IllegalArgumentException("window " + name + ": budget and length must be positive");
    }
    this.name = name;
    this.lengthMs = lengthMs;
    this.holdMs = lengthMs + marginMs;
    this.configured = configured;
    this.learning = learning;
    this.grants = new long[configured];
    this.rejects = new long[configured];
    this.lowered = configured;
  }

  String name() {
    return name;
  }

  long lengthMs() {
    return lengthMs;
  }

  int configured() {
    return configured;
  }

  /** Grants counted in the window ending now. */
  int used(long now) {
    evict(now);
    return size;
  }

  /** The budget in force now, after learning and recovery. */
  int effective(long now) {
    if (lowered >= configured) {
      return configured;
    }
    long recoverFrom = last429At + learning.quietWindows() * lengthMs;
    if (now < recoverFrom) {
      return lowered;
    }
    long steps = 1 + (now - recoverFrom) / lengthMs;
    long recovered = lowered + steps * step();
    return (int) Math.min(configured, recovered);
  }

  /** The earliest time a grant can happen; {@code now} when one can happen now. */
  long nextFree(long now) {
    evict(now);
    int effective = effective(now);
    if (size < effective) {
      return now;
    }
    // the grant whose expiry brings the count below the budget
    int index = size - effective;
    return grants[(head + index) % grants.length] + holdMs;
  }

  /** Fraction of the effective budget used now; a value of 1 or more means this window binds. */
  double pressure(long now) {
    return (double) used(now) / effective(now);
  }

  /** Counts a grant; the caller has checked {@link #nextFree} first. */
  void record(long now) {
    evict(now);
    if (size == grants.length) {
      throw new IllegalStateException("window " + name + " is full: a grant was recorded without a check");
    }
    grants[(head + size) % grants.length] = now;
    size++;
  }

  /**
   * Learns from a 429 charged to this window. What the server accepted from us in this window is the
   * grants minus the 429s already seen in it; when that is below the budget it becomes the budget, so a
   * limit 20% under ours is found within the first window. Without such evidence (a restart forgot the
   * log, someone else spends the same budget) the budget is cut by the decrease factor, as AIMD does.
   * Either way one window's 429s lower the budget by at most that factor from where the window's first
   * 429 found it: a restart that makes Plaid refuse a whole window costs one cut, not a collapse.
   */
  void onRejected(long now) {
    evict(now);
    evictRejects(now);
    if (rejectSize == rejects.length) {
      rejectHead = (rejectHead + 1) % rejects.length;
      rejectSize--;
    }
    rejects[(rejectHead + rejectSize) % rejects.length] = now;
    rejectSize++;
    int current = effective(now);
    if (episodeStart == Long.MIN_VALUE || now - episodeStart >= lengthMs) {
      episodeStart = now;
      episodeBase = current;
    }
    int floor = Math.max(minimum(), (int) Math.floor(episodeBase * learning.decreaseFactor()));
    int accepted = Math.max(0, size - rejectSize);
    int target = accepted < current ? accepted : floor;
    lowered = Math.min(current, Math.max(floor, target));
    last429At = now;
  }

  /**
   * Puts back a grant a previous process made (in time order); when more come back than the budget holds
   * (another node's grants, a budget lowered since), the oldest give way.
   */
  void restore(long at) {
    if (size == grants.length) {
      head = (head + 1) % grants.length;
      size--;
    }
    grants[(head + size) % grants.length] = at;
    size++;
  }

  /** Puts back a learned budget; recovery goes on from when its last 429 came. */
  void restoreLearning(int budget, long at429) {
    lowered = Math.max(minimum(), Math.min(configured, budget));
    last429At = at429;
  }

  /** The budget the last 429 left, for storing; the configured one when never lowered. */
  int lowered() {
    return lowered;
  }

  /** When the last 429 came, or {@link Long#MIN_VALUE}. */
  long last429At() {
    return last429At;
  }

  /** True when the window holds nothing worth keeping: no grant in it and the budget fully recovered. */
  boolean idle(long now) {
    return used(now) == 0 && effective(now) >= configured;
  }

  private int minimum() {
    return Math.max(1, (int) Math.ceil(configured * learning.minFraction()));
  }

  private int step() {
    return Math.max(1, (int) Math.round(configured * learning.stepFraction()));
  }

  private void evict(long now) {
    while (size > 0 && grants[head] + holdMs <= now) {
      head = (head + 1) % grants.length;
      size--;
    }
  }

  private void evictRejects(long now) {
    while (rejectSize > 0 && rejects[rejectHead] + holdMs <= now) {
      rejectHead = (rejectHead + 1) % rejects.length;
      rejectSize--;
    }
  }
}
