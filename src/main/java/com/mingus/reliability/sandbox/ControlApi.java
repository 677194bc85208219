package com.mingus.reliability.sandbox;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The control surface under {@code /__control}: what tests, benchmarks and the demo use to shape the
 * sandbox (reset, institutions, Items, transaction changes, faults, maintenance, rate limits) and to read
 * back the truth (ground truth, stats, webhook deliveries). Errors use the server's own shape,
 * {@code {"success": false, "error": {"code", "message"}}}, not Plaid's.
 */
final class ControlApi {
  /** A control request that cannot be served: its status, code and readable message. */
  private static final class ControlError extends RuntimeException {
    final int status;
    final String code;

    ControlError(int status, String code, String message) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
    }
  }

  private final Sandbox sandbox;

  ControlApi(Sandbox sandbox) {
    this.sandbox = sandbox;
  }

  void mount(Router router) {
    router.post("/__control/reset").handler(ctx -> answer(ctx, 200, this::reset));
    router.get("/__control/institutions").handler(ctx -> answer(ctx, 200, body -> institutions()));
    router.post("/__control/institutions").handler(ctx -> answer(ctx, 201, this::addInstitution));
    router.post("/__control/institutions/:id/maintenance").handler(ctx -> answer(ctx, 200,
        body -> maintenance(ctx.pathParam("id"), body)));
    router.delete("/__control/institutions/:id/maintenance").handler(ctx -> answer(ctx, 200,
        body -> endMaintenance(ctx.pathParam("id"))));
    router.post("/__control/items").handler(ctx -> answer(ctx, 201, this::createItem));
    router.post("/__control/items/:id/transactions").handler(ctx -> answer(ctx, 200,
        body -> transactions(item(ctx), body)));
    router.get("/__control/items/:id/ground-truth").handler(ctx -> answer(ctx, 200, body -> groundTruth(item(ctx))));
    router.post("/__control/items/:id/reset-login").handler(ctx -> answer(ctx, 200, body -> {
      sandbox.requireLogin(item(ctx));
      return new JsonObject().put("reset_login", true);
    }));
    router.post("/__control/items/:id/repair-login").handler(ctx -> answer(ctx, 200,
        body -> new JsonObject().put("repaired", sandbox.repairLogin(item(ctx)))));
    router.post("/__control/items/:id/pending-expiration").handler(ctx -> answer(ctx, 200,
        body -> pendingExpiration(item(ctx), body)));
    router.get("/__control/items/:id/webhooks").handler(ctx -> answer(ctx, 200,
        body -> new JsonObject().put("webhooks", sandbox.webhooks.toJson(item(ctx).id))));
    router.get("/__control/faults").handler(ctx -> answer(ctx, 200,
        body -> new JsonObject().put("faults", sandbox.faults.toJson())));
    router.post("/__control/faults").handler(ctx -> answer(ctx, 201, this::addFault));
    router.delete("/__control/faults").handler(ctx -> answer(ctx, 200, body -> {
      sandbox.faults.clear();
      return new JsonObject().put("faults", new JsonArray());
    }));
    router.delete("/__control/faults/:id").handler(ctx -> answer(ctx, 200, body -> {
      if (!sandbox.faults.remove(ctx.pathParam("id"))) {
        throw new ControlError(404, "NOT_FOUND", "no fault " + ctx.pathParam("id"));
      }
      return new JsonObject().put("removed", ctx.pathParam("id"));
    }));
    router.get("/__control/rate-limits").handler(ctx -> answer(ctx, 200, body -> sandbox.limits.toJson()));
    router.put("/__control/rate-limits").handler(ctx -> answer(ctx, 200, this::rateLimits));
    router.get("/__control/stats").handler(ctx -> answer(ctx, 200, body -> sandbox.stats.toJson()));
    router.delete("/__control/stats").handler(ctx -> answer(ctx, 200, body -> {
      sandbox.stats.clear();
      return sandbox.stats.toJson();
    }));
    router.get("/__control/webhooks").handler(ctx -> answer(ctx, 200,
        body -> sandbox.webhooks.settingsJson().put("webhooks", sandbox.webhooks.toJson(null))));
    router.put("/__control/webhooks").handler(ctx -> answer(ctx, 200, this::webhookSettings));
  }

  private void answer(RoutingContext ctx, int status, Function<JsonObject, JsonObject> handler) {
    try {
      JsonObject body = body(ctx);
      JsonObject result = handler.apply(body);
      ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(result.toBuffer());
    } catch (ControlError e) {
      error(ctx, e.status, e.code, e.getMessage());
    } catch (ClassCastException e) {
      error(ctx, 400, "INVALID_REQUEST", "a field has the wrong type: " + e.getMessage());
    }
  }

  private static void error(RoutingContext ctx, int status, String code, String message) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("success", false)
            .put("error", new JsonObject().put("code", code).put("message", message)).toBuffer());
  }

  private static JsonObject body(RoutingContext ctx) {
    if (ctx.body().buffer() == null || ctx.body().length() == 0) {
      return new JsonObject();
    }
    try {
      Object value = Json.decodeValue(ctx.body().buffer());
      if (value instanceof JsonObject object) {
        return object;
      }
    } catch (DecodeException e) {
      // answered below
    }
    throw new ControlError(400, "INVALID_REQUEST", "the body must be a JSON object");
  }

  private Item item(RoutingContext ctx) {
    Item item = sandbox.world.items.get(ctx.pathParam("id"));
    if (item == null) {
      throw new ControlError(404, "NOT_FOUND", "no Item " + ctx.pathParam("id"));
    }
    return item;
  }

  private JsonObject reset(JsonObject body) {
    long seed = body.getLong("seed", sandbox.config.getLong("seed", 42L));
    sandbox.reset(seed);
    return institutions().put("seed", seed);
  }

  private JsonObject institutions() {
    JsonArray out = new JsonArray();
    Instant now = Instant.now();
    for (Institution institution : sandbox.world.institutions.values()) {
      institution.faulted = sandbox.faults.affects(institution.id, now.toEpochMilli());
      out.add(institution.toJson(true, now));
    }
    return new JsonObject().put("institutions", out);
  }

  private JsonObject addInstitution(JsonObject body) {
    String id = required(body, "institution_id");
    String name = required(body, "name");
    return new JsonObject().put("institution", sandbox.world.addInstitution(id, name, Instant.now()).toJson(false, Instant.now()));
  }

  private Institution institution(String id) {
    Institution institution = sandbox.world.institutions.get(id);
    if (institution == null) {
      throw new ControlError(404, "NOT_FOUND", "no institution " + id);
    }
    return institution;
  }

  private JsonObject maintenance(String id, JsonObject body) {
    Institution institution = institution(id);
    // the Plaid side judges a call at its millisecond (System.currentTimeMillis): a window that begins "now"
    // begins at this millisecond, or a call in the same millisecond would find the bank still up
    Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
    Instant until = instant(body, "until", null);
    Instant from = instant(body, "from", now);
    // no until: the bank gives no end time (Plaid's incident says none); it lasts until DELETE ends it
    if (until != null && !until.isAfter(from)) {
      throw new ControlError(400, "INVALID_REQUEST", "until must be after from");
    }
    institution.maintenance.add(new Institution.Maintenance(from, until, now));
    return new JsonObject().put("institution", institution.toJson(true, now));
  }

  private JsonObject endMaintenance(String id) {
    Institution institution = institution(id);
    Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
    List<Institution.Maintenance> windows = new ArrayList<>(institution.maintenance);
    institution.maintenance.clear();
    for (Institution.Maintenance window : windows) {
      if (window.covers(now)) {
        institution.maintenance.add(new Institution.Maintenance(window.from(), now, window.announced()));
      } else if (!window.from().isAfter(now)) {
        institution.maintenance.add(window);
      }
    }
    return new JsonObject().put("institution", institution.toJson(true, now));
  }

  private JsonObject createItem(JsonObject body) {
    String institutionId = required(body, "institution_id");
    institution(institutionId);
    int transactions = body.getInteger("transactions", sandbox.config.getInteger("default_transactions", 100));
    if (transactions < 0 || transactions > 100_000) {
      throw new ControlError(400, "INVALID_REQUEST", "transactions must be between 0 and 100000");
    }
    List<Account.Template> templates = null;
    int accountCount = 0;
    Object accounts = body.getValue("accounts");
    if (accounts instanceof Number number) {
      accountCount = number.intValue();
      if (accountCount < 1 || accountCount > Account.TEMPLATES.length) {
        throw new ControlError(400, "INVALID_REQUEST", "accounts must be 1 to 5");
      }
    } else if (accounts instanceof JsonArray array) {
      templates = new ArrayList<>();
      for (int i = 0; i < array.size(); i++) {
        JsonObject spec = array.getJsonObject(i);
        Account.Template base = Account.TEMPLATES[i % Account.TEMPLATES.length];
        templates.add(new Account.Template(spec.getString("name", base.name()), spec.getString("official_name", base.officialName()),
            spec.getString("type", base.type()), spec.getString("subtype", base.subtype()), spec.getString("mask", base.mask())));
      }
      if (templates.isEmpty() || templates.size() > 5) {
        throw new ControlError(400, "INVALID_REQUEST", "accounts must list 1 to 5 accounts");
      }
    } else if (accounts != null) {
      throw new ControlError(400, "INVALID_REQUEST", "accounts must be a number (1 to 5) or a list of accounts");
    }
    Instant now = Instant.now();
    Item item = sandbox.world.createItem(institutionId, body.getString("user_id"), body.getString("webhook"), templates,
        accountCount, transactions, now);
    item.legacyWebhooks = body.getBoolean("legacy_webhooks", sandbox.config.getBoolean("legacy_webhooks", false));
    long readyAfter = body.getLong("ready_after_ms", 0L);
    if (readyAfter > 0) {
      sandbox.readyLater(item, readyAfter);
    } else {
      sandbox.initialPullDone(item);
    }
    return new JsonObject()
        .put("public_token", sandbox.world.publicTokenFor(item, now.toEpochMilli()))
        .put("item_id", item.id);
  }

  private JsonObject transactions(Item item, JsonObject body) {
    int added = count(body, "added");
    int modified = count(body, "modified");
    int removed = count(body, "removed");
    Item.Mutation mutation = item.mutate(added, modified, removed, sandbox.today());
    if (body.getBoolean("post_pending", false)) {
      Item.Mutation posted = item.postPending(sandbox.today());
      List<String> allAdded = new ArrayList<>(mutation.added());
      allAdded.addAll(posted.added());
      List<String> allRemoved = new ArrayList<>(mutation.removed());
      allRemoved.addAll(posted.removed());
      mutation = new Item.Mutation(allAdded, mutation.modified(), allRemoved);
    }
    sandbox.changed(item, mutation);
    return mutation.toJson().put("item_id", item.id).put("webhook_fired", !mutation.empty() && item.syncCalled
        && item.webhook != null);
  }

  private JsonObject groundTruth(Item item) {
    return new JsonObject()
        .put("item_id", item.id)
        .put("institution_id", item.institutionId)
        .put("error", item.error == null ? null : item.error.errorCode)
        .put("removed", item.removed)
        .put("accounts", item.accountsJson(null))
        .put("transactions", item.transactionsJson());
  }

  private JsonObject pendingExpiration(Item item, JsonObject body) {
    Instant at = instant(body, "consent_expiration_time", Instant.now().plus(7, ChronoUnit.DAYS));
    sandbox.pendingExpiration(item, at);
    return new JsonObject().put("consent_expiration_time", item.consentExpirationTime);
  }

  private JsonObject addFault(JsonObject body) {
    String invalid = Faults.invalid(body);
    if (invalid != null) {
      throw new ControlError(400, "INVALID_REQUEST", invalid);
    }
    return sandbox.faults.add(body, System.currentTimeMillis()).toJson();
  }

  private JsonObject rateLimits(JsonObject body) {
    for (String key : body.fieldNames()) {
      if (key.equals("window_ms") || key.equals("window_kind")) {
        continue;
      }
      if (!key.startsWith("/") || !(body.getValue(key) instanceof JsonObject)) {
        throw new ControlError(400, "INVALID_REQUEST",
            "keys are endpoint paths with a leading slash, each {\"per_minute\", \"per_item_per_minute\"}, window_ms or window_kind");
      }
    }
    Long window = body.getLong("window_ms");
    if (window != null) {
      if (window < 1) {
        throw new ControlError(400, "INVALID_REQUEST", "window_ms must be positive");
      }
      sandbox.limits.windowMs(window);
    }
    Object kind = body.getValue("window_kind");
    if (kind != null) {
      if (!"fixed".equals(kind) && !"sliding".equals(kind)) {
        throw new ControlError(400, "INVALID_REQUEST", "window_kind is fixed or sliding");
      }
      sandbox.limits.sliding("sliding".equals(kind));
    }
    sandbox.limits.update(body);
    return sandbox.limits.toJson();
  }

  private JsonObject webhookSettings(JsonObject body) {
    sandbox.webhooks.settings(body.getDouble("time_scale"), body.getLong("timeout_ms"));
    return sandbox.webhooks.settingsJson();
  }

  private static int count(JsonObject body, String field) {
    int value = body.getInteger(field, 0);
    if (value < 0 || value > 100_000) {
      throw new ControlError(400, "INVALID_REQUEST", field + " must be between 0 and 100000");
    }
    return value;
  }

  private static String required(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (!(value instanceof String text) || text.isBlank()) {
      throw new ControlError(400, "INVALID_REQUEST", field + " is required");
    }
    return text;
  }

  private static Instant instant(JsonObject body, String field, Instant fallback) {
    Object value = body.getValue(field);
    if (value == null) {
      return fallback;
    }
    try {
      return Instant.parse((String) value);
    } catch (DateTimeParseException | ClassCastException e) {
      throw new ControlError(400, "INVALID_REQUEST", field + " must be an ISO-8601 instant such as 2026-01-01T00:00:00Z");
    }
  }
}
