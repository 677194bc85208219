package com.mingus.reliability.health;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One bank's circuit: the closed / open / half-open semantics of vertx-circuit-breaker, driven by events.
 * The library's {@code CircuitBreaker} counts failures of calls it executes; here the failures are other
 * components' syncs arriving as events, the trip also comes from outside (Plaid's status, a maintenance
 * incident), the threshold counts distinct connections rather than calls, and the half-open probe's result
 * arrives later as a sync event. So the state machine is kept, as a table, and the counting is ours.
 */
final class Circuit {
  enum State {
    CLOSED, OPEN, HALF_OPEN;

    String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    static State parse(String text) {
      try {
        return text == null ? CLOSED : valueOf(text.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        return CLOSED;
      }
    }
  }

  enum Event {
    /** Enough institution-wide failures, Plaid says DOWN, or a maintenance incident is active. */
    TRIP,
    /** The open period is over: time to probe. */
    RETRY_TIMER,
    /** The known cause (maintenance incident, Plaid's DOWN) has ended: probe now. */
    CAUSE_CLEARED,
    /** The probe's sync reached the bank. */
    PROBE_OK,
    /** The probe's sync met the outage again, or no answer came in time. */
    PROBE_FAILED
  }

  private static final Map<State, Map<Event, State>> TABLE = new EnumMap<>(State.class);

  static {
    for (State state : State.values()) {
      TABLE.put(state, new EnumMap<>(Event.class));
    }
    TABLE.get(State.CLOSED).put(Event.TRIP, State.OPEN);
    TABLE.get(State.OPEN).put(Event.RETRY_TIMER, State.HALF_OPEN);
    TABLE.get(State.OPEN).put(Event.CAUSE_CLEARED, State.HALF_OPEN);
    TABLE.get(State.HALF_OPEN).put(Event.PROBE_OK, State.CLOSED);
    TABLE.get(State.HALF_OPEN).put(Event.PROBE_FAILED, State.OPEN);
    TABLE.get(State.HALF_OPEN).put(Event.TRIP, State.OPEN);
  }

  /** The next state, or null when the event means nothing in this state. */
  static State next(State from, Event event) {
    return TABLE.get(from).get(event);
  }

  private final long windowMs;
  private final int minConnections;
  private final double failureRatio;
  private State state = State.CLOSED;
  private Instant since;
  private String reason;
  /** Outcomes in the window: {epoch ms, 1 when an institution-wide failure}; connection ids kept beside. */
  private final Deque<Object[]> window = new ArrayDeque<>();

  Circuit(long windowMs, int minConnections, double failureRatio) {
    this.windowMs = windowMs;
    this.minConnections = minConnections;
    this.failureRatio = failureRatio;
  }

  State state() {
    return state;
  }

  Instant since() {
    return since;
  }

  String reason() {
    return reason;
  }

  void restore(State state, Instant since, String reason) {
    this.state = state;
    this.since = since;
    this.reason = reason;
  }

  /** Applies an event; true when the state changed. */
  boolean fire(Event event, String why, Instant now) {
    State to = next(state, event);
    if (to == null) {
      return false;
    }
    state = to;
    since = now;
    if (to == State.OPEN && why != null) {
      reason = why;
    }
    if (to == State.CLOSED) {
      window.clear();
    }
    return true;
  }

  /**
   * Counts one sync outcome at this bank; answers true when, closed, the window now holds institution-wide
   * failures from at least {@code minConnections} connections making up at least {@code failureRatio} of the outcomes.
   */
  boolean record(String connectionId, boolean institutionFailure, Instant now) {
    long at = now.toEpochMilli();
    window.addLast(new Object[] {at, institutionFailure, connectionId});
    while (!window.isEmpty() && (long) window.peekFirst()[0] < at - windowMs) {
      window.pollFirst();
    }
    if (state != State.CLOSED || !institutionFailure) {
      return false;
    }
    Set<String> failing = new HashSet<>();
    int failures = 0;
    for (Object[] outcome : window) {
      if ((boolean) outcome[1]) {
        failures++;
        failing.add((String) outcome[2]);
      }
    }
    return failing.size() >= minConnections && failures >= failureRatio * window.size();
  }
}
