package com.mingus.reliability.notify;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.Commands;
import com.mingus.reliability.bus.Commands.Body;
import com.mingus.reliability.bus.Commands.CommandFailure;
import com.mingus.reliability.bus.FailureCodes;
import com.mingus.reliability.bus.NotifyDeliveries;
import com.mingus.reliability.bus.NotifyList;
import com.mingus.reliability.bus.NotifyMarkRead;
import com.mingus.reliability.bus.NotifyPreferences;
import com.mingus.reliability.bus.NotifyPreferencesGet;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.NotifySendTest;
import com.mingus.reliability.bus.PingReply;
import com.mingus.reliability.crypto.TokenCipher;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.logging.Redactor;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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
 *
 * <p>The verticle reads its config, builds and starts its parts, registers their commands and answers them;
 * the work is theirs: {@link NotificationPlanner} (notify.send), {@link SendTestCommand}, {@link Inbox},
 * {@link PreferenceCommands}, {@link TemplateCommands}, {@link DeadLetters}, {@link Broadcasts},
 * {@link OperatorAlerts} and the {@link Dispatcher}.
 */
public final class NotifyVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(NotifyVerticle.class);

  private final String owner = "notify-" + UUID.randomUUID();
  private Pool pool;
  private NotifyStore store;
  private HttpClient httpClient;
  private EmailChannel email;
  private PushChannel push;
  private SmsChannel sms;
  private WebhookChannel webhook;
  private WebPush.Vapid vapid;
  private Dispatcher dispatcher;
  private ProviderBreakers breakers;
  private TemplateCommands templates;
  private NotificationPlanner planner;
  private SendTestCommand sendTest;
  private Inbox inbox;
  private PreferenceCommands preferences;
  private DeadLetters deadLetters;
  private OperatorAlerts alerts;
  private Broadcasts broadcasts;
  private final List<Long> timers = new ArrayList<>();

  @Override
  public Future<?> start() {
    JsonObject config = config();
    long pollIntervalMs = config.getLong("poll_interval_ms", 1_000L);
    int claimBatch = config.getInteger("claim_batch", 50);
    int concurrency = config.getInteger("concurrency", 64);
    double leaseSeconds = config.getDouble("lease_s", 120.0);
    double dedupeCooldownSeconds = config.getDouble("dedupe_cooldown_s", 3600.0);
    long sendTestWaitMs = config.getLong("send_test_wait_ms", 10_000L);
    String appUrl = config.getString("app_url", "http://localhost:8080/");
    RetrySchedule schedule = new RetrySchedule(config.getJsonObject("retry", new JsonObject()));
    String registryName = config.getString("metrics_registry");
    MeterRegistry registry = registryName == null ? null : BackendRegistries.getNow(registryName);

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
    TokenCipher cipher = crypto == null ? TokenCipher.ephemeral() : TokenCipher.fromConfig(crypto);
    store = new NotifyStore(pool, cipher);
    preferences = new PreferenceCommands(store);
    templates = new TemplateCommands(vertx, store, appUrl);
    inbox = new Inbox(store);
    deadLetters = new DeadLetters(store, this::poll);
    OperatorStore operatorStore = new OperatorStore(pool);
    alerts = new OperatorAlerts(vertx, operatorStore, operator, appUrl, this::poll);
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
    planner = new NotificationPlanner(store, templates, appUrl, sms != null, dedupeCooldownSeconds, registry, this::poll);
    sendTest = new SendTestCommand(vertx, store, templates, planner, this::poll, sendTestWaitMs);
    JsonObject broadcastConfig = config.getJsonObject("broadcast", new JsonObject());
    broadcasts = new Broadcasts(vertx, operatorStore, store, planner::forBroadcast, this::poll,
        broadcastConfig.getLong("recipients_timeout_ms", 10_000L), broadcastConfig.getInteger("max_recipients", 100_000));
    JsonObject pushConfig = config.getJsonObject("push", new JsonObject());

    return SecretRotation.run(pool, cipher)
        .compose(resealed -> store.seedTemplates(DefaultTemplates.ALL.values()))
        .compose(ignored -> templates.reload())
        .compose(ignored -> loadVapid(pushConfig))
        .compose(keys -> {
          vapid = keys;
          push = new PushChannel(vertx, httpClient, guard, keys, pushConfig.getLong("ttl_s", 86_400L), httpTimeoutMs);
          return startEmail(config.getJsonObject("smtp", new JsonObject()), config.getJsonObject("sink", new JsonObject()));
        })
        .compose(ignored -> {
          breakers = new ProviderBreakers(vertx, config.getJsonObject("breaker", new JsonObject()), this::poll, registry);
          dispatcher = new Dispatcher(vertx, store, new Dispatcher.Channels(email, push, sms, webhook), schedule, owner,
              claimBatch, concurrency, leaseSeconds, registry, planner::send, operator.getString("webhook_secret"),
              alerts::sweepSoon, breakers);
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
          timers.add(vertx.setPeriodic(config.getLong("template_refresh_ms", 10_000L), id -> templates.reload()));
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
      return command(Addresses.NOTIFY_SINK_MESSAGES, Body.json(),
          body -> Future.succeededFuture(new JsonObject().put("messages", new JsonArray()).put("enabled", false)
              .putNull("next_cursor").put("has_more", false)));
    }
    SmtpSinkVerticle sinkVerticle = new SmtpSinkVerticle(sink.getInteger("max_messages", 200));
    return vertx.deployVerticle(sinkVerticle).map(id -> {
      email = new EmailChannel(vertx, "127.0.0.1", sinkVerticle.port(), null, null, from,
          new JsonObject().put("starttls", "DISABLED"));
      return null;
    });
  }

  private Future<Void> registerConsumers() {
    List<Future<Void>> registered = new ArrayList<>();
    registered.add(command(Addresses.NOTIFY_SEND, Body.of(NotifySend.class), planner::send));
    registered.add(command(Addresses.NOTIFY_SEND_TEST, Body.of(NotifySendTest.class), sendTest::send));
    registered.add(command(Addresses.NOTIFY_LIST, Body.of(NotifyList.class), inbox::list));
    registered.add(command(Addresses.NOTIFY_MARK_READ, Body.of(NotifyMarkRead.class), inbox::markRead));
    registered.add(command(Addresses.NOTIFY_PREFERENCES_GET, Body.of(NotifyPreferencesGet.class), preferences::get));
    registered.add(command(Addresses.NOTIFY_PREFERENCES_PUT, Body.of(NotifyPreferences.class), preferences::put));
    registered.add(command(Addresses.NOTIFY_DELIVERIES, Body.of(NotifyDeliveries.class), inbox::deliveries));
    registered.add(command(Addresses.NOTIFY_TEMPLATES_LIST, Body.json(), body -> templates.list()));
    registered.add(command(Addresses.NOTIFY_TEMPLATES_PUT, Body.json(), templates::put));
    registered.add(command(Addresses.NOTIFY_TEMPLATES_EDIT, Body.json(), templates::edit));
    registered.add(command(Addresses.NOTIFY_TEMPLATES_PREVIEW, Body.json(), templates::preview));
    // another instance (or node) saved a template: the next send here must use it, not wait for the refresh
    registered.add(vertx.eventBus().<Object>consumer(Addresses.NOTIFY_TEMPLATES_CHANGED, m -> templates.reload()
        .onFailure(failure -> log.warn("Template reload failed: {}", failure.getMessage()))).completion());
    registered.add(command(Addresses.NOTIFY_DEAD_LETTERS_LIST, Body.json(), deadLetters::list));
    registered.add(command(Addresses.NOTIFY_ALERTS_LIST, Body.json(), alerts::list));
    registered.add(command(Addresses.NOTIFY_BROADCAST, Body.json(), broadcasts::broadcast));
    registered.add(command(Addresses.NOTIFY_DEAD_LETTERS_REDRIVE, Body.json(), deadLetters::redrive));
    registered.add(command(Addresses.NOTIFY_PUSH_SUBSCRIBE, Body.json(), body -> preferences.subscribe(body, true)));
    registered.add(command(Addresses.NOTIFY_PUSH_UNSUBSCRIBE, Body.json(), body -> preferences.subscribe(body, false)));
    registered.add(command(Addresses.NOTIFY_VAPID_KEY, Body.json(),
        body -> Future.succeededFuture(new JsonObject().put("public_key", vapid.publicKeyText()))));
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

  /**
   * Answers one notify command; a {@link Refusal} fails with its own code, an unreachable database with
   * UNAVAILABLE, anything else (ours) with INTERNAL.
   */
  private <T> Future<Void> command(String address, Body<T> body, Function<T, Future<?>> handler) {
    return Commands.answer(vertx, address, body, handler, failure -> {
      if (unreachable(failure)) {
        log.warn("notify request on {} failed: {}", address, failure.getMessage());
        return new CommandFailure(FailureCodes.UNAVAILABLE,
            "notification store unavailable: " + EmailChannel.oneLine(failure.getMessage()));
      }
      log.error("notify request on {} failed", address, failure);
      return new CommandFailure(FailureCodes.INTERNAL, "notification delivery failed internally");
    });
  }

  private void poll() {
    if (dispatcher != null) {
      dispatcher.poll();
    }
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
    if (breakers != null) {
      breakers.close();
    }
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
