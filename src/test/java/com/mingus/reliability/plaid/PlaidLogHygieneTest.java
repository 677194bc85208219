package com.mingus.reliability.plaid;

import static com.mingus.reliability.plaid.ScriptedPlaid.closeMidResponse;
import static com.mingus.reliability.plaid.ScriptedPlaid.hang;
import static com.mingus.reliability.plaid.ScriptedPlaid.json;
import static com.mingus.reliability.plaid.ScriptedPlaid.raw;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * The access token of a request never reaches a log line (at DEBUG, with Vert.x and Netty at DEBUG too),
 * an exception message, a failure sent over the bus, or a toString, whatever way the call ends.
 */
@ExtendWith(VertxExtension.class)
class PlaidLogHygieneTest {
  // Not in the "access-sandbox-..." shape the log redactor masks, so only the client's own care can pass.
  static final String TOKEN = "tok3n-5ecr3t-9f8e7d6c5b4a";
  static final String PUBLIC_TOKEN = "pub1ic-5ecr3t-1a2b3c4d";

  private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
  private final Map<String, Level> previousLevels = new java.util.HashMap<>();

  @BeforeEach
  void capture() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    captured.setContext(context);
    captured.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(captured);
    for (String name : List.of("com.mingus.reliability.plaid", "io.vertx", "io.netty")) {
      Logger logger = context.getLogger(name);
      previousLevels.put(name, logger.getLevel());
      logger.setLevel(Level.DEBUG);
    }
  }

  @AfterEach
  void release() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(captured);
    previousLevels.forEach((name, level) -> context.getLogger(name).setLevel(level));
  }

  @Test
  void noTokenInLogsMessagesFailuresOrToStrings(Vertx vertx, VertxTestContext ctx) {
    ScriptedPlaid.start(vertx).onComplete(ctx.succeeding(server -> {
      server.on("/item/public_token/exchange", json(200, new JsonObject().put("access_token", TOKEN)
          .put("item_id", "item-1").put("request_id", "r1")));
      server.on("/transactions/sync", json(200, new JsonObject().put("added", new JsonArray()).put("modified", new JsonArray())
          .put("removed", new JsonArray()).put("accounts", new JsonArray()).put("next_cursor", "c").put("has_more", false)
          .put("transactions_update_status", "HISTORICAL_UPDATE_COMPLETE").put("request_id", "r2")));
      // A server that echoes the token back in its error, as a careless or hostile one might.
      server.on("/item/get", json(400, new JsonObject().put("error_type", "INVALID_INPUT").put("error_code", "INVALID_ACCESS_TOKEN")
          .put("error_message", "provided token " + TOKEN + " is not valid").put("display_message", "token " + TOKEN)
          .put("request_id", "r3")));
      server.on("/accounts/get", hang());
      server.on("/accounts/balance/get", closeMidResponse());
      server.on("/transactions/refresh", raw(200, "text/plain", "echo " + TOKEN));
      server.on("/sandbox/item/reset_login", raw(502, "text/html", "<p>" + TOKEN + "</p>"));
      PlaidClient client = PlaidClient.create(vertx, PlaidClientFailuresTest.config(server.baseUrl(), 500, 5_000));

      List<Future<?>> calls = List.of(
          client.exchangePublicToken(PUBLIC_TOKEN),
          client.syncTransactions(TOKEN, null, 100),
          client.getItem(TOKEN),
          client.getAccounts(TOKEN),
          client.getBalances(TOKEN, List.of()),
          client.refreshTransactions(TOKEN),
          client.resetSandboxLogin(TOKEN),
          client.createUpdateLinkToken(LinkUpdateRequest.of(TOKEN, "MINGUS", "user-1")));
      Future.join(calls).onComplete(done -> ctx.verify(() -> {
        List<String> texts = new ArrayList<>();
        int failures = 0;
        for (Future<?> call : calls) {
          if (call.succeeded()) {
            texts.add(String.valueOf(call.result()));
          } else {
            failures++;
            Throwable failure = call.cause();
            assertThat(failure).isInstanceOf(PlaidException.class);
            for (Throwable t = failure; t != null; t = t.getCause()) {
              texts.add(String.valueOf(t));
              texts.add(String.valueOf(t.getMessage()));
            }
            PlaidException plaid = (PlaidException) failure;
            texts.add(plaid.toFailure().toJson().encode());
            if (plaid.error() != null) {
              texts.add(plaid.error().toJson().encode());
              texts.add(String.valueOf(plaid.error()));
            }
          }
        }
        assertThat(failures).isEqualTo(6);
        texts.add(new SyncRequest(TOKEN, "c", 100).toString());
        texts.add(LinkUpdateRequest.of(TOKEN, "MINGUS", "user-1").toString());
        texts.add(new PublicTokenExchange(TOKEN, "item-1", "r").toString());
        texts.add(new SandboxPublicToken(PUBLIC_TOKEN, "r").toString());

        List<ILoggingEvent> events = List.copyOf(captured.list);
        assertThat(events).as("the client logs each call at DEBUG").hasSizeGreaterThanOrEqualTo(calls.size());
        for (ILoggingEvent event : events) {
          texts.add(event.getFormattedMessage());
          for (IThrowableProxy proxy = event.getThrowableProxy(); proxy != null; proxy = proxy.getCause()) {
            texts.add(proxy.getClassName() + ": " + proxy.getMessage());
          }
        }
        assertThat(texts).noneMatch(text -> text.contains(TOKEN)).noneMatch(text -> text.contains(PUBLIC_TOKEN));
        client.close();
        ctx.completeNow();
      }));
    }));
  }
}
