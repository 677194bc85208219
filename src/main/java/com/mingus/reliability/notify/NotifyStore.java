package com.mingus.reliability.notify;

import com.mingus.reliability.bus.DeliveryAttempt;
import com.mingus.reliability.bus.DeliveryStatus;
import com.mingus.reliability.bus.NotificationChannel;
import com.mingus.reliability.bus.NotificationPriority;
import com.mingus.reliability.bus.NotificationType;
import com.mingus.reliability.bus.NotificationView;
import com.mingus.reliability.bus.PushSubscription;
import com.mingus.reliability.crypto.TokenCipher;
import com.mingus.reliability.db.Tenancy;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** Every SQL statement of the notify verticle, against the tables of {@code V5__notify.sql}. */
final class NotifyStore {
  /** The pool; {@link #asUser} scopes one of its connections. */
  private final Pool root;
  /** Where the queries go: the pool, or the connection of a user's or an operator's transaction (db/Tenancy). */
  private final SqlClient pool;
  /** Webhook signing secrets and the VAPID private key are stored sealed, like Plaid access tokens. */
  private final TokenCipher cipher;

  NotifyStore(Pool pool, TokenCipher cipher) {
    this(pool, pool, cipher);
  }

  private NotifyStore(Pool root, SqlClient client, TokenCipher cipher) {
    this.cipher = cipher;
    this.root = root;
    this.pool = client;
  }

  /**
   * Runs {@code work} on a store whose queries are one transaction as that user, under row-level security
   * (V14): what answers a user's request. With a null user, as the operator role (operator commands).
   */
  <T> Future<T> asUser(String userId, java.util.function.Function<NotifyStore, Future<T>> work) {
    return Tenancy.scoped(root, userId, conn -> work.apply(new NotifyStore(root, conn, cipher)));
  }

  // ---- templates

  Future<Void> seedTemplates(Collection<Template> templates) {
    List<Tuple> batch = new ArrayList<>();
    for (Template t : templates) {
      batch.add(Tuple.of(t.type().wire(), t.priority().wire(), channelArray(t.channels()), t.subject(), t.emailHtml(),
          t.emailText(), t.inApp(), t.push(), t.sms()));
    }
    return pool.preparedQuery("INSERT INTO notify_templates (type, priority, channels, subject, email_html, email_text, "
        + "in_app, push, sms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (type) DO NOTHING")
        .executeBatch(batch).mapEmpty();
  }

  Future<Map<NotificationType, Template>> templates() {
    return pool.query("SELECT type, priority, channels, subject, email_html, email_text, in_app, push, sms, version "
        + "FROM notify_templates").execute().map(rows -> {
          Map<NotificationType, Template> out = new HashMap<>();
          for (Row row : rows) {
            NotificationType type = NotificationType.parse(row.getString("type"));
            if (type != null) {
              out.put(type, template(type, row));
            }
          }
          return out;
        });
  }

  Future<Template> updateTemplate(Template t, String updatedBy) {
    return pool.preparedQuery("UPDATE notify_templates SET priority = $2, channels = $3, subject = $4, email_html = $5, "
        + "email_text = $6, in_app = $7, push = $8, sms = $9, version = version + 1, updated_at = now(), updated_by = $10 "
        + "WHERE type = $1 RETURNING type, priority, channels, subject, email_html, email_text, in_app, push, sms, version")
        .execute(Tuple.tuple(List.of(t.type().wire(), t.priority().wire(), channelArray(t.channels()), t.subject(),
            t.emailHtml(), t.emailText(), t.inApp(), t.push(), t.sms())).addValue(updatedBy))
        .map(rows -> template(t.type(), rows.iterator().next()));
  }

