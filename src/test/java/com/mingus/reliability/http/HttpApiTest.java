package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every REST endpoint's success and error answers, against the whole application and the sandbox. */
class HttpApiTest {
  private static Application app;
  private static SandboxControl sandbox;
  private static ApiCaller alice;
  private static ApiCaller bob;
  private static ApiCaller operator;
  private static String aliceConnection;
  private static String bobConnection;
  private static String bobNotification;

  @BeforeAll
  static void start() {
    app = TestApp.start(TestDatabase.fresh(HttpApiTest.class), Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET), Map.of(
        "sync.poll_interval_ms", 200,
        "http.rate_limit.per_second", 50,
        "http.rate_limit.burst", 200));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_http_a", "Alpha Bank");
    alice = ApiCaller.user(app, "alice");
    bob = ApiCaller.user(app, "bob");
    operator = ApiCaller.admin(app, "olivia");
    aliceConnection = register(alice, "ins_http_a");
    bobConnection = register(bob, "ins_http_a");
    Http.Response test = bob.post("/api/reliability/notifications/send-test",
        new JsonObject().put("type", "data_sync_status").put("channels", new JsonArray().add("in_app")));
    assertThat(test.status()).as(test.body()).isEqualTo(200);
    bobNotification = test.json().getString("notification_id");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static String register(ApiCaller user, String institutionId) {
    JsonObject item = sandbox.item(institutionId, user.userId, 30);
    Http.Response created = user.post("/api/reliability/connections", new JsonObject().put("public_token", item.getString("public_token")));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    JsonObject connection = created.json().getJsonObject("connection");
    assertThat(connection.fieldNames()).contains("connection_id", "item_id", "institution_id", "institution_name", "status");
    assertThat(connection.getString("item_id")).isEqualTo(item.getString("item_id"));
    assertThat(connection.getString("institution_name")).isEqualTo("Alpha Bank");
    return connection.getString("connection_id");
  }

  @Test
  void registeringAConnectionAnswers201AndDeletingItRemovesItEverywhere() {
    String id = register(alice, "ins_http_a");
    Http.Response health = alice.get("/api/reliability/connections/" + id + "/health");
    assertThat(health.status()).isEqualTo(200);
    // removed once its first sync is done: a DELETE racing the first sync can meet a database deadlock in
    // sync scheduling (reported to sync's owner), which is not what this test is about
    Await.until(() -> alice.get("/api/reliability/connections/" + id + "/sync-status").body().contains("\"status\":\"success\""),
        Duration.ofSeconds(15), "the first sync completes");

    Http.Response removed = alice.delete("/api/reliability/connections/" + id);
    assertThat(removed.status()).as(removed.body()).isEqualTo(200);
    assertThat(removed.json().getBoolean("removed")).isTrue();
    assertThat(ApiCaller.errorCode(alice.delete("/api/reliability/connections/" + id))).isEqualTo("NOT_FOUND");
    Await.until(() -> alice.get("/api/reliability/connections/" + id + "/health").status() == 404, Duration.ofSeconds(10),
        "the removed connection's health is gone");
  }

  @Test
  void aPublicTokenPlaidRefusesIsAnUpstreamErrorAndAMissingOneIsInvalid() {
    Http.Response bad = alice.post("/api/reliability/connections", new JsonObject().put("public_token", "public-sandbox-not-a-token"));
    assertThat(bad.status()).isIn(400, 502);
    assertThat(ApiCaller.errorCode(alice.post("/api/reliability/connections", new JsonObject()))).isEqualTo("INVALID_REQUEST");
    assertThat(ApiCaller.errorCode(alice.post("/api/reliability/connections", new JsonObject().put("public_token", 5)))).isEqualTo("INVALID_REQUEST");
  }

