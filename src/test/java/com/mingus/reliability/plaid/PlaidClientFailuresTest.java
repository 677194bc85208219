package com.mingus.reliability.plaid;

import static com.mingus.reliability.plaid.ScriptedPlaid.closeBeforeAnswer;
import static com.mingus.reliability.plaid.ScriptedPlaid.closeMidResponse;
import static com.mingus.reliability.plaid.ScriptedPlaid.hang;
import static com.mingus.reliability.plaid.ScriptedPlaid.json;
import static com.mingus.reliability.plaid.ScriptedPlaid.raw;
import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.bus.PlaidFailure;
import com.mingus.reliability.bus.TransportFailure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The client against a scripted local server: what it sends (credentials and version in headers), and how
 * every way a call can go wrong is reported.
 */
@ExtendWith(VertxExtension.class)
class PlaidClientFailuresTest {
  static final String TOKEN = "access-sandbox-4f1c2d9e-0b7a-4c55-9d1e-7a9b3c2d1e0f";
  static final String CLIENT_ID = "client-id-under-test";
  static final String SECRET = "secret-under-test-0123456789";

  private ScriptedPlaid server;
  private PlaidClient client;

  /** Generous timeouts: a cold JVM on a busy machine must not turn an answer into a TIMEOUT. */
  static JsonObject config(String baseUrl) {
    return config(baseUrl, 10_000, 20_000);
  }

