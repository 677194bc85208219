package com.mingus.reliability.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.health.Circuit.Event;
import com.mingus.reliability.health.Circuit.State;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A bank's circuit: when institution-wide failures trip it, and its closed / open / half-open table. */
class CircuitTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void threeConnectionsFailingInstitutionWideWithinTheWindowTripIt() {
    Circuit circuit = new Circuit(60_000, 3, 0.5);
    assertThat(circuit.record("a", true, T0)).isFalse();
    assertThat(circuit.record("a", true, T0.plusSeconds(1))).as("one connection twice is still one").isFalse();
    assertThat(circuit.record("b", true, T0.plusSeconds(2))).isFalse();
    assertThat(circuit.record("c", true, T0.plusSeconds(3))).isTrue();
  }

  @Test
  void itemLevelFailuresNeverTripIt() {
    Circuit circuit = new Circuit(60_000, 3, 0.5);
    for (int i = 0; i < 20; i++) {
      assertThat(circuit.record("conn-" + i, false, T0.plusSeconds(i))).isFalse();
    }
  }

  @Test
  void failuresOutsideTheWindowAreForgotten() {
    Circuit circuit = new Circuit(10_000, 3, 0.5);
    circuit.record("a", true, T0);
    circuit.record("b", true, T0.plusSeconds(1));
    assertThat(circuit.record("c", true, T0.plusSeconds(20))).isFalse();
  }

  @Test
  void enoughSuccessesAroundTheFailuresKeepItClosed() {
    Circuit circuit = new Circuit(60_000, 3, 0.5);
    for (int i = 0; i < 10; i++) {
      circuit.record("ok-" + i, false, T0.plusMillis(i));
    }
    circuit.record("a", true, T0.plusSeconds(1));
    circuit.record("b", true, T0.plusSeconds(2));
    assertThat(circuit.record("c", true, T0.plusSeconds(3))).as("3 of 13 is under half").isFalse();
  }

  @ParameterizedTest(name = "{0} + {1} -> {2}")
  @CsvSource({
      "CLOSED,    TRIP,          OPEN",
      "CLOSED,    RETRY_TIMER,   ",
      "CLOSED,    PROBE_OK,      ",
      "OPEN,      TRIP,          ",
      "OPEN,      RETRY_TIMER,   HALF_OPEN",
      "OPEN,      CAUSE_CLEARED, HALF_OPEN",
      "OPEN,      PROBE_OK,      ",
      "HALF_OPEN, PROBE_OK,      CLOSED",
      "HALF_OPEN, PROBE_FAILED,  OPEN",
      "HALF_OPEN, TRIP,          OPEN",
      "HALF_OPEN, RETRY_TIMER,   ",
  })
  void theStateTable(State from, Event event, State expected) {
    assertThat(Circuit.next(from, event)).isEqualTo(expected);
  }

  @Test
  void closingForgetsTheFailuresThatOpenedIt() {
    Circuit circuit = new Circuit(60_000, 2, 0.5);
    circuit.record("a", true, T0);
    assertThat(circuit.record("b", true, T0)).isTrue();
    circuit.fire(Event.TRIP, "failures", T0);
    circuit.fire(Event.RETRY_TIMER, null, T0.plusSeconds(1));
    circuit.fire(Event.PROBE_OK, null, T0.plusSeconds(2));
    assertThat(circuit.state()).isEqualTo(State.CLOSED);
    assertThat(circuit.reason()).isEqualTo("failures");
    assertThat(circuit.record("c", true, T0.plusSeconds(3))).isFalse();
  }

  @Test
  void rollingRatesCountEachWindowApart() {
    java.util.Map<String, Long> windows = new java.util.LinkedHashMap<>();
    windows.put("5m", 300_000L);
    windows.put("1h", 3_600_000L);
    RollingRates rates = new RollingRates(windows);
    long t = T0.toEpochMilli();
    rates.record(false, t);
    rates.record(true, t + 600_000);
    rates.record(true, t + 600_001);
    var json = rates.toJson(t + 600_002);
    assertThat(json.getJsonObject("5m").getLong("total")).isEqualTo(2);
    assertThat(json.getJsonObject("5m").getDouble("rate")).isEqualTo(100.0);
    assertThat(json.getJsonObject("1h").getLong("total")).isEqualTo(3);
    assertThat(json.getJsonObject("1h").getDouble("rate")).isEqualTo(66.67);
  }

  @Test
  void aMaintenanceWindowIsReadFromPlaidsIncidents() {
    assertThat(Incidents.parse("Scheduled maintenance at X from 2026-01-01T00:00:00Z until 2026-01-01T02:00:00Z"))
        .isEqualTo(Instant.parse("2026-01-01T02:00:00Z"));
    assertThat(Incidents.parse("no time here")).isNull();
  }
}