  @Test
  void connectionsHealthListsOnlyTheCallersConnectionsWithTheSeedsFieldsAndCounts() {
    Http.Response response = alice.get("/api/reliability/connections/health");
    assertThat(response.status()).isEqualTo(200);
    JsonObject body = response.json();
    assertThat(body.getBoolean("success")).isTrue();
    assertThat(body.fieldNames()).contains("connections", "total_connections", "healthy_connections",
        "degraded_connections", "error_connections");
    List<String> ids = new ArrayList<>();
    for (Object c : body.getJsonArray("connections")) {
      JsonObject connection = (JsonObject) c;
      ids.add(connection.getString("connection_id"));
      assertThat(connection.fieldNames()).contains("connection_id", "institution_name", "status", "last_successful_sync",
          "sync_failure_count", "maintenance_mode", "requires_reauth");
    }
    assertThat(ids).contains(aliceConnection).doesNotContain(bobConnection);
    assertThat(body.getInteger("total_connections")).isEqualTo(ids.size());
    assertThat(body.getInteger("healthy_connections") + body.getInteger("degraded_connections")
        + body.getInteger("error_connections")).isEqualTo(ids.size());
  }

  @Test
  void oneConnectionsHealthCarriesTheSeedsConnectionHealthFields() {
    Http.Response response = alice.get("/api/reliability/connections/" + aliceConnection + "/health");
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    JsonObject connection = response.json().getJsonObject("connection");
    assertThat(connection.fieldNames()).contains("connection_id", "status", "last_successful_sync", "last_error",
        "sync_failure_count", "consecutive_failures", "maintenance_mode", "maintenance_until", "retry_attempts",
        "next_retry", "institution_name", "requires_reauth");
    assertThat(connection.getString("status")).isIn("active", "degraded", "error", "rate_limited", "maintenance",
        "requires_reauth", "pending_expiration", "disconnected");
  }

  @Test
  void retryRequeuesTheSyncAndCountsRetries() {
    Http.Response first = alice.post("/api/reliability/connections/" + aliceConnection + "/retry", null);
    assertThat(first.status()).as(first.body()).isEqualTo(200);
    JsonObject body = first.json();
    assertThat(body.getBoolean("success")).isTrue();
    assertThat(body.getString("message")).isNotBlank();
    assertThat(body.getInteger("retry_count")).isPositive();
    assertThat(body.getString("last_retry_attempt")).isNotBlank();
    Http.Response second = alice.post("/api/reliability/connections/" + aliceConnection + "/retry", null);
    assertThat(second.json().getInteger("retry_count")).isEqualTo(body.getInteger("retry_count") + 1);
  }

  @Test
  void reconnectAnswersALinkTokenInUpdateMode() {
    Http.Response response = alice.post("/api/reliability/connections/" + aliceConnection + "/reconnect", null);
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    assertThat(response.json().getString("link_token")).startsWith("link-");
    assertThat(response.json().getString("mode")).isEqualTo("update");
    assertThat(response.json().getString("expiration")).isNotBlank();
  }

  @Test
  void syncNowQueuesASyncThatSyncStatusThenShows() {
    Http.Response queued = alice.post("/api/reliability/connections/" + aliceConnection + "/sync-now", null);
    assertThat(queued.status()).as(queued.body()).isEqualTo(202);
    String syncId = queued.json().getString("sync_id");
    assertThat(syncId).isNotBlank();
    Http.Response status = Http.await(app.httpPort(), "/none", r -> true, Duration.ZERO);
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    do {
      status = alice.get("/api/reliability/connections/" + aliceConnection + "/sync-status");
      if (status.body().contains(syncId)) {
        break;
      }
      sleep(200);
    } while (System.nanoTime() < deadline);
    assertThat(status.status()).isEqualTo(200);
    JsonObject body = status.json();
    assertThat(body.fieldNames()).contains("connection_id", "institution_name", "last_sync_at", "sync_logs",
        "reliability_stats", "requires_reauth", "maintenance_mode");
    assertThat(body.getJsonObject("reliability_stats").fieldNames()).contains("total_syncs", "successful_syncs",
        "failed_syncs", "success_rate");
    assertThat(body.encode()).contains(syncId);
    assertThat(ApiCaller.errorCode(alice.get("/api/reliability/connections/" + aliceConnection + "/sync-status?days=0")))
        .isEqualTo("INVALID_REQUEST");
  }

