package com.mingus.reliability.sandbox;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plaid's HTTP API as the sandbox serves it. Every request goes through the same steps Plaid's do:
 * parse, authenticate, validate, resolve the access token, rate-limit, then (for data calls) the Item's
 * and its institution's state; an injected fault may step in after rate limiting.
 */
final class PlaidApi {
  private static final Logger log = LoggerFactory.getLogger(PlaidApi.class);
  private static final Set<String> CREDENTIALS = Set.of("client_id", "secret");
  private static final Set<String> COUNTRY_CODES = Set.of("US", "GB", "ES", "NL", "FR", "IE", "CA", "DE", "IT", "PL",
      "DK", "NO", "SE", "EE", "LT", "LV", "PT", "BE", "AT", "FI");

  /** A request in progress. */
  record Call(String requestId, JsonObject body, Item item, long nowMs) {}

  /**
   * One endpoint: its request fields (null = not checked), required fields, whether it takes an access
   * token, whether it reads the Item's data (and so fails while the Item or its bank is in trouble).
   */
  private record Endpoint(String path, Set<String> fields, List<String> required, boolean token, boolean data,
      Function<Call, Object> handler) {}

  /** An answer already encoded but for its request id (the hot /transactions/sync path). */
  @FunctionalInterface
  interface Encoded {
    Buffer withRequestId(String requestId);
  }

  private final Vertx vertx;
  private final Sandbox sandbox;
  private final String clientId;
  private final String secret;
  private final long hangMs;

  PlaidApi(Vertx vertx, Sandbox sandbox) {
    this.vertx = vertx;
    this.sandbox = sandbox;
    this.clientId = sandbox.config.getString("client_id", "mingus-sandbox-client");
    this.secret = sandbox.config.getString("secret", "mingus-sandbox-secret-0123456789");
    this.hangMs = sandbox.config.getLong("hang_ms", 120_000L);
  }

  void mount(Router router) {
    List<Endpoint> endpoints = List.of(
        new Endpoint("/item/public_token/exchange", Set.of("public_token"), List.of("public_token"), false, false, this::exchange),
        new Endpoint("/item/get", Set.of("access_token"), List.of("access_token"), true, false, this::itemGet),
        new Endpoint("/item/remove", Set.of("access_token", "reason_code", "reason_note"), List.of("access_token"), true, false, this::itemRemove),
        new Endpoint("/accounts/get", Set.of("access_token", "options"), List.of("access_token"), true, true, this::accounts),
        new Endpoint("/accounts/balance/get", Set.of("access_token", "options"), List.of("access_token"), true, true, this::accounts),
        new Endpoint("/transactions/sync", Set.of("access_token", "cursor", "count", "options"), List.of("access_token"), true, true, this::sync),
        new Endpoint("/transactions/get", Set.of("access_token", "start_date", "end_date", "options"),
            List.of("access_token", "start_date", "end_date"), true, true, this::transactionsGet),
        new Endpoint("/transactions/refresh", Set.of("access_token"), List.of("access_token"), true, true, this::refresh),
        new Endpoint("/institutions/get_by_id", Set.of("institution_id", "country_codes", "options"),
            List.of("institution_id", "country_codes"), false, false, this::institution),
        new Endpoint("/link/token/create", null, List.of("client_name", "language", "country_codes"), false, false, this::linkToken),
        new Endpoint("/webhook_verification_key/get", Set.of("key_id"), List.of("key_id"), false, false, this::verificationKey),
        new Endpoint("/sandbox/public_token/create", Set.of("institution_id", "initial_products", "options", "user_token", "user_id"),
            List.of("institution_id", "initial_products"), false, false, this::sandboxPublicToken),
        new Endpoint("/sandbox/item/reset_login", Set.of("access_token"), List.of("access_token"), true, false, this::resetLogin),
        new Endpoint("/sandbox/item/fire_webhook", Set.of("access_token", "webhook_type", "webhook_code"),
            List.of("access_token", "webhook_code"), true, false, this::fireWebhook));
    for (Endpoint endpoint : endpoints) {
      router.post(endpoint.path()).handler(ctx -> serve(ctx, endpoint));
    }
  }

