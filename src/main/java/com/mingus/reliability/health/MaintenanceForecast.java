package com.mingus.reliability.health;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A bank's recurring maintenance, learned from its past outages (docs/health.md, "Predicted maintenance"):
 * outages that start at the same time of day (or of the week), give or take {@code tolerance}, last about
 * as long, and recur in at least {@value #MIN_OCCURRENCES} distinct days (weeks) covering most of the days
 * (weeks) since the first of them, make a pattern. The next window is its next start (or the current one,
 * when now falls inside it), lasting the pattern's median duration. Daily patterns are tried first; a
 * weekly rhythm does not pass for a daily one, since it misses most days.
 */
final class MaintenanceForecast {
  private MaintenanceForecast() {}

  static final int MIN_OCCURRENCES = 3;
  /** Of the days (weeks) from a pattern's first occurrence to now, the share it must have happened on. */
  static final double MIN_REGULARITY = 0.7;
  static final Duration DAY = Duration.ofDays(1);
  static final Duration WEEK = Duration.ofDays(7);

  /** A past outage: when the bank's circuit opened and closed again (end null while it lasts). */
  record Outage(Instant start, Instant end) {
    Duration length() {
      return Duration.between(start, end);
    }
  }

  /** The predicted window, what it was learned from ({@code period} day or week, {@code occurrences}). */
  record Prediction(Instant from, Instant until, String period, int occurrences) {
    Incidents.Window window() {
      return new Incidents.Window("predicted", from, until,
          "Recurring maintenance learned from " + occurrences + " outages, every " + period);
    }

    io.vertx.core.json.JsonObject toJson() {
      return new io.vertx.core.json.JsonObject().put("from", from.toString()).put("until", until.toString())
          .put("period", period).put("occurrences", occurrences);
    }

    boolean covers(Instant at) {
      return !at.isBefore(from) && at.isBefore(until);
    }
  }

  /** The next (or current) predicted window, or null when the history shows no rhythm. */
  static Prediction predict(List<Outage> history, Instant now, Duration tolerance) {
    Prediction daily = predict(history, now, tolerance, DAY, 14, "day");
    return daily != null ? daily : predict(history, now, tolerance, WEEK, 8, "week");
  }

  private static Prediction predict(List<Outage> history, Instant now, Duration tolerance, Duration period, int periods,
      String name) {
    long p = period.toMillis();
    Instant since = now.minus(period.multipliedBy(periods));
    List<Outage> ended = history.stream()
        .filter(o -> o.end() != null && o.end().isAfter(o.start()) && o.start().isAfter(since) && o.start().isBefore(now))
        .sorted(Comparator.comparing(Outage::start).reversed())
        .toList();
    List<Outage> best = List.of();
    Outage bestAnchor = null;
    for (Outage anchor : ended) {
      List<Outage> members = new ArrayList<>();
      for (Outage other : ended) {
        if (phaseDistance(anchor.start(), other.start(), p) <= tolerance.toMillis()
            && Math.abs(other.length().toMillis() - anchor.length().toMillis())
                <= Math.max(tolerance.toMillis(), anchor.length().toMillis() / 2)) {
          members.add(other);
        }
      }
      // which day (week) each occurrence belongs to, counted from half a period before the anchor's position,
      // so a window either side of midnight is one day's
      long offset = Math.floorMod(anchor.start().toEpochMilli(), p) - p / 2;
      long distinct = members.stream().mapToLong(o -> Math.floorDiv(o.start().toEpochMilli() - offset, p)).distinct().count();
      if (distinct < MIN_OCCURRENCES) {
        continue;
      }
      long first = members.stream().mapToLong(o -> Math.floorDiv(o.start().toEpochMilli() - offset, p)).min().orElseThrow();
      long spanned = Math.floorDiv(now.toEpochMilli() - offset, p) - first + 1;
      if (distinct < MIN_REGULARITY * spanned - 1) {
        continue;
      }
      if (members.size() > best.size()) {
        best = members;
        bestAnchor = anchor;
      }
    }
    if (best.isEmpty()) {
      return null;
    }
    // positions relative to the anchor's (signed, the shorter way round), so a window across midnight averages right
    long anchorPhase = Math.floorMod(bestAnchor.start().toEpochMilli(), p);
    long phase = anchorPhase + median(best.stream().mapToLong(o -> {
      long d = Math.floorMod(o.start().toEpochMilli() - anchorPhase, p);
      return d > p / 2 ? d - p : d;
    }).sorted().toArray());
    long length = median(best.stream().mapToLong(o -> o.length().toMillis()).sorted().toArray());
    long start = Math.floorDiv(now.toEpochMilli(), p) * p + phase;
    // the window now in, or the next one: step back a period while the previous one has not ended
    while (start > now.toEpochMilli()) {
      start -= p;
    }
    if (start + length <= now.toEpochMilli()) {
      start += p;
    }
    return new Prediction(Instant.ofEpochMilli(start), Instant.ofEpochMilli(start + length), name, best.size());
  }

  /** How far apart two instants are in their position within the period (the shorter way round). */
  private static long phaseDistance(Instant a, Instant b, long period) {
    long d = Math.abs(Math.floorMod(a.toEpochMilli(), period) - Math.floorMod(b.toEpochMilli(), period));
    return Math.min(d, period - d);
  }

  private static long median(long[] sorted) {
    return sorted[sorted.length / 2];
  }
}
