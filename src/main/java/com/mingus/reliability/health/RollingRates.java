package com.mingus.reliability.health;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Success rates of our own syncs over several rolling windows (5 minutes, 1 hour, 24 hours by default), each
 * a ring of {@value #BUCKETS} time buckets, so memory per bank is fixed however many syncs it sees.
 */
final class RollingRates {
  static final int BUCKETS = 30;

  private final String[] names;
  private final long[] widthMs;
  private final long[][] stamp;
  private final long[][] total;
  private final long[][] ok;

  RollingRates(Map<String, Long> windowsMs) {
    int n = windowsMs.size();
    names = new String[n];
    widthMs = new long[n];
    stamp = new long[n][BUCKETS];
    total = new long[n][BUCKETS];
    ok = new long[n][BUCKETS];
    int i = 0;
    for (Map.Entry<String, Long> window : windowsMs.entrySet()) {
      names[i] = window.getKey();
      widthMs[i] = Math.max(1, window.getValue() / BUCKETS);
      i++;
    }
  }

  void record(boolean success, long nowMs) {
    for (int w = 0; w < names.length; w++) {
      long index = nowMs / widthMs[w];
      int slot = (int) (index % BUCKETS);
      if (stamp[w][slot] != index) {
        stamp[w][slot] = index;
        total[w][slot] = 0;
        ok[w][slot] = 0;
      }
      total[w][slot]++;
      if (success) {
        ok[w][slot]++;
      }
    }
  }

  /** {"5m": {"total", "successful", "rate"}, ...}; rate is a percentage with two decimals, null with no syncs. */
  JsonObject toJson(long nowMs) {
    JsonObject out = new JsonObject();
    Map<String, long[]> sums = new LinkedHashMap<>();
    for (int w = 0; w < names.length; w++) {
      long index = nowMs / widthMs[w];
      long all = 0;
      long good = 0;
      for (int slot = 0; slot < BUCKETS; slot++) {
        if (stamp[w][slot] > index - BUCKETS && stamp[w][slot] <= index) {
          all += total[w][slot];
          good += ok[w][slot];
        }
      }
      sums.put(names[w], new long[] {all, good});
    }
    sums.forEach((name, sum) -> out.put(name, new JsonObject().put("total", sum[0]).put("successful", sum[1])
        .put("rate", sum[0] == 0 ? null : Math.round(sum[1] * 10_000.0 / sum[0]) / 100.0)));
    return out;
  }
}