  /**
   * Changes only the columns of one channel's texts (null keeps a column), so operators editing different
   * channels of one type at the same time do not undo each other's edits. The columns come from the channel,
   * never from the request.
   */
  Future<Template> updateChannelTexts(NotificationType type, NotificationChannel channel, String subject, String body,
      String bodyHtml, String updatedBy) {
    String set = switch (channel) {
      case EMAIL -> "subject = COALESCE($2, subject), email_text = COALESCE($3, email_text), "
          + "email_html = COALESCE($4, email_html)";
      case IN_APP -> "in_app = COALESCE($3, in_app)";
      case PUSH -> "push = COALESCE($3, push)";
      case SMS -> "sms = COALESCE($3, sms)";
      case WEBHOOK -> throw new IllegalArgumentException("webhook has no texts of its own");
    };
    // every parameter is named once in the WHERE clause so PostgreSQL knows its type when the SET leaves it out
    return pool.preparedQuery("UPDATE notify_templates SET " + set + ", version = version + 1, updated_at = now(), "
        + "updated_by = $5 WHERE type = $1 AND ($2::text IS NULL OR true) AND ($4::text IS NULL OR true) "
        + "RETURNING type, priority, channels, subject, email_html, email_text, in_app, push, sms, version")
        .execute(Tuple.tuple(Arrays.asList(type.wire(), subject, body, bodyHtml, updatedBy)))
        .map(rows -> template(type, rows.iterator().next()));
  }

  private static Template template(NotificationType type, Row row) {
    List<NotificationChannel> channels = new ArrayList<>();
    for (String name : row.getArrayOfStrings("channels")) {
      NotificationChannel channel = NotificationChannel.fromWire(name);
      if (channel != null) {
        channels.add(channel);
      }
    }
    NotificationPriority priority = NotificationPriority.parse(row.getString("priority"));
    return new Template(type, priority == null ? NotificationPriority.MEDIUM : priority, List.copyOf(channels),
        row.getString("subject"), row.getString("email_html"), row.getString("email_text"), row.getString("in_app"),
        row.getString("push"), row.getString("sms"), row.getInteger("version"));
  }

  private static String webhookContext(String userId) {
    return "notify.webhook_secret:" + userId;
  }

  private static String[] channelArray(List<NotificationChannel> channels) {
    return channels.stream().map(NotificationChannel::wire).toArray(String[]::new);
  }

  // ---- preferences

  private static final String PREFERENCE_COLUMNS = "user_id, time_zone, quiet_start, quiet_end, channels, email, phone, "
      + "push_subscriptions, webhook_url, webhook_secret, webhook_disabled_reason";

  Future<Preferences> preferences(String userId) {
    return pool.preparedQuery("SELECT " + PREFERENCE_COLUMNS + " FROM notify_preferences WHERE user_id = $1")
        .execute(Tuple.of(userId))
        .map(rows -> rows.size() == 0 ? Preferences.defaults(userId) : preferences(rows.iterator().next()));
  }

  Future<Map<String, Preferences>> preferences(Collection<String> userIds) {
    if (userIds.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return pool.preparedQuery("SELECT " + PREFERENCE_COLUMNS + " FROM notify_preferences WHERE user_id = ANY($1)")
        .execute(Tuple.of(userIds.toArray(String[]::new))).map(rows -> {
          Map<String, Preferences> out = new HashMap<>();
          rows.forEach(row -> out.put(row.getString("user_id"), preferences(row)));
          return out;
        });
  }

  private Preferences preferences(Row row) {
    List<PushSubscription> push = new ArrayList<>();
    JsonArray subscriptions = (JsonArray) row.getValue("push_subscriptions");
    if (subscriptions != null) {
      for (int i = 0; i < subscriptions.size(); i++) {
        push.add(PushSubscription.fromJson(subscriptions.getJsonObject(i)));
      }
    }
    ZoneId zone;
    try {
      zone = ZoneId.of(row.getString("time_zone"));
    } catch (RuntimeException e) {
      zone = ZoneOffset.UTC;
    }
    return new Preferences(row.getString("user_id"), zone, row.getLocalTime("quiet_start"), row.getLocalTime("quiet_end"),
        (JsonObject) row.getValue("channels"), row.getString("email"), row.getString("phone"), List.copyOf(push),
        row.getString("webhook_url"), cipher.openText(row.getString("webhook_secret"), webhookContext(row.getString("user_id"))),
        row.getString("webhook_disabled_reason"));
  }

  Future<Void> savePreferences(Preferences p) {
    JsonArray push = new JsonArray();
    p.push().forEach(subscription -> push.add(subscription.toJson()));
    return pool.preparedQuery("INSERT INTO notify_preferences (" + PREFERENCE_COLUMNS + ", updated_at) "
        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now()) ON CONFLICT (user_id) DO UPDATE SET "
        + "time_zone = EXCLUDED.time_zone, quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, "
        + "channels = EXCLUDED.channels, email = EXCLUDED.email, phone = EXCLUDED.phone, "
        + "push_subscriptions = EXCLUDED.push_subscriptions, webhook_url = EXCLUDED.webhook_url, "
        + "webhook_secret = EXCLUDED.webhook_secret, webhook_disabled_reason = EXCLUDED.webhook_disabled_reason, "
        + "updated_at = now()")
        .execute(Tuple.tuple(Arrays.asList(p.userId(), p.zone().getId(), p.quietStart(), p.quietEnd(), p.channels(),
            p.email(), p.phone(), push, p.webhookUrl(),
            p.webhookSecret() == null ? null : cipher.sealText(p.webhookSecret(), webhookContext(p.userId())),
            p.webhookDisabled())))
        .mapEmpty();
  }

