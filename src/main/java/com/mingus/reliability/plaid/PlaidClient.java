package com.mingus.reliability.plaid;

import com.mingus.reliability.bus.TransportFailure;
import com.mingus.reliability.logging.Redactor;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A non-blocking client for the Plaid endpoints MINGUS uses, on Vert.x's core HTTP client (public API
 * only). Every call returns a typed result or fails with a {@link PlaidException} that says whether Plaid
 * answered with its error object or why no Plaid answer came ({@link TransportFailure}).
 *
 * <p>Credentials travel in the {@code PLAID-CLIENT-ID} / {@code PLAID-SECRET} headers, never in bodies,
 * so a body captured anywhere holds no secret. Access tokens are in bodies (Plaid requires it) and so
 * neither bodies nor tokens appear in log lines or exception messages.
 *
 * <p>Create one per verticle instance (it belongs to the verticle's context) and close it in {@code stop()}.
 * A missing required argument (a null token, id or code) is a programming error and throws
 * IllegalArgumentException at the call; everything that happens on the wire arrives as a failed future.
 */
public final class PlaidClient {
  private static final Logger log = LoggerFactory.getLogger(PlaidClient.class);

  private static final String USER_AGENT = "mingus-reliability";
  private static final int MAX_CODE_TAGS = 200;
  private static final Pattern CODE_SHAPE = Pattern.compile("[A-Z0-9_]+");

  private final Vertx vertx;
  private final PlaidConfig config;
  private final HttpClientAgent client;
  private final String host;
  private final int port;
  private final boolean ssl;
  private final String pathPrefix;
  private final MeterRegistry registry;
  private final Set<String> codeTags;
  /** The {@link System#nanoTime} by which every call of this view must be on the wire; 0 for none. */
  private final long sendByNanos;

  /**
   * A call that was not sent because it could not start before its send-by time: no connection to Plaid
   * was free, or the event loop was busy, for longer than the permit stays good. Nothing reached Plaid;
   * the caller asks for a new permit.
   */
  public static final class NotSentInTime extends RuntimeException {
    NotSentInTime(String endpoint, long lateMs) {
      super("POST " + endpoint + " not sent: it could start only " + lateMs + " ms after its permit expired", null,
          false, false);
    }
  }

  public PlaidClient(Vertx vertx, PlaidConfig config) {
    this(vertx, config, null);
  }

  /**
   * A client that also records every call in {@code registry} (when not null): timer {@code plaid.requests}
   * tagged {@code endpoint}, {@code outcome} ({@code ok}, {@code plaid_error}, {@code transport},
   * {@code not_sent}: kept off the wire past its send-by time) and
   * {@code code} (Plaid's error_code, the transport kind, or {@code none}).
   */
  public PlaidClient(Vertx vertx, PlaidConfig config, MeterRegistry registry) {
    this.config = config;
    this.registry = registry;
    this.codeTags = ConcurrentHashMap.newKeySet();
    this.sendByNanos = 0;
    // Belt and braces: should any layer ever log the headers, the log redactor masks the secret too.
    Redactor.registerSecret(config.secret());
    URI uri = URI.create(config.baseUrl());
    this.ssl = "https".equals(uri.getScheme());
    this.host = uri.getHost();
    this.port = uri.getPort() > 0 ? uri.getPort() : ssl ? 443 : 80;
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    this.pathPrefix = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    HttpClientOptions options = new HttpClientOptions()
        .setDecompressionSupported(true)
        .setKeepAlive(true)
        // Below common server idle limits, so we rarely reuse a connection the server is closing.
        .setKeepAliveTimeout(30)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.connectTimeoutMs()));
    this.vertx = vertx;
    // The core client, not the WebClient: a request is handed to us once it has a connection and before a
    // byte is written (the send-by check), and we read the body ourselves (the size cap). The idle timeout
    // is per request; the deadline for the whole exchange is ours (see exchange).
    this.client = vertx.httpClientBuilder()
        .with(options)
        .with(new PoolOptions().setHttp1MaxSize(config.maxConnections()))
        .build();
  }

  private PlaidClient(PlaidClient base, long sendByNanos) {
    this.vertx = base.vertx;
    this.config = base.config;
    this.client = base.client;
    this.host = base.host;
    this.port = base.port;
    this.ssl = base.ssl;
    this.pathPrefix = base.pathPrefix;
    this.registry = base.registry;
    this.codeTags = base.codeTags;
    this.sendByNanos = sendByNanos;
  }

  /**
   * This client, with every call it makes required to be on the wire by {@code sendByNanos}
   * ({@link System#nanoTime}; 0: no limit), else failed with {@link NotSentInTime} before a byte is
   * written. Shares the connections; a rate-limit permit's {@code sendByNanos} goes here.
   */
  public PlaidClient sendBy(long sendByNanos) {
    return sendByNanos == this.sendByNanos ? this : new PlaidClient(this, sendByNanos);
  }

  /** A client from the resolved {@code plaid} config section. */
  public static PlaidClient create(Vertx vertx, JsonObject plaidSection) {
    return new PlaidClient(vertx, PlaidConfig.fromJson(plaidSection));
  }

  /**
   * A client from the resolved {@code plaid} config section that records its calls in the application's
   * meter registry (a verticle's {@code config().getString("metrics_registry")}, via
   * {@code BackendRegistries.getNow(name)}); a null registry records nothing.
   */
  public static PlaidClient create(Vertx vertx, JsonObject plaidSection, MeterRegistry registry) {
    return new PlaidClient(vertx, PlaidConfig.fromJson(plaidSection), registry);
  }

  public PlaidConfig config() {
    return config;
  }

  public void close() {
    client.close();
  }

  // ---- Items ----

  /** {@code /item/public_token/exchange}: turns Link's public token into an access token and item id. */
  public Future<PublicTokenExchange> exchangePublicToken(String publicToken) {
    JsonObject body = new JsonObject().put("public_token", require(publicToken, "public token"));
    return call("/item/public_token/exchange", body, publicToken, json -> new PublicTokenExchange(
        required(json, "access_token"), required(json, "item_id"), LenientJson.text(json, "request_id")));
  }

  /** {@code /item/get}: the Item, its current error, consent expiry and update status. */
  public Future<ItemGetResult> getItem(String accessToken) {
    return call("/item/get", tokenBody(accessToken), accessToken, json -> {
      PlaidItem item = PlaidItem.fromJson(requiredObject(json, "item"));
      if (item.itemId() == null) {
        throw new MissingField("item.item_id");
      }
      return new ItemGetResult(item, ItemStatus.fromJson(LenientJson.object(json, "status")),
          LenientJson.text(json, "request_id"));
    });
  }

  /** {@code /item/remove}: ends the Item at Plaid (and its billing). Returns the request id (null if none). */
  public Future<String> removeItem(String accessToken) {
    return call("/item/remove", tokenBody(accessToken), accessToken, json -> LenientJson.text(json, "request_id"));
  }

  // ---- Accounts ----

  /** {@code /accounts/get}: accounts with cached balances. */
  public Future<AccountsResult> getAccounts(String accessToken) {
    return call("/accounts/get", tokenBody(accessToken), accessToken, PlaidClient::accounts);
  }

  /** {@code /accounts/balance/get}: real-time balances, for all accounts or the given ones. */
  public Future<AccountsResult> getBalances(String accessToken, List<String> accountIds) {
    JsonObject body = tokenBody(accessToken);
    if (accountIds != null && !accountIds.isEmpty()) {
      body.put("options", new JsonObject().put("account_ids", new JsonArray(List.copyOf(accountIds))));
    }
    return call("/accounts/balance/get", body, accessToken, PlaidClient::accounts);
  }

  // ---- Transactions ----

  /**
   * {@code /transactions/get}: one page ({@code count} 1..500 from {@code offset}) of every transaction
   * dated {@code startDate}..{@code endDate} (inclusive), with the Item's accounts and cached balances.
   */
  public Future<TransactionsPage> getTransactions(String accessToken, java.time.LocalDate startDate,
      java.time.LocalDate endDate, int count, int offset) {
    JsonObject body = tokenBody(accessToken).put("start_date", startDate.toString()).put("end_date", endDate.toString())
        .put("options", new JsonObject().put("count", count).put("offset", offset));
    return call("/transactions/get", body, accessToken, PlaidClient::transactionsPage);
  }

  /** A {@code /transactions/get} answer read into a page; fails with MissingField when it is not one. */
  static TransactionsPage transactionsPage(JsonObject json) {
    requiredArray(json, "transactions");
    requiredArray(json, "accounts");
    Integer total = LenientJson.integer(json, "total_transactions");
    if (total == null) {
      throw new MissingField("total_transactions");
    }
    return new TransactionsPage(LenientJson.objects(json, "transactions", Transaction::owning),
        LenientJson.objects(json, "accounts", Account::fromJson), total, LenientJson.text(json, "request_id"));
  }

  /** {@code /transactions/sync}: one page of changes after the cursor (null cursor: the whole history). */
  public Future<SyncPage> syncTransactions(String accessToken, String cursor, int count) {
    return syncTransactions(new SyncRequest(accessToken, cursor, count));
  }

  /** {@code /transactions/sync} with every option. */
  public Future<SyncPage> syncTransactions(SyncRequest request) {
    return call("/transactions/sync", request.toJson(), request.accessToken(), PlaidClient::syncPage);
  }

  /** A {@code /transactions/sync} answer read into a page; fails with MissingField when it is not one. */
  static SyncPage syncPage(JsonObject json) {
    requiredArray(json, "added");
    requiredArray(json, "modified");
    requiredArray(json, "removed");
    String nextCursor = LenientJson.text(json, "next_cursor");
    Boolean hasMore = LenientJson.bool(json, "has_more");
    if (nextCursor == null) {
      throw new MissingField("next_cursor");
    }
    if (hasMore == null) {
      throw new MissingField("has_more");
    }
    return new SyncPage(
        // the decoded body is ours alone: the transactions keep its objects instead of copying them
        LenientJson.objects(json, "added", Transaction::owning),
        LenientJson.objects(json, "modified", Transaction::owning),
        LenientJson.objects(json, "removed", RemovedTransaction::fromJson),
        LenientJson.objects(json, "accounts", Account::fromJson),
        nextCursor,
        hasMore,
        LenientJson.text(json, "transactions_update_status"),
        LenientJson.text(json, "request_id"));
  }

  /** {@code /transactions/refresh}: asks Plaid to fetch new transactions now. Returns the request id. */
  public Future<String> refreshTransactions(String accessToken) {
    return call("/transactions/refresh", tokenBody(accessToken), accessToken,
        json -> LenientJson.text(json, "request_id"));
  }

  // ---- Institutions ----

  /** {@code /institutions/get_by_id} with {@code options.include_status}: the institution and its health. */
  public Future<Institution> getInstitution(String institutionId, List<String> countryCodes, boolean includeStatus) {
    JsonObject body = new JsonObject()
        .put("institution_id", require(institutionId, "institution id"))
        .put("country_codes", new JsonArray(countryCodes == null || countryCodes.isEmpty() ? List.of("US") : List.copyOf(countryCodes)))
        .put("options", new JsonObject().put("include_status", includeStatus));
    return call("/institutions/get_by_id", body, null, json -> {
      Institution institution = Institution.fromJson(requiredObject(json, "institution"));
      if (institution.institutionId() == null) {
        throw new MissingField("institution.institution_id");
      }
      return institution;
    });
  }

  // ---- Link ----

  /** {@code /link/token/create} in update mode, for an Item whose user must act (ITEM_LOGIN_REQUIRED, ...). */
  public Future<LinkToken> createUpdateLinkToken(LinkUpdateRequest request) {
    return call("/link/token/create", request.toJson(), request.accessToken(), json -> new LinkToken(
        required(json, "link_token"), LenientJson.instant(json, "expiration"), LenientJson.text(json, "request_id")));
  }

  // ---- Webhooks ----

  /** {@code /webhook_verification_key/get}: the public key with this key id. */
  public Future<WebhookVerificationKey> getWebhookVerificationKey(String keyId) {
    JsonObject body = new JsonObject().put("key_id", require(keyId, "key id"));
    return call("/webhook_verification_key/get", body, null, json -> {
      JsonObject key = requiredObject(json, "key");
      WebhookVerificationKey parsed = WebhookVerificationKey.fromJson(key, LenientJson.text(json, "request_id"));
      if (parsed.kid() == null || parsed.x() == null || parsed.y() == null) {
        throw new MissingField("key.kid/x/y");
      }
      return parsed;
    });
  }

  // ---- Sandbox helpers (Plaid's sandbox and ours only) ----

  /** {@code /sandbox/public_token/create}: an Item without Link. */
  public Future<SandboxPublicToken> createSandboxPublicToken(SandboxPublicTokenRequest request) {
    return call("/sandbox/public_token/create", request.toJson(), null, json -> new SandboxPublicToken(
        required(json, "public_token"), LenientJson.text(json, "request_id")));
  }

  /** {@code /sandbox/item/reset_login}: puts the Item into ITEM_LOGIN_REQUIRED. True when Plaid did. */
  public Future<Boolean> resetSandboxLogin(String accessToken) {
    return call("/sandbox/item/reset_login", tokenBody(accessToken), accessToken,
        json -> LenientJson.bool(json, "reset_login", false));
  }

  /** {@code /sandbox/item/fire_webhook}: makes Plaid send the Item a webhook. True when it was fired. */
  public Future<Boolean> fireSandboxWebhook(String accessToken, String webhookType, String webhookCode) {
    JsonObject body = tokenBody(accessToken).put("webhook_code", require(webhookCode, "webhook code"));
    if (webhookType != null) {
      body.put("webhook_type", webhookType);
    }
    return call("/sandbox/item/fire_webhook", body, accessToken, json -> LenientJson.bool(json, "webhook_fired", false));
  }

  // ---- the one place a request is sent and its answer judged ----

  private <T> Future<T> call(String endpoint, JsonObject body, String token, Function<JsonObject, T> mapper) {
    long started = System.nanoTime();
    RequestOptions request = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setHost(host)
        .setPort(port)
        .setSsl(ssl)
        .setURI(pathPrefix + endpoint)
        .setFollowRedirects(false)
        .setConnectTimeout(config.connectTimeoutMs())
        .setIdleTimeout(config.idleTimeoutMs())
        .putHeader(HttpHeaders.USER_AGENT, USER_AGENT)
        .putHeader("Content-Type", "application/json")
        .putHeader("Plaid-Version", config.version());
    if (config.clientId() != null) {
      request.putHeader("PLAID-CLIENT-ID", config.clientId());
    }
    if (config.secret() != null) {
      request.putHeader("PLAID-SECRET", config.secret());
    }
    Future<Answer> sent = exchange(request, body.toBuffer());
    return sent.transform(done -> {
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      Future<T> outcome;
      if (done.succeeded()) {
        outcome = judge(endpoint, done.result(), token, mapper);
      } else if (done.cause() instanceof NotSentInTime notSent) {
        outcome = Future.failedFuture(notSent);
      } else {
        TransportFailure kind = TransportErrors.classify(done.cause());
        outcome = Future.failedFuture(new PlaidException(endpoint, 0, null, kind, null, null, null,
            describe(done.cause(), token), done.cause()));
      }
      if (outcome.succeeded()) {
        log.debug("POST {} -> {} in {} ms", endpoint, done.result().status(), elapsedMs);
      } else {
        log.debug("POST {} failed in {} ms: {}", endpoint, elapsedMs, outcome.cause().getMessage());
      }
      record(endpoint, outcome, System.nanoTime() - started);
      return outcome;
    });
  }

  /** What came back: the status, the Retry-After header and the whole body (at most max_response_bytes). */
  private record Answer(int status, String retryAfter, Buffer body) {}

  /**
   * One exchange: a connection, the send-by check, the request, and the answer read whole, all within the
   * total deadline. The client's connect and idle timeouts bound each wait; only this deadline bounds the
   * sum, so a server trickling bytes cannot hold a connection. Whatever ends the exchange early (the
   * deadline, the size cap, a late start) resets the request: before a byte is written that hands the
   * connection back unused, once written it closes the connection.
   */
  private Future<Answer> exchange(RequestOptions options, Buffer body) {
    Promise<Answer> answer = Promise.promise();
    // set once the client hands us the request; read by the deadline timer, which may run on another thread
    AtomicReference<HttpClientRequest> requested = new AtomicReference<>();
    long totalMs = config.totalTimeoutMs();
    long timer = vertx.setTimer(totalMs, fired -> {
      TransportErrors.DeadlineExceededException timeout = new TransportErrors.DeadlineExceededException(totalMs);
      if (answer.tryFail(timeout)) {
        HttpClientRequest request = requested.get();
        if (request != null) {
          request.reset(0, timeout);
        }
        // else still waiting for a connection: the request is reset when it comes (below)
      }
    });
    answer.future().onComplete(done -> vertx.cancelTimer(timer));
    client.request(options).onComplete(obtained -> {
      if (obtained.failed()) {
        answer.tryFail(obtained.cause());
        return;
      }
      HttpClientRequest request = obtained.result();
      // late failures (a reset we made, a timeout after the answer is decided) are no news: the first one wins
      request.exceptionHandler(answer::tryFail);
      requested.set(request);
      if (answer.future().isComplete()) {
        // the deadline passed while we waited for the connection: nothing written, hand it back
        request.reset();
        return;
      }
      // a connection is ours now and nothing is written yet: the last moment to keep a late call off the wire
      long late = sendByNanos == 0 ? 0 : System.nanoTime() - sendByNanos;
      if (late > 0) {
        answer.tryFail(new NotSentInTime(options.getURI(), TimeUnit.NANOSECONDS.toMillis(late)));
        request.reset();
        return;
      }
      request.send(body).onComplete(responded -> {
        if (responded.failed()) {
          answer.tryFail(responded.cause());
          return;
        }
        read(request, responded.result(), answer);
      });
    });
    return answer.future();
  }

  /**
   * Collects the body like {@code response.body()}, but gives up once it would grow past
   * {@code max_response_bytes} (TOO_LARGE) and resets the request, so a broken or hostile server cannot
   * make us buffer, or keep reading, gigabytes.
   */
  private void read(HttpClientRequest request, HttpClientResponse response, Promise<Answer> answer) {
    long limit = config.maxResponseBytes();
    Buffer collected = Buffer.buffer();
    response.exceptionHandler(answer::tryFail);
    response.handler(chunk -> {
      if (answer.future().isComplete()) {
        return;
      }
      if (collected.length() + (long) chunk.length() > limit) {
        TransportErrors.BodyTooLargeException tooLarge = new TransportErrors.BodyTooLargeException(limit);
        answer.tryFail(tooLarge);
        request.reset(0, tooLarge);
        return;
      }
      collected.appendBuffer(chunk);
    });
    response.endHandler(end -> answer.tryComplete(
        new Answer(response.statusCode(), response.getHeader("Retry-After"), collected)));
  }

  private void record(String endpoint, Future<?> outcome, long elapsedNanos) {
    if (registry == null) {
      return;
    }
    String kind = "ok";
    String code = "none";
    if (outcome.failed() && outcome.cause() instanceof PlaidException failure) {
      kind = failure.isPlaidError() ? "plaid_error" : "transport";
      String named = failure.isPlaidError() ? failure.error().errorCode() : String.valueOf(failure.transport());
      code = tagFor(named);
    } else if (outcome.failed() && outcome.cause() instanceof NotSentInTime) {
      kind = "not_sent";
    }
    Timer.builder("plaid.requests").description("Calls to Plaid by endpoint and outcome")
        .tag("endpoint", endpoint).tag("outcome", kind).tag("code", code)
        .register(registry).record(elapsedNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * A code as a meter tag. A hostile server must not mint meters: only code-shaped values are used, and
   * only the first {@value #MAX_CODE_TAGS} distinct ones (Plaid has about a hundred); the rest are OTHER.
   */
  private String tagFor(String code) {
    if (code == null || code.length() > 64 || !CODE_SHAPE.matcher(code).matches()) {
      return "OTHER";
    }
    if (codeTags.contains(code)) {
      return code;
    }
    if (codeTags.size() >= MAX_CODE_TAGS) {
      return "OTHER";
    }
    codeTags.add(code);
    return code;
  }

  private <T> Future<T> judge(String endpoint, Answer response, String token, Function<JsonObject, T> mapper) {
    int status = response.status();
    String retryAfter = response.retryAfter();
    Long retryAfterSeconds = TransportErrors.retryAfterSeconds(retryAfter, Instant.now());
    JsonObject json = parseObject(response.body());
    if (status >= 200 && status < 300) {
      if (json == null) {
        return fail(endpoint, status, TransportFailure.NOT_JSON, json, retryAfter, retryAfterSeconds, "body is not a JSON object");
      }
      try {
        return Future.succeededFuture(mapper.apply(json));
      } catch (MissingField missing) {
        return fail(endpoint, status, TransportFailure.BAD_RESPONSE, json, retryAfter, retryAfterSeconds,
            "answer lacks " + missing.getMessage());
      } catch (RuntimeException unreadable) {
        // Lenient readers should make this unreachable; a hostile body must still not escape as a crash.
        return fail(endpoint, status, TransportFailure.BAD_RESPONSE, json, retryAfter, retryAfterSeconds,
            "answer unreadable: " + unreadable.getClass().getSimpleName());
      }
    }
    if (PlaidError.isPlaidError(json)) {
      PlaidError error = PlaidError.fromJson(json).withMasked(token);
      return Future.failedFuture(new PlaidException(endpoint, status, error, null, error.requestId(), retryAfter,
          retryAfterSeconds, null, null));
    }
    return fail(endpoint, status, TransportFailure.HTTP_STATUS, json, retryAfter, retryAfterSeconds,
        json == null ? "error body is not a JSON object" : "error body is not a Plaid error");
  }

  private static <T> Future<T> fail(String endpoint, int status, TransportFailure kind, JsonObject json,
      String retryAfter, Long retryAfterSeconds, String detail) {
    return Future.failedFuture(new PlaidException(endpoint, status, null, kind, LenientJson.text(json, "request_id"),
        retryAfter, retryAfterSeconds, detail, null));
  }

  /** The body as a JSON object, or null when it is empty, not JSON, or JSON of another kind. Never throws. */
  static JsonObject parseObject(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    try {
      return Json.decodeValue(body) instanceof JsonObject object ? object : null;
    } catch (RuntimeException notJson) {
      return null;
    }
  }

  /** The I/O failure's class and message, with the token masked should any layer ever echo it. */
  private static String describe(Throwable failure, String token) {
    String text = failure.getClass().getSimpleName() + (failure.getMessage() == null ? "" : ": " + failure.getMessage());
    return token == null || token.isEmpty() ? text : text.replace(token, "[redacted]");
  }

  private static JsonObject tokenBody(String accessToken) {
    return new JsonObject().put("access_token", require(accessToken, "access token"));
  }

  private static String require(String value, String what) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(what + " required");
    }
    return value;
  }

  private static AccountsResult accounts(JsonObject json) {
    requiredArray(json, "accounts");
    return new AccountsResult(LenientJson.objects(json, "accounts", Account::fromJson),
        PlaidItem.fromJson(LenientJson.object(json, "item")), LenientJson.text(json, "request_id"));
  }

  private static String required(JsonObject json, String key) {
    String value = LenientJson.text(json, key);
    if (value == null) {
      throw new MissingField(key);
    }
    return value;
  }

  private static JsonObject requiredObject(JsonObject json, String key) {
    JsonObject value = LenientJson.object(json, key);
    if (value == null) {
      throw new MissingField(key);
    }
    return value;
  }

  private static JsonArray requiredArray(JsonObject json, String key) {
    JsonArray value = LenientJson.array(json, key);
    if (value == null) {
      throw new MissingField(key);
    }
    return value;
  }

  /** A success answer without a field the endpoint must return. */
  private static final class MissingField extends RuntimeException {
    MissingField(String field) {
      super(field, null, false, false);
    }
  }
}
