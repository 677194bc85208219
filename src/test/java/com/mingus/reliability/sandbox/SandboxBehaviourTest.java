package com.mingus.reliability.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.sandbox.SandboxHarness.Response;
import com.mingus.reliability.testsupport.Await;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The sandbox's Plaid behaviours: seeds, rate-limit windows, faults, maintenance, login repair, webhooks. */
@ExtendWith(VertxExtension.class)
class SandboxBehaviourTest {
  private static final long WINDOW_MS = 2_000;
  private Vertx vertx;
  private SandboxHarness sandbox;
  private SandboxHarness.Receiver receiver;

  @BeforeEach
  void start(Vertx vertx) {
    this.vertx = vertx;
    sandbox = SandboxHarness.start(vertx, new JsonObject().put("webhook_time_scale", 0.001));
    receiver = new SandboxHarness.Receiver(vertx);
  }

  @AfterEach
  void stop() {
    receiver.close();
    sandbox.close();
  }

  private static JsonObject token(JsonObject item) {
    return new JsonObject().put("access_token", item.getString("access_token"));
  }

  private JsonObject truth(String itemId) {
    return sandbox.control(HttpMethod.GET, "/__control/items/" + itemId + "/ground-truth", null).json();
  }

  @Test
  void theSameSeedGivesTheSameItemsAndAnotherSeedDifferentOnes() {
    JsonObject first = truth(sandbox.newItem(200, null).getString("item_id"));
    sandbox.control(HttpMethod.POST, "/__control/reset", new JsonObject().put("seed", 42));
    JsonObject again = truth(sandbox.newItem(200, null).getString("item_id"));
    sandbox.control(HttpMethod.POST, "/__control/reset", new JsonObject().put("seed", 7));
    JsonObject other = truth(sandbox.newItem(200, null).getString("item_id"));

    assertThat(again).isEqualTo(first);
    assertThat(other.getString("item_id")).isNotEqualTo(first.getString("item_id"));
    assertThat(first.getJsonArray("accounts").size()).isBetween(1, 5);
    assertThat(first.getJsonArray("transactions")).hasSize(200);
    assertThat(first.getJsonArray("transactions").stream().map(JsonObject.class::cast)
        .filter(txn -> txn.getBoolean("pending"))).isNotEmpty();
  }

  @Test
  void rateLimitsCountPerItemAndPerClientInAConfigurableWindowAndShowInStats() throws Exception {
    sandbox.control(HttpMethod.PUT, "/__control/rate-limits", new JsonObject().put("window_ms", WINDOW_MS)
        .put("/item/get", new JsonObject().put("per_minute", 5).put("per_item_per_minute", 3)));
    JsonObject a = sandbox.newItem(1, null);
    JsonObject b = sandbox.newItem(1, null);
    sandbox.control(HttpMethod.DELETE, "/__control/stats", null);
    // align to the start of a window so all six calls fall into one
    Thread.sleep(WINDOW_MS - System.currentTimeMillis() % WINDOW_MS + 20);
    int[] statuses = new int[5];
    statuses[0] = sandbox.plaid("/item/get", token(a)).status();
    statuses[1] = sandbox.plaid("/item/get", token(a)).status();
    statuses[2] = sandbox.plaid("/item/get", token(a)).status();
    Response perItem = sandbox.plaid("/item/get", token(a));
    statuses[3] = sandbox.plaid("/item/get", token(b)).status();
    statuses[4] = sandbox.plaid("/item/get", token(b)).status();
    Response perClient = sandbox.plaid("/item/get", token(b));

    assertThat(statuses).containsOnly(200);
    assertThat(perItem.status()).isEqualTo(429);
    assertThat(perItem.errorCode()).isEqualTo("ITEM_GET_LIMIT");
    assertThat(perClient.status()).isEqualTo(429);
    assertThat(perClient.json().getString("error_message")).contains("client");

    JsonObject stats = sandbox.control(HttpMethod.GET, "/__control/stats", null).json();
    assertThat(stats.getJsonObject("total")).isEqualTo(new JsonObject().put("requests", 7).put("rate_limited", 2));
    assertThat(stats.getJsonObject("endpoints").getJsonObject("/item/get").getInteger("rate_limited")).isEqualTo(2);
    assertThat(stats.getJsonObject("items").getJsonObject(a.getString("item_id")))
        .isEqualTo(new JsonObject().put("requests", 4).put("rate_limited", 1));

    Thread.sleep(WINDOW_MS - System.currentTimeMillis() % WINDOW_MS + 20);
    assertThat(sandbox.plaid("/item/get", token(a)).status()).isEqualTo(200);
  }