  /** Turns the webhook off, only while it still points at the URL that answered 410. True when it was on. */
  Future<Boolean> disableWebhook(String userId, String url, String reason) {
    return pool.preparedQuery("UPDATE notify_preferences SET webhook_disabled_reason = $3, updated_at = now() "
        + "WHERE user_id = $1 AND webhook_url = $2 AND webhook_disabled_reason IS NULL")
        .execute(Tuple.of(userId, url, reason)).map(rows -> rows.rowCount() > 0);
  }

  Future<Void> removePushSubscription(String userId, String endpoint) {
    return pool.preparedQuery("UPDATE notify_preferences SET push_subscriptions = COALESCE((SELECT jsonb_agg(s) "
        + "FROM jsonb_array_elements(push_subscriptions) s WHERE s->>'endpoint' <> $2), '[]'::jsonb), updated_at = now() "
        + "WHERE user_id = $1").execute(Tuple.of(userId, endpoint)).mapEmpty();
  }

  // ---- the outbox

  record NewNotification(UUID id, String userId, NotificationType type, NotificationPriority priority, String title,
      String message, String connectionId, String dedupeKey, JsonObject data, boolean inApp, boolean test) {}

  record NewDelivery(UUID id, NotificationChannel channel, String target, String idempotencyKey, String status,
      String reason, String subject, String body, String bodyHtml, Instant notBefore) {}

  /** What {@link #create} did: the notification that stands (the earlier one when merged). */
  record Created(UUID notificationId, boolean merged, OffsetDateTime createdAt) {}

  /**
   * Writes a notification and its deliveries in one statement, so one round trip makes them durable
   * together. With a dedupe key the key's row is taken first (the primary key serialises concurrent
   * requests): inside its cooldown nothing is inserted and the request merges into the earlier notification.
   */
  Future<Created> create(NewNotification n, List<NewDelivery> deliveries, double cooldownSeconds) {
    Tuple params = createParams(n, n.type().wire(), deliveries, cooldownSeconds);
    return pool.preparedQuery(CREATE).execute(params).compose(rows -> {
      if (rows.size() > 0) {
        return Future.succeededFuture(new Created(n.id(), false, rows.iterator().next().getOffsetDateTime("created_at")));
      }
      // the key was taken within its cooldown: merge, in a statement of its own so it sees the earlier commit
      return pool.preparedQuery("UPDATE notifications SET occurrences = occurrences + 1, last_seen_at = now() "
          + "FROM notify_dedupe d WHERE d.user_id = $1 AND d.dedupe_key = $2 AND notifications.id = d.notification_id "
          + "RETURNING notifications.id, notifications.created_at")
          .execute(Tuple.of(n.userId(), n.dedupeKey()))
          .compose(merged -> merged.size() == 0
              ? Future.failedFuture(new IllegalStateException("dedupe key held by a notification that is gone"))
              : Future.succeededFuture(new Created(merged.iterator().next().getUUID("id"), true,
                  merged.iterator().next().getOffsetDateTime("created_at"))));
    });
  }

