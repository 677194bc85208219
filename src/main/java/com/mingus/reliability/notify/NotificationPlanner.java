package com.mingus.reliability.notify;

import static com.mingus.reliability.notify.Requests.blank;

import com.mingus.reliability.bus.DeliveryStatus;
import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.NotifySendResult;
import com.mingus.reliability.bus.PushSubscription;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * How a request becomes a notification and its deliveries ({@code notify.send}, and the same planning for
 * send-test and each recipient of a broadcast): the channels from the type's template, the caller and the
 * user's preferences; the texts rendered once; each delivery pending, waiting for the end of the quiet hours,
 * or skipped with its reason. A send is written with its dedupe key in one statement, so identical requests
 * within the cooldown merge into the first notification.
 */
final class NotificationPlanner {
  private static final Set<NotificationChannel> QUIET_CHANNELS =
      Set.of(NotificationChannel.EMAIL, NotificationChannel.PUSH, NotificationChannel.SMS);

  /** A notification and its deliveries, decided and rendered, not yet written. */
  record Plan(NotifyStore.NewNotification notification, List<NotifyStore.NewDelivery> deliveries) {}

  private final NotifyStore store;
  private final TemplateCommands templates;
  private final String appUrl;
  private final boolean smsConfigured;
  private final double dedupeCooldownSeconds;
  private final MeterRegistry registry;
  private final Runnable poll;

  NotificationPlanner(NotifyStore store, TemplateCommands templates, String appUrl, boolean smsConfigured,
      double dedupeCooldownSeconds, MeterRegistry registry, Runnable poll) {
    this.store = store;
    this.templates = templates;
    this.appUrl = appUrl;
    this.smsConfigured = smsConfigured;
    this.dedupeCooldownSeconds = dedupeCooldownSeconds;
    this.registry = registry;
    this.poll = poll;
  }

  private static Refusal invalid(String message) {
    return Refusal.invalid(message);
  }

