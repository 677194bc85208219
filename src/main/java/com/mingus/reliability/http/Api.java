package com.mingus.reliability.http;

import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.ConnectionHealth;
import com.mingus.reliability.bus.NotifyList;
import com.mingus.reliability.bus.NotifyMarkRead;
import com.mingus.reliability.bus.NotifyPreferences;
import com.mingus.reliability.bus.NotifyPreferencesGet;
import com.mingus.reliability.bus.NotifySendTest;
import com.mingus.reliability.bus.RateLimitStatusRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The REST handlers. Each builds its answer from requests over the bus, always naming the caller's own
 * user id, so a connection or notification of another user is NOT_FOUND (404) from its owner, never 403.
 */
final class Api {
  private final Vertx vertx;
  private final HealthSource health;
  private final Feed feed;
  private final long timeoutMs;
  private final long sendTestTimeoutMs;

  Api(Vertx vertx, HealthSource health, Feed feed, long timeoutMs, long sendTestTimeoutMs) {
    this.vertx = vertx;
    this.health = health;
    this.feed = feed;
    this.timeoutMs = timeoutMs;
    this.sendTestTimeoutMs = sendTestTimeoutMs;
  }

  private static Principal principal(RoutingContext ctx) {
    return ctx.get(HttpVerticle.PRINCIPAL);
  }

  private static JsonObject body(RoutingContext ctx) {
    JsonObject body = ctx.body().buffer() == null || ctx.body().length() == 0 ? null : ctx.body().asJsonObject();
    return body == null ? new JsonObject() : body;
  }

  /**
   * Every command is handed to this node's own verticle first, and to another node's only when none here
   * answers the address (docs/cluster.md): each of these commands is safe to repeat.
   */
  private Future<JsonObject> ask(String address, Object body) {
    return Bus.handOff(vertx, address, body, timeoutMs, timeoutMs, true).map(HealthSource::json);
  }

  private JsonObject own(RoutingContext ctx) {
    return new JsonObject().put("user_id", principal(ctx).userId()).put("connection_id", ctx.pathParam("id"));
  }

  /** The user's own connection; on an operator route ({@code /api/admin/...}) anyone's. */
  private JsonObject scoped(RoutingContext ctx) {
    boolean operatorRoute = ctx.normalizedPath().startsWith("/api/admin/") && principal(ctx).admin();
    return operatorRoute ? new JsonObject().putNull("user_id").put("connection_id", ctx.pathParam("id")) : own(ctx);
  }

  private static void answer(RoutingContext ctx, int status, Future<JsonObject> future) {
    future.onSuccess(body -> Responses.json(ctx, status, new JsonObject().put("success", true).mergeIn(body)))
        .onFailure(failure -> Responses.failure(ctx, failure));
  }

  // --- connections -----------------------------------------------------------------------------------

  void register(RoutingContext ctx) {
    JsonObject request = new JsonObject().put("user_id", principal(ctx).userId())
        .put("public_token", body(ctx).getString("public_token"));
    // a public token is good for one exchange, and buys an access token: it goes to this node's own sync only,
    // never over the cluster's bus (docs/secrets.md), and is sent once
    answer(ctx, 201, vertx.eventBus().<Object>request(Addresses.SYNC_REGISTER, request,
            new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(timeoutMs + 30_000).setLocalOnly(true))
        .map(io.vertx.core.eventbus.Message::body)
        .recover(failure -> Future.failedFuture(new Bus.BusException(com.mingus.reliability.bus.BusFailure.of(failure))))
        .map(HealthSource::json)
        .map(view -> {
          JsonObject connection = view.copy();
          connection.remove("user_id");
          connection.put("status", view.getString("status", "active"));
          return new JsonObject().put("message", "Connection registered; the first sync is queued").put("connection", connection);
        }));
  }

  void remove(RoutingContext ctx) {
    answer(ctx, 200, Bus.<Object>handOff(vertx, Addresses.SYNC_REMOVE, own(ctx), timeoutMs + 15_000, timeoutMs + 15_000, false)
        .map(HealthSource::json)
        .map(reply -> new JsonObject().put("message", "Connection removed").put("connection_id", ctx.pathParam("id"))
            .put("removed", reply.getBoolean("removed", true))));
  }

  /** Health's answer as it comes: the connections (ConnectionHealth JSON) and the seed's counts. */
  void connectionsHealth(RoutingContext ctx) {
    answer(ctx, 200, health.connections(principal(ctx).userId()));
  }

  void adminConnections(RoutingContext ctx) {
    answer(ctx, 200, health.connections(null));
  }