  /**
   * The parameters of {@link #CREATE} for one notification and its deliveries; {@code type} is the wire name
   * (a NotificationType's, or an operator alert's {@code operator.<kind>}).
   */
  static Tuple createParams(NewNotification n, String type, List<NewDelivery> deliveries, double cooldownSeconds) {
    int size = deliveries.size();
    UUID[] ids = new UUID[size];
    String[] channels = new String[size];
    String[] targets = new String[size];
    String[] keys = new String[size];
    String[] statuses = new String[size];
    String[] reasons = new String[size];
    String[] subjects = new String[size];
    String[] bodies = new String[size];
    String[] htmls = new String[size];
    OffsetDateTime[] notBefore = new OffsetDateTime[size];
    for (int i = 0; i < size; i++) {
      NewDelivery d = deliveries.get(i);
      ids[i] = d.id();
      channels[i] = d.channel().wire();
      targets[i] = d.target();
      keys[i] = d.idempotencyKey();
      statuses[i] = d.status();
      reasons[i] = d.reason();
      subjects[i] = d.subject();
      bodies[i] = d.body();
      htmls[i] = d.bodyHtml();
      notBefore[i] = d.notBefore() == null ? null : d.notBefore().atOffset(ZoneOffset.UTC);
    }
    return Tuple.tuple(Arrays.asList(n.id(), n.userId(), type, n.priority().wire(), n.title(),
        n.message(), n.connectionId(), n.dedupeKey(), n.data(), n.inApp(), n.test(), cooldownSeconds, ids, channels,
        targets, keys, statuses, reasons, subjects, bodies, htmls, notBefore));
  }

  /** Writes one notification, its deliveries and its dedupe key (parameters: {@link #createParams}). */
  static final String CREATE = "WITH dd AS ("
      + "INSERT INTO notify_dedupe (user_id, dedupe_key, notification_id, expires_at) "
      + "SELECT $2, $8, $1, now() + make_interval(secs => $12) WHERE $8::text IS NOT NULL "
      + "ON CONFLICT (user_id, dedupe_key) DO UPDATE SET notification_id = EXCLUDED.notification_id, "
      + "expires_at = EXCLUDED.expires_at WHERE notify_dedupe.expires_at <= now() RETURNING notification_id), "
      + "n AS (INSERT INTO notifications (id, user_id, type, priority, title, message, connection_id, dedupe_key, data, "
      + "in_app, test) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 "
      + "WHERE $8::text IS NULL OR EXISTS (SELECT 1 FROM dd) RETURNING id, created_at), "
      + "d AS (INSERT INTO notify_deliveries (id, notification_id, user_id, channel, target, idempotency_key, status, "
      + "reason, subject, body, body_html, priority, next_attempt_at) "
      + "SELECT u.id, $1, $2, u.channel, u.target, u.key, u.status, u.reason, u.subject, u.body, u.html, $4, "
      + "COALESCE(u.not_before, now()) FROM unnest($13::uuid[], $14::text[], $15::text[], $16::text[], $17::text[], "
      + "$18::text[], $19::text[], $20::text[], $21::text[], $22::timestamptz[]) "
      + "AS u(id, channel, target, key, status, reason, subject, body, html, not_before) "
      + "WHERE EXISTS (SELECT 1 FROM n) ON CONFLICT (idempotency_key) DO NOTHING) "
      + "SELECT id, created_at FROM n";