  private void serve(RoutingContext ctx, Endpoint endpoint) {
    String requestId = sandbox.world.requestId();
    long now = System.currentTimeMillis();
    Item item = null;
    boolean counted = false;
    try {
      JsonObject body = parse(ctx.body().buffer());
      authenticate(ctx, body);
      validate(endpoint, body);
      if (endpoint.token()) {
        item = resolve(body.getValue("access_token"));
      }
      String institutionId = item != null ? item.institutionId
          : body.getValue("institution_id") instanceof String id ? id : null;
      PlaidFailure limited = sandbox.limits.acquire(endpoint.path(), item == null ? null : item.id, now);
      sandbox.stats.count(endpoint.path(), item == null ? null : item.id, limited != null);
      counted = true;
      if (limited != null) {
        log.info("Sandbox answers 429 {} on {}: {}", limited.errorCode, endpoint.path(),
            sandbox.limits.explain(endpoint.path(), item == null ? null : item.id, now));
        throw limited;
      }
      Call call = new Call(requestId, body, item, now);
      Faults.Rule fault = sandbox.faults.match(endpoint.path(), item == null ? null : item.id, institutionId, now);
      if (fault == null) {
        finish(ctx, endpoint, call);
      } else if (fault.latencyMs > 0) {
        vertx.setTimer(fault.latencyMs, tick -> afterFault(ctx, endpoint, call, fault));
      } else {
        afterFault(ctx, endpoint, call, fault);
      }
    } catch (PlaidFailure failure) {
      if (!counted) {
        sandbox.stats.count(endpoint.path(), item == null ? null : item.id, false);
      }
      fail(ctx, failure, requestId);
    }
  }

  private void afterFault(RoutingContext ctx, Endpoint endpoint, Call call, Faults.Rule fault) {
    if ("reset".equals(fault.transport)) {
      ctx.request().connection().close();
    } else if ("hang".equals(fault.transport)) {
      // answer nothing; drop the connection long after any sane client timeout
      vertx.setTimer(hangMs, tick -> ctx.request().connection().close());
    } else if ("garbage".equals(fault.transport)) {
      ctx.response().setStatusCode(fault.httpStatus == 0 ? 200 : fault.httpStatus)
          .putHeader("Content-Type", "application/json")
          .end("{\"request_id\": \"" + call.requestId() + "\", \"accounts\": [{\"account_id\": <html>502 Bad Gateway</html>");
    } else if (fault.error()) {
      PlaidFailure failure = fault.failure();
      institutionOutcome(call.item(), failure);
      fail(ctx, failure, call.requestId());
    } else {
      finish(ctx, endpoint, call);
    }
  }

  private void finish(RoutingContext ctx, Endpoint endpoint, Call call) {
    Item item = call.item();
    try {
      if (endpoint.data()) {
        checkItemState(item, call.nowMs());
      }
      Object response = endpoint.handler().apply(call);
      institutionOutcome(item, null);
      Buffer body = response instanceof Encoded encoded ? encoded.withRequestId(call.requestId())
          : ((JsonObject) response).put("request_id", call.requestId()).toBuffer();
      ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(body);
    } catch (PlaidFailure failure) {
      institutionOutcome(item, failure);
      fail(ctx, failure, call.requestId());
    } catch (RuntimeException e) {
      log.error("Sandbox request to {} failed", endpoint.path(), e);
      fail(ctx, PlaidFailure.internal(), call.requestId());
    }
  }