  static JsonObject config(String baseUrl, long idleMs, long totalMs) {
    return new JsonObject()
        .put("base_url", baseUrl)
        .put("client_id", CLIENT_ID)
        .put("secret", SECRET)
        .put("version", "2020-09-14")
        .put("timeouts", new JsonObject().put("connect_ms", 5_000).put("idle_ms", idleMs).put("total_ms", totalMs))
        .put("max_response_bytes", 64 * 1024);
  }

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    ScriptedPlaid.start(vertx).onComplete(ctx.succeeding(started -> {
      server = started;
      client = PlaidClient.create(vertx, config(server.baseUrl()));
      ctx.completeNow();
    }));
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
  }

  /** Completes the test once the future has failed with a PlaidException that passes the checks. */
  static void expectFailure(VertxTestContext ctx, Future<?> future, Consumer<PlaidException> checks) {
    future.onComplete(ctx.failing(failure -> ctx.verify(() -> {
      assertThat(failure).isInstanceOf(PlaidException.class);
      checks.accept((PlaidException) failure);
      ctx.completeNow();
    })));
  }

  @Test
  void credentialsAndVersionTravelInHeadersAndNeverInTheBody(VertxTestContext ctx) {
    server.on("/item/get", json(200, new JsonObject()
        .put("item", new JsonObject().put("item_id", "item-1").put("institution_id", "ins_1").put("error", (Object) null)
            .put("webhook", "https://example.test/hook").put("consent_expiration_time", "2026-12-01T00:00:00Z")
            .put("update_type", "background").put("available_products", new JsonArray()).put("billed_products", new JsonArray().add("transactions")))
        .put("status", new JsonObject().put("transactions", new JsonObject()
            .put("last_successful_update", "2026-11-28T10:00:00Z").put("last_failed_update", (Object) null))
            .put("last_webhook", new JsonObject().put("sent_at", "2026-11-28T09:00:00Z").put("code_sent", "SYNC_UPDATES_AVAILABLE")))
        .put("request_id", "req-item")));
    client.getItem(TOKEN).onComplete(ctx.succeeding(result -> ctx.verify(() -> {
      ScriptedPlaid.Received sent = server.last();
      assertThat(sent.path()).isEqualTo("/item/get");
      assertThat(sent.headers().get("PLAID-CLIENT-ID")).isEqualTo(CLIENT_ID);
      assertThat(sent.headers().get("PLAID-SECRET")).isEqualTo(SECRET);
      assertThat(sent.headers().get("Plaid-Version")).isEqualTo("2020-09-14");
      assertThat(sent.headers().get("Content-Type")).startsWith("application/json");
      assertThat(sent.headers().get("User-Agent")).isEqualTo("mingus-reliability");
      assertThat(sent.headers().get("Accept-Encoding")).contains("gzip");
      assertThat(sent.json()).isEqualTo(new JsonObject().put("access_token", TOKEN));
      assertThat(sent.body().toString()).doesNotContain(SECRET).doesNotContain(CLIENT_ID);

      assertThat(result.item().itemId()).isEqualTo("item-1");
      assertThat(result.item().error()).isNull();
      assertThat(result.item().consentExpirationTime()).hasToString("2026-12-01T00:00:00Z");
      assertThat(result.item().updateType()).isEqualTo("background");
      assertThat(result.item().billedProducts()).containsExactly("transactions");
      assertThat(result.status().lastSuccessfulTransactionsUpdate()).hasToString("2026-11-28T10:00:00Z");
      assertThat(result.status().lastFailedTransactionsUpdate()).isNull();
      assertThat(result.status().lastWebhookCode()).isEqualTo("SYNC_UPDATES_AVAILABLE");
      assertThat(result.requestId()).isEqualTo("req-item");
      ctx.completeNow();
    })));
  }

  @Test
  void everyCallIsRecordedByEndpointOutcomeAndCode(Vertx vertx, VertxTestContext ctx) {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    PlaidClient metered = new PlaidClient(vertx, PlaidConfig.fromJson(config(server.baseUrl())), registry);
    server.on("/transactions/refresh", json(200, new JsonObject().put("request_id", "r")));
    server.on("/item/get", json(400, new JsonObject().put("error_type", "ITEM_ERROR").put("error_code", "ITEM_LOGIN_REQUIRED")
        .put("error_message", "m").put("display_message", (Object) null)));
    server.on("/accounts/get", raw(502, "text/html", "<html/>"));
    server.on("/item/remove", json(400, new JsonObject().put("error_type", "X").put("error_code", "<script>")));
    Future.join(metered.refreshTransactions(TOKEN), metered.getItem(TOKEN), metered.getAccounts(TOKEN), metered.removeItem(TOKEN))
        .onComplete(done -> ctx.verify(() -> {
          assertThat(registry.get("plaid.requests").tags("endpoint", "/transactions/refresh", "outcome", "ok", "code", "none")
              .timer().count()).isEqualTo(1);
          assertThat(registry.get("plaid.requests").tags("endpoint", "/item/get", "outcome", "plaid_error", "code", "ITEM_LOGIN_REQUIRED")
              .timer().count()).isEqualTo(1);
          assertThat(registry.get("plaid.requests").tags("endpoint", "/accounts/get", "outcome", "transport", "code", "HTTP_STATUS")
              .timer().count()).isEqualTo(1);
          assertThat(registry.get("plaid.requests").tags("endpoint", "/item/remove", "outcome", "plaid_error", "code", "OTHER")
              .timer().count()).isEqualTo(1);
          metered.close();
          ctx.completeNow();
        }));
  }

  @Test
  void aBaseUrlWithAPathPrefixIsHonoured(Vertx vertx, VertxTestContext ctx) {
    PlaidClient prefixed = PlaidClient.create(vertx, config(server.baseUrl() + "/plaid/"));
    server.on("/plaid/transactions/refresh", json(200, new JsonObject().put("request_id", "req-refresh")));
    prefixed.refreshTransactions(TOKEN).onComplete(ctx.succeeding(requestId -> ctx.verify(() -> {
      assertThat(requestId).isEqualTo("req-refresh");
      assertThat(server.last().path()).isEqualTo("/plaid/transactions/refresh");
      prefixed.close();
      ctx.completeNow();
    })));
  }

  @Test
  void aServerThatNeverAnswersIsATimeout(Vertx vertx, VertxTestContext ctx) {
    server.on("/transactions/sync", hang());
    PlaidClient tight = PlaidClient.create(vertx, config(server.baseUrl(), 400, 5_000));
    long started = System.nanoTime();
    expectFailure(ctx, tight.syncTransactions(TOKEN, null, 100), e -> {
      assertThat(e.transport()).isEqualTo(TransportFailure.TIMEOUT);
      assertThat(e.error()).isNull();
      assertThat(e.httpStatus()).isZero();
      assertThat(e.endpoint()).isEqualTo("/transactions/sync");
      // the idle timeout (400 ms) ends it, not the total deadline (5,000 ms)
      assertThat((System.nanoTime() - started) / 1_000_000).isBetween(300L, 4_500L);
      assertThat(e.getMessage()).contains("400").doesNotContain("no complete answer");
    });
  }

  @Test
  void aServerThatTricklesForeverHitsTheTotalDeadlineAndLosesTheConnection(Vertx vertx, VertxTestContext ctx) {
    server.on("/transactions/sync", server.trickle(100));
    PlaidClient tight = PlaidClient.create(vertx, config(server.baseUrl(), 1_500, 2_000));
    long started = System.nanoTime();
    tight.syncTransactions(TOKEN, null, 100).onComplete(ctx.failing(failure -> ctx.verify(() -> {
      PlaidException e = (PlaidException) failure;
      assertThat(e.transport()).isEqualTo(TransportFailure.TIMEOUT);
      assertThat(e.httpStatus()).isZero();
      // a byte every 100 ms is never idle for 1,500 ms, so only the 2,000 ms deadline can have ended it
      assertThat((System.nanoTime() - started) / 1_000_000).isBetween(1_900L, 5_000L);
      assertThat(e.getMessage()).contains("no complete answer within 2000 ms");
      // the deadline resets the request: the server sees its connection go, it is not left trickling
      long waitUntil = System.currentTimeMillis() + 3_000;
      vertx.setPeriodic(50, timer -> ctx.verify(() -> {
        if (server.trickleConnectionsClosed() == 1) {
          vertx.cancelTimer(timer);
          ctx.completeNow();
        } else {
          assertThat(System.currentTimeMillis()).as("connection still open").isLessThan(waitUntil);
        }
      }));
    })));
  }

  @Test
  void aConnectionClosedMidAnswerIsAReset(VertxTestContext ctx) {
    server.on("/accounts/get", closeMidResponse());
    expectFailure(ctx, client.getAccounts(TOKEN), e -> {
      assertThat(e.transport()).isEqualTo(TransportFailure.CONNECTION_RESET);
      assertThat(e.toFailure().transport()).isEqualTo(TransportFailure.CONNECTION_RESET);
    });
  }

  @Test
  void aConnectionClosedBeforeAnyAnswerIsAReset(VertxTestContext ctx) {
    server.on("/accounts/get", closeBeforeAnswer());
    expectFailure(ctx, client.getAccounts(TOKEN), e -> assertThat(e.transport()).isEqualTo(TransportFailure.CONNECTION_RESET));
  }

  @Test
  void aClosedPortIsARefusedConnection(Vertx vertx, VertxTestContext ctx) throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    PlaidClient refused = PlaidClient.create(vertx, config("http://127.0.0.1:" + closedPort));
    expectFailure(ctx, refused.getItem(TOKEN), e -> {
      assertThat(e.transport()).isEqualTo(TransportFailure.CONNECTION_REFUSED);
      assertThat(e.httpStatus()).isZero();
    });
  }

  @Test
  void anUnresolvableHostIsADnsFailure(VertxTestContext ctx) {
    // Short DNS timeouts so the answer is DNS whether the resolver says NXDOMAIN or says nothing at all.
    Vertx quickDns = Vertx.vertx(new VertxOptions().setAddressResolverOptions(
        new AddressResolverOptions().setQueryTimeout(1_000).setMaxQueries(2)));
    PlaidClient nowhere = PlaidClient.create(quickDns, config("http://nonexistent.invalid:7070")
        .put("timeouts", new JsonObject().put("connect_ms", 6_000).put("idle_ms", 6_000).put("total_ms", 8_000)));
    expectFailure(ctx, nowhere.getItem(TOKEN).onComplete(done -> quickDns.close()),
        e -> assertThat(e.transport()).isEqualTo(TransportFailure.DNS));
  }

  @Test
  void aDnsServerThatNeverAnswersIsADnsFailure(VertxTestContext ctx) throws Exception {
    DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    Vertx silentDns = Vertx.vertx(new VertxOptions().setAddressResolverOptions(new AddressResolverOptions()
        .setServers(List.of("127.0.0.1:" + silent.getLocalPort())).setHostsValue(Buffer.buffer("127.0.0.1 localhost\n"))
        .setQueryTimeout(300).setMaxQueries(1)));
    PlaidClient nowhere = PlaidClient.create(silentDns, config("http://plaid.example.test:7070")
        .put("timeouts", new JsonObject().put("connect_ms", 3_000).put("idle_ms", 3_000).put("total_ms", 5_000)));
    expectFailure(ctx, nowhere.getItem(TOKEN).onComplete(done -> {
      silentDns.close();
      silent.close();
    }), e -> assertThat(e.transport()).isEqualTo(TransportFailure.DNS));
  }

  @Test
  void plainHttpOnAnHttpsUrlIsATlsFailure(Vertx vertx, VertxTestContext ctx) {
    PlaidClient tls = PlaidClient.create(vertx, config("https://127.0.0.1:" + server.port()));
    expectFailure(ctx, tls.getItem(TOKEN), e -> assertThat(e.transport()).isEqualTo(TransportFailure.TLS));
  }

  @Test
  void aSuccessStatusWithABodyThatIsNotJsonIsNotJson(VertxTestContext ctx) {
    server.on("/item/get", raw(200, "text/html", "<html>maintenance</html>"));
    expectFailure(ctx, client.getItem(TOKEN), e -> {
      assertThat(e.transport()).isEqualTo(TransportFailure.NOT_JSON);
      assertThat(e.httpStatus()).isEqualTo(200);
    });
  }

  @Test
  void aSuccessStatusWithAJsonArrayIsNotJson(VertxTestContext ctx) {
    server.on("/item/get", raw(200, "application/json", "[1, 2, 3]"));
    expectFailure(ctx, client.getItem(TOKEN), e -> assertThat(e.transport()).isEqualTo(TransportFailure.NOT_JSON));
  }

  @Test
  void anErrorStatusWithAProxyPageIsAnHttpStatusFailure(VertxTestContext ctx) {
    server.on("/item/get", raw(502, "text/html", "<html>Bad Gateway</html>"));
    expectFailure(ctx, client.getItem(TOKEN), e -> {
      assertThat(e.transport()).isEqualTo(TransportFailure.HTTP_STATUS);
      assertThat(e.httpStatus()).isEqualTo(502);
      assertThat(e.error()).isNull();
      PlaidFailure failure = e.toFailure();
      assertThat(failure.httpStatus()).isEqualTo(502);
      assertThat(failure.transport()).isEqualTo(TransportFailure.HTTP_STATUS);
    });
  }

  @Test
  void anErrorStatusWithForeignJsonIsAnHttpStatusFailure(VertxTestContext ctx) {
    server.on("/item/get", json(503, new JsonObject().put("message", "upstream unavailable")));
    expectFailure(ctx, client.getItem(TOKEN), e -> {
      assertThat(e.transport()).isEqualTo(TransportFailure.HTTP_STATUS);
      assertThat(e.httpStatus()).isEqualTo(503);
    });
  }

  @Test
  void aSuccessAnswerMissingRequiredFieldsIsABadResponse(VertxTestContext ctx) {
    server.on("/item/public_token/exchange", json(200, new JsonObject().put("request_id", "req-x")));
    expectFailure(ctx, client.exchangePublicToken("public-sandbox-abc"), e -> {
      assertThat(e.transport()).isEqualTo(TransportFailure.BAD_RESPONSE);
      assertThat(e.requestId()).isEqualTo("req-x");
      assertThat(e.getMessage()).contains("access_token");
    });
  }

  @Test
  void anAnswerLargerThanTheLimitIsTooLarge(VertxTestContext ctx) {
    server.on("/item/get", raw(200, "application/json", "{\"pad\": \"" + "x".repeat(100 * 1024) + "\"}"));
    expectFailure(ctx, client.getItem(TOKEN), e -> assertThat(e.transport()).isEqualTo(TransportFailure.TOO_LARGE));
  }

  @Test
  void anEndlessAnswerIsTooLargeAndItsConnectionIsClosed(Vertx vertx, VertxTestContext ctx) {
    // chunks as fast as the client takes them, forever: only the size cap can end it, and it must not read on
    AtomicInteger closed = new AtomicInteger();
    AtomicLong written = new AtomicLong();
    server.on("/item/get", (request, ignored) -> {
      HttpServerResponse response = request.response().setStatusCode(200).putHeader("Content-Type", "application/json")
          .setChunked(true);
      response.exceptionHandler(gone -> { });
      request.connection().closeHandler(gone -> closed.incrementAndGet());
      Buffer chunk = Buffer.buffer("x".repeat(8 * 1024));
      Runnable[] pump = new Runnable[1];
      pump[0] = () -> {
        while (!response.closed() && !response.writeQueueFull()) {
          response.write(chunk);
          written.addAndGet(chunk.length());
        }
        if (!response.closed()) {
          response.drainHandler(drained -> pump[0].run());
        }
      };
      pump[0].run();
    });
    long started = System.nanoTime();
    client.getItem(TOKEN).onComplete(ctx.failing(failure -> ctx.verify(() -> {
      assertThat(((PlaidException) failure).transport()).isEqualTo(TransportFailure.TOO_LARGE);
      // the total deadline is 20 s: the cap (64 KiB) ended it
      assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(10_000L);
      long waitUntil = System.currentTimeMillis() + 3_000;
      vertx.setPeriodic(50, timer -> ctx.verify(() -> {
        if (closed.get() == 1) {
          vertx.cancelTimer(timer);
          // what the server could push into socket buffers before the close, not a stream read to its end
          assertThat(written.get()).isLessThan(64L * 1024 * 1024);
          ctx.completeNow();
        } else {
          assertThat(System.currentTimeMillis()).as("connection still open").isLessThan(waitUntil);
        }
      }));
    })));
  }

  @Test
  void aCompressedAnswerIsDecompressed(VertxTestContext ctx) throws Exception {
    JsonObject answer = new JsonObject().put("request_id", "req-gzip");
    java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(zipped)) {
      gzip.write(answer.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    server.on("/transactions/refresh", (request, ignored) -> request.response().setStatusCode(200)
        .putHeader("Content-Type", "application/json").putHeader("Content-Encoding", "gzip")
        .end(Buffer.buffer(zipped.toByteArray())));
    client.refreshTransactions(TOKEN).onComplete(ctx.succeeding(requestId -> ctx.verify(() -> {
      assertThat(requestId).isEqualTo("req-gzip");
      ctx.completeNow();
    })));
  }

  @Test
  void theDeadlineCountsTheWaitForAConnection(Vertx vertx, VertxTestContext ctx) {
    // a TLS port that accepts and never says a word: the connection is never ready (the handshake waits),
    // and the total deadline, not the connect or handshake timeouts, ends the call
    AtomicInteger accepted = new AtomicInteger();
    vertx.createNetServer().connectHandler(socket -> {
      accepted.incrementAndGet();
      socket.handler(ignored -> { });
    }).listen(0, "127.0.0.1").onComplete(ctx.succeeding(silent -> {
      JsonObject tight = config("https://127.0.0.1:" + silent.actualPort(), 10_000, 1_000);
      tight.getJsonObject("timeouts").put("connect_ms", 8_000);
      PlaidClient waiting = PlaidClient.create(vertx, tight);
      long started = System.nanoTime();
      expectFailure(ctx, waiting.getItem(TOKEN).onComplete(done -> waiting.close()), e -> {
        assertThat(e.transport()).isEqualTo(TransportFailure.TIMEOUT);
        assertThat(e.getMessage()).contains("no complete answer within 1000 ms");
        assertThat((System.nanoTime() - started) / 1_000_000).isBetween(900L, 5_000L);
        assertThat(accepted.get()).isEqualTo(1);
      });
    }));
  }

  @Test
  void aPlaidErrorKeepsUnknownTypesCodesAndFields(VertxTestContext ctx) {
    JsonObject body = new JsonObject()
        .put("error_type", "BRAND_NEW_ERROR_TYPE")
        .put("error_code", "SOMETHING_NOBODY_HAS_SEEN")
        .put("error_code_reason", "OAUTH_CONSENT_EXPIRED")
        .put("error_message", "the bank said no")
        .put("display_message", (Object) null)
        .put("request_id", "req-42")
        .put("causes", new JsonArray().add(new JsonObject().put("error_code", "INNER")))
        .put("documentation_url", "https://plaid.com/docs/errors/")
        .put("suggested_action", "wait")
        .put("a_field_from_the_future", new JsonObject().put("depth", 2));
    server.on("/transactions/sync", json(400, body));
    expectFailure(ctx, client.syncTransactions(TOKEN, "cursor-1", 100), e -> {
      assertThat(e.transport()).isNull();
      assertThat(e.isPlaidError()).isTrue();
      assertThat(e.httpStatus()).isEqualTo(400);
      assertThat(e.requestId()).isEqualTo("req-42");
      PlaidError error = e.error();
      assertThat(error.errorType()).isEqualTo("BRAND_NEW_ERROR_TYPE");
      assertThat(error.errorCode()).isEqualTo("SOMETHING_NOBODY_HAS_SEEN");
      assertThat(error.errorCodeReason()).isEqualTo("OAUTH_CONSENT_EXPIRED");
      assertThat(error.errorMessage()).isEqualTo("the bank said no");
      assertThat(error.displayMessage()).isNull();
      assertThat(error.causes()).hasSize(1);
      assertThat(error.documentationUrl()).isEqualTo("https://plaid.com/docs/errors/");
      assertThat(error.suggestedAction()).isEqualTo("wait");
      assertThat(error.raw().getJsonObject("a_field_from_the_future").getInteger("depth")).isEqualTo(2);
      assertThat(e.getMessage()).contains("BRAND_NEW_ERROR_TYPE/SOMETHING_NOBODY_HAS_SEEN").contains("req-42");

      PlaidFailure failure = e.toFailure();
      assertThat(failure.errorType()).isEqualTo("BRAND_NEW_ERROR_TYPE");
      assertThat(failure.errorCode()).isEqualTo("SOMETHING_NOBODY_HAS_SEEN");
      assertThat(failure.httpStatus()).isEqualTo(400);
      assertThat(failure.transport()).isNull();
      assertThat(failure.endpoint()).isEqualTo("/transactions/sync");
      assertThat(PlaidFailure.fromJson(failure.toJson())).isEqualTo(failure);
    });
  }

  @Test
  void aRateLimitAnswerKeepsItsRetryAfterHeader(VertxTestContext ctx) {
    JsonObject body = new JsonObject().put("error_type", "RATE_LIMIT_EXCEEDED").put("error_code", "TRANSACTIONS_SYNC_LIMIT")
        .put("error_message", "rate limit exceeded").put("display_message", (Object) null).put("request_id", "req-429");
    server.on("/transactions/sync", json(429, body, "Retry-After", "7"));
    expectFailure(ctx, client.syncTransactions(TOKEN, null, 100), e -> {
      assertThat(e.httpStatus()).isEqualTo(429);
      assertThat(e.hasErrorCode("TRANSACTIONS_SYNC_LIMIT")).isTrue();
      assertThat(e.retryAfter()).isEqualTo("7");
      assertThat(e.retryAfterSeconds()).isEqualTo(7L);
      PlaidFailure failure = e.toFailure();
      assertThat(failure.retryAfterS()).isEqualTo(7L);
      assertThat(failure.toJson().getLong("retry_after_s")).isEqualTo(7L);
      assertThat(failure.toJson().getString("error_code")).isEqualTo("TRANSACTIONS_SYNC_LIMIT");
    });
  }

  @Test
  void aRetryAfterDateIsCountedFromNow(VertxTestContext ctx) {
    String inTwoMinutes = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
        .format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(120));
    server.on("/item/get", raw(503, "text/plain", "down for maintenance"));
    server.on("/item/get", (request, body) -> request.response().setStatusCode(503).putHeader("Retry-After", inTwoMinutes)
        .end("down for maintenance"));
    expectFailure(ctx, client.getItem(TOKEN), e -> {
      assertThat(e.transport()).isEqualTo(TransportFailure.HTTP_STATUS);
      assertThat(e.retryAfter()).isEqualTo(inTwoMinutes);
      assertThat(e.retryAfterSeconds()).isBetween(110L, 121L);
    });
  }
}
