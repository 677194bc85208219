package com.mingus.reliability.notify;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.crypto.TokenCipher;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.DeliveryResult;
import com.mingus.reliability.bus.DeliveryStatus;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationPage;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotificationView;
import com.mingus.reliability.bus.NotifyDeliveries;
import com.mingus.reliability.bus.NotifyList;
import com.mingus.reliability.bus.NotifyMarkRead;
import com.mingus.reliability.bus.NotifyPreferences;
import com.mingus.reliability.bus.NotifyPreferencesGet;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.NotifySendResult;
import com.mingus.reliability.bus.NotifySendTest;
import com.mingus.reliability.bus.NotifyTestResult;
import com.mingus.reliability.bus.PingReply;
import com.mingus.reliability.bus.PushSubscription;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.logging.Redactor;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.sqlclient.Pool;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notification delivery. Owns templates, preferences, notifications, deliveries and attempts; answers the
 * {@code notify.*} commands; and runs the outbox dispatcher: every delivery is committed to PostgreSQL
 * before anything is sent, claimed with {@code FOR UPDATE SKIP LOCKED} and a lease so that no two instances
 * or nodes send it, sent on its channel, and its outcome recorded with the attempt.
 */
public final class NotifyVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(NotifyVerticle.class);
  private static final Set<NotificationChannel> QUIET_CHANNELS =
      Set.of(NotificationChannel.EMAIL, NotificationChannel.PUSH, NotificationChannel.SMS);
  private static final Set<String> DONE = Set.of("sent", "failed", "skipped");

  private final String owner = "notify-" + UUID.randomUUID();
  private Pool pool;
  private NotifyStore store;
  private HttpClient httpClient;
  private EmailChannel email;
  private PushChannel push;
  private SmsChannel sms;
  private WebhookChannel webhook;
  private WebPush.Vapid vapid;
  private RetrySchedule schedule;
  private volatile Map<NotificationType, Template> templates = new EnumMap<>(NotificationType.class);
  private MeterRegistry registry;

  private long pollIntervalMs;
  private int claimBatch;
  private int concurrency;
  private double leaseSeconds;
  private double dedupeCooldownSeconds;
  private long sendTestWaitMs;
  private String appUrl;
  private Dispatcher dispatcher;
  private PreferenceCommands preferences;
  private OperatorStore operatorStore;
  private OperatorAlerts alerts;
  private Broadcasts broadcasts;
  private final List<Long> timers = new ArrayList<>();

  @Override
  public Future<?> start() {
    JsonObject config = config();
    pollIntervalMs = config.getLong("poll_interval_ms", 1_000L);
    claimBatch = config.getInteger("claim_batch", 50);
    concurrency = config.getInteger("concurrency", 64);
    leaseSeconds = config.getDouble("lease_s", 120.0);
    dedupeCooldownSeconds = config.getDouble("dedupe_cooldown_s", 3600.0);
    sendTestWaitMs = config.getLong("send_test_wait_ms", 10_000L);
    appUrl = config.getString("app_url", "http://localhost:8080/");
    schedule = new RetrySchedule(config.getJsonObject("retry", new JsonObject()));
    String registryName = config.getString("metrics_registry");
    registry = registryName == null ? null : BackendRegistries.getNow(registryName);

    JsonObject operator = config.getJsonObject("operator", new JsonObject());
    try {
      OperatorAlerts.validate(operator);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    Redactor.registerSecret(operator.getString("webhook_secret"));
    pool = Pools.create(vertx, config.getJsonObject("database"), "notify");
    JsonObject crypto = config().getJsonObject("crypto");
    if (crypto == null) {
      log.warn("No token encryption keys in notify's configuration: secrets are sealed with a key of this process only");
    }
    store = new NotifyStore(pool, crypto == null ? TokenCipher.ephemeral() : TokenCipher.fromConfig(crypto));
    preferences = new PreferenceCommands(store);
    operatorStore = new OperatorStore(pool);
    alerts = new OperatorAlerts(vertx, operatorStore, operator, appUrl, this::poll);
    JsonObject broadcastConfig = config.getJsonObject("broadcast", new JsonObject());
    broadcasts = new Broadcasts(vertx, operatorStore, store, this::broadcastPlan, this::poll,
        broadcastConfig.getLong("recipients_timeout_ms", 10_000L), broadcastConfig.getInteger("max_recipients", 100_000));
    long httpTimeoutMs = config.getLong("http_timeout_ms", 10_000L);
    httpClient = vertx.createHttpClient(new HttpClientOptions()
        .setConnectTimeout((int) Math.min(httpTimeoutMs, Integer.MAX_VALUE))
        .setIdleTimeout(30).setIdleTimeoutUnit(TimeUnit.SECONDS)
        .setForceSni(true).setVerifyHost(true).setMaxRedirects(0));
    JsonObject webhookConfig = config.getJsonObject("webhook", new JsonObject());
    Set<String> allowedTargets = new HashSet<>();
    webhookConfig.getJsonArray("allowed_test_targets", new JsonArray()).forEach(t -> allowedTargets.add(String.valueOf(t)));
    boolean allowLoopback = webhookConfig.getBoolean("allow_loopback", false);
    SsrfGuard guard = new SsrfGuard(allowLoopback, allowedTargets);
    if (allowLoopback || !allowedTargets.isEmpty()) {
      log.warn("notify.webhook.allow_loopback or allowed_test_targets is set: webhooks and push endpoints may reach "
          + "this machine (development and tests only)");
    }
    webhook = new WebhookChannel(vertx, httpClient, guard, webhookConfig.getLong("timeout_ms", httpTimeoutMs));
    JsonObject smsConfig = config.getJsonObject("sms", new JsonObject());
    Redactor.registerSecret(smsConfig.getString("auth_token"));
    if (smsConfig.getString("base_url") != null && smsConfig.getString("account_sid") != null) {
      sms = new SmsChannel(httpClient, smsConfig.getString("base_url"), smsConfig.getString("account_sid"),
          smsConfig.getString("auth_token", ""), smsConfig.getString("from", "MINGUS"), httpTimeoutMs);
    }
    JsonObject pushConfig = config.getJsonObject("push", new JsonObject());

    return store.seedTemplates(DefaultTemplates.ALL.values())
        .compose(ignored -> reloadTemplates())
        .compose(ignored -> loadVapid(pushConfig))
        .compose(keys -> {
          vapid = keys;
          push = new PushChannel(vertx, httpClient, guard, keys, pushConfig.getLong("ttl_s", 86_400L), httpTimeoutMs);
          return startEmail(config.getJsonObject("smtp", new JsonObject()), config.getJsonObject("sink", new JsonObject()));
        })
        .compose(ignored -> {
          dispatcher = new Dispatcher(vertx, store, new Dispatcher.Channels(email, push, sms, webhook), schedule, owner,
              claimBatch, concurrency, leaseSeconds, registry, this::send, operator.getString("webhook_secret"),
              alerts::sweepSoon);
          return registerConsumers();
        })
        .compose(ignored -> alerts.start())
        .compose(ignored -> {
          if (operator.getString("webhook_url") == null && operator.getString("email") == null) {
            log.info("No operator webhook or e-mail configured: operator alerts are recorded and listed only");
          }
          return Future.succeededFuture();
        })
        .onSuccess(ignored -> {
          timers.add(vertx.setPeriodic(pollIntervalMs, id -> poll()));
          timers.add(vertx.setPeriodic(config.getLong("template_refresh_ms", 10_000L), id -> reloadTemplates()));
          double retentionDays = config.getDouble("retention_days", 90.0);
          timers.add(vertx.setPeriodic(config.getLong("cleanup_interval_ms", 3_600_000L), id -> store.purge(retentionDays)
              .onSuccess(count -> {
                if (count > 0) {
                  log.info("Removed {} notifications older than {} days", count, retentionDays);
                }
              })
              .onFailure(failure -> log.warn("Notification cleanup failed: {}", failure.getMessage()))));
          poll();
        });
  }

  private Future<WebPush.Vapid> loadVapid(JsonObject pushConfig) {
    String subject = pushConfig.getString("subject", "mailto:ops@mingus.local");
    String publicKey = pushConfig.getString("vapid_public_key");
    String privateKey = pushConfig.getString("vapid_private_key");
    if (publicKey != null && privateKey != null) {
      Redactor.registerSecret(privateKey);
      return Future.succeededFuture(WebPush.Vapid.parse(publicKey, privateKey, subject));
    }
    // the embedded default: one generated pair shared by every node through the database
    WebPush.Vapid candidate = WebPush.Vapid.generate(subject);
    String text = new JsonObject().put("public", candidate.publicKeyText()).put("private", candidate.privateKeyText()).encode();
    return store.secretSettingOrInsert("vapid", text).map(stored -> {
      JsonObject keys = new JsonObject(stored);
      Redactor.registerSecret(keys.getString("private"));
      return WebPush.Vapid.parse(keys.getString("public"), keys.getString("private"), subject);
    });
  }

  private Future<Void> startEmail(JsonObject smtp, JsonObject sink) {
    String from = smtp.getString("from", "MINGUS <no-reply@mingus.local>");
    String host = smtp.getString("host");
    if (host != null && !host.isBlank()) {
      email = new EmailChannel(vertx, host, smtp.getInteger("port", 25), smtp.getString("username"),
          smtp.getString("password"), from, smtp);
      // the dashboard asks either way; with a real mail server there is nothing to show
      return vertx.eventBus().consumer(Addresses.NOTIFY_SINK_MESSAGES,
          m -> m.reply(new JsonObject().put("messages", new JsonArray()).put("enabled", false))).completion();
    }
    SmtpSinkVerticle sinkVerticle = new SmtpSinkVerticle(sink.getInteger("max_messages", 200));
    return vertx.deployVerticle(sinkVerticle).map(id -> {
      email = new EmailChannel(vertx, "127.0.0.1", sinkVerticle.port(), null, null, from,
          new JsonObject().put("starttls", "DISABLED"));
      return null;
    });
  }

  private Future<Void> reloadTemplates() {
    return store.templates().map(loaded -> {
      Map<NotificationType, Template> next = new EnumMap<>(NotificationType.class);
      next.putAll(DefaultTemplates.ALL);
      next.putAll(loaded);
      templates = next;
      return null;
    });
  }

  private Future<Void> registerConsumers() {
    var bus = vertx.eventBus();
    List<Future<Void>> registered = new ArrayList<>();
    registered.add(bus.<NotifySend>consumer(Addresses.NOTIFY_SEND, m -> answer(m, send(m.body()))).completion());
    registered.add(bus.<NotifySendTest>consumer(Addresses.NOTIFY_SEND_TEST, m -> answer(m, sendTest(m.body()))).completion());
    registered.add(bus.<NotifyList>consumer(Addresses.NOTIFY_LIST, m -> answer(m, list(m.body()))).completion());
    registered.add(bus.<NotifyMarkRead>consumer(Addresses.NOTIFY_MARK_READ, m -> answer(m, markRead(m.body()))).completion());
    registered.add(bus.<NotifyPreferencesGet>consumer(Addresses.NOTIFY_PREFERENCES_GET,
        m -> answer(m, preferences.get(m.body()))).completion());
    registered.add(bus.<NotifyPreferences>consumer(Addresses.NOTIFY_PREFERENCES_PUT,
        m -> answer(m, preferences.put(m.body()))).completion());
    registered.add(bus.<NotifyDeliveries>consumer(Addresses.NOTIFY_DELIVERIES, m -> answer(m, deliveries(m.body()))).completion());
    registered.add(bus.<Object>consumer(Addresses.NOTIFY_TEMPLATES_LIST, m -> answer(m, listTemplates())).completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_TEMPLATES_PUT, m -> answer(m, putTemplate(m.body()))).completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_TEMPLATES_EDIT, m -> answer(m, editTemplate(json(m.body()))))
        .completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_TEMPLATES_PREVIEW,
        m -> answer(m, previewTemplate(json(m.body())))).completion());
    // another instance (or node) saved a template: the next send here must use it, not wait for the refresh
    registered.add(bus.<Object>consumer(Addresses.NOTIFY_TEMPLATES_CHANGED, m -> reloadTemplates()
        .onFailure(failure -> log.warn("Template reload failed: {}", failure.getMessage()))).completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_DEAD_LETTERS_LIST, m -> {
      JsonObject body = json(m.body());
      int limit = clamp(body.getInteger("limit", 50), 1, 500);
      int offset = Math.max(0, body.getInteger("offset", 0));
      answer(m, store.deadLetters(limit, offset).map(page -> page.put("limit", limit).put("offset", offset)
          .put("next_offset", offset + page.getJsonArray("dead_letters").size() < page.getLong("total")
              ? offset + page.getJsonArray("dead_letters").size() : null)));
    }).completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_ALERTS_LIST, m -> {
      JsonObject body = json(m.body());
      int limit = clamp(body.getInteger("limit", 50), 1, 500);
      int offset = Math.max(0, body.getInteger("offset", 0));
      String kind = body.getString("kind");
      answer(m, operatorStore.alerts(kind, limit, offset).map(page -> page.put("limit", limit).put("offset", offset)
          .put("next_offset", offset + page.getJsonArray("alerts").size() < page.getLong("total")
              ? offset + page.getJsonArray("alerts").size() : null)));
    }).completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_BROADCAST, m -> answer(m, broadcasts.broadcast(json(m.body()))))
        .completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_DEAD_LETTERS_REDRIVE, m -> answer(m, redrive(json(m.body()))))
        .completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_PUSH_SUBSCRIBE, m -> answer(m, preferences.subscribe(json(m.body()), true)))
        .completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_PUSH_UNSUBSCRIBE, m -> answer(m, preferences.subscribe(json(m.body()), false)))
        .completion());
    registered.add(bus.<Object>consumer(Addresses.NOTIFY_VAPID_KEY,
        m -> m.reply(new JsonObject().put("public_key", vapid.publicKeyText()))).completion());
    registered.add(Bus.answerPing(vertx, "notify", () -> pool.query("SELECT 1").execute()
        .timeout(2, TimeUnit.SECONDS).map(rows -> PingReply.up("notify"))).completion());
    return Future.all(registered).mapEmpty();
  }

  /**
   * True unless the failure is a fault of ours (a programming error, or an SQL error PostgreSQL answered):
   * connection refusals, closed connections and timeouts of all kinds mean the database is unavailable.
   */
  private static boolean unreachable(Throwable failure) {
    return !(failure instanceof io.vertx.pgclient.PgException || failure instanceof NullPointerException
        || failure instanceof IllegalStateException || failure instanceof IllegalArgumentException
        || failure instanceof ClassCastException || failure instanceof IndexOutOfBoundsException);
  }

  private static JsonObject json(Object body) {
    return body instanceof JsonObject object ? object : new JsonObject();
  }

  /** Replies with the result, or fails the message with the typed failure's code. */
  private static <T> void answer(Message<?> message, Future<T> result) {
    result.onSuccess(message::reply).onFailure(failure -> {
      if (failure instanceof Refusal refusal) {
        message.fail(refusal.code, refusal.getMessage());
      } else if (unreachable(failure)) {
        log.warn("notify request on {} failed: {}", message.address(), failure.getMessage());
        message.fail(FailureCodes.UNAVAILABLE, "notification store unavailable: " + EmailChannel.oneLine(failure.getMessage()));
      } else {
        log.error("notify request on {} failed", message.address(), failure);
        message.fail(FailureCodes.INTERNAL, "notification delivery failed internally");
      }
    });
  }

  private static Refusal invalid(String message) {
    return Refusal.invalid(message);
  }

  // ---- send

  private Future<NotifySendResult> send(NotifySend request) {
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
      requested = channels(request.channels(), false);
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
        poll();
        return Future.succeededFuture(new NotifySendResult(created.notificationId().toString(), false,
            plan.deliveries().stream().map(NotifyVerticle::status).toList()));
      });
    });
  }

  private static DeliveryStatus status(NotifyStore.NewDelivery d) {
    return new DeliveryStatus(d.id().toString(), d.channel().wire(), d.target(), d.status(), d.reason(), 0, null, null,
        d.notBefore() == null ? null : d.notBefore().toString(), null, d.idempotencyKey(), List.of());
  }

  private static List<NotificationChannel> channels(List<String> names, boolean required) {
    if (names == null) {
      if (required) {
        throw invalid("channels is required");
      }
      return null;
    }
    Set<NotificationChannel> out = new LinkedHashSet<>();
    for (String name : names) {
      NotificationChannel channel = NotificationChannel.fromWire(name);
      if (channel == null) {
        throw invalid("unknown channel '" + name + "'");
      }
      out.add(channel);
    }
    if (required && out.isEmpty()) {
      throw invalid("channels must name at least one channel");
    }
    return List.copyOf(out);
  }

  private record Plan(NotifyStore.NewNotification notification, List<NotifyStore.NewDelivery> deliveries) {}

  /**
   * Decides the channels (the type's defaults or the caller's list, then the user's on/off choices; a test
   * takes exactly its channels), renders each channel's text and gives each delivery its state: pending,
   * pending until the quiet hours end, or skipped with the reason (no contact point, turned off).
   */
  private Plan plan(String userId, NotificationType type, Template template, Preferences prefs,
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
          String reason = sms == null ? "sms_not_configured" : blank(prefs.phone()) ? "no_phone_number" : null;
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
  private OperatorStore.Planned broadcastPlan(String userId, NotificationType type, Preferences prefs, JsonObject data,
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

  // ---- send-test

  private Future<NotifyTestResult> sendTest(NotifySendTest request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    NotificationType type = NotificationType.parse(request.type() == null ? "plaid_connection_issue" : request.type());
    if (type == null) {
      return Future.failedFuture(invalid("unknown notification type '" + request.type() + "'"));
    }
    List<NotificationChannel> requested;
    try {
      requested = request.channels() == null ? templates.get(type).channels() : channels(request.channels(), true);
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
    JsonObject data = new JsonObject().put("institution_name", "Test Bank").put("completion_time", "in about an hour")
        .put("action_required_text", "This is a test: no action is needed.").put("status", "test")
        .put("detail", "This is a test notification.");
    if (request.data() != null) {
      data.mergeIn(request.data());
    }
    return store.preferences(request.userId()).compose(prefs -> {
      Plan plan = plan(request.userId(), type, templates.get(type), prefs, requested, null, null, null, data,
          request.userName(), request.userEmail(), true);
      return store.create(plan.notification(), plan.deliveries(), 0);
    }).compose(created -> {
      poll();
      long deadline = System.currentTimeMillis() + sendTestWaitMs;
      return awaitFirstAttempts(created.notificationId(), deadline).map(rows -> testResult(created.notificationId(),
          requested, rows));
    });
  }

  private Future<List<JsonObject>> awaitFirstAttempts(UUID notificationId, long deadline) {
    return store.firstAttempts(notificationId).compose(rows -> {
      boolean done = rows.stream().allMatch(row -> DONE.contains(row.getString("status"))
          || ("retrying".equals(row.getString("status")) && !row.getBoolean("leased")));
      if (done || System.currentTimeMillis() >= deadline) {
        return Future.succeededFuture(rows);
      }
      Promise<Void> later = Promise.promise();
      vertx.setTimer(50, id -> later.complete());
      return later.future().compose(ignored -> awaitFirstAttempts(notificationId, deadline));
    });
  }

  private NotifyTestResult testResult(UUID id, List<NotificationChannel> requested, List<JsonObject> rows) {
    List<DeliveryResult> results = new ArrayList<>();
    for (NotificationChannel channel : requested) {
      List<JsonObject> mine = rows.stream().filter(row -> channel.wire().equals(row.getString("channel"))).toList();
      long sent = mine.stream().filter(row -> "sent".equals(row.getString("status"))).count();
      if (sent > 0) {
        results.add(new DeliveryResult(channel.wire(), true, successText(channel, sent)));
        continue;
      }
      JsonObject row = mine.isEmpty() ? new JsonObject().put("status", "skipped").put("reason", "nothing to send")
          : mine.get(0);
      String status = row.getString("status");
      String detail = switch (status) {
        case "skipped" -> "Not sent: " + row.getString("reason");
        case "retrying" -> "Attempt failed (" + row.getString("last_error") + "); will retry";
        case "failed" -> "Failed: " + (row.getString("last_error") == null ? row.getString("reason") : row.getString("last_error"));
        default -> "Still pending after " + sendTestWaitMs + " ms";
      };
      results.add(new DeliveryResult(channel.wire(), false, detail));
    }
    boolean all = results.stream().allMatch(DeliveryResult::success);
    return new NotifyTestResult(all, all ? "Test notification sent" : "Test notification sent; some channels failed",
        id.toString(), results);
  }

  private static String successText(NotificationChannel channel, long count) {
    return switch (channel) {
      case EMAIL -> "Email sent successfully";
      case IN_APP -> "In-app notification created";
      case PUSH -> "Push notification sent to " + count + " device" + (count == 1 ? "" : "s");
      case SMS -> "SMS sent successfully";
      case WEBHOOK -> "Webhook delivered";
    };
  }

  private void poll() {
    if (dispatcher != null) {
      dispatcher.poll();
    }
  }

  private void count(String name, String... tags) {
    if (registry != null) {
      registry.counter(name, tags).increment();
    }
  }

  // ---- reading

  private Future<NotificationPage> list(NotifyList request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    int limit = clamp(request.limit() <= 0 ? 20 : request.limit(), 1, 100);
    int offset = Math.max(0, request.offset());
    Future<List<NotificationView>> page = store.list(request.userId(), limit, offset, request.unreadOnly());
    Future<int[]> counts = store.counts(request.userId());
    return Future.all(page, counts).map(both -> {
      int total = request.unreadOnly() ? counts.result()[1] : counts.result()[0];
      Integer next = offset + page.result().size() < total ? offset + page.result().size() : null;
      return new NotificationPage(page.result(), counts.result()[1], total, limit, offset, next);
    });
  }

  private Future<NotificationView> markRead(NotifyMarkRead request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    UUID id = uuid(request.notificationId());
    if (id == null) {
      return Future.failedFuture(Refusal.notFound("no such notification"));
    }
    return store.markRead(request.userId(), id).compose(view -> view == null
        ? Future.failedFuture(Refusal.notFound("no such notification"))
        : Future.succeededFuture(view));
  }

  private Future<NotifyDeliveries> deliveries(NotifyDeliveries request) {
    UUID id = request == null ? null : uuid(request.notificationId());
    if (id == null || OperatorAlerts.USER.equals(request.userId())) {
      return Future.failedFuture(Refusal.notFound("no such notification"));
    }
    return store.deliveries(id, request.userId()).compose(list -> list == null
        ? Future.failedFuture(Refusal.notFound("no such notification"))
        : Future.succeededFuture(new NotifyDeliveries(request.userId(), id.toString(),
            request.userId() == null ? list.stream().map(NotifyVerticle::redacted).toList() : list)));
  }

  /** An operator's view of a delivery: the target redacted (the owner's own view keeps it). */
  private static DeliveryStatus redacted(DeliveryStatus d) {
    return new DeliveryStatus(d.id(), d.channel(), Targets.redact(d.channel(), d.target()), d.status(), d.reason(),
        d.attemptCount(), d.providerMessageId(), d.lastError(), d.nextAttemptAt(), d.sentAt(), d.idempotencyKey(),
        d.attempts());
  }

  private static UUID uuid(String text) {
    try {
      return text == null ? null : UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  // ---- templates and dead letters (operators)

  private Future<JsonObject> listTemplates() {
    return reloadTemplates().map(ignored -> {
      JsonArray out = new JsonArray();
      for (NotificationType type : NotificationType.sendable()) {
        out.add(templates.get(type).toJson());
      }
      JsonArray perChannel = new JsonArray();
      for (NotificationType type : NotificationType.sendable()) {
        ChannelTemplates.TEMPLATED.forEach(channel -> perChannel.add(ChannelTemplates.view(templates.get(type), channel)));
      }
      return new JsonObject().put("templates", out).put("channel_templates", perChannel)
          .put("placeholders", new JsonArray(new ArrayList<>(new java.util.TreeSet<>(TemplateRenderer.KNOWN.keySet()))));
    });
  }

  private Future<JsonObject> putTemplate(JsonObject body) {
    if (body == null) {
      return Future.failedFuture(invalid("a template object is required"));
    }
    NotificationType type = NotificationType.parse(body.getString("type"));
    if (type == null) {
      return Future.failedFuture(invalid("unknown notification type '" + body.getString("type") + "'"));
    }
    Template current = templates.get(type);
    Template next;
    try {
      NotificationPriority priority = body.getValue("priority") == null ? current.priority()
          : NotificationPriority.parse(body.getString("priority"));
      if (priority == null) {
        throw invalid("unknown priority '" + body.getValue("priority") + "'");
      }
      List<NotificationChannel> channels = body.getValue("channels") == null ? current.channels()
          : channels(body.getJsonArray("channels").stream().map(String::valueOf).toList(), false);
      Function<String, String> text = field -> {
        Object value = body.getValue(field);
        if (value == null) {
          return switch (field) {
            case "subject" -> current.subject();
            case "email_html" -> current.emailHtml();
            case "email_text" -> current.emailText();
            case "in_app" -> current.inApp();
            case "push" -> current.push();
            default -> current.sms();
          };
        }
        if (!(value instanceof String s) || s.isBlank() || s.length() > 20_000) {
          throw invalid(field + " must be a non-empty text of at most 20000 characters");
        }
        return s;
      };
      next = new Template(type, priority, channels, text.apply("subject"), text.apply("email_html"),
          text.apply("email_text"), text.apply("in_app"), text.apply("push"), text.apply("sms"), current.version());
      Set<String> unknown = new LinkedHashSet<>();
      next.texts().forEach(t -> unknown.addAll(TemplateRenderer.unknownPlaceholders(t)));
      if (!unknown.isEmpty()) {
        throw invalid("unknown placeholders " + unknown + "; known: " + new java.util.TreeSet<>(TemplateRenderer.KNOWN.keySet()));
      }
    } catch (Refusal e) {
      return Future.failedFuture(e);
    } catch (ClassCastException e) {
      return Future.failedFuture(invalid("channels must be a list of channel names"));
    }
    return store.updateTemplate(next, body.getString("updated_by")).map(saved -> {
      Map<NotificationType, Template> copy = new EnumMap<>(templates);
      copy.put(type, saved);
      templates = copy;
      log.info("Template {} updated to version {}", type.wire(), saved.version());
      vertx.eventBus().publish(Addresses.NOTIFY_TEMPLATES_CHANGED, new JsonObject().put("type", type.wire()));
      return saved.toJson();
    });
  }

  private static NotificationType templateType(JsonObject body) {
    NotificationType type = NotificationType.parse(body.getString("type"));
    if (type == null) {
      throw invalid("unknown notification type '" + body.getValue("type") + "'");
    }
    return type;
  }

  /** One channel's texts of one type, replaced after the same checks as a preview; answers the channel's view. */
  private Future<JsonObject> editTemplate(JsonObject body) {
    NotificationType type;
    NotificationChannel channel;
    ChannelTemplates.Texts edit;
    try {
      type = templateType(body);
      channel = ChannelTemplates.channel(body.getString("channel"));
      edit = ChannelTemplates.checked(body, channel, ChannelTemplates.of(templates.get(type), channel), true);
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
    return store.updateChannelTexts(type, channel, edit.subject(), edit.body(), edit.bodyHtml(), body.getString("updated_by"))
        .map(saved -> {
          Map<NotificationType, Template> copy = new EnumMap<>(templates);
          copy.put(type, saved);
          templates = copy;
          log.info("Template {}/{} updated to version {} by {}", type.wire(), channel.wire(), saved.version(),
              body.getString("updated_by", "an operator"));
          vertx.eventBus().publish(Addresses.NOTIFY_TEMPLATES_CHANGED, new JsonObject().put("type", type.wire()));
          return ChannelTemplates.view(saved, channel);
        });
  }

  /** A draft (or the stored texts) rendered with sample variables; nothing is saved. */
  private Future<JsonObject> previewTemplate(JsonObject body) {
    try {
      NotificationType type = templateType(body);
      NotificationChannel channel = ChannelTemplates.channel(body.getString("channel"));
      Object variables = body.getValue("variables");
      if (variables != null && !(variables instanceof JsonObject)) {
        throw invalid("variables must be an object");
      }
      ChannelTemplates.Texts draft = ChannelTemplates.checked(body, channel,
          ChannelTemplates.of(templates.get(type), channel), false);
      JsonObject values = ChannelTemplates.sampleValues((JsonObject) variables, appUrl, Instant.now().toString());
      return Future.succeededFuture(new JsonObject().put("type", type.wire()).put("channel", channel.wire())
          .put("rendered", ChannelTemplates.render(draft, channel, values)).put("variables", values));
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
  }

  private Future<JsonObject> redrive(JsonObject body) {
    UUID id = null;
    if (!body.getBoolean("all", false)) {
      id = uuid(body.getString("delivery_id"));
      if (id == null) {
        return Future.failedFuture(invalid("delivery_id (or all: true) is required"));
      }
    }
    UUID one = id;
    return store.redrive(id).compose(count -> {
      if (count > 0) {
        log.info("Re-drove {} dead-lettered deliveries", count);
        poll();
      }
      if (count > 0 || one == null) {
        return Future.succeededFuture(new JsonObject().put("redriven", count));
      }
      // nothing changed: say why, so an operator's second click is not mistaken for a redrive
      return store.deliveryState(one).compose(state -> Future.failedFuture(state == null
          ? Refusal.notFound("no such delivery")
          : Refusal.conflict("the delivery is not dead-lettered (status " + state.getString("status") + ")")));
    });
  }

  private static boolean blank(String text) {
    return text == null || text.isBlank();
  }

  private static int clamp(int value, int min, int max) {
    return Math.max(min, Math.min(max, value));
  }

  /**
   * Stops claiming, then lets the deliveries in flight finish and record their outcome (for at most
   * {@code drain_ms}) before the pool closes: an outcome not recorded would be sent again when its lease expires.
   */
  @Override
  public Future<?> stop() {
    timers.forEach(vertx::cancelTimer);
    if (alerts != null) {
      alerts.stop();
    }
    long deadline = System.currentTimeMillis() + config().getLong("drain_ms", 5_000L);
    return (dispatcher == null ? Future.<Void>succeededFuture() : dispatcher.stop(deadline)).compose(ignored -> close());
  }

  private Future<?> close() {
    List<Future<?>> closing = new ArrayList<>();
    if (email != null) {
      closing.add(email.close());
    }
    if (httpClient != null) {
      closing.add(httpClient.close());
    }
    if (pool != null) {
      closing.add(pool.close());
    }
    return Future.join(closing);
  }
}