  /**
   * Takes up to {@code limit} due deliveries for this owner: rows another instance holds are skipped, and
   * the lease keeps them ours while we send, so no two instances or nodes send the same delivery. Deliveries of
   * the {@code held} channels (a provider breaker open) are left waiting.
   */
  Future<List<Delivery>> claim(String owner, int limit, double leaseSeconds, List<String> held) {
    return pool.preparedQuery("WITH due AS (SELECT id FROM notify_deliveries WHERE status IN ('pending', 'retrying') "
        + "AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now()) "
        + "AND NOT (channel = ANY($4::text[])) "
        + "ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
        + "UPDATE notify_deliveries d SET lease_owner = $1, lease_until = now() + make_interval(secs => $3), "
        + "attempts = d.attempts + 1, updated_at = now() FROM due, notifications n "
        + "WHERE d.id = due.id AND n.id = d.notification_id RETURNING d.id, d.notification_id, d.user_id, d.channel, "
        + "d.target, d.idempotency_key, d.subject, d.body, d.body_html, d.priority, d.attempts, n.type, n.connection_id, "
        + "n.title, n.message, n.data, n.created_at")
        .execute(Tuple.of(owner, limit, leaseSeconds, held.toArray(new String[0]))).map(rows -> {
          List<Delivery> out = new ArrayList<>();
          for (Row row : rows) {
            out.add(new Delivery(row.getUUID("id").toString(), row.getUUID("notification_id").toString(),
                row.getString("user_id"), row.getString("channel"), row.getString("target"),
                row.getString("idempotency_key"), row.getString("subject"), row.getString("body"),
                row.getString("body_html"), row.getString("priority"), row.getInteger("attempts"), row.getString("type"),
                row.getString("connection_id"), row.getString("title"), row.getString("message"),
                (JsonObject) row.getValue("data"), row.getOffsetDateTime("created_at")));
          }
          return out;
        });
  }

