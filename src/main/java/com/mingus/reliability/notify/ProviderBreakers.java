package com.mingus.reliability.notify;

import com.mingus.reliability.bus.NotificationChannel;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A circuit breaker (vertx-circuit-breaker) for each provider every delivery of a channel shares: the SMTP
 * server and the SMS API (docs/notify.md, "Provider breakers"). Webhooks and Web Push go to many endpoints,
 * each failing on its own, so they have none.
 *
 * <p>A provider that fails {@code max_failures} attempts in a row (an attempt that comes back to be retried:
 * a refused connection, a timeout, a 5xx; a refusal of one recipient is the provider answering) opens its
 * breaker. While open, the dispatcher claims none of that channel's deliveries, so they wait in the outbox
 * without spending their attempts (an SMTP outage longer than the retry schedule no longer dead-letters the
 * mail). After {@code reset_timeout_ms} the breaker is half-open: one delivery goes out as the probe; if it
 * reaches the provider the breaker closes and the rest follow, if not it opens again. Each node has its own
 * breakers, its own view of the provider.
 */
final class ProviderBreakers {
  private static final Logger log = LoggerFactory.getLogger(ProviderBreakers.class);
  private static final Set<NotificationChannel> GUARDED = EnumSet.of(NotificationChannel.EMAIL, NotificationChannel.SMS);

  /** An attempt that came back to be retried: a failure as the breaker counts, carrying its outcome. */
  private static final class ProviderFailed extends RuntimeException {
    final SendOutcome outcome;

    ProviderFailed(SendOutcome outcome) {
      super(outcome.error(), null, false, false);
      this.outcome = outcome;
    }
  }

  private final Map<NotificationChannel, CircuitBreaker> breakers = new EnumMap<>(NotificationChannel.class);
  /** Channels whose half-open probe is out: nothing else of theirs is sent until it is back. */
  private final Set<NotificationChannel> probing = EnumSet.noneOf(NotificationChannel.class);
  private final List<Meter> meters = new ArrayList<>();
  private final MeterRegistry registry;

  ProviderBreakers(Vertx vertx, JsonObject config, Runnable wake, MeterRegistry registry) {
    this.registry = registry;
    int maxFailures = Math.max(1, config.getInteger("max_failures", 5));
    long resetMs = Math.max(100, config.getLong("reset_timeout_ms", 30_000L));
    for (NotificationChannel channel : GUARDED) {
      CircuitBreakerOptions options = new CircuitBreakerOptions().setMaxFailures(maxFailures).setMaxRetries(0)
          // the channels keep their own connect and answer timeouts
          .setTimeout(-1).setResetTimeout(resetMs).setNotificationAddress(null);
      CircuitBreaker breaker = CircuitBreaker.create("notify-" + channel.wire(), vertx, options)
          .openHandler(v -> log.warn("The {} provider failed {} attempts in a row: its deliveries wait in the outbox "
              + "and one probes it in {} ms", channel.wire(), maxFailures, resetMs))
          .halfOpenHandler(v -> {
            log.info("Probing the {} provider with one delivery", channel.wire());
            wake.run();
          })
          .closeHandler(v -> {
            log.info("The {} provider answers again: its deliveries go out", channel.wire());
            wake.run();
          });
      breakers.put(channel, breaker);
      if (registry != null) {
        meters.add(Gauge.builder("mingus.notify.provider.open", breaker,
                b -> b.state() == CircuitBreakerState.CLOSED ? 0 : 1)
            .tag("channel", channel.wire()).description("1 while the channel's provider breaker is open or half-open")
            .register(registry));
      }
    }
  }

  /**
   * The channels (wire names) whose deliveries are not to be claimed now: behind an open breaker, or a half-open
   * one whose probe is out.
   */
  List<String> held() {
    List<String> out = new ArrayList<>();
    breakers.forEach((channel, breaker) -> {
      CircuitBreakerState state = breaker.state();
      if (state == CircuitBreakerState.OPEN || (state == CircuitBreakerState.HALF_OPEN && probing.contains(channel))) {
        out.add(channel.wire());
      }
    });
    return out;
  }

  /**
   * Whether a claimed delivery of {@code channel} may go out now: always behind a closed breaker (or none);
   * behind a half-open one only as its one probe; never behind an open one.
   */
  boolean admit(NotificationChannel channel) {
    CircuitBreaker breaker = channel == null ? null : breakers.get(channel);
    if (breaker == null || breaker.state() == CircuitBreakerState.CLOSED) {
      return true;
    }
    if (breaker.state() == CircuitBreakerState.HALF_OPEN && probing.add(channel)) {
      return true;
    }
    return false;
  }

  /** Sends through the channel's breaker (none: as it is), which counts the outcome. */
  Future<SendOutcome> call(NotificationChannel channel, Supplier<Future<SendOutcome>> send) {
    CircuitBreaker breaker = breakers.get(channel);
    if (breaker == null) {
      return send.get();
    }
    return breaker.<SendOutcome>execute(promise -> send.get().onComplete(done -> {
      if (done.failed()) {
        promise.fail(done.cause());
      } else if (done.result().kind() == SendOutcome.Kind.RETRY) {
        promise.fail(new ProviderFailed(done.result()));
      } else {
        promise.complete(done.result());
      }
    })).recover(failure -> {
      if (failure instanceof ProviderFailed failed) {
        return Future.succeededFuture(failed.outcome);
      }
      if (failure instanceof OpenCircuitException) {
        return Future.succeededFuture(SendOutcome.retry("the " + channel.wire() + " provider's breaker is open"));
      }
      return Future.failedFuture(failure);
    }).onComplete(done -> probing.remove(channel));
  }

  void close() {
    breakers.values().forEach(CircuitBreaker::close);
    if (registry != null) {
      meters.forEach(registry::remove);
    }
  }
}