  void connectionHealth(RoutingContext ctx) {
    answer(ctx, 200, health.connection(principal(ctx).userId(), ctx.pathParam("id"))
        .map(connection -> new JsonObject().put("connection", connection)));
  }

  void retry(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.SYNC_RETRY, own(ctx)).map(reply -> new JsonObject()
        .put("message", "Connection retry queued")
        .put("connection_id", ctx.pathParam("id"))
        .put("sync_id", reply.getString("sync_id"))
        .put("retry_count", reply.getInteger("retry_count"))
        .put("last_retry_attempt", reply.getString("last_retry_attempt"))));
  }

  void reconnect(RoutingContext ctx) {
    answer(ctx, 200, Bus.<Object>request(vertx, Addresses.SYNC_LINK_TOKEN, own(ctx), timeoutMs + 10_000)
        .map(HealthSource::json)
        .map(reply -> new JsonObject()
            .put("message", "Open Plaid Link in update mode with this token to repair the connection")
            .put("connection_id", ctx.pathParam("id"))
            .put("link_token", reply.getString("link_token"))
            .put("expiration", reply.getString("expiration"))
            .put("mode", "update")));
  }

  void syncStatus(RoutingContext ctx) {
    JsonObject request = scoped(ctx);
    String viewer = request.getString("user_id");
    String days = ctx.request().getParam("days");
    if (days != null) {
      request.put("days", Integer.parseInt(days));
    }
    // sync's registry says whether the connection is the caller's; its status is health's alone, and with
    // health silent the answer is 503, never a status made up here
    Future<JsonObject> status = ask(Addresses.SYNC_STATUS, request);
    Future<ConnectionHealth> healthView = status.compose(s -> health.connection(viewer, ctx.pathParam("id"))
        .map(ConnectionHealth::fromJson));
    answer(ctx, 200, healthView.map(view -> {
      JsonObject s = status.result();
      JsonObject connection = s.getJsonObject("connection", new JsonObject());
      return new JsonObject()
          .put("connection_id", ctx.pathParam("id"))
          .put("institution_name", connection.getString("institution_name"))
          .put("status", view.status().wire())
          .put("last_sync_at", s.getValue("last_sync_at"))
          .put("last_successful_sync", connection.getString("last_successful_sync"))
          .put("next_sync_at", connection.getString("next_sync_at"))
          .put("syncing", connection.getBoolean("syncing", false))
          .put("sync_logs", s.getJsonArray("sync_logs", new JsonArray()))
          .put("reliability_stats", s.getJsonObject("reliability_stats", new JsonObject()))
          .put("requires_reauth", view.requiresReauth())
          .put("maintenance_mode", view.maintenanceMode());
    }));
  }

  void syncNow(RoutingContext ctx) {
    answer(ctx, 202, ask(Addresses.SYNC_NOW, own(ctx)).map(reply -> new JsonObject()
        .put("message", "Sync queued")
        .put("connection_id", ctx.pathParam("id"))
        .put("sync_id", reply.getString("sync_id"))
        .put("queued_at", reply.getString("queued_at"))));
  }

  /** The caller's connection's accounts with their last known balances. */
  void accounts(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.SYNC_ACCOUNTS, own(ctx)));
  }

  /** Operator: reconcile a connection with Plaid's history now (it syncs at once and reconciles with it). */
  void reconcile(RoutingContext ctx) {
    answer(ctx, 202, ask(Addresses.SYNC_RECONCILE, new JsonObject().put("connection_id", ctx.pathParam("id")))
        .map(reply -> new JsonObject()
            .put("message", "Reconciliation queued")
            .put("connection_id", ctx.pathParam("id"))
            .put("sync_id", reply.getString("sync_id"))
            .put("queued_at", reply.getString("queued_at"))));
  }

  /** Operator: every connection's latest reconciliations and the last day's totals. */
  void allReconciliations(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.SYNC_RECONCILIATIONS, page(ctx, new JsonObject())));
  }

  /** Operator: a connection's latest reconciliations, newest first. */
  void reconciliations(RoutingContext ctx) {
    JsonObject request = new JsonObject().put("connection_id", ctx.pathParam("id"));
    answer(ctx, 200, ask(Addresses.SYNC_RECONCILIATIONS, page(ctx, request)));
  }

  void transactions(RoutingContext ctx) {
    JsonObject request = page(ctx, own(ctx)).put("since", ctx.request().getParam("since"));
    answer(ctx, 200, ask(Addresses.SYNC_TRANSACTIONS, request).map(reply -> new JsonObject()
        .put("connection_id", ctx.pathParam("id"))
        .put("transactions", reply.getJsonArray("transactions", new JsonArray()))
        .put("next_cursor", reply.getValue("next_cursor"))
        .put("has_more", reply.getBoolean("has_more", false))));
  }

  // --- notifications ---------------------------------------------------------------------------------

  void notifications(RoutingContext ctx) {
    int limit = intParam(ctx, "limit", 50);
    boolean unreadOnly = "true".equals(ctx.request().getParam("unread_only"));
    answer(ctx, 200, ask(Addresses.NOTIFY_LIST, new NotifyList(principal(ctx).userId(), limit,
            ctx.request().getParam("cursor"), unreadOnly))
        .map(page -> new JsonObject()
            .put("notifications", page.getJsonArray("notifications", new JsonArray()))
            .put("unread_count", page.getInteger("unread_count", 0))
            .put("total", page.getInteger("total", 0))
            .put("next_cursor", page.getValue("next_cursor"))
            .put("has_more", page.getBoolean("has_more", false))));
  }

  void markRead(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.NOTIFY_MARK_READ, new NotifyMarkRead(principal(ctx).userId(), ctx.pathParam("id")))
        .map(view -> new JsonObject().put("message", "Notification marked read").put("notification", view)));
  }

  void sendTest(RoutingContext ctx) {
    JsonObject body = body(ctx);
    Principal principal = principal(ctx);
    List<String> channels = null;
    if (body.getJsonArray("channels") != null) {
      channels = new ArrayList<>();
      for (Object channel : body.getJsonArray("channels")) {
        channels.add(String.valueOf(channel));
      }
    }
    NotifySendTest request = new NotifySendTest(principal.userId(), body.getString("type", "plaid_connection_issue"),
        channels, principal.name(), principal.email(), null);
    Future<JsonObject> result = Bus.<Object>request(vertx, Addresses.NOTIFY_SEND_TEST, request, sendTestTimeoutMs)
        .map(HealthSource::json);
    result.onSuccess(reply -> Responses.json(ctx, 200, new JsonObject()
            .put("success", reply.getBoolean("success", false))
            .put("message", reply.getString("message", "Test notification sent"))
            .put("notification_id", reply.getValue("notification_id"))
            .put("delivery_results", reply.getJsonArray("delivery_results", new JsonArray()))))
        .onFailure(failure -> Responses.failure(ctx, failure));
  }

  void preferences(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.NOTIFY_PREFERENCES_GET, new NotifyPreferencesGet(principal(ctx).userId()))
        .map(prefs -> new JsonObject().put("preferences", withoutUser(prefs))));
  }

  void putPreferences(RoutingContext ctx) {
    JsonObject body = body(ctx).copy().put("user_id", principal(ctx).userId());
    answer(ctx, 200, ask(Addresses.NOTIFY_PREFERENCES_PUT, NotifyPreferences.fromJson(body))
        .map(prefs -> new JsonObject().put("message", "Preferences saved").put("preferences", withoutUser(prefs))));
  }

  private static JsonObject withoutUser(JsonObject prefs) {
    JsonObject out = prefs.copy();
    out.remove("user_id");
    return out;
  }

  // --- institutions, rate limits, feed tickets ------------------------------------------------------------

  void institutions(RoutingContext ctx) {
    answer(ctx, 200, health.institutions().map(list -> new JsonObject().put("institutions", list)));
  }

  void rateLimits(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.RATELIMIT_STATUS, RateLimitStatusRequest.all())
        .map(status -> new JsonObject().put("rate_limits", status)));
  }

  void feedTicket(RoutingContext ctx) {
    answer(ctx, 200, feed.issueTicket(principal(ctx)));
  }

  // --- operators ---------------------------------------------------------------------------------------

  void overview(RoutingContext ctx) {
    answer(ctx, 200, health.overview());
  }

  void connectionMetrics(RoutingContext ctx) {
    Principal principal = principal(ctx);
    answer(ctx, 200, health.connectionMetrics(principal.admin() ? null : principal.userId(), ctx.pathParam("id"))
        .map(metrics -> new JsonObject().put("connection_id", ctx.pathParam("id")).mergeIn(metrics)));
  }

  void adminMail(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.NOTIFY_SINK_MESSAGES, page(ctx, new JsonObject().put("limit", intParam(ctx, "limit", 50))))
        .map(reply -> new JsonObject().put("messages", reply.getJsonArray("messages", new JsonArray()))
            .put("next_cursor", reply.getValue("next_cursor")).put("has_more", reply.getBoolean("has_more", false))));
  }

  // --- operator actions on notifications (issue 15, part 5), and the VAPID key for subscribing ----------

  void adminDeadLetters(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.NOTIFY_DEAD_LETTERS_LIST, page(ctx, new JsonObject())).map(page -> {
      JsonArray shown = new JsonArray();
      page.getJsonArray("dead_letters", new JsonArray()).forEach(letter -> {
        JsonObject copy = ((JsonObject) letter).copy();
        copy.remove("delivery_id"); // the bus's older names; the API has id and attempt_count
        copy.remove("attempts");
        shown.add(copy);
      });
      return new JsonObject().put("dead_letters", shown).put("total", page.getLong("total", 0L))
          .put("limit", page.getInteger("limit")).put("next_cursor", page.getValue("next_cursor"))
          .put("has_more", page.getBoolean("has_more", false));
    }));
  }

  /** Operator: which keys seal the stored access tokens, how many rows each, how many left to re-seal (docs/secrets.md). */
  void adminKeys(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.SYNC_KEYS, new JsonObject()));
  }

  void adminAlerts(RoutingContext ctx) {
    JsonObject request = page(ctx, new JsonObject()).put("kind", ctx.request().getParam("kind"));
    answer(ctx, 200, ask(Addresses.NOTIFY_ALERTS_LIST, request).map(page -> new JsonObject()
        .put("alerts", page.getJsonArray("alerts", new JsonArray())).put("total", page.getLong("total", 0L))
        .put("limit", page.getInteger("limit")).put("next_cursor", page.getValue("next_cursor"))
        .put("has_more", page.getBoolean("has_more", false))));
  }

  /** A broadcast is idempotent on its broadcast_id, so handing it to another node after no answer is safe. */
  void adminBroadcast(RoutingContext ctx) {
    JsonObject request = body(ctx).copy().put("requested_by", principal(ctx).userId());
    answer(ctx, 202, ask(Addresses.NOTIFY_BROADCAST, request).map(reply -> new JsonObject()
        .put("message", reply.getBoolean("duplicate", false)
            ? "This broadcast was accepted before; nothing was sent again"
            : "Broadcast queued; every recipient's notification is in the outbox")
        .put("broadcast_id", reply.getString("broadcast_id")).put("recipients", reply.getInteger("recipients"))
        .put("duplicate", reply.getBoolean("duplicate", false))));
  }

  void adminRedrive(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    answer(ctx, 202, ask(Addresses.NOTIFY_DEAD_LETTERS_REDRIVE, new JsonObject().put("delivery_id", id))
        .map(reply -> new JsonObject().put("message", "Delivery re-queued; the outbox sends it again with the same "
            + "idempotency key").put("delivery_id", id).put("status", "retrying")));
  }

  void adminTemplates(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.NOTIFY_TEMPLATES_LIST, new JsonObject()).map(reply -> new JsonObject()
        .put("templates", reply.getJsonArray("channel_templates", new JsonArray()))
        .put("variables", reply.getJsonArray("placeholders", new JsonArray()))));
  }

  void adminPutTemplate(RoutingContext ctx) {
    JsonObject request = templateRequest(ctx).put("updated_by", principal(ctx).userId());
    answer(ctx, 200, ask(Addresses.NOTIFY_TEMPLATES_EDIT, request)
        .map(template -> new JsonObject().put("message", "Template saved; the next notification uses it")
            .put("template", template)));
  }

  void adminPreviewTemplate(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.NOTIFY_TEMPLATES_PREVIEW, templateRequest(ctx)));
  }

  /** The body's texts with the path's type and channel (the path wins over anything in the body). */
  private static JsonObject templateRequest(RoutingContext ctx) {
    return body(ctx).copy().put("type", ctx.pathParam("type")).put("channel", ctx.pathParam("channel"));
  }

  void adminDeliveries(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.NOTIFY_DELIVERIES, com.mingus.reliability.bus.NotifyDeliveries.query(null,
        ctx.pathParam("id"))).map(reply -> new JsonObject().put("notification_id", reply.getString("notification_id"))
            .put("deliveries", reply.getJsonArray("deliveries", new JsonArray()))));
  }

  void vapidPublicKey(RoutingContext ctx) {
    answer(ctx, 200, ask(Addresses.NOTIFY_VAPID_KEY, new JsonObject())
        .map(reply -> new JsonObject().put("public_key", reply.getString("public_key"))));
  }

  /** The one pagination convention: the query's limit (when given) and opaque cursor, for the list's owner to read. */
  private static JsonObject page(RoutingContext ctx, JsonObject request) {
    String limit = ctx.request().getParam("limit");
    if (limit != null) {
      request.put("limit", Integer.parseInt(limit));
    }
    return request.put("cursor", ctx.request().getParam("cursor"));
  }

  private static int intParam(RoutingContext ctx, String name, int fallback) {
    String value = ctx.request().getParam(name);
    return value == null ? fallback : Integer.parseInt(value);
  }
}
