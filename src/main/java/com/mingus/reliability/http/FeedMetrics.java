package com.mingus.reliability.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The feed's meters in /metrics. Counters are shared by every HTTP instance of the node (the registry hands
 * each the same one); the two gauges are one per instance, tagged {@code verticle}, each reading its own feed.
 *
 * <ul>
 *   <li>{@code mingus_feed_messages_total}: messages written to feed sockets;
 *   <li>{@code mingus_feed_coalesced_total}: waiting messages replaced by a newer one about the same thing
 *       (a connection's health, a bank's) or by a new snapshot, for a client whose socket was full;
 *   <li>{@code mingus_feed_dropped_total}: waiting messages thrown away with a client closed as too slow;
 *   <li>{@code mingus_feed_slow_closed_total{reason}}: clients closed as too slow, {@code reason} =
 *       {@code pending} (more than {@code max_pending} different things waiting) or {@code behind} (behind for
 *       longer than {@code max_behind_ms});
 *   <li>{@code mingus_feed_clients{verticle}}, {@code mingus_feed_pending{verticle}}: sockets open, and
 *       messages waiting for room in their sockets, now.
 * </ul>
 */
final class FeedMetrics {
  final Counter messages;
  final Counter coalesced;
  final Counter dropped;
  final Counter closedPending;
  final Counter closedBehind;
  private final MeterRegistry registry;
  private final List<Meter> gauges = new ArrayList<>();

  /** {@code registry} null (metrics off): the counters still count, in a registry of their own. */
  FeedMetrics(MeterRegistry registry) {
    this.registry = registry != null ? registry : new SimpleMeterRegistry();
    messages = Counter.builder("mingus_feed_messages").description("Messages written to live-feed sockets")
        .register(this.registry);
    coalesced = Counter.builder("mingus_feed_coalesced")
        .description("Feed messages that waited for a full socket and were replaced by a newer one about the same thing")
        .register(this.registry);
    dropped = Counter.builder("mingus_feed_dropped")
        .description("Feed messages thrown away with a client closed as too slow").register(this.registry);
    closedPending = slowClosed("pending");
    closedBehind = slowClosed("behind");
  }

  private Counter slowClosed(String reason) {
    return Counter.builder("mingus_feed_slow_closed").description("Feed clients closed as too slow")
        .tag("reason", reason).register(registry);
  }

  void gauges(String verticle, Supplier<Number> clients, Supplier<Number> pending) {
    gauges.add(Gauge.builder("mingus_feed_clients", clients).description("Live-feed sockets open")
        .tag("verticle", verticle).register(registry));
    gauges.add(Gauge.builder("mingus_feed_pending", pending)
        .description("Feed messages waiting for room in their sockets").tag("verticle", verticle).register(registry));
  }

  void close() {
    gauges.forEach(registry::remove);
    gauges.clear();
  }
}