  @Test
  void transactionsArePagedWithACursor() {
    Await.until(() -> alice.get("/api/reliability/connections/" + aliceConnection + "/transactions?limit=500")
        .json().getJsonArray("transactions").size() == 30, Duration.ofSeconds(20), "the first sync stores every transaction");
    Http.Response page = alice.get("/api/reliability/connections/" + aliceConnection + "/transactions?limit=20");
    assertThat(page.status()).isEqualTo(200);
    JsonObject body = page.json();
    assertThat(body.getJsonArray("transactions")).hasSize(20);
    assertThat(body.getBoolean("has_more")).isTrue();
    JsonObject first = body.getJsonArray("transactions").getJsonObject(0);
    assertThat(first.fieldNames()).contains("transaction_id", "account_id", "amount", "date", "pending", "name");
    Http.Response next = alice.get("/api/reliability/connections/" + aliceConnection + "/transactions?limit=20&cursor="
        + body.getString("next_cursor"));
    assertThat(next.json().getJsonArray("transactions")).hasSize(10);
    assertThat(next.json().getBoolean("has_more")).isFalse();
    assertThat(ApiCaller.errorCode(alice.get("/api/reliability/connections/" + aliceConnection + "/transactions?limit=0"))).isEqualTo("INVALID_REQUEST");
    assertThat(ApiCaller.errorCode(alice.get("/api/reliability/connections/" + aliceConnection + "/transactions?since=yesterday"))).isEqualTo("INVALID_REQUEST");
    assertThat(ApiCaller.errorCode(alice.get("/api/reliability/connections/" + aliceConnection + "/transactions?cursor=forged"))).isEqualTo("INVALID_REQUEST");
  }

  @Test
  void sendTestDeliversOnTheNamedChannelsAndTheNotificationCanBeListedAndRead() {
    Http.Response sent = alice.post("/api/reliability/notifications/send-test",
        new JsonObject().put("type", "plaid_connection_issue").put("channels", new JsonArray().add("email").add("in_app")));
    assertThat(sent.status()).as(sent.body()).isEqualTo(200);
    JsonObject body = sent.json();
    assertThat(body.getBoolean("success")).isTrue();
    assertThat(body.getString("message")).isNotBlank();
    JsonArray results = body.getJsonArray("delivery_results");
    assertThat(results).hasSize(2);
    for (Object r : results) {
      assertThat(((JsonObject) r).fieldNames()).contains("channel", "success", "message");
    }

    Http.Response list = alice.get("/api/reliability/notifications");
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.json().fieldNames()).contains("notifications", "unread_count");
    JsonObject notification = list.json().getJsonArray("notifications").getJsonObject(0);
    assertThat(notification.fieldNames()).contains("id", "type", "priority", "title", "message", "connection_id", "read", "created_at");
    assertThat(notification.getString("type")).isEqualTo("plaid_connection_issue");
    int unread = list.json().getInteger("unread_count");
    assertThat(unread).isPositive();

    Http.Response read = alice.post("/api/reliability/notifications/" + notification.getString("id") + "/read", null);
    assertThat(read.status()).as(read.body()).isEqualTo(200);
    assertThat(read.json().getJsonObject("notification").getBoolean("read")).isTrue();
    assertThat(alice.get("/api/reliability/notifications").json().getInteger("unread_count")).isEqualTo(unread - 1);