  @Test
  void faultsObeyScopeCountAndProbabilityAndGoAwayWhenDeleted() {
    JsonObject a = sandbox.newItem(1, null);
    JsonObject b = sandbox.newItem(1, null);
    sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject()
        .put("scope", new JsonObject().put("item_id", a.getString("item_id")).put("endpoint", "/accounts/get"))
        .put("error_type", "ITEM_ERROR").put("error_code", "ITEM_LOCKED").put("count", 2));
    assertThat(sandbox.plaid("/accounts/get", token(b)).status()).isEqualTo(200);
    assertThat(sandbox.plaid("/item/get", token(a)).status()).isEqualTo(200);
    assertThat(sandbox.plaid("/accounts/get", token(a)).errorCode()).isEqualTo("ITEM_LOCKED");
    assertThat(sandbox.plaid("/accounts/get", token(a)).errorCode()).isEqualTo("ITEM_LOCKED");
    assertThat(sandbox.plaid("/accounts/get", token(a)).status()).isEqualTo(200);

    sandbox.control(HttpMethod.PUT, "/__control/rate-limits",
        new JsonObject().put("/item/get", new JsonObject().put("per_item_per_minute", 1_000)));
    sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject()
        .put("error_type", "API_ERROR").put("error_code", "INTERNAL_SERVER_ERROR").put("probability", 0.3));
    int failed = 0;
    for (int i = 0; i < 60; i++) {
      if (sandbox.plaid("/item/get", token(b)).status() == 500) {
        failed++;
      }
    }
    assertThat(failed).isBetween(6, 36);
    sandbox.control(HttpMethod.DELETE, "/__control/faults", null);
    assertThat(sandbox.plaid("/item/get", token(b)).status()).isEqualTo(200);

    sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject().put("duration_ms", 400)
        .put("scope", new JsonObject().put("endpoint", "/item/get"))
        .put("error_type", "API_ERROR").put("error_code", "PLANNED_MAINTENANCE"));
    assertThat(sandbox.plaid("/item/get", token(b)).status()).isEqualTo(503);
    Await.until(() -> sandbox.plaid("/item/get", token(b)).status() == 200, Duration.ofSeconds(5),
        "the 400 ms fault ends by itself");

    Response invalid = sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject().put("error_type", "API_ERROR"));
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.json().getBoolean("success")).isFalse();
  }

  @Test
  void transportFaultsResetHangOrAnswerWithSomethingThatIsNotJson() {
    JsonObject item = sandbox.newItem(1, null);
    sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject().put("transport", "reset").put("count", 1));
    assertThatThrownBy(() -> sandbox.plaid("/item/get", token(item))).hasMessageContaining("closed");

    sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject().put("transport", "garbage").put("count", 1));
    Response garbage = sandbox.plaid("/item/get", token(item));
    assertThat(garbage.json()).isNull();
    assertThat(garbage.raw()).contains("<html>");

    sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject().put("transport", "hang").put("count", 1));
    WebClient impatient = WebClient.create(vertx, new WebClientOptions().setDefaultPort(sandbox.port).setDefaultHost("127.0.0.1"));
    long started = System.currentTimeMillis();
    assertThatThrownBy(() -> SandboxHarness.await(impatient.post("/item/get")
        .putHeader("PLAID-CLIENT-ID", SandboxHarness.CLIENT_ID).putHeader("PLAID-SECRET", SandboxHarness.SECRET)
        .timeout(300).sendBuffer(Buffer.buffer(token(item).encode())))).hasMessageContaining("timeout");
    assertThat(System.currentTimeMillis() - started).isGreaterThanOrEqualTo(300);
    impatient.close();

    sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject().put("latency_ms", 250).put("count", 1));
    started = System.currentTimeMillis();
    assertThat(sandbox.plaid("/item/get", token(item)).status()).isEqualTo(200);
    assertThat(System.currentTimeMillis() - started).isGreaterThanOrEqualTo(250);
  }

  @Test
  void maintenanceIsScheduledAheadThenTakesTheBankDownUntilItEnds() throws Exception {
    JsonObject item = sandbox.newItem(5, null);
    JsonObject byId = new JsonObject().put("institution_id", "ins_109508").put("country_codes", new JsonArray().add("US"))
        .put("options", new JsonObject().put("include_status", true));
    Instant from = Instant.now().plusMillis(2_000);
    sandbox.control(HttpMethod.POST, "/__control/institutions/ins_109508/maintenance", new JsonObject()
        .put("from", from.toString()).put("until", from.plusMillis(1_000).toString()));

    JsonObject scheduled = sandbox.plaid("/institutions/get_by_id", byId).json().getJsonObject("institution").getJsonObject("status");
    assertThat(scheduled.getJsonObject("item_logins").getString("status")).isEqualTo("HEALTHY");
    assertThat(scheduled.getJsonArray("health_incidents").getJsonObject(0).getJsonArray("incident_updates")
        .getJsonObject(0).getString("status")).isEqualTo("SCHEDULED");
    assertThat(sandbox.plaid("/transactions/sync", token(item)).status()).isEqualTo(200);

    AtomicReference<Response> answer = new AtomicReference<>();
    Await.until(() -> {
      answer.set(sandbox.plaid("/transactions/sync", token(item)));
      return answer.get().status() != 200;
    }, Duration.ofSeconds(10), "the window begins");
    assertThat(Instant.now()).as("not before the window").isAfterOrEqualTo(from);
    Response down = answer.get();
    assertThat(down.errorCode()).isEqualTo("INSTITUTION_DOWN");
    assertThat(down.json().getString("display_message")).isNotBlank();
    JsonObject during = sandbox.plaid("/institutions/get_by_id", byId).json().getJsonObject("institution").getJsonObject("status");
    assertThat(during.getJsonObject("transactions_updates").getString("status")).isEqualTo("DOWN");
    assertThat(during.getJsonObject("transactions_updates").getJsonObject("breakdown").getString("refresh_interval"))
        .isEqualTo("STOPPED");
    JsonObject other = sandbox.newItem(new JsonObject().put("institution_id", "ins_109511").put("transactions", 1));
    assertThat(sandbox.plaid("/transactions/sync", token(other)).status()).isEqualTo(200);

    Await.until(() -> sandbox.plaid("/transactions/sync", token(item)).status() == 200, Duration.ofSeconds(10),
        "the window ends");
    assertThat(Instant.now()).as("not before the window's end").isAfterOrEqualTo(from.plusMillis(1_000));
    JsonObject after = sandbox.plaid("/institutions/get_by_id", byId).json().getJsonObject("institution").getJsonObject("status");
    assertThat(after.getJsonObject("item_logins").getString("status")).isEqualTo("HEALTHY");
    assertThat(after.getJsonArray("health_incidents").getJsonObject(0).getString("end_date")).isNotNull();
  }

  @Test
  void maintenanceWithNoEndSaysNoneAndLastsUntilItIsEnded() throws Exception {
    JsonObject item = sandbox.newItem(new JsonObject().put("institution_id", "ins_109512").put("transactions", 1));
    JsonObject byId = new JsonObject().put("institution_id", "ins_109512").put("country_codes", new JsonArray().add("US"))
        .put("options", new JsonObject().put("include_status", true));
    sandbox.control(HttpMethod.POST, "/__control/institutions/ins_109512/maintenance", new JsonObject());

    assertThat(sandbox.plaid("/transactions/sync", token(item)).errorCode()).isEqualTo("INSTITUTION_DOWN");
    JsonObject incident = sandbox.plaid("/institutions/get_by_id", byId).json().getJsonObject("institution")
        .getJsonObject("status").getJsonArray("health_incidents").getJsonObject(0);
    assertThat(incident.getString("end_date")).as("no end known").isNull();
    assertThat(incident.getJsonArray("incident_updates").stream().map(u -> ((JsonObject) u).getString("description")))
        .as("no update names an end").noneMatch(text -> text.contains("until"));
    Await.holds(() -> "INSTITUTION_DOWN".equals(sandbox.plaid("/transactions/sync", token(item)).errorCode()),
        Duration.ofMillis(300), "still down with no end");

    sandbox.control(HttpMethod.DELETE, "/__control/institutions/ins_109512/maintenance", null);
    assertThat(sandbox.plaid("/transactions/sync", token(item)).status()).isEqualTo(200);
    assertThat(sandbox.plaid("/institutions/get_by_id", byId).json().getJsonObject("institution").getJsonObject("status")
        .getJsonArray("health_incidents").getJsonObject(0).getString("end_date")).as("ended now").isNotNull();
    Response backwards = sandbox.control(HttpMethod.POST, "/__control/institutions/ins_109512/maintenance",
        new JsonObject().put("from", Instant.now().toString()).put("until", Instant.now().minusSeconds(5).toString()));
    assertThat(backwards.status()).isEqualTo(400);
  }

  @Test
  void resetLoginParksTheItemUntilUpdateModeRepairsItWithWebhooksOnBothSides() {
    JsonObject item = sandbox.newItem(10, receiver.url());
    String itemId = item.getString("item_id");
    sandbox.plaid("/sandbox/item/reset_login", token(item));
    JsonObject error = receiver.next("ERROR").json();
    assertThat(error.getJsonObject("error").getString("error_code")).isEqualTo("ITEM_LOGIN_REQUIRED");
    assertThat(error.getJsonObject("error").getInteger("status")).isEqualTo(400);
    for (String endpoint : new String[] {"/accounts/get", "/accounts/balance/get", "/transactions/sync", "/transactions/refresh"}) {
      assertThat(sandbox.plaid(endpoint, token(item)).errorCode()).as(endpoint).isEqualTo("ITEM_LOGIN_REQUIRED");
    }
    assertThat(sandbox.plaid("/item/get", token(item)).json().getJsonObject("status").getJsonObject("transactions")
        .getString("last_failed_update")).isNotNull();

    Response link = sandbox.plaid("/link/token/create", new JsonObject().put("client_name", "MINGUS").put("language", "en")
        .put("country_codes", new JsonArray().add("US")).put("user", new JsonObject().put("client_user_id", "u1"))
        .put("access_token", item.getString("access_token")));
    assertThat(link.json().getString("link_token")).startsWith("link-sandbox-");
    Response repaired = sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/repair-login", new JsonObject());
    assertThat(repaired.json().getBoolean("repaired")).isTrue();
    assertThat(receiver.next("LOGIN_REPAIRED").json().getString("item_id")).isEqualTo(itemId);
    assertThat(sandbox.plaid("/transactions/sync", token(item)).status()).isEqualTo(200);
  }

  @Test
  void syncUpdatesAvailableStartsAfterTheFirstSyncAndFollowsEveryChange() {
    JsonObject item = sandbox.newItem(10, receiver.url());
    String itemId = item.getString("item_id");
    Response before = sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/transactions",
        new JsonObject().put("added", 1));
    assertThat(before.json().getBoolean("webhook_fired")).isFalse();

    sandbox.sync(item.getString("access_token"), null, 100);
    sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/transactions", new JsonObject().put("added", 2));
    JsonObject webhook = receiver.next().json();
    assertThat(webhook.getString("webhook_type")).isEqualTo("TRANSACTIONS");
    assertThat(webhook.getString("webhook_code")).isEqualTo("SYNC_UPDATES_AVAILABLE");
    assertThat(webhook.getBoolean("initial_update_complete")).isTrue();
    assertThat(webhook.getBoolean("historical_update_complete")).isTrue();
    assertThat(webhook.getString("environment")).isEqualTo("sandbox");

    sandbox.plaid("/transactions/refresh", token(item));
    assertThat(receiver.next().json().getString("webhook_code")).isEqualTo("SYNC_UPDATES_AVAILABLE");
  }

  @Test
  void webhooksToASlowReceiverGoOutTogetherNotQueuedBehindEachOther() {
    // a receiver that answers nothing until 20 webhooks are in: with the HTTP client's default pool of 5
    // connections the sixth would wait for an answer that never comes (as Plaid does not: each is sent on its own)
    int webhooks = 20;
    java.util.List<io.vertx.core.http.HttpServerRequest> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    io.vertx.core.http.HttpServer slow = SandboxHarness.await(vertx.createHttpServer().requestHandler(request -> {
      held.add(request);
      if (held.size() == webhooks) {
        held.forEach(r -> r.response().setStatusCode(200).end());
      }
    }).listen(0, "127.0.0.1"));
    try {
      JsonObject item = sandbox.newItem(5, "http://127.0.0.1:" + slow.actualPort() + "/api/plaid/webhook");
      String itemId = item.getString("item_id");
      sandbox.sync(item.getString("access_token"), null, 100);
      for (int i = 0; i < webhooks; i++) {
        sandbox.control(HttpMethod.POST, "/__control/items/" + itemId + "/transactions", new JsonObject().put("added", 1));
      }
      Supplier<JsonArray> deliveries = () -> sandbox.control(HttpMethod.GET, "/__control/items/" + itemId + "/webhooks", null)
          .json().getJsonArray("webhooks");
      // well inside the 10 s webhook timeout, so no attempt can have timed out and been sent again
      Await.until(() -> deliveries.get().stream().filter(d -> "delivered".equals(((JsonObject) d).getString("state")))
          .count() == webhooks, Duration.ofSeconds(8), "all 20 webhooks answered together");
      assertThat(held).hasSize(webhooks);
      assertThat(deliveries.get()).allSatisfy(d -> assertThat(((JsonObject) d).getJsonArray("attempts")).hasSize(1));
    } finally {
      SandboxHarness.await(slow.close());
    }
  }

  @Test
  void aFailingReceiverGetsRedeliveriesOnPlaidsScheduleUntilItAnswers200() throws Exception {
    receiver.failuresLeft.set(3);
    JsonObject item = sandbox.newItem(1, receiver.url());
    long started = System.currentTimeMillis();
    sandbox.plaid("/sandbox/item/fire_webhook", token(item).put("webhook_code", "NEW_ACCOUNTS_AVAILABLE"));
    for (int i = 0; i < 4; i++) {
      receiver.next();
    }
    // at a time scale of 0.001 the waits are 30, 120 and 480 ms
    assertThat(System.currentTimeMillis() - started).isGreaterThanOrEqualTo(630);
    Supplier<JsonObject> firstDelivery = () -> sandbox.control(HttpMethod.GET,
        "/__control/items/" + item.getString("item_id") + "/webhooks", null).json().getJsonArray("webhooks").getJsonObject(0);
    Await.until(() -> "delivered".equals(firstDelivery.get().getString("state")), Duration.ofSeconds(5),
        "the sandbox records the delivery");
    JsonObject delivery = firstDelivery.get();
    assertThat(delivery.getJsonArray("attempts")).hasSize(4);
    assertThat(delivery.getJsonArray("attempts").getJsonObject(0).getInteger("status")).isEqualTo(500);
  }

  @Test
  void beforeTheInitialPullSyncAnswersNotReadyThenAWebhookSaysTheDataAreThere() {
    JsonObject item = sandbox.newItem(new JsonObject().put("institution_id", "ins_109510").put("transactions", 40)
        .put("webhook", receiver.url()).put("ready_after_ms", 400));
    Response early = sandbox.plaid("/transactions/sync", token(item));
    assertThat(early.status()).isEqualTo(200);
    com.mingus.reliability.testsupport.PlaidSchema.assertValid("TransactionsSyncResponse", early.raw());
    assertThat(early.json().getString("transactions_update_status")).isEqualTo("NOT_READY");
    assertThat(early.json().getJsonArray("added")).isEmpty();
    assertThat(early.json().getString("next_cursor")).isEmpty();

    assertThat(receiver.next().json().getString("webhook_code")).isEqualTo("SYNC_UPDATES_AVAILABLE");
    JsonObject ready = sandbox.sync(item.getString("access_token"), early.json().getString("next_cursor"), 100);
    assertThat(ready.getString("transactions_update_status")).isEqualTo("HISTORICAL_UPDATE_COMPLETE");
    assertThat(ready.getJsonArray("added")).hasSize(40);
  }

  @Test
  void aReceiverThatNeverAnswers200IsGivenUpAfterPlaidsTwentyFourHoursOfRetries() throws Exception {
    // at 1/100,000 of real time, 24 hours are 864 ms: 30 s, 2, 8, 32, 128 and 512 min fit, 2,048 min does not
    sandbox.control(HttpMethod.PUT, "/__control/webhooks", new JsonObject().put("time_scale", 0.00001));
    receiver.failuresLeft.set(1_000);
    JsonObject item = sandbox.newItem(1, receiver.url());
    sandbox.plaid("/sandbox/item/fire_webhook", token(item).put("webhook_code", "NEW_ACCOUNTS_AVAILABLE"));
    Supplier<JsonObject> firstDelivery = () -> sandbox.control(HttpMethod.GET,
        "/__control/items/" + item.getString("item_id") + "/webhooks", null).json().getJsonArray("webhooks").getJsonObject(0);
    Await.until(() -> !"pending".equals(firstDelivery.get().getString("state")), Duration.ofSeconds(5),
        "the sandbox gives up");
    JsonObject delivery = firstDelivery.get();
    assertThat(delivery.getString("state")).isEqualTo("failed");
    assertThat(delivery.getJsonArray("attempts")).hasSize(7);
  }

  @Test
  void aFaultScopedToABankShowsItDegradedInItsStatus() {
    JsonObject byId = new JsonObject().put("institution_id", "ins_109512").put("country_codes", new JsonArray().add("US"))
        .put("options", new JsonObject().put("include_status", true));
    sandbox.control(HttpMethod.POST, "/__control/faults", new JsonObject().put("scope", new JsonObject()
        .put("institution_id", "ins_109512")).put("error_type", "INSTITUTION_ERROR").put("error_code", "INSTITUTION_NOT_RESPONDING"));
    JsonObject status = sandbox.plaid("/institutions/get_by_id", byId).json().getJsonObject("institution").getJsonObject("status");
    assertThat(status.getJsonObject("item_logins").getString("status")).isEqualTo("DEGRADED");
    sandbox.control(HttpMethod.DELETE, "/__control/faults", null);
    status = sandbox.plaid("/institutions/get_by_id", byId).json().getJsonObject("institution").getJsonObject("status");
    assertThat(status.getJsonObject("item_logins").getString("status")).isEqualTo("HEALTHY");
  }

  @Test
  void aSlidingWindowAllowsNoMoreThanTheLimitInAnyWindowLongInterval() throws Exception {
    Response limits = sandbox.control(HttpMethod.PUT, "/__control/rate-limits", new JsonObject().put("window_ms", 1_000)
        .put("window_kind", "sliding").put("/item/get", new JsonObject().put("per_minute", 3).putNull("per_item_per_minute")));
    assertThat(limits.json().getString("window_kind")).isEqualTo("sliding");
    JsonObject item = sandbox.newItem(1, null);
    long first = System.currentTimeMillis();
    for (int i = 0; i < 3; i++) {
      assertThat(sandbox.plaid("/item/get", token(item)).status()).isEqualTo(200);
    }
    assertThat(sandbox.plaid("/item/get", token(item)).status()).isEqualTo(429);
    // past any fixed boundary, but still within one window of the first three calls
    Thread.sleep(600);
    assertThat(sandbox.plaid("/item/get", token(item)).status()).isEqualTo(429);
    Thread.sleep(Math.max(0, first + 1_100 - System.currentTimeMillis()));
    assertThat(sandbox.plaid("/item/get", token(item)).status()).isEqualTo(200);
  }
}