  /**
   * Hands claimed deliveries back unattempted (their provider's breaker opened after the claim): the lease is
   * released and the attempt the claim counted is given back.
   */
  Future<Integer> release(String owner, List<String> deliveryIds) {
    if (deliveryIds.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return pool.preparedQuery("UPDATE notify_deliveries SET lease_owner = NULL, lease_until = NULL, "
            + "attempts = greatest(attempts - 1, 0), updated_at = now() WHERE id = ANY($1::uuid[]) AND lease_owner = $2")
        .execute(Tuple.of(deliveryIds.stream().map(java.util.UUID::fromString).toArray(java.util.UUID[]::new), owner))
        .map(io.vertx.sqlclient.RowSet::rowCount);
  }

  /** One attempt's outcome, as {@link #complete} records it. */
  record Outcome(String deliveryId, int attempt, String status, String reason, String providerMessageId, String error,
      Instant nextAttemptAt, boolean deadLetter, Instant startedAt) {}

  /**
   * Records many attempts' outcomes and releases their leases in one statement. Only rows whose lease is
   * still ours change (one re-claimed after its lease expired is left alone, which the caller logs); the
   * answer is the set of deliveries that were recorded.
   */
  Future<Set<String>> complete(String owner, List<Outcome> outcomes) {
    int size = outcomes.size();
    UUID[] ids = new UUID[size];
    Integer[] attempts = new Integer[size];
    String[] statuses = new String[size];
    String[] reasons = new String[size];
    String[] providers = new String[size];
    String[] errors = new String[size];
    OffsetDateTime[] next = new OffsetDateTime[size];
    Boolean[] dead = new Boolean[size];
    OffsetDateTime[] started = new OffsetDateTime[size];
    for (int i = 0; i < size; i++) {
      Outcome o = outcomes.get(i);
      ids[i] = UUID.fromString(o.deliveryId());
      attempts[i] = o.attempt();
      statuses[i] = o.status();
      reasons[i] = o.reason();
      providers[i] = o.providerMessageId();
      errors[i] = o.error();
      next[i] = o.nextAttemptAt() == null ? null : o.nextAttemptAt().atOffset(ZoneOffset.UTC);
      dead[i] = o.deadLetter();
      started[i] = o.startedAt().atOffset(ZoneOffset.UTC);
    }
    return pool.preparedQuery("WITH i AS (SELECT * FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], "
        + "$6::text[], $7::text[], $8::timestamptz[], $9::bool[], $10::timestamptz[]) "
        + "AS t(id, attempt, status, reason, provider, error, next_at, dead, started)), "
        + "u AS (UPDATE notify_deliveries d SET status = i.status, reason = i.reason, "
        + "provider_message_id = COALESCE(i.provider, d.provider_message_id), last_error = i.error, "
        + "next_attempt_at = COALESCE(i.next_at, d.next_attempt_at), lease_owner = NULL, lease_until = NULL, "
        + "sent_at = CASE WHEN i.status = 'sent' THEN now() ELSE d.sent_at END, "
        + "dead_lettered_at = CASE WHEN i.dead THEN now() ELSE NULL END, updated_at = now() "
        + "FROM i WHERE d.id = i.id AND d.lease_owner = $1 RETURNING d.id) "
        + "INSERT INTO notify_attempts (delivery_id, attempt, outcome, provider_message_id, error, started_at) "
        + "SELECT i.id, i.attempt, i.status, i.provider, i.error, i.started FROM i JOIN u ON u.id = i.id "
        + "RETURNING delivery_id")
        .execute(Tuple.tuple(Arrays.asList(owner, ids, attempts, statuses, reasons, providers, errors, next, dead, started)))
        .map(rows -> {
          Set<String> kept = new HashSet<>();
          rows.forEach(row -> kept.add(row.getUUID("delivery_id").toString()));
          return kept;
        });
  }

  // ---- reading

  /**
   * A keyset page of a user's in-app notifications, newest first (created_at, then id, both descending): those
   * after the row {@code (beforeAt, beforeId)} of the previous page, or from the newest when null.
   */
  Future<List<NotificationView>> list(String userId, int limit, OffsetDateTime beforeAt, UUID beforeId, boolean unreadOnly) {
    return pool.preparedQuery("SELECT id, type, priority, title, message, connection_id, read_at, created_at, occurrences "
        + "FROM notifications WHERE user_id = $1 AND in_app AND ($3 = false OR read_at IS NULL) "
        + "AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5)) "
        + "ORDER BY created_at DESC, id DESC LIMIT $2")
        .execute(Tuple.of(userId, limit, unreadOnly, beforeAt, beforeId)).map(rows -> {
          List<NotificationView> out = new ArrayList<>();
          rows.forEach(row -> out.add(view(row)));
          return out;
        });
  }

  /** {total, unread} of a user's in-app notifications. */
  Future<int[]> counts(String userId) {
    return pool.preparedQuery("SELECT count(*) AS total, count(*) FILTER (WHERE read_at IS NULL) AS unread "
        + "FROM notifications WHERE user_id = $1 AND in_app").execute(Tuple.of(userId))
        .map(rows -> {
          Row row = rows.iterator().next();
          return new int[] {row.getLong("total").intValue(), row.getLong("unread").intValue()};
        });
  }

  Future<NotificationView> view(UUID id) {
    return pool.preparedQuery("SELECT id, type, priority, title, message, connection_id, read_at, created_at, occurrences "
        + "FROM notifications WHERE id = $1").execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? null : view(rows.iterator().next()));
  }

  /** Marks read only the owner's notification; null when there is none (or it is someone else's). */
  Future<NotificationView> markRead(String userId, UUID id) {
    return pool.preparedQuery("UPDATE notifications SET read_at = COALESCE(read_at, now()) WHERE id = $1 AND user_id = $2 "
        + "RETURNING id, type, priority, title, message, connection_id, read_at, created_at, occurrences")
        .execute(Tuple.of(id, userId)).map(rows -> rows.size() == 0 ? null : view(rows.iterator().next()));
  }

  private static NotificationView view(Row row) {
    return new NotificationView(row.getUUID("id").toString(), row.getString("type"), row.getString("priority"),
        row.getString("title"), row.getString("message"), row.getString("connection_id"), row.getValue("read_at") != null,
        iso(row.getOffsetDateTime("created_at")), row.getInteger("occurrences"));
  }