  private void checkItemState(Item item, long nowMs) {
    Institution institution = sandbox.world.institutionOf(item);
    PlaidFailure failure = null;
    if (item.error != null) {
      failure = item.error;
    } else if (institution != null && institution.down(Instant.ofEpochMilli(nowMs))) {
      failure = PlaidFailure.institutionDown();
    }
    if (failure != null) {
      item.lastFailedUpdate = Instant.ofEpochMilli(nowMs);
      throw failure;
    }
  }

  private void institutionOutcome(Item item, PlaidFailure failure) {
    Institution institution = item == null ? null : sandbox.world.institutionOf(item);
    if (institution == null) {
      return;
    }
    if (failure == null) {
      institution.successes++;
    } else if ("INSTITUTION_ERROR".equals(failure.errorType)) {
      institution.institutionErrors++;
    } else if ("API_ERROR".equals(failure.errorType)) {
      institution.plaidErrors++;
    }
  }

  private static void fail(RoutingContext ctx, PlaidFailure failure, String requestId) {
    ctx.response().setStatusCode(failure.status).putHeader("Content-Type", "application/json")
        .end(failure.toResponse(requestId).toBuffer());
  }

  private static JsonObject parse(Buffer body) {
    if (body == null || body.length() == 0) {
      return new JsonObject();
    }
    try {
      Object value = io.vertx.core.json.Json.decodeValue(body);
      if (value instanceof JsonObject object) {
        return object;
      }
    } catch (DecodeException e) {
      // answered below
    }
    throw PlaidFailure.invalidBody();
  }

  private void authenticate(RoutingContext ctx, JsonObject body) {
    String id = ctx.request().getHeader("PLAID-CLIENT-ID");
    String key = ctx.request().getHeader("PLAID-SECRET");
    if (id == null && body.getValue("client_id") instanceof String text) {
      id = text;
    }
    if (key == null && body.getValue("secret") instanceof String text) {
      key = text;
    }
    if (id == null || key == null) {
      List<String> missing = new ArrayList<>();
      if (id == null) {
        missing.add("client_id");
      }
      if (key == null) {
        missing.add("secret");
      }
      throw PlaidFailure.missingFields(String.join(", ", missing));
    }
    if (!id.equals(clientId) || !constantTimeEquals(key, secret)) {
      throw PlaidFailure.invalidApiKeys();
    }
  }

  private static boolean constantTimeEquals(String a, String b) {
    return java.security.MessageDigest.isEqual(a.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        b.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private static void validate(Endpoint endpoint, JsonObject body) {
    if (endpoint.fields() != null) {
      List<String> unknown = new ArrayList<>();
      for (String field : body.fieldNames()) {
        if (!endpoint.fields().contains(field) && !CREDENTIALS.contains(field)) {
          unknown.add(field);
        }
      }
      if (!unknown.isEmpty()) {
        throw PlaidFailure.unknownFields(String.join(", ", unknown));
      }
    }
    List<String> missing = new ArrayList<>();
    for (String field : endpoint.required()) {
      if (body.getValue(field) == null) {
        missing.add(field);
      }
    }
    if (!missing.isEmpty()) {
      throw PlaidFailure.missingFields(String.join(", ", missing));
    }
  }

  private Item resolve(Object token) {
    if (!(token instanceof String text) || !text.startsWith("access-sandbox-") || text.length() < 20) {
      throw PlaidFailure.invalidAccessToken();
    }
    Item item = sandbox.world.byToken.get(text);
    if (item == null) {
      throw PlaidFailure.of("INVALID_INPUT", "INVALID_ACCESS_TOKEN", "provided access token is invalid");
    }
    if (item.removed) {
      throw PlaidFailure.itemNotFound();
    }
    return item;
  }

  // ---- field helpers: a present field of the wrong type is INVALID_FIELD, as Plaid answers

  private static String string(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String text) || text.isEmpty()) {
      throw PlaidFailure.invalidField(field + " must be a non-empty string");
    }
    return text;
  }

