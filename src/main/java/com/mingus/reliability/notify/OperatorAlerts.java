package com.mingus.reliability.notify;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.PageCursor;
import com.mingus.reliability.bus.InstitutionHealth;
import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.logging.Redactor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells operators what no user can fix: a bank's circuit opening ({@code institution.changed}), a notification
 * that exhausted its retries (the outbox's dead letters) and reconciliation drift ({@code sync.completed}).
 *
 * <p>Every node's notify receives each publish, so an alert is first a row with a unique dedupe key; only the
 * insert that wins it writes the alert's notification and deliveries (operator webhook, operator e-mail) into
 * the outbox, in the same transaction, and the dispatcher delivers them with its retries. Dead letters are found
 * in the outbox itself (woken by the dispatcher, and swept on a timer), so a crash between a dead letter and its
 * alert loses nothing. Alerts carry ids, names, counts and redacted targets; never a token or a secret.
 */
final class OperatorAlerts {
  private static final Logger log = LoggerFactory.getLogger(OperatorAlerts.class);
  /** The outbox's user id for operator alerts: never in a list (in_app false), never a dead-letter alert itself. */
  static final String USER = "~operators";
  private static final int SWEEP_BATCH = 100;

  private final Vertx vertx;
  private final OperatorStore store;
  private final String webhookUrl;
  private final String email;
  private final long sweepMs;
  private final long catchUpMs;
  private final long busTimeoutMs;
  private final double lookbackSeconds;
  private final String appUrl;
  private final Runnable poll;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  /** Per bank, the recording of its latest circuit change (runs on this instance's event loop only). */
  private final java.util.Map<String, Future<Void>> circuitQueue = new java.util.HashMap<>();
  private long timer = -1;
  private long catchUpTimer = -1;
  private boolean sweeping;
  private boolean sweepAgain;

  OperatorAlerts(Vertx vertx, OperatorStore store, JsonObject config, String appUrl, Runnable poll) {
    this.vertx = vertx;
    this.store = store;
    this.webhookUrl = blankToNull(config.getString("webhook_url"));
    this.email = blankToNull(config.getString("email"));
    this.sweepMs = config.getLong("dead_letter_sweep_ms", 5_000L);
    this.catchUpMs = config.getLong("catch_up_ms", 60_000L);
    this.busTimeoutMs = config.getLong("bus_timeout_ms", 10_000L);
    this.lookbackSeconds = config.getDouble("dead_letter_lookback_s", 86_400.0);
    this.appUrl = appUrl;
    this.poll = poll;
  }

  /** Checks the operator settings: a bad one stops start-up with a line naming it. */
  static void validate(JsonObject config) {
    String url = blankToNull(config.getString("webhook_url"));
    if (url != null && !(url.startsWith("https://") || url.startsWith("http://"))) {
      throw new IllegalArgumentException("notify.operator.webhook_url (NOTIFY_OPERATOR_WEBHOOK_URL) must be an http(s) URL");
    }
    String secret = blankToNull(config.getString("webhook_secret"));
    if (url != null && (secret == null || !StandardWebhooks.validSecret(secret))) {
      throw new IllegalArgumentException("notify.operator.webhook_secret (NOTIFY_OPERATOR_WEBHOOK_SECRET) is required with "
          + "the operator webhook URL: whsec_ followed by base64 of 24 to 64 bytes");
    }
    String address = blankToNull(config.getString("email"));
    if (address != null && !PreferenceCommands.validEmail(address)) {
      throw new IllegalArgumentException("notify.operator.email (NOTIFY_OPERATOR_EMAIL) is not an e-mail address");
    }
  }

  Future<Void> start() {
    var bus = vertx.eventBus();
    consumers.add(bus.consumer(Addresses.INSTITUTION_CHANGED, m -> onInstitution(m.body())));
    consumers.add(bus.consumer(Addresses.SYNC_COMPLETED, m -> onSyncCompleted(m.body())));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).onSuccess(ok -> {
      timer = vertx.setPeriodic(sweepMs, id -> sweep());
      catchUpTimer = vertx.setPeriodic(catchUpMs, id -> catchUp());
      sweep();
    }).mapEmpty();
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (catchUpTimer >= 0) {
      vertx.cancelTimer(catchUpTimer);
    }
  }

  /**
   * A keyset page of the alerts ({@code notify.alerts.list}), newest first, optionally of one kind: limit and cursor
   * in, next_cursor and has_more out ({@link PageCursor}); a cursor holds to the kind it was issued for.
   */
  Future<JsonObject> list(JsonObject body) {
    int limit = Requests.limit(body.getValue("limit"), 50, 500);
    String kind = body.getString("kind");
    String list = "alerts:" + (kind == null ? "" : kind);
    Requests.Key after = Requests.after(list, body.getString("cursor"));
    return store.alerts(kind, limit + 1, after == null ? null : after.at(), after == null ? null : after.id()).map(page -> {
      JsonArray rows = page.getJsonArray("alerts");
      boolean hasMore = rows.size() > limit;
      if (hasMore) {
        rows.remove(limit);
      }
      JsonObject last = hasMore ? rows.getJsonObject(limit - 1) : null;
      return page.put("limit", limit).put("has_more", hasMore)
          .put("next_cursor", last == null ? null : PageCursor.encode(list, last.getString("created_at"), last.getString("id")));
    });
  }

  // ---- catching up on what a publish did not bring

  /**
   * {@code institution.changed} and {@code sync.completed} are published, at most once: a node restarting, or a
   * change coalesced away, would miss its alert. So every {@code catch_up_ms} notify asks the owners for their
   * durable state, health for its banks' circuits and sync for its recent reconciliations, and passes both
   * through the same decisions; the dedupe keys make a repeat nothing, and a circuit's last-seen state only
   * moves forward (its since), so an older snapshot cannot undo a newer change.
   */
  void catchUp() {
    var bus = vertx.eventBus();
    io.vertx.core.eventbus.DeliveryOptions options = new io.vertx.core.eventbus.DeliveryOptions()
        .setSendTimeout(busTimeoutMs);
    bus.<JsonObject>request(Addresses.HEALTH_INSTITUTIONS, new JsonObject(), options).onSuccess(reply -> {
      io.vertx.core.json.JsonArray banks = reply.body().getJsonArray("institutions", new io.vertx.core.json.JsonArray());
      for (int i = 0; i < banks.size(); i++) {
        onInstitution(banks.getJsonObject(i));
      }
    }).onFailure(failure -> log.debug("Circuit catch-up skipped: {}", failure.getMessage()));
    bus.<JsonObject>request(Addresses.SYNC_RECONCILIATIONS, new JsonObject().put("limit", 200), options)
        .onSuccess(reply -> {
          io.vertx.core.json.JsonArray runs = reply.body().getJsonArray("reconciliations",
              new io.vertx.core.json.JsonArray());
          Instant since = Instant.now().minusMillis((long) (lookbackSeconds * 1000));
          for (int i = 0; i < runs.size(); i++) {
            JsonObject run = runs.getJsonObject(i);
            String finished = run.getString("finished_at");
            if (finished != null && Instant.parse(finished).isAfter(since)) {
              drift(run.getString("connection_id"), null, null, null, run.getString("sync_id"), run);
            }
          }
        }).onFailure(failure -> log.debug("Drift catch-up skipped: {}", failure.getMessage()));
  }

  // ---- circuits

  private void onInstitution(Object body) {
    InstitutionHealth bank = body instanceof InstitutionHealth record ? record : body instanceof JsonObject json
        ? InstitutionHealth.fromJson(json.containsKey("institution") ? json.getJsonObject("institution") : json) : null;
    if (bank == null || bank.institutionId() == null || bank.circuit() == null) {
      return;
    }
    // one bank's changes are recorded in the order they arrived, so each one reads the state its predecessor left
    Future<Void> before = circuitQueue.getOrDefault(bank.institutionId(), Future.succeededFuture());
    Future<Void> mine = before.transform(ignored -> circuitChanged(bank));
    circuitQueue.put(bank.institutionId(), mine);
    mine.onComplete(done -> circuitQueue.remove(bank.institutionId(), mine));
  }

  private Future<Void> circuitChanged(InstitutionHealth bank) {
    Instant since = bank.circuitSince() == null ? null : bank.circuitSince().truncatedTo(ChronoUnit.MICROS);
    return store.circuitChanged(bank.institutionId(), bank.circuit(), since, (previous, previousSince) -> {
      if (!"open".equals(bank.circuit())) {
        return null;
      }
      // Only closed → open alerts. half_open → open is a failed probe: the outage operators were told about goes
      // on. open → open is a repeat of a state already recorded, and whoever recorded it wrote its alert in the
      // same transaction; a node that read the old state before that commit decides to alert too, and the
      // alert's dedupe key (institution + circuit_since) makes its insert wait and then do nothing.
      if (previous != null && !"closed".equals(previous)) {
        return null;
      }
      return circuitAlert(bank, since);
    }).onSuccess(created -> told(created, "circuit_open", bank.institutionId()))
        .onFailure(failure -> log.warn("Operator alert for the circuit of {} not recorded: {}", bank.institutionId(),
            failure.getMessage()))
        .<Void>mapEmpty().recover(failure -> Future.succeededFuture());
  }

  private OperatorStore.NewAlert circuitAlert(InstitutionHealth bank, Instant since) {
    String name = bank.name() == null ? bank.institutionId() : bank.name();
    String reason = bank.circuitReason() == null ? "unknown" : bank.circuitReason();
    String title = "Bank circuit open: " + name;
    String message = "The circuit of " + name + " (" + bank.institutionId() + ") opened at " + since + " (reason: "
        + reason + "). Its connections' syncs are paused and only half-open probes reach Plaid until it closes.";
    JsonObject data = new JsonObject().put("institution_id", bank.institutionId()).put("institution_name", name)
        .put("circuit", bank.circuit()).put("circuit_since", since == null ? null : since.toString())
        .put("circuit_reason", reason).put("plaid_status", bank.plaidStatus());
    return alert("circuit_open", "circuit_open:" + bank.institutionId() + ":" + since, "critical", title, message, data,
        bank.institutionId(), null);
  }

  // ---- reconciliation drift

  private void onSyncCompleted(Object body) {
    SyncEvent event = body instanceof SyncEvent record ? record
        : body instanceof JsonObject json ? SyncEvent.fromJson(json) : null;
    if (event == null || event.syncId() == null || event.detail() == null) {
      return;
    }
    JsonObject run = event.detail().getJsonObject("reconciliation");
    if (run == null) {
      return;
    }
    drift(event.connectionId(), event.userId(), event.institutionId(), event.institutionName(), event.syncId(), run);
  }

  /** The alert for one reconciliation run that found drift (from its event, or from sync's list on catch-up). */
  private void drift(String connectionId, String userId, String institutionId, String institutionName, String syncId,
      JsonObject run) {
    if (connectionId == null || syncId == null) {
      return;
    }
    int missing = run.getInteger("missing", 0);
    int extra = run.getInteger("extra", 0);
    int changed = run.getInteger("changed", 0);
    int balances = run.getInteger("balances_changed", 0);
    int drift = missing + extra + changed + balances;
    if (drift <= 0) {
      return;
    }
    String bank = institutionName == null ? institutionId : institutionName;
    String who = userId == null && bank == null ? "" : " (" + (userId == null ? "" : "user " + userId)
        + (userId != null && bank != null ? ", " : "") + (bank == null ? "" : bank) + ")";
    String title = "Reconciliation drift: " + drift + " difference" + (drift == 1 ? "" : "s") + " on connection "
        + connectionId;
    String message = "Reconciliation of connection " + connectionId + who + " in sync " + syncId + " found the store differing from Plaid and repaired it (status "
        + run.getString("status") + "): " + missing + " missing, " + extra + " extra, " + changed
        + " changed transactions, " + balances + " balances changed; " + run.getInteger("checked", 0)
        + " transactions checked from " + run.getString("start_date") + " to " + run.getString("end_date") + ".";
    JsonObject data = new JsonObject().put("connection_id", connectionId).put("user_id", userId)
        .put("institution_id", institutionId).put("institution_name", institutionName)
        .put("sync_id", syncId).put("trigger", run.getString("trigger")).put("status", run.getString("status"))
        .put("drift", drift).put("missing", missing).put("extra", extra).put("changed", changed)
        .put("balances_changed", balances).put("checked", run.getInteger("checked", 0))
        .put("balances_checked", run.getInteger("balances_checked", 0))
        .put("start_date", run.getString("start_date")).put("end_date", run.getString("end_date"));
    store.createAlert(alert("reconciliation_drift", "reconciliation_drift:" + syncId, "warning", title, message,
            data, institutionId, connectionId))
        .onSuccess(created -> told(created, "reconciliation_drift", connectionId))
        .onFailure(failure -> log.warn("Operator alert for the drift of sync {} not recorded: {}", syncId,
            failure.getMessage()));
  }

  // ---- dead letters

  /** Called by the dispatcher after it recorded a dead letter; the timer sweeps as well. */
  void sweepSoon() {
    vertx.runOnContext(ignored -> sweep());
  }

  private void sweep() {
    if (sweeping) {
      sweepAgain = true;
      return;
    }
    sweeping = true;
    store.unalertedDeadLetters(USER, lookbackSeconds, SWEEP_BATCH).compose(letters -> {
      Future<Integer> chain = Future.succeededFuture(0);
      for (JsonObject letter : letters) {
        chain = chain.compose(count -> store.createAlert(deadLetterAlert(letter)).map(created -> {
          told(created, "dead_letter", letter.getString("delivery_id"));
          return count + 1;
        }));
      }
      return chain.map(count -> letters.size() == SWEEP_BATCH);
    }).onComplete(result -> {
      sweeping = false;
      if (result.failed()) {
        log.warn("Dead-letter alert sweep failed: {}", result.cause().getMessage());
      }
      if (sweepAgain || (result.succeeded() && result.result())) {
        sweepAgain = false;
        vertx.runOnContext(ignored -> sweep());
      }
    });
  }

  private OperatorStore.NewAlert deadLetterAlert(JsonObject letter) {
    String channel = letter.getString("channel");
    String target = Targets.redact(channel, letter.getString("target"));
    String error = letter.getString("last_error") == null ? letter.getString("reason") : letter.getString("last_error");
    error = EmailChannel.oneLine(Redactor.redact(error));
    String deliveryId = letter.getString("delivery_id");
    String title = "Notification dead-lettered: " + channel + " for user " + letter.getString("user_id");
    String message = "Delivery " + deliveryId + " of notification " + letter.getString("notification_id") + " ("
        + letter.getString("type") + ") on " + channel + " to " + target + " failed after " + letter.getInteger("attempts")
        + " attempt" + (letter.getInteger("attempts", 0) == 1 ? "" : "s") + ": " + error
        + ". Re-drive it (POST /api/admin/notifications/dead-letters/" + deliveryId + "/redrive) once the cause is fixed.";
    JsonObject data = new JsonObject().put("delivery_id", deliveryId).put("notification_id", letter.getString("notification_id"))
        .put("user_id", letter.getString("user_id")).put("notification_type", letter.getString("type"))
        .put("channel", channel).put("target", target).put("attempts", letter.getInteger("attempts"))
        .put("last_error", error).put("dead_lettered_at", letter.getString("dead_lettered_at"));
    return alert("dead_letter", letter.getString("alert_key"), "warning", title, message, data, null, null);
  }

  // ---- the alert and its outbox rows

  private OperatorStore.NewAlert alert(String kind, String dedupeKey, String severity, String title, String message,
      JsonObject data, String institutionId, String connectionId) {
    UUID alertId = UUID.randomUUID();
    JsonObject carried = data.copy().put("alert_id", alertId.toString()).put("kind", kind).put("severity", severity);
    List<NotifyStore.NewDelivery> deliveries = new ArrayList<>();
    UUID notificationId = UUID.randomUUID();
    if (webhookUrl != null) {
      deliveries.add(new NotifyStore.NewDelivery(UUID.randomUUID(), NotificationChannel.WEBHOOK, webhookUrl,
          notificationId + ":webhook", "pending", null, title, message, null, null));
    }
    if (email != null) {
      String subject = "[MINGUS operator alert] " + title;
      String text = message + "\n\nAlert " + alertId + " (" + kind + ", " + severity + "). All alerts: " + appUrl
          + " (operator dashboard) or GET /api/admin/alerts.";
      String html = "<h2>" + escape(title) + "</h2><p>" + escape(message) + "</p><p>Alert " + alertId + " (" + kind + ", "
          + severity + "). All alerts: the operator dashboard or <code>GET /api/admin/alerts</code>.</p>";
      deliveries.add(new NotifyStore.NewDelivery(UUID.randomUUID(), NotificationChannel.EMAIL, email,
          notificationId + ":email", "pending", null, subject, text, html, null));
    }
    NotifyStore.NewNotification notification = deliveries.isEmpty() ? null : new NotifyStore.NewNotification(
        notificationId, USER, null, NotificationPriority.HIGH, title, message, connectionId, null, carried, false, false);
    return new OperatorStore.NewAlert(alertId, kind, dedupeKey, severity, title, message, carried, institutionId,
        connectionId, notification, "operator." + kind, deliveries);
  }

  private void told(boolean created, String kind, String subject) {
    if (created) {
      log.info("Operator alert {} for {} recorded{}", kind, subject,
          webhookUrl == null && email == null ? " (no operator webhook or e-mail configured)" : "; delivering");
      poll.run();
    }
  }

  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  private static String blankToNull(String text) {
    return text == null || text.isBlank() ? null : text.trim();
  }
}