  /** The deliveries of a notification, with their attempts; null when it is not the user's (userId null: any). */
  Future<List<DeliveryStatus>> deliveries(UUID notificationId, String userId) {
    return pool.preparedQuery("SELECT 1 FROM notifications WHERE id = $1 AND ($2::text IS NULL OR user_id = $2)")
        .execute(Tuple.of(notificationId, userId)).compose(owner -> {
          if (owner.size() == 0) {
            return Future.succeededFuture(null);
          }
          Future<RowSet<Row>> deliveries = pool.preparedQuery("SELECT id, channel, target, status, reason, attempts, "
              + "provider_message_id, last_error, next_attempt_at, sent_at, idempotency_key FROM notify_deliveries "
              + "WHERE notification_id = $1 ORDER BY channel, created_at").execute(Tuple.of(notificationId));
          Future<RowSet<Row>> attempts = pool.preparedQuery("SELECT a.delivery_id, a.attempt, a.outcome, "
              + "a.provider_message_id, a.error, a.started_at, a.finished_at FROM notify_attempts a "
              + "JOIN notify_deliveries d ON d.id = a.delivery_id WHERE d.notification_id = $1 ORDER BY a.id")
              .execute(Tuple.of(notificationId));
          return Future.all(deliveries, attempts).map(both -> {
            Map<UUID, List<DeliveryAttempt>> byDelivery = new HashMap<>();
            for (Row row : attempts.result()) {
              byDelivery.computeIfAbsent(row.getUUID("delivery_id"), k -> new ArrayList<>()).add(new DeliveryAttempt(
                  row.getInteger("attempt"), row.getString("outcome"), row.getString("provider_message_id"),
                  row.getString("error"), iso(row.getOffsetDateTime("started_at")),
                  iso(row.getOffsetDateTime("finished_at"))));
            }
            List<DeliveryStatus> out = new ArrayList<>();
            for (Row row : deliveries.result()) {
              out.add(new DeliveryStatus(row.getUUID("id").toString(), row.getString("channel"), row.getString("target"),
                  row.getString("status"), row.getString("reason"), row.getInteger("attempts"),
                  row.getString("provider_message_id"), row.getString("last_error"),
                  iso(row.getOffsetDateTime("next_attempt_at")), iso(row.getOffsetDateTime("sent_at")),
                  row.getString("idempotency_key"), List.copyOf(byDelivery.getOrDefault(row.getUUID("id"), List.of()))));
            }
            return out;
          });
        });
  }

  /**
   * Dead letters, newest first (dead_lettered_at, then id, both descending), a keyset page at a time: those after
   * the row {@code (beforeAt, beforeId)} of the previous page, or from the newest when null; with how many there
   * are in all. Targets are shown only redacted ({@link Targets#redact}): an operator needs the channel and roughly
   * where, not the address.
   */
  Future<JsonObject> deadLetters(int limit, OffsetDateTime beforeAt, UUID beforeId) {
    Future<RowSet<Row>> page = pool.preparedQuery("SELECT id, notification_id, user_id, channel, target, attempts, "
        + "reason, last_error, dead_lettered_at FROM notify_deliveries WHERE dead_lettered_at IS NOT NULL "
        + "AND ($2::timestamptz IS NULL OR (dead_lettered_at, id) < ($2, $3)) "
        + "ORDER BY dead_lettered_at DESC, id DESC LIMIT $1")
        .execute(Tuple.of(limit, beforeAt, beforeId));
    Future<RowSet<Row>> count = pool.query("SELECT count(*) AS total FROM notify_deliveries WHERE dead_lettered_at IS NOT NULL")
        .execute();
    return Future.all(page, count).map(both -> {
      JsonArray out = new JsonArray();
      for (Row row : page.result()) {
        String channel = row.getString("channel");
        out.add(new JsonObject().put("id", row.getUUID("id").toString())
            .put("delivery_id", row.getUUID("id").toString())
            .put("notification_id", row.getUUID("notification_id").toString()).put("user_id", row.getString("user_id"))
            .put("channel", channel).put("target", Targets.redact(channel, row.getString("target")))
            .put("attempt_count", row.getInteger("attempts")).put("attempts", row.getInteger("attempts"))
            .put("reason", row.getString("reason")).put("last_error", row.getString("last_error"))
            .put("dead_lettered_at", iso(row.getOffsetDateTime("dead_lettered_at"))));
      }
      return new JsonObject().put("dead_letters", out).put("total", count.result().iterator().next().getLong("total"));
    });
  }