  Future<NotifySendResult> send(NotifySend request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    if (OperatorAlerts.USER.equals(request.userId())) {
      return Future.failedFuture(invalid("user_id " + OperatorAlerts.USER + " is reserved for operator alerts"));
    }
    NotificationType type = NotificationType.parse(request.type());
    if (type == null) {
      return Future.failedFuture(invalid("unknown notification type '" + request.type() + "'"));
    }
    NotificationPriority priority = null;
    if (request.priority() != null) {
      priority = NotificationPriority.parse(request.priority());
      if (priority == null) {
        return Future.failedFuture(invalid("unknown priority '" + request.priority() + "'"));
      }
    }
    List<NotificationChannel> requested;
    try {
      requested = Requests.channels(request.channels(), false);
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
    NotificationPriority chosen = priority;
    return store.preferences(request.userId()).compose(prefs -> {
      Template template = templates.get(type);
      Plan plan = plan(request.userId(), type, template, prefs, requested, chosen, request.connectionId(),
          request.dedupeKey() == null ? null : type.wire() + "|" + request.dedupeKey(), request.data(),
          request.userName(), request.userEmail(), false);
      return store.create(plan.notification(), plan.deliveries(), dedupeCooldownSeconds).compose(created -> {
        if (created.merged()) {
          return store.deliveries(created.notificationId(), null)
              .map(existing -> new NotifySendResult(created.notificationId().toString(), true, existing));
        }
        count("notify.notifications.created", "type", type.wire());
        poll.run();
        return Future.succeededFuture(new NotifySendResult(created.notificationId().toString(), false,
            plan.deliveries().stream().map(NotificationPlanner::status).toList()));
      });
    });
  }

  private void count(String name, String... tags) {
    if (registry != null) {
      registry.counter(name, tags).increment();
    }
  }

  private static DeliveryStatus status(NotifyStore.NewDelivery d) {
    return new DeliveryStatus(d.id().toString(), d.channel().wire(), d.target(), d.status(), d.reason(), 0, null, null,
        d.notBefore() == null ? null : d.notBefore().toString(), null, d.idempotencyKey(), List.of());
  }

  /**
   * Decides the channels (the type's defaults or the caller's list, then the user's on/off choices; a test
   * takes exactly its channels), renders each channel's text and gives each delivery its state: pending,
   * pending until the quiet hours end, or skipped with the reason (no contact point, turned off).
   */
  Plan plan(String userId, NotificationType type, Template template, Preferences prefs,
      List<NotificationChannel> requested, NotificationPriority priorityOverride, String connectionId, String dedupeKey,
      JsonObject data, String userName, String userEmail, boolean test) {
    NotificationPriority priority = priorityOverride == null ? template.priority() : priorityOverride;
    JsonObject values = new JsonObject().put("app_name", "MINGUS").put("action_url", appUrl)
        .put("occurred_at", Instant.now().toString());
    if (connectionId != null) {
      values.put("connection_id", connectionId);
    }
    if (data != null) {
      data.forEach(entry -> {
        if (!entry.getKey().equals("action_url") || safeUrl(entry.getValue())) {
          values.put(entry.getKey(), entry.getValue());
        }
      });
    }
    if (!blank(userName)) {
      values.put("user_name", userName);
    }
    String title = TemplateRenderer.render(template.subject(), values, TemplateRenderer.Mode.LINE);
    String message = TemplateRenderer.render(template.inApp(), values, TemplateRenderer.Mode.TEXT);

    Set<NotificationChannel> chosen = new LinkedHashSet<>();
    Set<NotificationChannel> turnedOff = new LinkedHashSet<>();
    if (test) {
      chosen.addAll(requested);
    } else {
      for (NotificationChannel channel : NotificationChannel.values()) {
        boolean wanted = requested != null ? requested.contains(channel) : template.channels().contains(channel);
        boolean on = prefs.enabled(type, channel, wanted);
        if (requested != null) {
          on = wanted && prefs.enabled(type, channel, true);
        }
        if (on) {
          chosen.add(channel);
        } else if (wanted) {
          turnedOff.add(channel);
        }
      }
    }
    UUID id = UUID.randomUUID();
    Instant quietUntil = test || priority == NotificationPriority.CRITICAL ? null : prefs.quietUntil(Instant.now());
    List<NotifyStore.NewDelivery> deliveries = new ArrayList<>();
    for (NotificationChannel channel : chosen) {
      Instant notBefore = quietUntil != null && QUIET_CHANNELS.contains(channel) ? quietUntil : null;
      String waiting = notBefore == null ? null : "quiet_hours";
      String key = id + ":" + channel.wire();
      switch (channel) {
        case IN_APP -> deliveries.add(new NotifyStore.NewDelivery(UUID.randomUUID(), channel, null, key, "pending",
            null, title, message, null, null));
        case EMAIL -> {
          String address = !blank(prefs.email()) ? prefs.email() : (PreferenceCommands.validEmail(userEmail) ? userEmail : null);
          deliveries.add(address == null ? skipped(channel, key, "no_email_address") : new NotifyStore.NewDelivery(
              UUID.randomUUID(), channel, address, key, "pending", waiting, title,
              TemplateRenderer.render(template.emailText(), values, TemplateRenderer.Mode.TEXT),
              TemplateRenderer.render(template.emailHtml(), values, TemplateRenderer.Mode.HTML), notBefore));
        }
        case PUSH -> {
          if (prefs.push().isEmpty()) {
            deliveries.add(skipped(channel, key, "no_push_subscription"));
          }
          for (PushSubscription subscription : prefs.push()) {
            deliveries.add(new NotifyStore.NewDelivery(UUID.randomUUID(), channel, subscription.endpoint(),
                key + ":" + shortHash(subscription.endpoint()), "pending", waiting, title,
                TemplateRenderer.render(template.push(), values, TemplateRenderer.Mode.TEXT), null, notBefore));
          }
        }
        case SMS -> {
          String reason = !smsConfigured ? "sms_not_configured" : blank(prefs.phone()) ? "no_phone_number" : null;
          deliveries.add(reason != null ? skipped(channel, key, reason) : new NotifyStore.NewDelivery(UUID.randomUUID(),
              channel, prefs.phone(), key, "pending", waiting, null,
              TemplateRenderer.render(template.sms(), values, TemplateRenderer.Mode.TEXT), null, notBefore));
        }
        case WEBHOOK -> {
          String reason = blank(prefs.webhookUrl()) ? "no_webhook_url"
              : prefs.webhookDisabled() != null ? "webhook_disabled" : null;
          deliveries.add(reason != null ? skipped(channel, key, reason) : new NotifyStore.NewDelivery(UUID.randomUUID(),
              channel, prefs.webhookUrl(), key, "pending", null, title, message, null, null));
        }
        default -> throw new IllegalStateException(channel.name());
      }
    }
    for (NotificationChannel channel : turnedOff) {
      deliveries.add(skipped(channel, id + ":" + channel.wire(), "disabled_by_preference"));
    }
    JsonObject stored = data == null ? new JsonObject() : data.copy();
    return new Plan(new NotifyStore.NewNotification(id, userId, type, priority, title, message, connectionId, dedupeKey,
        stored, chosen.contains(NotificationChannel.IN_APP), test), deliveries);
  }

  /** One recipient's notification of a broadcast: planned like a send, with the operator's title if given. */
  OperatorStore.Planned forBroadcast(String userId, NotificationType type, Preferences prefs, JsonObject data,
      String title) {
    Plan plan = plan(userId, type, templates.get(type), prefs, null, null, null, null, data, null, null, false);
    if (title == null) {
      return new OperatorStore.Planned(plan.notification(), plan.deliveries());
    }
    NotifyStore.NewNotification n = plan.notification();
    NotifyStore.NewNotification titled = new NotifyStore.NewNotification(n.id(), n.userId(), n.type(), n.priority(), title,
        n.message(), n.connectionId(), n.dedupeKey(), n.data(), n.inApp(), n.test());
    List<NotifyStore.NewDelivery> deliveries = plan.deliveries().stream().map(d -> d.subject() == null ? d
        : new NotifyStore.NewDelivery(d.id(), d.channel(), d.target(), d.idempotencyKey(), d.status(), d.reason(), title,
            d.body(), d.bodyHtml(), d.notBefore())).toList();
    return new OperatorStore.Planned(titled, deliveries);
  }

  private static NotifyStore.NewDelivery skipped(NotificationChannel channel, String key, String reason) {
    return new NotifyStore.NewDelivery(UUID.randomUUID(), channel, null, key, "skipped", reason, null, null, null, null);
  }

  private static boolean safeUrl(Object value) {
    return value instanceof String text && (text.startsWith("https://") || text.startsWith("http://"));
  }

  private static String shortHash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
