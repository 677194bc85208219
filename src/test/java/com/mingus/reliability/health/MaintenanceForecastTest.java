package com.mingus.reliability.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.health.MaintenanceForecast.Outage;
import com.mingus.reliability.health.MaintenanceForecast.Prediction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MaintenanceForecastTest {
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
  private static final Duration TOLERANCE = Duration.ofMinutes(30);

  private static List<Outage> every(Duration period, Instant firstStart, Duration length, int count, Duration jitter) {
    List<Outage> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Instant start = firstStart.plus(period.multipliedBy(i)).plus(i % 2 == 0 ? jitter : jitter.negated());
      out.add(new Outage(start, start.plus(length)));
    }
    return out;
  }

  @Test
  void aNightlyWindowIsLearnedAndTheNextOnePredicted() {
    // 02:00-03:00 every night of the last ten, give or take ten minutes
    List<Outage> history = every(MaintenanceForecast.DAY, Instant.parse("2026-11-26T02:00:00Z"), Duration.ofHours(1), 10,
        Duration.ofMinutes(10));
    Prediction next = MaintenanceForecast.predict(history, NOW, TOLERANCE);
    assertThat(next).isNotNull();
    assertThat(next.period()).isEqualTo("day");
    assertThat(next.from()).isBetween(Instant.parse("2026-12-07T01:50:00Z"), Instant.parse("2026-12-07T02:10:00Z"));
    assertThat(Duration.between(next.from(), next.until())).isEqualTo(Duration.ofHours(1));
    assertThat(next.occurrences()).isEqualTo(10);
  }

  @Test
  void aWeeklyWindowIsNotTakenForADailyOne() {
    // Sundays 11:30-13:30 for five weeks: today is a Sunday, and now falls inside the window
    List<Outage> history = every(MaintenanceForecast.WEEK, Instant.parse("2026-11-01T11:30:00Z"), Duration.ofHours(2), 5,
        Duration.ZERO);
    Prediction current = MaintenanceForecast.predict(history, NOW, TOLERANCE);
    assertThat(current.period()).isEqualTo("week");
    assertThat(current.from()).isEqualTo(Instant.parse("2026-12-06T11:30:00Z"));
    assertThat(current.covers(NOW)).isTrue();
  }

  @Test
  void aWindowAcrossMidnightKeepsItsTime() {
    List<Outage> history = every(MaintenanceForecast.DAY, Instant.parse("2026-11-28T23:55:00Z"), Duration.ofMinutes(20), 8,
        Duration.ofMinutes(10));
    Prediction next = MaintenanceForecast.predict(history, NOW, TOLERANCE);
    assertThat(next.from()).isBetween(Instant.parse("2026-12-06T23:40:00Z"), Instant.parse("2026-12-07T00:10:00Z"));
  }

  @Test
  void scatteredOrTooFewOutagesPredictNothing() {
    List<Outage> scattered = List.of(
        new Outage(Instant.parse("2026-11-30T03:00:00Z"), Instant.parse("2026-11-30T03:40:00Z")),
        new Outage(Instant.parse("2026-12-02T15:10:00Z"), Instant.parse("2026-12-02T15:30:00Z")),
        new Outage(Instant.parse("2026-12-04T08:00:00Z"), Instant.parse("2026-12-04T10:00:00Z")),
        new Outage(Instant.parse("2026-12-05T21:00:00Z"), Instant.parse("2026-12-05T21:05:00Z")));
    assertThat(MaintenanceForecast.predict(scattered, NOW, TOLERANCE)).isNull();
    List<Outage> twice = every(MaintenanceForecast.DAY, Instant.parse("2026-12-04T02:00:00Z"), Duration.ofHours(1), 2,
        Duration.ZERO);
    assertThat(MaintenanceForecast.predict(twice, NOW, TOLERANCE)).isNull();
    // a rhythm that stopped a week ago is no rhythm now
    List<Outage> stopped = every(MaintenanceForecast.DAY, Instant.parse("2026-11-23T02:00:00Z"), Duration.ofHours(1), 5,
        Duration.ZERO);
    assertThat(MaintenanceForecast.predict(stopped, NOW, TOLERANCE)).isNull();
    assertThat(MaintenanceForecast.predict(List.of(), NOW, TOLERANCE)).isNull();
  }
}