  /** A delivery's status and whether it is dead-lettered, or null when there is no such delivery. */
  Future<JsonObject> deliveryState(UUID id) {
    return pool.preparedQuery("SELECT status, dead_lettered_at IS NOT NULL AS dead FROM notify_deliveries WHERE id = $1")
        .execute(Tuple.of(id)).map(rows -> rows.size() == 0 ? null : new JsonObject()
            .put("status", rows.iterator().next().getString("status")).put("dead", rows.iterator().next().getBoolean("dead")));
  }

  /** Puts dead letters back in the outbox with a fresh schedule; {@code id} null means all of them. */
  Future<Integer> redrive(UUID id) {
    return pool.preparedQuery("UPDATE notify_deliveries SET status = 'retrying', attempts = 0, next_attempt_at = now(), "
        + "dead_lettered_at = NULL, reason = 'redriven', lease_owner = NULL, lease_until = NULL, updated_at = now() "
        + "WHERE dead_lettered_at IS NOT NULL AND ($1::uuid IS NULL OR id = $1)")
        .execute(Tuple.of(id)).map(RowSet::rowCount);
  }

  /** The first-delivery state of each of a notification's deliveries, for send-test's bounded wait. */
  Future<List<JsonObject>> firstAttempts(UUID notificationId) {
    return pool.preparedQuery("SELECT channel, status, reason, attempts, last_error, lease_owner IS NOT NULL AS leased "
        + "FROM notify_deliveries WHERE notification_id = $1 ORDER BY channel").execute(Tuple.of(notificationId))
        .map(rows -> {
          List<JsonObject> out = new ArrayList<>();
          rows.forEach(row -> out.add(new JsonObject().put("channel", row.getString("channel"))
              .put("status", row.getString("status")).put("reason", row.getString("reason"))
              .put("attempts", row.getInteger("attempts")).put("last_error", row.getString("last_error"))
              .put("leased", row.getBoolean("leased"))));
          return out;
        });
  }

  /**
   * Deletes notifications older than the retention (their deliveries and attempts go with them), except
   * those with a delivery still to send, and dedupe keys whose cooldown ended; answers how many notifications.
   */
  Future<Integer> purge(double retentionDays) {
    return pool.preparedQuery("DELETE FROM notifications n WHERE n.created_at < now() - make_interval(secs => $1) "
        + "AND NOT EXISTS (SELECT 1 FROM notify_deliveries d WHERE d.notification_id = n.id "
        + "AND d.status IN ('pending', 'retrying'))").execute(Tuple.of(retentionDays * 86_400))
        .compose(deleted -> pool.query("DELETE FROM notify_dedupe WHERE expires_at < now()").execute()
            .map(ignored -> deleted.rowCount()));
  }

  // ---- shared settings

  /** The value stored under key, storing {@code candidate} first if there is none (so every node agrees). */
  Future<String> settingOrInsert(String key, String candidate) {
    return pool.preparedQuery("INSERT INTO notify_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .execute(Tuple.of(key, candidate))
        .compose(ignored -> pool.preparedQuery("SELECT value FROM notify_settings WHERE key = $1").execute(Tuple.of(key)))
        .map(rows -> rows.iterator().next().getString("value"));
  }

  /** As {@link #settingOrInsert}, for a secret: stored sealed, answered opened. */
  Future<String> secretSettingOrInsert(String key, String candidate) {
    String context = "notify.setting:" + key;
    return settingOrInsert(key, cipher.sealText(candidate, context)).map(stored -> cipher.openText(stored, context));
  }

  static String iso(OffsetDateTime time) {
    return time == null ? null : time.toInstant().toString();
  }
}
