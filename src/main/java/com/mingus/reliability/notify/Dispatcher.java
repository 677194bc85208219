package com.mingus.reliability.notify;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationCreated;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotificationView;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.chaos.CrashPoints;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox dispatcher of one verticle instance: claims due deliveries with a lease, sends each on its
 * channel, records the outcome with its attempt and schedules the retry or the dead letter. Runs on the
 * verticle's event loop only, so its counters need no locking.
 */
final class Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  /** The channel senders; {@code sms} is null when no SMS API is configured. */
  record Channels(EmailChannel email, PushChannel push, SmsChannel sms, WebhookChannel webhook) {}

  private final Vertx vertx;
  private final NotifyStore store;
  private final Channels channels;
  private final RetrySchedule schedule;
  private final String owner;
  private final int claimBatch;
  private final int concurrency;
  private final double leaseSeconds;
  private final MeterRegistry registry;
  private final Function<NotifySend, Future<?>> notifyUser;
  /** Signs operator alerts' webhooks ({@code notify.operator.webhook_secret}); null when none is configured. */
  private final String operatorWebhookSecret;
  /** Told after a user's delivery was dead-lettered, so the operator alert follows at once. */
  private final Runnable onDeadLetter;
  private final ProviderBreakers breakers;
  private final List<QueuedOutcome> outcomes = new ArrayList<>();
  private boolean flushScheduled;
  private int inFlight;
  private boolean polling;
  private boolean pollAgain;
  private boolean stopping;

  Dispatcher(Vertx vertx, NotifyStore store, Channels channels, RetrySchedule schedule, String owner, int claimBatch,
      int concurrency, double leaseSeconds, MeterRegistry registry, Function<NotifySend, Future<?>> notifyUser,
      String operatorWebhookSecret, Runnable onDeadLetter, ProviderBreakers breakers) {
    this.vertx = vertx;
    this.breakers = breakers;
    this.store = store;
    this.channels = channels;
    this.schedule = schedule;
    this.owner = owner;
    this.claimBatch = claimBatch;
    this.concurrency = concurrency;
    this.leaseSeconds = leaseSeconds;
    this.registry = registry;
    this.notifyUser = notifyUser;
    this.operatorWebhookSecret = operatorWebhookSecret;
    this.onDeadLetter = onDeadLetter;
  }

  /**
   * Claims due deliveries up to the free concurrency and sends them; called on a timer, after every new
   * notification and whenever a full batch came back (more may be waiting). Never runs twice at once.
   */
  void poll() {
    if (stopping) {
      return;
    }
    if (polling) {
      pollAgain = true;
      return;
    }
    int room = Math.min(claimBatch, concurrency - inFlight);
    if (room <= 0 || (inFlight > concurrency / 2 && room < claimBatch)) {
      pollAgain = true;
      return;
    }
    polling = true;
    store.claim(owner, room, leaseSeconds, breakers.held()).compose(claimed -> {
      if (claimed.isEmpty()) {
        return Future.succeededFuture(0);
      }
      Set<String> users = new HashSet<>();
      claimed.stream().filter(d -> d.channel().equals("push") || d.channel().equals("webhook"))
          .forEach(d -> users.add(d.userId()));
      return store.preferences(users).compose(prefs -> {
        // a provider whose breaker opened since the claim (or whose one probe is out) gets none of these now
        List<String> handBack = new ArrayList<>();
        for (Delivery delivery : claimed) {
          if (breakers.admit(NotificationChannel.fromWire(delivery.channel()))) {
            dispatch(delivery, prefs.get(delivery.userId()));
          } else {
            handBack.add(delivery.id());
          }
        }
        return store.release(owner, handBack).map(released -> claimed.size() - handBack.size());
      });
    }).onComplete(result -> {
      polling = false;
      if (result.failed()) {
        log.warn("Claiming deliveries failed: {}", result.cause().getMessage());
      }
      if (pollAgain || (result.succeeded() && result.result() == room)) {
        pollAgain = false;
        vertx.runOnContext(ignored -> poll());
      }
    });
  }

  private void dispatch(Delivery delivery, Preferences prefs) {
    inFlight++;
    Instant started = Instant.now();
    Future<SendOutcome> outcome;
    try {
      outcome = attempt(delivery, prefs);
    } catch (RuntimeException e) {
      outcome = Future.succeededFuture(SendOutcome.retry("internal: " + e.getMessage()));
    }
    outcome.recover(failure -> Future.succeededFuture(SendOutcome.retry(EmailChannel.oneLine(failure.getMessage()))))
        .compose(result -> record(delivery, result, started))
        .onComplete(done -> {
          if (done.failed()) {
            log.warn("Recording delivery {} failed; its lease will expire and it will be retried: {}", delivery.id(),
                done.cause().getMessage());
          }
          inFlight--;
          // refill in batches once half the window is free, rather than one claim per finished delivery
          if (pollAgain && inFlight <= concurrency / 2) {
            poll();
          }
        });
  }

  private Future<SendOutcome> attempt(Delivery delivery, Preferences prefs) {
    NotificationChannel channel = NotificationChannel.fromWire(delivery.channel());
    if (channel == null) {
      return Future.succeededFuture(SendOutcome.failed("unknown channel " + delivery.channel()));
    }
    return switch (channel) {
      case EMAIL -> breakers.call(channel, () -> channels.email().send(delivery));
      case IN_APP -> {
        NotificationView view = new NotificationView(delivery.notificationId(), delivery.type(), delivery.priority(),
            delivery.title(), delivery.message(), delivery.connectionId(), false, NotifyStore.iso(delivery.createdAt()), 1);
        vertx.eventBus().publish(Addresses.NOTIFICATION_CREATED, new NotificationCreated(delivery.userId(), view));
        yield Future.succeededFuture(SendOutcome.sent(null));
      }
      case PUSH -> channels.push().send(delivery, prefs == null ? null : prefs.subscription(delivery.target()));
      case SMS -> channels.sms() == null ? Future.succeededFuture(SendOutcome.skipped("sms_not_configured"))
          : breakers.call(channel, () -> channels.sms().send(delivery));
      case WEBHOOK -> {
        if (OperatorAlerts.USER.equals(delivery.userId())) {
          // an operator alert: the operator's endpoint and secret come from configuration, not preferences
          yield channels.webhook().send(delivery, operatorWebhookSecret);
        }
        if (prefs == null || prefs.webhookDisabled() != null) {
          yield Future.succeededFuture(SendOutcome.skipped("webhook_disabled"));
        }
        yield channels.webhook().send(delivery, prefs.webhookSecret());
      }
    };
  }

  private Future<Void> record(Delivery delivery, SendOutcome outcome, Instant started) {
    if (outcome.kind() == SendOutcome.Kind.SENT) {
      // a death here: the provider has it, the outbox does not know; the lease runs out and the retry
      // carries the same idempotency key (docs/notify.md)
      CrashPoints.reach("notify.sent");
    }
    NotificationChannel channel = NotificationChannel.fromWire(delivery.channel());
    String status;
    String reason = null;
    Instant next = null;
    boolean deadLetter = false;
    switch (outcome.kind()) {
      case SENT -> status = "sent";
      case SKIPPED -> {
        status = "skipped";
        reason = outcome.error();
      }
      case GONE -> {
        status = "failed";
        reason = "endpoint_gone";
      }
      case FAILED -> {
        status = "failed";
        reason = "refused";
        deadLetter = true;
      }
      default -> {
        long delay = channel == null ? -1 : schedule.delayMs(channel, delivery.attempt());
        if (delay < 0) {
          status = "failed";
          reason = "dead_letter: no success after " + delivery.attempt() + " attempts";
          deadLetter = true;
        } else {
          status = "retrying";
          long wait = Math.max(delay, Math.round(outcome.retryAfterMs() * schedule.scale()));
          next = Instant.now().plusMillis(wait);
        }
      }
    }
    count("notify.deliveries", "channel", delivery.channel(), "outcome", status);
    if (!"sent".equals(status)) {
      log.info("Delivery {} ({}) attempt {}: {} {}", delivery.id(), delivery.channel(), delivery.attempt(), status,
          outcome.error() == null ? "" : outcome.error());
    }
    Future<Boolean> written = recordLater(new NotifyStore.Outcome(delivery.id(), delivery.attempt(), status, reason,
        outcome.providerMessageId(), "sent".equals(status) || "skipped".equals(status) ? null : outcome.error(), next,
        deadLetter, started));
    boolean deadLetterFinal = deadLetter;
    return written.compose(kept -> {
      if (!kept) {
        log.warn("Delivery {} was re-claimed after its lease expired; this outcome ({}) was not recorded",
            delivery.id(), status);
        return Future.succeededFuture();
      }
      if (deadLetterFinal && !OperatorAlerts.USER.equals(delivery.userId()) && onDeadLetter != null) {
        onDeadLetter.run();
      }
      if (outcome.kind() == SendOutcome.Kind.GONE) {
        return endpointGone(delivery, channel);
      }
      return Future.succeededFuture();
    });
  }

  /**
   * Queues an outcome and writes every outcome queued in the same turn of the event loop with one statement:
   * under load many sends finish together, and one round trip records them all.
   */
  private Future<Boolean> recordLater(NotifyStore.Outcome outcome) {
    Promise<Boolean> recorded = Promise.promise();
    outcomes.add(new QueuedOutcome(outcome, recorded));
    if (!flushScheduled) {
      flushScheduled = true;
      vertx.runOnContext(ignored -> flushOutcomes());
    }
    return recorded.future();
  }

  private record QueuedOutcome(NotifyStore.Outcome outcome, Promise<Boolean> recorded) {}

  private void flushOutcomes() {
    flushScheduled = false;
    List<QueuedOutcome> batch = new ArrayList<>(outcomes);
    outcomes.clear();
    if (batch.isEmpty()) {
      return;
    }
    store.complete(owner, batch.stream().map(QueuedOutcome::outcome).toList())
        .onSuccess(kept -> batch.forEach(q -> q.recorded().complete(kept.contains(q.outcome().deliveryId()))))
        .onFailure(failure -> batch.forEach(q -> q.recorded().fail(failure)));
  }

  /** A push subscription that is gone is forgotten; a webhook that answered 410 is turned off and the user told. */
  private Future<Void> endpointGone(Delivery delivery, NotificationChannel channel) {
    if (channel == NotificationChannel.PUSH) {
      return store.removePushSubscription(delivery.userId(), delivery.target());
    }
    if (channel != NotificationChannel.WEBHOOK) {
      return Future.succeededFuture();
    }
    return store.disableWebhook(delivery.userId(), delivery.target(), "410 Gone at " + Instant.now()).compose(changed -> {
      if (!changed) {
        return Future.succeededFuture();
      }
      log.info("Webhook of user {} answered 410 Gone and was turned off", delivery.userId());
      JsonObject data = new JsonObject()
          .put("detail", "Your webhook endpoint " + delivery.target() + " answered 410 Gone, so we stopped sending to it.")
          .put("action_required_text", "To receive webhooks again, set a new endpoint in your notification settings.");
      NotifySend notice = new NotifySend(delivery.userId(), NotificationType.ACCOUNT_UPDATE.wire(), null,
          "webhook_gone:" + delivery.target(), data, List.of("email", "in_app", "push", "sms"), null, null, null);
      return notifyUser.apply(notice).mapEmpty();
    });
  }

  private void count(String name, String... tags) {
    if (registry != null) {
      registry.counter(name, tags).increment();
    }
  }

  /**
   * Stops claiming and lets the deliveries in flight finish and record their outcome, until the deadline:
   * an outcome not recorded would be sent again when its lease expires.
   */
  Future<Void> stop(long deadline) {
    stopping = true;
    return drained(deadline);
  }

  private Future<Void> drained(long deadline) {
    if (inFlight == 0 || System.currentTimeMillis() >= deadline) {
      if (inFlight > 0) {
        log.warn("Stopping with {} deliveries in flight; they will be retried when their lease expires", inFlight);
      }
      return Future.succeededFuture();
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(20, id -> later.complete());
    return later.future().compose(ignored -> drained(deadline));
  }
}
