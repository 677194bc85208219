package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.mingus.reliability.app.Application;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.oas.OpenApi31;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 17: {@code openapi.yaml} declares a JSON schema for every response of every operation, and this test
 * proves them true. It calls every operation of the document against the whole application and the sandbox
 * (a success and the cheap error cases: 400, 401, 403, 404, 409), and validates each body against the schema
 * the document declares for that path, method and status (networknt, JSON Schema 2020-12 with the OpenAPI 3.1
 * dialect). A status the document does not declare for the operation (nor a {@code default}) fails too. It also
 * checks that every route HttpVerticle registers under /api has an operation in the document and vice versa.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenApiResponsesTest {
  private static final String DOCUMENT = "openapi.yaml";
  private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
      builder -> builder.metaSchema(OpenApi31.getInstance()).defaultMetaSchemaIri(OpenApi31.getInstance().getIri()));
  private static final SchemaValidatorsConfig CONFIG = SchemaValidatorsConfig.builder().pathType(PathType.JSON_POINTER)
      .formatAssertionsEnabled(true).build();

  private static JsonNode document;
  private static final Map<String, JsonSchema> schemas = new ConcurrentHashMap<>();
  /** "get /api/..." → the statuses validated for it. */
  private static final Map<String, Set<Integer>> validated = new ConcurrentHashMap<>();

  private static Application app;
  private static SandboxControl sandbox;
  private static HttpServer capture;
  private static final LinkedBlockingQueue<String[]> webhooks = new LinkedBlockingQueue<>();
  private static ApiCaller alice;
  private static ApiCaller bob;
  private static ApiCaller operator;
  private static ApiCaller anonymous;
  private static String aliceConnection;
  private static String aliceItem;
  private static String bobConnection;
  private static String doomedConnection;
  private static int closedPort;

  @BeforeAll
  static void start() throws Exception {
    try (InputStream in = OpenApiResponsesTest.class.getClassLoader().getResourceAsStream(DOCUMENT)) {
      assertThat(in).as(DOCUMENT + " on the classpath").isNotNull();
      document = new ObjectMapper(new YAMLFactory()).readTree(in);
    }
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort(); // nobody listens here afterwards: a webhook to it fails at once
    }
    app = TestApp.start(TestDatabase.fresh(OpenApiResponsesTest.class), Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET),
        Map.of("sync.poll_interval_ms", 200,
            "http.rate_limit.per_second", 200,
            "http.rate_limit.burst", 500,
            "notify.poll_interval_ms", 100,
            "notify.send_test_wait_ms", 3000,
            "notify.webhook.allow_loopback", true,
            "notify.retry.webhook", new JsonArray().add(0).add(0.05)));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_oas", "Schema Bank");
    capture = Await.result(app.vertx().createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      webhooks.add(new String[] {body.toString(StandardCharsets.UTF_8), request.getHeader("Plaid-Verification")});
      request.response().setStatusCode(200).end();
    })).listen(0, "127.0.0.1"));
    alice = ApiCaller.user(app, "alice");
    bob = ApiCaller.user(app, "bob");
    operator = ApiCaller.admin(app, "olivia");
    anonymous = ApiCaller.withToken(app, null);

    // alice's Item sends its webhooks to the capture server, so the test can hand a genuine one to the API
    JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_oas")
        .put("user_id", "alice").put("transactions", 12)
        .put("webhook", "http://127.0.0.1:" + capture.actualPort() + "/hook"));
    aliceItem = item.getString("item_id");
    Http.Response created = check("post", "/api/reliability/connections", 201,
        alice.post("/api/reliability/connections", new JsonObject().put("public_token", item.getString("public_token"))));
    aliceConnection = created.json().getJsonObject("connection").getString("connection_id");
    JsonObject bobItem = sandbox.item("ins_oas", "bob", 3);
    bobConnection = check("post", "/api/reliability/connections", 201,
        bob.post("/api/reliability/connections", new JsonObject().put("public_token", bobItem.getString("public_token"))))
        .json().getJsonObject("connection").getString("connection_id");
    doomedConnection = check("post", "/api/reliability/connections", 201, alice.post("/api/reliability/connections",
        new JsonObject().put("public_token", sandbox.item("ins_oas", "alice", 2).getString("public_token"))))
        .json().getJsonObject("connection").getString("connection_id");
    for (String connection : List.of(aliceConnection, doomedConnection)) {
      // a DELETE racing the first sync can meet a deadlock in sync scheduling (see HttpApiTest): syncs done first
      Await.until(() -> alice.get("/api/reliability/connections/" + connection + "/sync-status").body()
          .contains("\"status\":\"success\""), Duration.ofSeconds(20), "alice's first syncs complete");
    }
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  // --- validation against the document ------------------------------------------------------------------

  /** The response object the document declares for the status (or its default), $ref followed; null if none. */
  private static String responsePointer(String method, String path, int status) {
    JsonNode operation = document.path("paths").path(path).path(method);
    assertThat(operation.isMissingNode()).as("openapi.yaml has %s %s", method, path).isFalse();
    String base = "/paths/" + escape(path) + "/" + method + "/responses/";
    JsonNode responses = operation.path("responses");
    String key = responses.has(Integer.toString(status)) ? Integer.toString(status) : responses.has("default") ? "default" : null;
    if (key == null) {
      return null;
    }
    JsonNode response = responses.get(key);
    String pointer = base + key;
    for (int i = 0; i < 8 && response.has("$ref"); i++) {
      pointer = response.get("$ref").asText().substring(1);
      response = document.at(pointer);
    }
    return pointer;
  }

  private static String escape(String segment) {
    return segment.replace("~", "~0").replace("/", "~1");
  }

  /**
   * Validates the answer against the schema declared for (method, path, status) and that it is the status the
   * test expected; answers the response for further use.
   */
  static Http.Response check(String method, String path, int expectedStatus, Http.Response response) {
    assertThat(response.status()).as("%s %s answered %s", method.toUpperCase(), path, response.body()).isEqualTo(expectedStatus);
    String pointer = responsePointer(method, path, response.status());
    assertThat(pointer).as("openapi.yaml declares status %d (or a default) for %s %s", response.status(), method, path)
        .isNotNull();
    JsonNode schemaNode = document.at(pointer + "/content/application~1json/schema");
    assertThat(schemaNode.isMissingNode()).as("%s declares a JSON schema", pointer).isFalse();
    JsonSchema schema = schemas.computeIfAbsent(pointer, p -> {
      JsonSchema loaded = FACTORY.getSchema(SchemaLocation.of("classpath:" + DOCUMENT + "#" + p + "/content/application~1json/schema"),
          CONFIG);
      loaded.initializeValidators();
      return loaded;
    });
    Set<ValidationMessage> violations = schema.validate(response.body(), InputFormat.JSON);
    if (!violations.isEmpty()) {
      throw new AssertionError(method.toUpperCase() + " " + path + " " + response.status() + " does not match " + pointer
          + ":\n  " + String.join("\n  ", violations.stream().map(ValidationMessage::toString).toList()) + "\nbody: "
          + (response.body().length() > 3_000 ? response.body().substring(0, 3_000) + "..." : response.body()));
    }
    validated.computeIfAbsent(method + " " + path, k -> ConcurrentHashMap.newKeySet()).add(response.status());
    return response;
  }

  private static Http.Response get(ApiCaller caller, String template, String concrete, int status) {
    return check("get", template, status, caller.get(concrete));
  }

  private static Http.Response post(ApiCaller caller, String template, String concrete, JsonObject body, int status) {
    return check("post", template, status, caller.post(concrete, body));
  }

  private static Http.Response put(ApiCaller caller, String template, String concrete, JsonObject body, int status) {
    return check("put", template, status, caller.put(concrete, body));
  }

  // --- the calls --------------------------------------------------------------------------------------------

  @Test
  @Order(1)
  void theOpenEndpointsMatch() {
    get(anonymous, "/api/reliability/health", "/api/reliability/health", 200);
    get(anonymous, "/api/reliability/health/live", "/api/reliability/health/live", 200);
    get(anonymous, "/api/reliability/health/ready", "/api/reliability/health/ready", 200);
  }

  @Test
  @Order(2)
  void connectionOperationsMatch() {
    String c = "/api/reliability/connections/";
    post(alice, "/api/reliability/connections", "/api/reliability/connections", new JsonObject(), 400);
    Http.Response refused = alice.post("/api/reliability/connections", new JsonObject().put("public_token", "public-sandbox-nope"));
    check("post", "/api/reliability/connections", refused.status(), refused); // 400 or 502, both declared

    get(alice, "/api/reliability/connections/health", "/api/reliability/connections/health", 200);
    get(alice, c + "{id}/health", c + aliceConnection + "/health", 200);
    get(alice, c + "{id}/health", c + bobConnection + "/health", 404);
    get(alice, c + "{id}/health", c + "bad.id/health", 400);
    post(alice, c + "{id}/retry", c + aliceConnection + "/retry", null, 200);
    post(alice, c + "{id}/retry", c + bobConnection + "/retry", null, 404);
    post(alice, c + "{id}/reconnect", c + aliceConnection + "/reconnect", null, 200);
    post(alice, c + "{id}/reconnect", c + bobConnection + "/reconnect", null, 404);
    get(alice, c + "{id}/sync-status", c + aliceConnection + "/sync-status?days=7", 200);
    get(alice, c + "{id}/sync-status", c + aliceConnection + "/sync-status?days=0", 400);
    get(alice, c + "{id}/sync-status", c + bobConnection + "/sync-status", 404);
    post(alice, c + "{id}/sync-now", c + aliceConnection + "/sync-now", null, 202);
    post(alice, c + "{id}/sync-now", c + bobConnection + "/sync-now", null, 404);
    Http.Response page = get(alice, c + "{id}/transactions", c + aliceConnection + "/transactions?limit=5", 200);
    String cursor = page.json().getString("next_cursor");
    assertThat(cursor).as("a first page of 5 of 12 has a cursor").isNotNull();
    get(alice, c + "{id}/transactions", c + aliceConnection + "/transactions?limit=500&since=2000-01-01&cursor=" + cursor, 200);
    get(alice, c + "{id}/transactions", c + aliceConnection + "/transactions?limit=0", 400);
    get(alice, c + "{id}/transactions", c + aliceConnection + "/transactions?cursor=bm90LWEtY3Vyc29y", 400);
    get(alice, c + "{id}/transactions", c + bobConnection + "/transactions", 404);
    Http.Response accounts = get(alice, c + "{id}/accounts", c + aliceConnection + "/accounts", 200);
    assertThat(accounts.json().getJsonArray("accounts")).as("the sandbox Item has accounts").isNotEmpty();
    get(alice, c + "{id}/accounts", c + bobConnection + "/accounts", 404);

    get(alice, "/api/reliability/metrics/connections/{id}", "/api/reliability/metrics/connections/" + aliceConnection, 200);
    get(alice, "/api/reliability/metrics/connections/{id}", "/api/reliability/metrics/connections/" + bobConnection, 404);
    get(operator, "/api/reliability/metrics/connections/{id}", "/api/reliability/metrics/connections/" + bobConnection, 200);
    check("delete", c + "{id}", 200, alice.delete(c + doomedConnection));
    check("delete", c + "{id}", 404, alice.delete(c + doomedConnection));
    check("delete", c + "{id}", 404, alice.delete(c + bobConnection));
    check("delete", c + "{id}", 400, alice.delete(c + "bad.id"));
    get(alice, "/api/reliability/institutions", "/api/reliability/institutions", 200);
    get(alice, "/api/reliability/rate-limits", "/api/reliability/rate-limits", 200);
  }

  @Test
  @Order(3)
  void notificationOperationsMatch() {
    String n = "/api/reliability/notifications";
    Http.Response sent = post(alice, n + "/send-test", n + "/send-test",
        new JsonObject().put("type", "bank_maintenance").put("channels", new JsonArray().add("in_app").add("email")), 200);
    post(alice, n + "/send-test", n + "/send-test", new JsonObject().put("channels", new JsonArray().add("pigeon")), 400);
    String notification = sent.json().getString("notification_id");
    get(alice, n, n + "?limit=10&unread_only=true", 200);
    get(alice, n, n + "?limit=0", 400);
    get(alice, n, n + "?cursor=bm90LWEtY3Vyc29y", 400);
    post(alice, n + "/{id}/read", n + "/" + notification + "/read", null, 200);
    post(bob, n + "/{id}/read", n + "/" + notification + "/read", null, 404);
    get(alice, n + "/preferences", n + "/preferences", 200);
    put(alice, n + "/preferences", n + "/preferences", new JsonObject().put("time_zone", "Europe/Berlin")
        .put("quiet_hours", new JsonObject().put("start", "22:00").put("end", "07:00"))
        .put("channels", new JsonObject().put("*", new JsonObject().put("sms", false)))
        .put("email", "alice@example.com").put("webhook", new JsonObject().put("url", "https://example.com/hook")), 200);
    put(alice, n + "/preferences", n + "/preferences", new JsonObject().put("quiet_hours",
        new JsonObject().put("start", "late")), 400);
    get(alice, n + "/push/vapid-public-key", n + "/push/vapid-public-key", 200);
    post(alice, "/api/reliability/feed/ticket", "/api/reliability/feed/ticket", null, 200);
  }

  @Test
  @Order(4)
  void theFeedAndPlaidsWebhookMatch() throws Exception {
    // not a WebSocket handshake: a JSON error
    get(alice, "/api/reliability/feed", "/api/reliability/feed", 400);
    // a handshake with a ticket: 101 (no body to validate; the document declares 101)
    String ticket = alice.post("/api/reliability/feed/ticket", null).json().getString("ticket");
    WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + app.httpPort() + "/api/reliability/feed?ticket=" + ticket),
            new WebSocket.Listener() {})
        .get(10, TimeUnit.SECONDS);
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    assertThat(responsePointer("get", "/api/reliability/feed", 101)).isNotNull();
    validated.computeIfAbsent("get /api/reliability/feed", k -> ConcurrentHashMap.newKeySet()).add(101);

    webhooks.clear();
    sandbox.mutate(aliceItem, 1, 0, 0);
    String[] hook = webhooks.poll(15, TimeUnit.SECONDS);
    assertThat(hook).as("the sandbox sends a signed webhook").isNotNull();
    check("post", "/api/plaid/webhook", 200, deliver(hook[0], hook[1]));
    check("post", "/api/plaid/webhook", 401, deliver(hook[0], null));
    check("post", "/api/plaid/webhook", 401, deliver("{\"webhook_type\":\"ITEM\"}", hook[1]));
  }

  private static Http.Response deliver(String body, String verification) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + "/api/plaid/webhook"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (verification != null) {
      request.header("Plaid-Verification", verification);
    }
    return Http.send(request);
  }

  @Test
  @Order(5)
  void operatorConnectionOperationsMatch() {
    get(operator, "/api/reliability/metrics/overview", "/api/reliability/metrics/overview", 200);
    get(operator, "/api/admin/connections", "/api/admin/connections", 200);
    get(operator, "/api/admin/connections/{id}/sync-status", "/api/admin/connections/" + bobConnection + "/sync-status?days=30", 200);
    get(operator, "/api/admin/connections/{id}/sync-status", "/api/admin/connections/conn_nobody/sync-status", 404);
    post(operator, "/api/admin/connections/{id}/reconcile", "/api/admin/connections/" + aliceConnection + "/reconcile", null, 202);
    post(operator, "/api/admin/connections/{id}/reconcile", "/api/admin/connections/conn_nobody/reconcile", null, 404);
    Await.until(() -> !operator.get("/api/admin/connections/" + aliceConnection + "/reconciliations").json()
        .getJsonArray("reconciliations").isEmpty(), Duration.ofSeconds(20), "the reconciliation is recorded");
    get(operator, "/api/admin/connections/{id}/reconciliations", "/api/admin/connections/" + aliceConnection + "/reconciliations?limit=5", 200);
    get(operator, "/api/admin/connections/{id}/reconciliations", "/api/admin/connections/" + aliceConnection + "/reconciliations?limit=0", 400);
    get(operator, "/api/admin/reconciliations", "/api/admin/reconciliations?limit=20", 200);
    get(operator, "/api/admin/reconciliations", "/api/admin/reconciliations?limit=201", 400);
    get(operator, "/api/admin/reconciliations", "/api/admin/reconciliations?cursor=bm90LWEtY3Vyc29y", 400);
    get(operator, "/api/admin/mail", "/api/admin/mail?limit=10", 200);
  }

  @Test
  @Order(6)
  void operatorNotificationOperationsMatch() {
    String a = "/api/admin/notifications";
    // a webhook to a port nobody listens on is dead-lettered after its two quick attempts
    put(bob, "/api/reliability/notifications/preferences", "/api/reliability/notifications/preferences",
        new JsonObject().put("webhook", new JsonObject().put("url", "http://127.0.0.1:" + closedPort + "/hook")), 200);
    String notification = post(bob, "/api/reliability/notifications/send-test", "/api/reliability/notifications/send-test",
        new JsonObject().put("type", "account_update").put("channels", new JsonArray().add("webhook").add("in_app")), 200)
        .json().getString("notification_id");
    Await.until(() -> operator.get(a + "/dead-letters?limit=500").body().contains(notification), Duration.ofSeconds(20),
        "the webhook is dead-lettered");
    JsonObject letters = get(operator, a + "/dead-letters", a + "/dead-letters?limit=500", 200).json();
    get(operator, a + "/dead-letters", a + "/dead-letters?limit=0", 400);
    get(operator, a + "/dead-letters", a + "/dead-letters?cursor=bm90LWEtY3Vyc29y", 400);
    String delivery = letters.getJsonArray("dead_letters").stream().map(JsonObject.class::cast)
        .filter(l -> notification.equals(l.getString("notification_id"))).findFirst().orElseThrow().getString("id");
    get(operator, a + "/{id}/deliveries", a + "/" + notification + "/deliveries", 200);
    get(operator, a + "/{id}/deliveries", a + "/" + UUID.randomUUID() + "/deliveries", 404);
    post(operator, a + "/dead-letters/{id}/redrive", a + "/dead-letters/" + delivery + "/redrive", null, 202);
    post(operator, a + "/dead-letters/{id}/redrive", a + "/dead-letters/" + delivery + "/redrive", null, 409);
    post(operator, a + "/dead-letters/{id}/redrive", a + "/dead-letters/" + UUID.randomUUID() + "/redrive", null, 404);
    post(operator, a + "/dead-letters/{id}/redrive", a + "/dead-letters/not-a-uuid/redrive", null, 400);
    Await.until(() -> operator.get("/api/admin/alerts?kind=dead_letter").json().getLong("total") > 0, Duration.ofSeconds(20),
        "the dead letter raises an operator alert");
    get(operator, "/api/admin/alerts", "/api/admin/alerts?limit=50", 200);
    get(operator, "/api/admin/alerts", "/api/admin/alerts?kind=dead_letter", 200);
    get(operator, "/api/admin/alerts", "/api/admin/alerts?kind=nonsense", 400);
    get(operator, "/api/admin/keys", "/api/admin/keys", 200);
    get(operator, "/api/admin/alerts", "/api/admin/alerts?cursor=bm90LWEtY3Vyc29y", 400);

    get(operator, a + "/templates", a + "/templates", 200);
    String t = a + "/templates/{type}/{channel}";
    put(operator, t, a + "/templates/feature_update/in_app", new JsonObject().put("body", "Hello {user_name}, new in {app_name}."), 200);
    put(operator, t, a + "/templates/feature_update/email", new JsonObject().put("subject", "News for {user_name}")
        .put("body", "Plain {detail}").put("body_html", "<p>{detail}</p>"), 200);
    put(operator, t, a + "/templates/feature_update/in_app", new JsonObject().put("body", "Hello {no_such_variable}"), 400);
    put(operator, t, a + "/templates/feature_update/sms", new JsonObject().put("body", "x").put("subject", "no"), 400);
    post(operator, t + "/preview", a + "/templates/bank_maintenance/email/preview",
        new JsonObject().put("variables", new JsonObject().put("institution_name", "Acme")), 200);
    post(operator, t + "/preview", a + "/templates/bank_maintenance/sms/preview", null, 200);
    post(operator, t + "/preview", a + "/templates/bank_maintenance/push/preview", new JsonObject().put("body", "{nope}"), 400);

    JsonObject broadcast = new JsonObject().put("broadcast_id", "oas-" + UUID.randomUUID()).put("type", "system_maintenance")
        .put("title", "Maintenance").put("message", "Down at 02:00 UTC.").put("segment", new JsonObject().put("all", true));
    post(operator, a + "/broadcast", a + "/broadcast", broadcast, 202);
    post(operator, a + "/broadcast", a + "/broadcast", broadcast, 202); // the duplicate
    post(operator, a + "/broadcast", a + "/broadcast", broadcast.copy().put("message", "Another text."), 409);
    post(operator, a + "/broadcast", a + "/broadcast", broadcast.copy().put("segment", new JsonObject()), 400);
  }

  // --- every operation's 401 and every operator operation's 403 ----------------------------------------

  @Test
  @Order(7)
  void everyProtectedOperationAnswers401WithoutATokenAndEveryOperatorOneAnswers403ToAUser() {
    for (String[] operation : operations()) {
      String method = operation[0];
      String path = operation[1];
      JsonNode op = document.path("paths").path(path).path(method);
      JsonNode security = op.has("security") ? op.get("security") : document.get("security");
      if (security.isEmpty()) {
        continue;
      }
      String concrete = concrete(path);
      JsonObject body = "get".equals(method) || "delete".equals(method) ? null : new JsonObject();
      check(method, path, 401, anonymous.call(method.toUpperCase(), concrete, body));
      check(method, path, 401, ApiCaller.withToken(app, "not.a.jwt").call(method.toUpperCase(), concrete, body));
      if (path.startsWith("/api/admin/") || path.equals("/api/reliability/metrics/overview")) {
        check(method, path, 403, alice.call(method.toUpperCase(), concrete, body));
      }
    }
  }

  /** A concrete path for a template, with valid values for its parameters. */
  private static String concrete(String template) {
    return template.replace("/dead-letters/{id}", "/dead-letters/" + UUID.randomUUID())
        .replace("/notifications/{id}", "/notifications/" + UUID.randomUUID())
        .replace("{id}", "conn_nobody").replace("{type}", "bank_maintenance").replace("{channel}", "email");
  }

  /** Every operation of the document as {method, path}. */
  private static List<String[]> operations() {
    List<String[]> out = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> paths = document.get("paths").fields();
    while (paths.hasNext()) {
      Map.Entry<String, JsonNode> path = paths.next();
      Iterator<String> methods = path.getValue().fieldNames();
      while (methods.hasNext()) {
        String method = methods.next();
        if (Set.of("get", "put", "post", "delete", "patch").contains(method)) {
          out.add(new String[] {method, path.getKey()});
        }
      }
    }
    return out;
  }

  // --- the document and the router agree, and everything was called -------------------------------------

  @Test
  @Order(8)
  void everyRouteOfHttpVerticleHasAnOperationAndEveryOperationARoute() throws IOException {
    String source = Files.readString(Path.of("src/main/java/com/mingus/reliability/http/HttpVerticle.java"));
    Set<String> routes = new TreeSet<>();
    Matcher guarded = Pattern.compile("(?:user|admin)\\(router,\\s*HttpMethod\\.(\\w+),\\s*\"([^\"]+)\",\\s*\"(\\w+)\"")
        .matcher(source);
    while (guarded.find()) {
      String method = guarded.group(1).toLowerCase();
      String path = guarded.group(2).replaceAll(":(\\w+)", "{$1}");
      routes.add(method + " " + path);
      assertThat(document.path("paths").path(path).path(method).path("operationId").asText())
          .as("the operationId of %s %s", method, path).isEqualTo(guarded.group(3));
    }
    Matcher plain = Pattern.compile("router\\.(get|post|put|delete)\\(\"(/api/[^\"]+)\"").matcher(source);
    while (plain.find()) {
      routes.add(plain.group(1) + " " + plain.group(2).replaceAll(":(\\w+)", "{$1}"));
    }
    assertThat(routes).as("routes found in HttpVerticle.java").hasSizeGreaterThan(30);
    Set<String> documented = new TreeSet<>();
    operations().forEach(o -> documented.add(o[0] + " " + o[1]));
    assertThat(documented).as("the document's operations are exactly HttpVerticle's /api routes").isEqualTo(routes);
  }

  @Test
  @Order(9)
  void everyOperationWasCalledAndASuccessOfEachValidated() {
    List<String> missing = new ArrayList<>();
    for (String[] operation : operations()) {
      String key = operation[0] + " " + operation[1];
      Set<Integer> statuses = validated.getOrDefault(key, Set.of());
      if (statuses.stream().noneMatch(s -> s >= 100 && s < 300)) {
        missing.add(key + " (validated: " + statuses + ")");
      }
    }
    assertThat(missing).as("operations without a validated success").isEmpty();
  }

  @Test
  @Order(10)
  void everyDeclaredResponseHasAJsonSchemaExceptTheFeedsUpgrade() {
    List<String> without = new ArrayList<>();
    for (String[] operation : operations()) {
      JsonNode responses = document.path("paths").path(operation[1]).path(operation[0]).path("responses");
      assertThat(responses.isEmpty()).as("%s %s declares responses", operation[0], operation[1]).isFalse();
      Iterator<String> statuses = responses.fieldNames();
      while (statuses.hasNext()) {
        String status = statuses.next();
        if ("101".equals(status)) {
          continue;
        }
        JsonNode response = responses.get(status);
        for (int i = 0; i < 8 && response.has("$ref"); i++) {
          response = document.at(response.get("$ref").asText().substring(1));
        }
        if (response.path("content").path("application/json").path("schema").isMissingNode()) {
          without.add(operation[0] + " " + operation[1] + " " + status);
        }
      }
    }
    assertThat(without).as("responses without a JSON schema").isEmpty();
  }
}
