package com.mingus.reliability.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.NotifySend;
import com.mingus.reliability.bus.SyncEvent;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * No failure reaches no one: the whole application against the sandbox, each connection's syncs failing
 * with a code after which sync stops (the sandbox's faults, the real classifier, health and notify). Each
 * user is told once per change of state, with the classifier's notification plan: a locked account is a
 * security alert, a product the bank lacks and a spent Plaid allowance are a sync-status notice saying
 * what to do; a manual retry that fails the same way tells no one twice.
 */
class NoSilentFailureTest {
  private static final String BANK = "ins_silent";
  private static Application app;
  private static SandboxControl sandbox;
  private static final List<NotifySend> notifications = new CopyOnWriteArrayList<>();
  private static final List<SyncEvent> failures = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    app = TestApp.start(TestDatabase.fresh(NoSilentFailureTest.class), Map.of(), Map.of(
        "sync.poll_interval_ms", 200,
        "health.coalesce_ms", 50));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution(BANK, "Silent Bank");
    app.vertx().eventBus().<SyncEvent>consumer(Addresses.SYNC_FAILED, message -> failures.add(message.body()));
    app.vertx().eventBus().addOutboundInterceptor(context -> {
      if (Addresses.NOTIFY_SEND.equals(context.message().address()) && context.message().body() instanceof NotifySend send) {
        notifications.add(send);
      }
      context.next();
    });
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void aSyncThatStopsTellsItsUserOnceWithThePlansTypeAndWhatToDo() {
    String locked = failing("user-locked", "ITEM_ERROR", "ITEM_LOCKED", 400);
    String product = failing("user-product", "ITEM_ERROR", "PRODUCTS_NOT_SUPPORTED", 400);
    String credits = failing("user-credits", "RATE_LIMIT_EXCEEDED", "CREDITS_EXHAUSTED", 429);

    JsonObject alert = told(locked);
    assertThat(alert.getString("type")).isEqualTo("security_alert");
    assertThat(alert.getString("priority")).isEqualTo("high");
    assertThat(alert.getJsonObject("data").getString("kind")).isEqualTo("security_alert");
    assertThat(alert.getJsonObject("data").getString("action_required_text")).contains("Unlock it with your bank");

    JsonObject unsupported = told(product);
    assertThat(unsupported.getString("type")).isEqualTo("data_sync_status");
    assertThat(unsupported.getJsonObject("data").getString("kind")).isEqualTo("sync_failed");
    assertThat(unsupported.getJsonObject("data").getString("status")).isEqualTo("error");

    JsonObject spent = told(credits);
    assertThat(spent.getJsonObject("data").getString("kind")).isEqualTo("sync_failed");
    assertThat(spent.getJsonObject("data").getString("action_required_text")).contains("contact support");

    // a manual retry while nothing changed: the same failure, nobody told twice
    for (String connection : List.of(product, credits)) {
      int failed = failuresOf(connection);
      Await.result(Bus.request(app.vertx(), Addresses.SYNC_RETRY,
          new JsonObject().put("user_id", userOf(connection)).put("connection_id", connection), 5_000));
      Await.until(() -> failuresOf(connection) > failed, Duration.ofSeconds(20), "the repeated sync fails again");
    }
    Await.holds(() -> List.of(locked, product, credits).stream().allMatch(connection -> noticesOf(connection).size() == 1),
        Duration.ofMillis(1_000), "one notice each, and no more for the repeated failures");
  }

  /** Registers a connection whose every sync fails with the code; answers its id. */
  private static String failing(String userId, String errorType, String code, int status) {
    JsonObject item = sandbox.item(BANK, userId, 5);
    sandbox.fault(new JsonObject().put("scope", new JsonObject().put("item_id", item.getString("item_id"))
            .put("endpoint", "/transactions/sync"))
        .put("error_type", errorType).put("error_code", code).put("http_status", status).put("probability", 1.0));
    JsonObject connection = Await.result(Bus.request(app.vertx(), Addresses.SYNC_REGISTER,
        new JsonObject().put("user_id", userId).put("public_token", item.getString("public_token")), 15_000));
    return connection.getString("connection_id");
  }

  private static JsonObject told(String connectionId) {
    Await.until(() -> !noticesOf(connectionId).isEmpty(), Duration.ofSeconds(30), "a notice for " + connectionId);
    return noticesOf(connectionId).get(0).toJson();
  }

  private static List<NotifySend> noticesOf(String connectionId) {
    return notifications.stream().filter(n -> connectionId.equals(n.connectionId())).toList();
  }

  private static int failuresOf(String connectionId) {
    return (int) failures.stream().filter(f -> connectionId.equals(f.connectionId())).count();
  }

  private static String userOf(String connectionId) {
    return failures.stream().filter(f -> connectionId.equals(f.connectionId())).findFirst().orElseThrow().userId();
  }
}
