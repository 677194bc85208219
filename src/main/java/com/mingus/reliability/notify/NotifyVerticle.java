package com.mingus.reliability.notify;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.DeliveryResult;
import com.mingus.reliability.bus.DeliveryStatus;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationCreated;
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
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
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
import java.util.regex.Pattern;
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
  private static final Pattern PHONE = Pattern.compile("^\\+[1-9][0-9]{6,14}$");
  private static final Pattern EMAIL = Pattern.compile("^[^\\s@<>,;\"]+@[^\\s@<>,;\"]+\\.[^\\s@<>,;\"]+$");
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
  private int inFlight;
  private boolean polling;
  private boolean pollAgain;
  private boolean stopping;
  private final List<QueuedOutcome> outcomes = new ArrayList<>();
  private boolean flushScheduled;
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

    pool = Pools.create(vertx, config.getJsonObject("database"), "notify");
    store = new NotifyStore(pool);
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
        .compose(ignored -> registerConsumers())
        .onSuccess(ignored -> {
          timers.add(vertx.setPeriodic(pollIntervalMs, id -> poll()));
          timers.add(vertx.setPeriodic(config.getLong("template_refresh_ms", 10_000L), id -> reloadTemplates()));
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
    return store.settingOrInsert("vapid", text).map(stored -> {
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
        m -> answer(m, getPreferences(m.body()))).completion());
    registered.add(bus.<NotifyPreferences>consumer(Addresses.NOTIFY_PREFERENCES_PUT,
        m -> answer(m, putPreferences(m.body()))).completion());
    registered.add(bus.<NotifyDeliveries>consumer(Addresses.NOTIFY_DELIVERIES, m -> answer(m, deliveries(m.body()))).completion());
    registered.add(bus.<Object>consumer(Addresses.NOTIFY_TEMPLATES_LIST, m -> answer(m, listTemplates())).completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_TEMPLATES_PUT, m -> answer(m, putTemplate(m.body()))).completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_DEAD_LETTERS_LIST,
        m -> answer(m, store.deadLetters(clamp(json(m.body()).getInteger("limit", 50), 1, 500))
            .map(list -> new JsonObject().put("dead_letters", list)))).completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_DEAD_LETTERS_REDRIVE, m -> answer(m, redrive(json(m.body()))))
        .completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_PUSH_SUBSCRIBE, m -> answer(m, subscribe(json(m.body()), true)))
        .completion());
    registered.add(bus.<JsonObject>consumer(Addresses.NOTIFY_PUSH_UNSUBSCRIBE, m -> answer(m, subscribe(json(m.body()), false)))
        .completion());
    registered.add(bus.<Object>consumer(Addresses.NOTIFY_VAPID_KEY,
        m -> m.reply(new JsonObject().put("public_key", vapid.publicKeyText()))).completion());
    registered.add(Bus.answerPing(vertx, "notify", () -> pool.query("SELECT 1").execute()
        .timeout(2, TimeUnit.SECONDS).map(rows -> PingReply.up("notify"))).completion());
    return Future.all(registered).mapEmpty();
  }

  private static JsonObject json(Object body) {
    return body instanceof JsonObject object ? object : new JsonObject();
  }

  /** Replies with the result, or fails the message with the typed failure's code. */
  private static <T> void answer(Message<?> message, Future<T> result) {
    result.onSuccess(message::reply).onFailure(failure -> {
      if (failure instanceof Invalid invalid) {
        message.fail(invalid.code, invalid.getMessage());
      } else {
        log.warn("notify request on {} failed: {}", message.address(), failure.getMessage());
        message.fail(FailureCodes.UNAVAILABLE, "notification store unavailable: " + EmailChannel.oneLine(failure.getMessage()));
      }
    });
  }

  /** A deliberate refusal, carrying its failure code. */
  private static final class Invalid extends RuntimeException {
    final int code;

    Invalid(int code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  private static Invalid invalid(String message) {
    return new Invalid(FailureCodes.INVALID_REQUEST, message);
  }

  // ---- send

  private Future<NotifySendResult> send(NotifySend request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    NotificationType type = NotificationType.fromWire(request.type());
    if (type == null) {
      return Future.failedFuture(invalid("unknown notification type '" + request.type() + "'"));
    }
    NotificationPriority priority = null;
    if (request.priority() != null) {
      priority = NotificationPriority.fromWire(request.priority());
      if (priority == null) {
        return Future.failedFuture(invalid("unknown priority '" + request.priority() + "'"));
      }
    }
    List<NotificationChannel> requested;
    try {
      requested = channels(request.channels(), false);
    } catch (Invalid e) {
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
          String address = !blank(prefs.email()) ? prefs.email() : (validEmail(userEmail) ? userEmail : null);
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
    NotificationType type = NotificationType.fromWire(request.type() == null ? "plaid_connection_issue" : request.type());
    if (type == null) {
      return Future.failedFuture(invalid("unknown notification type '" + request.type() + "'"));
    }
    List<NotificationChannel> requested;
    try {
      requested = request.channels() == null ? templates.get(type).channels() : channels(request.channels(), true);
    } catch (Invalid e) {
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

  // ---- the dispatcher

  /**
   * Claims due deliveries up to the free concurrency and sends them; called on a timer, after every new
   * notification and whenever a full batch came back (more may be waiting). Never runs twice at once.
   */
  private void poll() {
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
    store.claim(owner, room, leaseSeconds).compose(claimed -> {
      if (claimed.isEmpty()) {
        return Future.succeededFuture(0);
      }
      Set<String> users = new HashSet<>();
      claimed.stream().filter(d -> d.channel().equals("push") || d.channel().equals("webhook"))
          .forEach(d -> users.add(d.userId()));
      return store.preferences(users).map(prefs -> {
        claimed.forEach(delivery -> dispatch(delivery, prefs.get(delivery.userId())));
        return claimed.size();
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
      case EMAIL -> email.send(delivery);
      case IN_APP -> {
        NotificationView view = new NotificationView(delivery.notificationId(), delivery.type(), delivery.priority(),
            delivery.title(), delivery.message(), delivery.connectionId(), false, NotifyStore.iso(delivery.createdAt()), 1);
        vertx.eventBus().publish(Addresses.NOTIFICATION_CREATED, new NotificationCreated(delivery.userId(), view));
        yield Future.succeededFuture(SendOutcome.sent(null));
      }
      case PUSH -> push.send(delivery, prefs == null ? null : prefs.subscription(delivery.target()));
      case SMS -> sms == null ? Future.succeededFuture(SendOutcome.skipped("sms_not_configured")) : sms.send(delivery);
      case WEBHOOK -> {
        if (prefs == null || prefs.webhookDisabled() != null) {
          yield Future.succeededFuture(SendOutcome.skipped("webhook_disabled"));
        }
        yield webhook.send(delivery, prefs.webhookSecret());
      }
    };
  }

  private Future<Void> record(Delivery delivery, SendOutcome outcome, Instant started) {
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
    return written.compose(kept -> {
      if (!kept) {
        log.warn("Delivery {} was re-claimed after its lease expired; this outcome ({}) was not recorded",
            delivery.id(), status);
        return Future.succeededFuture();
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
      return send(notice).mapEmpty();
    });
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
      return Future.failedFuture(new Invalid(FailureCodes.NOT_FOUND, "no such notification"));
    }
    return store.markRead(request.userId(), id).compose(view -> view == null
        ? Future.failedFuture(new Invalid(FailureCodes.NOT_FOUND, "no such notification"))
        : Future.succeededFuture(view));
  }

  private Future<NotifyDeliveries> deliveries(NotifyDeliveries request) {
    UUID id = request == null ? null : uuid(request.notificationId());
    if (id == null) {
      return Future.failedFuture(new Invalid(FailureCodes.NOT_FOUND, "no such notification"));
    }
    return store.deliveries(id, request.userId()).compose(list -> list == null
        ? Future.failedFuture(new Invalid(FailureCodes.NOT_FOUND, "no such notification"))
        : Future.succeededFuture(new NotifyDeliveries(request.userId(), id.toString(), list)));
  }

  private static UUID uuid(String text) {
    try {
      return text == null ? null : UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  // ---- preferences

  private Future<NotifyPreferences> getPreferences(NotifyPreferencesGet request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    return store.preferences(request.userId()).map(prefs -> view(prefs, false));
  }

  private static NotifyPreferences view(Preferences p, boolean showSecret) {
    return new NotifyPreferences(p.userId(), p.zone().getId(), p.quietStart() == null ? null : p.quietStart().toString(),
        p.quietEnd() == null ? null : p.quietEnd().toString(), p.channels(), p.email(), p.phone(), p.push(),
        p.webhookUrl(), showSecret ? p.webhookSecret() : null, p.webhookSecret() != null, p.webhookDisabled());
  }

  private Future<NotifyPreferences> putPreferences(NotifyPreferences request) {
    if (request == null || blank(request.userId())) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    Preferences wanted;
    try {
      wanted = validate(request);
    } catch (Invalid e) {
      return Future.failedFuture(e);
    }
    return store.preferences(request.userId()).compose(stored -> {
      String url = wanted.webhookUrl();
      String secret = null;
      boolean show = false;
      String disabled = null;
      if (url != null) {
        if (request.webhookSecret() != null) {
          secret = request.webhookSecret();
          show = true;
        } else if (stored.webhookSecret() != null) {
          secret = stored.webhookSecret();
        } else {
          secret = StandardWebhooks.newSecret();
          show = true;
        }
        disabled = url.equals(stored.webhookUrl()) ? stored.webhookDisabled() : null;
      }
      Preferences next = new Preferences(wanted.userId(), wanted.zone(), wanted.quietStart(), wanted.quietEnd(),
          wanted.channels(), wanted.email(), wanted.phone(), wanted.push(), url, secret, disabled);
      boolean showSecret = show;
      return store.savePreferences(next).map(ignored -> view(next, showSecret));
    });
  }

  /**
   * Adds or removes one push subscription, leaving the rest of the preferences as they are: a browser's
   * service worker subscribes on its own, without knowing the user's other settings.
   */
  private Future<NotifyPreferences> subscribe(JsonObject body, boolean add) {
    String userId = body.getString("user_id");
    if (blank(userId)) {
      return Future.failedFuture(invalid("user_id is required"));
    }
    JsonObject subscription = body.getJsonObject("subscription");
    String endpoint = add ? (subscription == null ? null : subscription.getString("endpoint")) : body.getString("endpoint");
    if (blank(endpoint)) {
      return Future.failedFuture(invalid(add ? "subscription.endpoint is required" : "endpoint is required"));
    }
    return store.preferences(userId).compose(stored -> {
      List<PushSubscription> push = new ArrayList<>(stored.push().stream().filter(s -> !s.endpoint().equals(endpoint)).toList());
      if (add) {
        push.add(PushSubscription.fromJson(subscription));
      }
      NotifyPreferences merged = view(new Preferences(stored.userId(), stored.zone(), stored.quietStart(),
          stored.quietEnd(), stored.channels(), stored.email(), stored.phone(), List.copyOf(push), stored.webhookUrl(),
          null, null), false);
      Preferences checked;
      try {
        checked = validate(merged);
      } catch (Invalid e) {
        return Future.failedFuture(e);
      }
      Preferences next = new Preferences(stored.userId(), checked.zone(), checked.quietStart(), checked.quietEnd(),
          checked.channels(), checked.email(), checked.phone(), checked.push(), stored.webhookUrl(),
          stored.webhookSecret(), stored.webhookDisabled());
      return store.savePreferences(next).map(ignored -> view(next, false));
    });
  }

  private Preferences validate(NotifyPreferences p) {
    ZoneId zone;
    try {
      zone = ZoneId.of(blank(p.timeZone()) ? "UTC" : p.timeZone());
    } catch (RuntimeException e) {
      throw invalid("time_zone '" + p.timeZone() + "' is not an IANA time zone");
    }
    if ((p.quietHoursStart() == null) != (p.quietHoursEnd() == null)) {
      throw invalid("quiet_hours needs both start and end (HH:mm)");
    }
    LocalTime start = time(p.quietHoursStart());
    LocalTime end = time(p.quietHoursEnd());
    JsonObject channels = p.channels() == null ? new JsonObject() : p.channels().copy();
    for (Map.Entry<String, Object> entry : channels) {
      if (!entry.getKey().equals("*") && NotificationType.fromWire(entry.getKey()) == null) {
        throw invalid("channels: unknown notification type '" + entry.getKey() + "'");
      }
      if (!(entry.getValue() instanceof JsonObject map)) {
        throw invalid("channels." + entry.getKey() + " must be an object of channel: true/false");
      }
      for (Map.Entry<String, Object> choice : map) {
        if (NotificationChannel.fromWire(choice.getKey()) == null || !(choice.getValue() instanceof Boolean)) {
          throw invalid("channels." + entry.getKey() + "." + choice.getKey() + " must be a channel set to true or false");
        }
      }
    }
    String address = blank(p.email()) ? null : p.email().trim();
    if (address != null && !validEmail(address)) {
      throw invalid("email is not an email address");
    }
    String phone = blank(p.phone()) ? null : p.phone().trim();
    if (phone != null && !PHONE.matcher(phone).matches()) {
      throw invalid("phone must be in E.164 form, such as +14155550100");
    }
    List<PushSubscription> push = p.pushSubscriptions() == null ? List.of() : p.pushSubscriptions();
    if (push.size() > 10) {
      throw invalid("at most 10 push subscriptions");
    }
    for (PushSubscription subscription : push) {
      try {
        SsrfGuard.checkSyntax(subscription.endpoint());
        WebPush.decodePoint(WebPush.decode(subscription.p256dh()));
        if (WebPush.decode(subscription.auth()).length != 16) {
          throw new IllegalArgumentException("keys.auth must be 16 bytes");
        }
      } catch (SsrfGuard.Refused e) {
        throw invalid("push subscription endpoint: " + e.getMessage());
      } catch (IllegalArgumentException e) {
        throw invalid("push subscription keys: " + e.getMessage());
      }
    }
    String url = blank(p.webhookUrl()) ? null : p.webhookUrl().trim();
    if (url != null) {
      try {
        SsrfGuard.checkSyntax(url);
      } catch (SsrfGuard.Refused e) {
        throw invalid("webhook url: " + e.getMessage());
      }
    }
    if (p.webhookSecret() != null && !StandardWebhooks.validSecret(p.webhookSecret())) {
      throw invalid("webhook secret must be whsec_ followed by base64 of 24 to 64 bytes");
    }
    return new Preferences(p.userId(), zone, start, end, channels, address, phone, List.copyOf(push), url, null, null);
  }

  private static LocalTime time(String text) {
    if (text == null) {
      return null;
    }
    try {
      return LocalTime.parse(text.trim());
    } catch (DateTimeParseException e) {
      throw invalid("quiet_hours times must be HH:mm, got '" + text + "'");
    }
  }

  private static boolean validEmail(String text) {
    return text != null && text.length() <= 254 && EMAIL.matcher(text).matches();
  }

  // ---- templates and dead letters (operators)

  private Future<JsonObject> listTemplates() {
    return reloadTemplates().map(ignored -> {
      JsonArray out = new JsonArray();
      for (NotificationType type : NotificationType.values()) {
        if (type == NotificationType.NONE) {
          continue;
        }
        out.add(templates.get(type).toJson());
      }
      return new JsonObject().put("templates", out)
          .put("placeholders", new JsonArray(new ArrayList<>(new java.util.TreeSet<>(TemplateRenderer.KNOWN.keySet()))));
    });
  }

  private Future<JsonObject> putTemplate(JsonObject body) {
    if (body == null) {
      return Future.failedFuture(invalid("a template object is required"));
    }
    NotificationType type = NotificationType.fromWire(body.getString("type"));
    if (type == null) {
      return Future.failedFuture(invalid("unknown notification type '" + body.getString("type") + "'"));
    }
    Template current = templates.get(type);
    Template next;
    try {
      NotificationPriority priority = body.getValue("priority") == null ? current.priority()
          : NotificationPriority.fromWire(body.getString("priority"));
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
    } catch (Invalid e) {
      return Future.failedFuture(e);
    } catch (ClassCastException e) {
      return Future.failedFuture(invalid("channels must be a list of channel names"));
    }
    return store.updateTemplate(next, body.getString("updated_by")).map(saved -> {
      Map<NotificationType, Template> copy = new EnumMap<>(templates);
      copy.put(type, saved);
      templates = copy;
      log.info("Template {} updated to version {}", type.wire(), saved.version());
      return saved.toJson();
    });
  }

  private Future<JsonObject> redrive(JsonObject body) {
    UUID id = null;
    if (!body.getBoolean("all", false)) {
      id = uuid(body.getString("delivery_id"));
      if (id == null) {
        return Future.failedFuture(invalid("delivery_id (or all: true) is required"));
      }
    }
    return store.redrive(id).map(count -> {
      if (count > 0) {
        log.info("Re-drove {} dead-lettered deliveries", count);
        poll();
      }
      return new JsonObject().put("redriven", count);
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
    stopping = true;
    timers.forEach(vertx::cancelTimer);
    long deadline = System.currentTimeMillis() + config().getLong("drain_ms", 5_000L);
    return drained(deadline).compose(ignored -> close());
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