  private static JsonObject object(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return new JsonObject();
    }
    if (!(value instanceof JsonObject object)) {
      throw PlaidFailure.invalidField(field + " must be an object");
    }
    return object;
  }

  private static List<String> strings(JsonObject body, String field, boolean nonEmpty) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonArray array) || (nonEmpty && array.isEmpty())) {
      throw PlaidFailure.invalidField(field + " must be " + (nonEmpty ? "a non-empty" : "an") + " array of strings");
    }
    List<String> out = new ArrayList<>();
    for (Object element : array) {
      if (!(element instanceof String text)) {
        throw PlaidFailure.invalidField(field + " must be an array of strings");
      }
      out.add(text);
    }
    return out;
  }

  private static void countryCodes(JsonObject body) {
    for (String code : strings(body, "country_codes", true)) {
      if (!COUNTRY_CODES.contains(code)) {
        throw PlaidFailure.invalidField("country_codes must contain ISO-3166-1 alpha-2 country codes; '" + code + "' is not supported");
      }
    }
  }

  // ---- endpoints

  private JsonObject exchange(Call call) {
    String token = string(call.body(), "public_token");
    World.PublicToken entry = sandbox.world.publicTokens.remove(token);
    if (entry == null || entry.expiresAtMs() < call.nowMs()) {
      throw PlaidFailure.of("INVALID_INPUT", "INVALID_PUBLIC_TOKEN",
          "provided public token is expired, already exchanged or invalid. public tokens expire 30 minutes after creation and can be exchanged once");
    }
    Item item = sandbox.world.items.get(entry.itemId());
    return new JsonObject().put("access_token", item.accessToken).put("item_id", item.id);
  }

  private JsonObject itemGet(Call call) {
    Item item = call.item();
    Institution institution = sandbox.world.institutionOf(item);
    return new JsonObject()
        .put("item", item.toJson(institution == null ? null : institution.name))
        .put("status", item.statusJson());
  }

  private JsonObject itemRemove(Call call) {
    call.item().removed = true;
    return new JsonObject();
  }

  private JsonObject accounts(Call call) {
    Item item = call.item();
    List<String> ids = strings(object(call.body(), "options"), "account_ids", false);
    if (ids != null) {
      for (String id : ids) {
        if (!item.hasAccount(id)) {
          throw PlaidFailure.of("INVALID_INPUT", "INVALID_ACCOUNT_ID",
              "one or more of the account IDs is invalid: " + id);
        }
      }
    }
    Institution institution = sandbox.world.institutionOf(item);
    JsonObject itemJson = item.toJson(institution == null ? null : institution.name);
    itemJson.remove("created_at");
    return new JsonObject().put("accounts", item.accountsJson(ids)).put("item", itemJson);
  }

  private Object sync(Call call) {
    JsonObject body = call.body();
    Object cursorValue = body.getValue("cursor");
    if (cursorValue != null && !(cursorValue instanceof String)) {
      throw PlaidFailure.invalidField("cursor must be a string");
    }
    String cursor = (String) cursorValue;
    Object countValue = body.getValue("count");
    int count = 100;
    if (countValue != null) {
      if (!(countValue instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())
          || number.longValue() < 1 || number.longValue() > 500) {
        throw PlaidFailure.invalidField("count must be an integer between 1 and 500");
      }
      count = number.intValue();
    }
    object(body, "options");
    Item item = call.item();
    // before the initial pull Plaid answers empty pages, an empty cursor and NOT_READY, never an error
    boolean ready = call.nowMs() >= item.readyAtMs;
    Item.Page page = ready ? item.sync(cursor, count) : new Item.Page(List.of(), List.of(), List.of(), "", false);
    String updateStatus = ready ? "HISTORICAL_UPDATE_COMPLETE" : "NOT_READY";
    item.syncCalled = true;
    Buffer accounts = item.accountsJson(null).toBuffer();
    return (Encoded) requestId -> {
      // assembled from each transaction version's cached bytes: encoding 100 transactions afresh for
      // every page would make the sandbox, not the system under test, the bottleneck of a benchmark
      Buffer out = Buffer.buffer(accounts.length() + 1_100 * (page.added().size() + page.modified().size()) + 256);
      out.appendString("{\"accounts\":").appendBuffer(accounts);
      appendTransactions(out, ",\"added\":[", page.added());
      appendTransactions(out, ",\"modified\":[", page.modified());
      out.appendString(",\"removed\":[");
      boolean first = true;
      for (Txn txn : page.removed()) {
        out.appendString(first ? "" : ",").appendBuffer(new JsonObject().put("account_id", txn.accountId)
            .put("transaction_id", txn.id).toBuffer());
        first = false;
      }
      return out.appendString("],\"next_cursor\":").appendString(Json.encode(page.nextCursor()))
          .appendString(",\"has_more\":").appendString(String.valueOf(page.hasMore()))
          .appendString(",\"transactions_update_status\":\"").appendString(updateStatus)
          .appendString("\",\"request_id\":")
          .appendString(Json.encode(requestId)).appendString("}");
    };
  }

  private static void appendTransactions(Buffer out, String opening, List<Txn> transactions) {
    out.appendString(opening);
    for (int i = 0; i < transactions.size(); i++) {
      if (i > 0) {
        out.appendString(",");
      }
      out.appendBuffer(transactions.get(i).encoded());
    }
    out.appendString("]");
  }

  /** The options /transactions/get knows (TransactionsGetRequestOptions); any other is UNKNOWN_FIELDS. */
  private static final Set<String> GET_OPTIONS = Set.of("account_ids", "count", "offset", "include_original_description",
      "include_personal_finance_category_beta", "include_personal_finance_category", "include_logo_and_counterparty_beta",
      "personal_finance_category_version", "days_requested");

  /**
   * Plaid's older paged endpoint: every current transaction (pending ones too) dated within
   * [start_date, end_date], newest first, {@code count} from {@code offset}, with the total in range.
   */
  private JsonObject transactionsGet(Call call) {
    JsonObject body = call.body();
    java.time.LocalDate start = date(body, "start_date");
    java.time.LocalDate end = date(body, "end_date");
    if (end.isBefore(start)) {
      throw PlaidFailure.invalidField("end_date must be on or after start_date");
    }
    JsonObject options = object(body, "options");
    List<String> unknown = new ArrayList<>();
    for (String field : options.fieldNames()) {
      if (!GET_OPTIONS.contains(field)) {
        unknown.add("options." + field);
      }
    }
    if (!unknown.isEmpty()) {
      throw PlaidFailure.unknownFields(String.join(", ", unknown));
    }
    int count = integer(options, "count", 100, 1, 500);
    int offset = integer(options, "offset", 0, 0, Integer.MAX_VALUE);
    integer(options, "days_requested", 90, 1, 730);
    for (String flag : new String[] {"include_original_description", "include_personal_finance_category_beta",
        "include_personal_finance_category", "include_logo_and_counterparty_beta"}) {
      Object value = options.getValue(flag);
      if (value != null && !(value instanceof Boolean)) {
        throw PlaidFailure.invalidField("options." + flag + " must be a boolean");
      }
    }
    Object version = options.getValue("personal_finance_category_version");
    if (version != null && !"v1".equals(version) && !"v2".equals(version)) {
      throw PlaidFailure.invalidField("options.personal_finance_category_version must be v1 or v2");
    }
    Item item = call.item();
    List<String> ids = strings(options, "account_ids", false);
    if (ids != null) {
      for (String id : ids) {
        if (!item.hasAccount(id)) {
          throw PlaidFailure.of("INVALID_INPUT", "INVALID_ACCOUNT_ID", "one or more of the account IDs is invalid: " + id);
        }
      }
    }
    if (call.nowMs() < item.readyAtMs) {
      // unlike /transactions/sync, /transactions/get answers an error until the initial pull is done
      throw PlaidFailure.of("ITEM_ERROR", "PRODUCT_NOT_READY",
          "the requested product is not yet ready. please provide a webhook or try the request again later");
    }
    List<Txn> inRange = item.transactionsNewestFirst(start, end, ids);
    JsonArray transactions = new JsonArray();
    for (int i = offset; i < inRange.size() && i < (long) offset + count; i++) {
      transactions.add(inRange.get(i).toJson());
    }
    Institution institution = sandbox.world.institutionOf(item);
    JsonObject itemJson = item.toJson(institution == null ? null : institution.name);
    itemJson.remove("created_at");
    return new JsonObject()
        .put("accounts", item.accountsJson(ids))
        .put("transactions", transactions)
        .put("total_transactions", inRange.size())
        .put("item", itemJson);
  }

  private static java.time.LocalDate date(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value instanceof String text && text.length() == 10) {
      try {
        return java.time.LocalDate.parse(text);
      } catch (java.time.format.DateTimeParseException e) {
        // answered below
      }
    }
    throw PlaidFailure.invalidField(field + " must be a valid date in the format YYYY-MM-DD");
  }

  private static int integer(JsonObject body, String field, int fallback, int min, int max) {
    Object value = body.getValue(field);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())
        || number.doubleValue() < min || number.doubleValue() > max) {
      throw PlaidFailure.invalidField("options." + field + " must be an integer "
          + (max == Integer.MAX_VALUE ? "of at least " + min : "between " + min + " and " + max));
    }
    return number.intValue();
  }

  private JsonObject refresh(Call call) {
    Item item = call.item();
    sandbox.changed(item, item.refresh(sandbox.today()));
    return new JsonObject();
  }

  private JsonObject institution(Call call) {
    JsonObject body = call.body();
    String id = string(body, "institution_id");
    countryCodes(body);
    JsonObject options = object(body, "options");
    Object includeStatus = options.getValue("include_status");
    if (includeStatus != null && !(includeStatus instanceof Boolean)) {
      throw PlaidFailure.invalidField("options.include_status must be a boolean");
    }
    Institution institution = sandbox.world.institutions.get(id);
    if (institution == null) {
      throw PlaidFailure.of("INVALID_INPUT", "INVALID_INSTITUTION", "invalid institution_id provided");
    }
    institution.faulted = sandbox.faults.affects(id, call.nowMs());
    return new JsonObject().put("institution",
        institution.toJson(Boolean.TRUE.equals(includeStatus), Instant.ofEpochMilli(call.nowMs())));
  }

  private JsonObject linkToken(Call call) {
    JsonObject body = call.body();
    string(body, "client_name");
    string(body, "language");
    countryCodes(body);
    String accessToken = body.getValue("access_token") == null ? null : string(body, "access_token");
    Item item = accessToken == null ? null : resolve(accessToken);
    Object user = body.getValue("user");
    if (user == null) {
      throw PlaidFailure.missingFields("user");
    }
    if (!(user instanceof JsonObject userObject) || !(userObject.getValue("client_user_id") instanceof String)) {
      throw PlaidFailure.invalidField("user.client_user_id must be a string");
    }
    List<String> products = strings(body, "products", false);
    if (item == null && (products == null || products.isEmpty())) {
      throw PlaidFailure.missingFields("products");
    }
    if (body.getValue("webhook") != null) {
      string(body, "webhook");
    }
    Instant expiration = Instant.ofEpochMilli(call.nowMs()).plus(4, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
    return new JsonObject()
        .put("link_token", sandbox.world.linkToken())
        .put("expiration", expiration.toString());
  }

  private JsonObject verificationKey(Call call) {
    String keyId = string(call.body(), "key_id");
    if (!keyId.equals(sandbox.webhooks.kid())) {
      throw PlaidFailure.of("INVALID_INPUT", "INVALID_WEBHOOK_VERIFICATION_KEY_ID", "invalid key_id provided");
    }
    return new JsonObject().put("key", sandbox.webhooks.jwk());
  }

  private JsonObject sandboxPublicToken(Call call) {
    JsonObject body = call.body();
    String institutionId = string(body, "institution_id");
    List<String> products = strings(body, "initial_products", true);
    if (!products.contains("transactions") && !products.contains("auth") && !products.contains("balance")
        && !products.contains("identity") && !products.contains("assets")) {
      throw PlaidFailure.of("INVALID_INPUT", "INVALID_PRODUCT", "the sandbox supports assets, auth, balance, identity and transactions");
    }
    Institution institution = sandbox.world.institutions.get(institutionId);
    if (institution == null) {
      throw PlaidFailure.of("INVALID_INPUT", "INVALID_INSTITUTION", "invalid institution_id provided");
    }
    JsonObject options = object(body, "options");
    String webhook = options.getValue("webhook") == null ? null : string(options, "webhook");
    int transactions = sandbox.config.getInteger("default_transactions", 100);
    Item item = sandbox.world.createItem(institutionId, body.getValue("user_id") instanceof String u ? u : null, webhook,
        null, 0, transactions, Instant.ofEpochMilli(call.nowMs()));
    item.legacyWebhooks = sandbox.config.getBoolean("legacy_webhooks", false);
    sandbox.initialPullDone(item);
    return new JsonObject().put("public_token", sandbox.world.publicTokenFor(item, call.nowMs()));
  }

  private JsonObject resetLogin(Call call) {
    sandbox.requireLogin(call.item());
    return new JsonObject().put("reset_login", true);
  }

  private JsonObject fireWebhook(Call call) {
    Item item = call.item();
    String code = string(call.body(), "webhook_code");
    if (item.webhook == null) {
      throw PlaidFailure.of("SANDBOX_ERROR", "SANDBOX_WEBHOOK_INVALID", "the Item has no webhook URL to fire a webhook at");
    }
    Instant now = Instant.ofEpochMilli(call.nowMs()).truncatedTo(ChronoUnit.SECONDS);
    switch (code) {
      case "SYNC_UPDATES_AVAILABLE" -> sandbox.syncUpdatesAvailable(item);
      case "DEFAULT_UPDATE" -> sandbox.webhooks.send(item, new JsonObject().put("webhook_type", "TRANSACTIONS")
          .put("webhook_code", "DEFAULT_UPDATE").put("item_id", item.id).put("new_transactions", 0));
      case "NEW_ACCOUNTS_AVAILABLE", "USER_PERMISSION_REVOKED", "USER_ACCOUNT_REVOKED" ->
          sandbox.webhooks.send(item, new JsonObject().put("webhook_type", "ITEM").put("webhook_code", code)
              .put("item_id", item.id));
      case "LOGIN_REPAIRED" -> sandbox.webhooks.send(item, new JsonObject().put("webhook_type", "ITEM")
          .put("webhook_code", "LOGIN_REPAIRED").put("item_id", item.id));
      case "ERROR" -> sandbox.webhooks.send(item, new JsonObject().put("webhook_type", "ITEM").put("webhook_code", "ERROR")
          .put("item_id", item.id)
          .put("error", (item.error == null ? PlaidFailure.itemLoginRequired() : item.error).toWebhookError()));
      case "PENDING_DISCONNECT" -> sandbox.webhooks.send(item, new JsonObject().put("webhook_type", "ITEM")
          .put("webhook_code", "PENDING_DISCONNECT").put("item_id", item.id)
          .put("reason", "INSTITUTION_TOKEN_EXPIRATION").put("disconnect_time", now.plus(7, ChronoUnit.DAYS).toString()));
      case "PENDING_EXPIRATION" -> sandbox.pendingExpiration(item, now.plus(7, ChronoUnit.DAYS));
      default -> throw PlaidFailure.invalidField("webhook_code " + code + " cannot be fired by this sandbox");
    }
    return new JsonObject().put("webhook_fired", true);
  }
}