    assertThat(ApiCaller.errorCode(alice.post("/api/reliability/notifications/send-test",
        new JsonObject().put("type", "not_a_type")))).isEqualTo("INVALID_REQUEST");
    assertThat(ApiCaller.errorCode(alice.post("/api/reliability/notifications/send-test",
        new JsonObject().put("channels", new JsonArray().add("pigeon"))))).isEqualTo("INVALID_REQUEST");
    assertThat(ApiCaller.errorCode(alice.get("/api/reliability/notifications?limit=100000"))).isEqualTo("INVALID_REQUEST");
  }

  @Test
  void preferencesAreTheCallersOwnAndRoundTrip() {
    Http.Response put = alice.put("/api/reliability/notifications/preferences", new JsonObject()
        .put("time_zone", "Europe/Berlin").put("quiet_hours", new JsonObject().put("start", "22:00").put("end", "07:00"))
        .put("email", "alice@example.com").put("user_id", "bob"));
    assertThat(put.status()).as(put.body()).isEqualTo(200);
    JsonObject prefs = alice.get("/api/reliability/notifications/preferences").json().getJsonObject("preferences");
    assertThat(prefs.getString("time_zone")).isEqualTo("Europe/Berlin");
    assertThat(prefs.getString("email")).isEqualTo("alice@example.com");
    assertThat(bob.get("/api/reliability/notifications/preferences").json().getJsonObject("preferences")
        .getString("email")).isNotEqualTo("alice@example.com");
    assertThat(ApiCaller.errorCode(alice.put("/api/reliability/notifications/preferences",
        new JsonObject().put("quiet_hours", new JsonObject().put("start", "late"))))).isEqualTo("INVALID_REQUEST");
  }

  @Test
  void institutionsRateLimitsAndFeedTicketsAnswerAnyUser() {
    Http.Response institutions = alice.get("/api/reliability/institutions");
    assertThat(institutions.status()).isEqualTo(200);
    assertThat(institutions.json().getJsonArray("institutions").encode()).contains("ins_http_a");
    Http.Response limits = alice.get("/api/reliability/rate-limits");
    assertThat(limits.status()).isEqualTo(200);
    assertThat(limits.json().getJsonObject("rate_limits").getJsonObject("endpoints").fieldNames()).contains("/transactions/sync");
    Http.Response ticket = alice.post("/api/reliability/feed/ticket", null);
    assertThat(ticket.status()).isEqualTo(200);
    assertThat(ticket.json().getString("ticket")).hasSizeGreaterThan(30);
    assertThat(ticket.json().getInteger("expires_in")).isBetween(1, 59);
  }

  @Test
  void operatorEndpointsAnswerOperatorsAndRefuseUsersWith403() {
    Http.Response overview = operator.get("/api/reliability/metrics/overview");
    assertThat(overview.status()).as(overview.body()).isEqualTo(200);
    assertThat(overview.json().fieldNames()).contains("connections", "sync", "reliability_score");
    assertThat(overview.json().getJsonObject("connections").fieldNames()).contains("total", "active", "with_errors",
        "in_maintenance", "require_reauth", "health_rate");

    Http.Response metrics = operator.get("/api/reliability/metrics/connections/" + bobConnection);
    assertThat(metrics.status()).as(metrics.body()).isEqualTo(200);
    assertThat(metrics.json().getString("connection_id")).isEqualTo(bobConnection);
    assertThat(ApiCaller.errorCode(operator.get("/api/reliability/metrics/connections/conn_missing"))).isEqualTo("NOT_FOUND");

    Http.Response all = operator.get("/api/admin/connections");
    assertThat(all.status()).isEqualTo(200);
    assertThat(all.json().getJsonArray("connections").encode()).contains(aliceConnection, bobConnection);
    Http.Response logs = operator.get("/api/admin/connections/" + bobConnection + "/sync-status");
    assertThat(logs.status()).as(logs.body()).isEqualTo(200);
    assertThat(logs.json().fieldNames()).contains("sync_logs", "reliability_stats", "requires_reauth", "maintenance_mode");
    Http.Response mail = operator.get("/api/admin/mail");
    assertThat(mail.status()).isEqualTo(200);
    assertThat(mail.json().getJsonArray("messages")).isNotNull();

    // a user sees their own connection's metrics; another's is 404 (in the sweep below)
    Http.Response own = alice.get("/api/reliability/metrics/connections/" + aliceConnection);
    assertThat(own.status()).as(own.body()).isEqualTo(200);
    for (String path : List.of("/api/reliability/metrics/overview", "/api/admin/connections", "/api/admin/mail",
        "/api/admin/connections/" + aliceConnection + "/sync-status",
        "/api/admin/connections/" + aliceConnection + "/reconciliations")) {
      Http.Response refused = alice.get(path);
      assertThat(refused.status()).as(path).isEqualTo(403);
      assertThat(ApiCaller.errorCode(refused)).isEqualTo("FORBIDDEN");
    }
    Http.Response reconcile = alice.post("/api/admin/connections/" + aliceConnection + "/reconcile", new JsonObject());
    assertThat(reconcile.status()).as("a user cannot ask for a reconciliation").isEqualTo(403);

    // the operator's notification actions: any notification's deliveries; users are refused all of them
    Http.Response deliveries = operator.get("/api/admin/notifications/" + bobNotification + "/deliveries");
    assertThat(deliveries.status()).as(deliveries.body()).isEqualTo(200);
    assertThat(deliveries.json().getJsonArray("deliveries").encode()).contains("\"channel\":\"in_app\"");
    assertThat(operator.get("/api/admin/notifications/dead-letters").status()).isEqualTo(200);
    assertThat(operator.get("/api/admin/notifications/templates").status()).isEqualTo(200);
    for (String[] route : routes(aliceConnection, bobNotification)) {
      if (!route[1].startsWith("/api/admin/notifications/")) {
        continue;
      }
      Http.Response refusedAction = alice.call(route[0], route[1], route[0].equals("GET") ? null
          : new JsonObject().put("body", "Taken over: {detail}"));
      assertThat(refusedAction.status()).as(route[0] + " " + route[1]).isEqualTo(403);
      assertThat(ApiCaller.errorCode(refusedAction)).isEqualTo("FORBIDDEN");
    }
  }

  @Test
  void withoutATokenEveryUserEndpointIs401AndTheOpenOnesAnswer() {
    ApiCaller anonymous = new ApiCaller(app.httpPort(), null, null);
    for (String[] route : routes(aliceConnection, bobNotification)) {
      Http.Response response = anonymous.call(route[0], route[1], route[0].equals("GET") || route[0].equals("DELETE") ? null : new JsonObject());
      assertThat(response.status()).as(route[0] + " " + route[1]).isEqualTo(401);
      assertThat(ApiCaller.errorCode(response)).isEqualTo("UNAUTHORIZED");
    }
    assertThat(anonymous.get("/api/reliability/health").status()).isEqualTo(200);
    assertThat(anonymous.get("/metrics").status()).isEqualTo(200);
    Http.Response spec = anonymous.get("/openapi.yaml");
    assertThat(spec.status()).isEqualTo(200);
    assertThat(spec.body()).contains("openapi: 3.1.0", "/api/reliability/connections/{id}/health");
    Http.Response page = anonymous.get("/");
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.body()).contains("MINGUS Reliability", "app.js");
  }

  @Test
  void everyRouteWithAnotherUsersIdAnswers404AndNeverTheirData() {
    for (String[] route : routes(bobConnection, bobNotification)) {
      if (!route[1].contains(bobConnection) && !route[1].contains(bobNotification)) {
        continue;
      }
      JsonObject body = route[0].equals("POST") ? new JsonObject() : null;
      if (route[1].endsWith("/send-test") || route[1].startsWith("/api/admin/")) {
        continue; // operator routes answer 403 to users whatever the id (above)
      }
      Http.Response response = alice.call(route[0], route[1], body);
      assertThat(response.status()).as(route[0] + " " + route[1] + " → " + response.body()).isEqualTo(404);
      assertThat(ApiCaller.errorCode(response)).isEqualTo("NOT_FOUND");
      assertThat(response.body()).doesNotContain("bob");
    }
    // and bob's connection and notification are still his
    assertThat(bob.get("/api/reliability/connections/" + bobConnection + "/health").status()).isEqualTo(200);
    assertThat(bob.get("/api/reliability/notifications").body()).contains(bobNotification);
    assertThat(alice.get("/api/reliability/notifications").body()).doesNotContain(bobNotification);
    assertThat(alice.get("/api/reliability/connections/health").body()).doesNotContain(bobConnection);
  }

  /** Every user route (method, path), with the given connection and notification ids in the paths. */
  static List<String[]> routes(String connectionId, String notificationId) {
    String c = "/api/reliability/connections/" + connectionId;
    return List.of(
        new String[] {"GET", "/api/reliability/connections/health"},
        new String[] {"POST", "/api/reliability/connections"},
        new String[] {"DELETE", c},
        new String[] {"GET", c + "/health"},
        new String[] {"POST", c + "/retry"},
        new String[] {"POST", c + "/reconnect"},
        new String[] {"GET", c + "/sync-status"},
        new String[] {"POST", c + "/sync-now"},
        new String[] {"GET", c + "/transactions"},
        new String[] {"GET", c + "/accounts"},
        new String[] {"GET", "/api/reliability/notifications"},
        new String[] {"POST", "/api/reliability/notifications/" + notificationId + "/read"},
        new String[] {"POST", "/api/reliability/notifications/send-test"},
        new String[] {"GET", "/api/reliability/notifications/preferences"},
        new String[] {"PUT", "/api/reliability/notifications/preferences"},
        new String[] {"GET", "/api/reliability/institutions"},
        new String[] {"GET", "/api/reliability/rate-limits"},
        new String[] {"POST", "/api/reliability/feed/ticket"},
        new String[] {"GET", "/api/reliability/metrics/overview"},
        new String[] {"GET", "/api/reliability/metrics/connections/" + connectionId},
        new String[] {"GET", "/api/admin/connections"},
        new String[] {"GET", "/api/admin/connections/" + connectionId + "/sync-status"},
        new String[] {"POST", "/api/admin/connections/" + connectionId + "/reconcile"},
        new String[] {"GET", "/api/admin/reconciliations"},
        new String[] {"GET", "/api/admin/connections/" + connectionId + "/reconciliations"},
        new String[] {"GET", "/api/admin/mail"},
        new String[] {"GET", "/api/admin/notifications/dead-letters"},
        new String[] {"POST", "/api/admin/notifications/dead-letters/00000000-0000-0000-0000-000000000000/redrive"},
        new String[] {"GET", "/api/admin/notifications/templates"},
        new String[] {"PUT", "/api/admin/notifications/templates/feature_update/in_app"},
        new String[] {"POST", "/api/admin/notifications/templates/feature_update/in_app/preview"},
        new String[] {"GET", "/api/admin/notifications/" + notificationId + "/deliveries"},
        new String[] {"GET", "/api/reliability/notifications/push/vapid-public-key"});
  }

  @Test
  void unknownIdsMalformedIdsAndUnknownPathsAreJsonErrors() {
    assertThat(ApiCaller.errorCode(alice.get("/api/reliability/connections/conn_doesnotexist/health"))).isEqualTo("NOT_FOUND");
    assertThat(ApiCaller.errorCode(alice.post("/api/reliability/notifications/00000000-0000-0000-0000-000000000000/read", null))).isEqualTo("NOT_FOUND");
    assertThat(ApiCaller.errorCode(alice.get("/api/reliability/connections/has%20space/health"))).isEqualTo("INVALID_REQUEST");
    Http.Response missing = alice.get("/api/reliability/nothing");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(ApiCaller.errorCode(missing)).isEqualTo("NOT_FOUND");
  }

  @Test
  void bodiesAreLimitedInSizeAndDepthAndMustBeJson() {
    Http.Response deep = alice.raw("PUT", "/api/reliability/notifications/preferences",
        "{\"channels\":" + "[".repeat(100) + "]".repeat(100) + "}");
    assertThat(deep.status()).isEqualTo(400);
    assertThat(deep.json().getJsonObject("error").getString("message")).contains("nests deeper");
    Http.Response big = alice.raw("POST", "/api/reliability/connections", "{\"public_token\":\"" + "x".repeat(70_000) + "\"}");
    assertThat(big.status()).isEqualTo(413);
    assertThat(ApiCaller.errorCode(big)).isEqualTo("BODY_TOO_LARGE");
    Http.Response notJson = alice.raw("POST", "/api/reliability/connections", "public_token=abc");
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(ApiCaller.errorCode(notJson)).isEqualTo("INVALID_REQUEST");
  }

  @Test
  void aUserOverTheirOwnRateLimitGets429WithRetryAfterWhileOthersAreServed() throws Exception {
    ApiCaller greedy = ApiCaller.user(app, "greedy");
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpResponse<String> limited = null;
    for (int i = 0; i < 600 && limited == null; i++) {
      var response = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + app.httpPort()
          + "/api/reliability/rate-limits")).header("Authorization", "Bearer " + greedy.token).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 429) {
        limited = response;
      }
    }
    assertThat(limited).as("a 429 within 600 requests").isNotNull();
    assertThat(ApiCaller.errorCode(new Http.Response(429, limited.body()))).isEqualTo("RATE_LIMITED");
    assertThat(Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow())).isPositive();
    assertThat(bob.get("/api/reliability/rate-limits").status()).isEqualTo(200);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
