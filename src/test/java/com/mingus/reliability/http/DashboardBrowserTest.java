package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end in a real browser: headless Chromium, driven over the Chrome DevTools protocol from Java,
 * opens the dashboard of a running server; a connection's health is changed through the sandbox (the
 * bank asks for a new login) and the page shows it without a reload. A screenshot is saved under target/.
 * Skipped, saying so, only when no Chromium is installed.
 */
class DashboardBrowserTest {
  private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");

  private static Application app;
  private static com.mingus.reliability.config.DatabaseTarget db;
  private static Process chromium;
  private static Path profile;
  private static Cdp cdp;

  @BeforeAll
  static void start() throws Exception {
    String binary = Stream.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
        .filter(DashboardBrowserTest::onPath).findFirst().orElse(null);
    Assumptions.assumeTrue(binary != null, "Chromium is not installed (apt-get install -y chromium); the browser test is skipped");
    db = TestDatabase.fresh(DashboardBrowserTest.class);
    app = TestApp.start(db, Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET),
        Map.of("sync.poll_interval_ms", 200, "health.maintenance.forecast_interval_ms", 500));
    profile = Files.createTempDirectory("mingus-chromium-");
    chromium = new ProcessBuilder(binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--user-data-dir=" + profile, "--remote-debugging-port=0", "--remote-allow-origins=*", "--window-size=1400,1500",
        "about:blank").redirectErrorStream(true).start();
    String browserWs = devtoolsUrl(chromium);
    URI uri = URI.create(browserWs);
    JsonArray targets = new JsonArray(com.mingus.reliability.testsupport.Http.get(uri.getPort(), "/json/list").body());
    String pageWs = null;
    for (Object target : targets) {
      if ("page".equals(((JsonObject) target).getString("type"))) {
        pageWs = ((JsonObject) target).getString("webSocketDebuggerUrl");
      }
    }
    assertThat(pageWs).as("a page target in " + targets).isNotNull();
    cdp = Cdp.connect(app.vertx(), pageWs);
  }

  @AfterAll
  static void stop() throws IOException {
    if (cdp != null) {
      cdp.close();
    }
    if (chromium != null) {
      chromium.destroy();
      try {
        if (!chromium.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
          chromium.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (profile != null) {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      }
    }
    if (app != null) {
      app.close();
    }
  }

  @Test
  void theDashboardShowsAConnectionsHealthChangeLive() throws Exception {
    SandboxControl sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_browser", "Browser Savings Bank");
    ApiCaller dana = ApiCaller.user(app, "dana");
    JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_browser").put("user_id", "dana")
        .put("transactions", 20).put("webhook", "http://127.0.0.1:" + app.httpPort() + "/api/plaid/webhook"));
    String connection = dana.post("/api/reliability/connections", new JsonObject().put("public_token", item.getString("public_token")))
        .json().getJsonObject("connection").getString("connection_id");
    Await.until(() -> dana.get("/api/reliability/connections/" + connection + "/sync-status").body().contains("\"status\":\"success\""),
        Duration.ofSeconds(15), "the first sync completes");

    // an operator reconciles dana's connection with Plaid's history (shown on the operator's page below)
    ApiCaller olivia = ApiCaller.admin(app, "olivia");
    Http.Response queued = olivia.post("/api/admin/connections/" + connection + "/reconcile", new JsonObject());
    assertThat(queued.status()).as(queued.body()).isEqualTo(202);
    Await.until(() -> olivia.get("/api/admin/reconciliations").json().getJsonArray("reconciliations").size() == 1,
        Duration.ofSeconds(20), "the reconciliation runs");

    // the bank's history: the same outage at this time of day on the last four days (what health records
    // when its circuit opens and closes); the page shows the window learned from it
    Instant next = Instant.now().plus(Duration.ofHours(2)).truncatedTo(java.time.temporal.ChronoUnit.MINUTES);
    for (int day = 1; day <= 4; day++) {
      Instant start = next.minus(Duration.ofDays(day));
      Sql.execute(db, "INSERT INTO health_institution_outages (institution_id, started_at, ended_at, reason) VALUES "
          + "('ins_browser', '" + start + "', '" + start.plus(Duration.ofMinutes(30)) + "', 'maintenance')");
    }

    cdp.call("Page.enable", new JsonObject());
    cdp.call("Page.navigate", new JsonObject().put("url", "http://127.0.0.1:" + app.httpPort() + "/#jwt=" + dana.token));
    String status = "(() => { const el = document.querySelector('[data-connection-id=\"" + connection + "\"]');"
        + " return el ? el.dataset.status : null; })()";
    Await.until(() -> "active".equals(cdp.evaluate(status)), Duration.ofSeconds(20),
        "the page shows the connection as active");
    Await.until(() -> String.valueOf(cdp.evaluate("document.getElementById('live').textContent")).contains("live"),
        Duration.ofSeconds(10), "the page's feed is live");
    assertThat(String.valueOf(cdp.evaluate("document.body.innerText"))).contains("Browser Savings Bank");
    assertThat(String.valueOf(cdp.evaluate("location.hash"))).as("the token leaves the address bar").doesNotContain("jwt=");
    String maintenance = "(() => { const el = document.querySelector('[data-institution-id=\"ins_browser\"] .maintenance');"
        + " return el ? el.textContent : ''; })()";
    Await.until(() -> String.valueOf(cdp.evaluate(maintenance)).contains("Predicted"), Duration.ofSeconds(15),
        "the Institutions table shows the window learned from the bank's history");
    assertThat(String.valueOf(cdp.evaluate(maintenance))).contains("every day", "4 seen");

    // the bank needs dana to log in again: Plaid's webhook → sync → health → the feed → the page
    sandbox.post("/__control/items/" + item.getString("item_id") + "/reset-login", new JsonObject());
    Await.until(() -> "requires_reauth".equals(cdp.evaluate(status)), Duration.ofSeconds(20),
        "the page shows the connection needs a new login, without a reload");
    Await.until(() -> String.valueOf(cdp.evaluate("document.getElementById('activity').innerText")).contains("requires reauth"),
        Duration.ofSeconds(5), "the live activity tells of the change");
    assertThat(String.valueOf(cdp.evaluate("document.body.innerText"))).contains("Reconnect");

    // an operator's dashboard shows reconciliation: the run over dana's connection (asked above), its figures
    // (a new document: a change of the fragment alone would not load the page again)
    cdp.call("Page.navigate", new JsonObject().put("url", "about:blank"));
    cdp.call("Page.navigate", new JsonObject().put("url", "http://127.0.0.1:" + app.httpPort() + "/#jwt=" + olivia.token));
    Await.until(() -> String.valueOf(cdp.evaluate("document.getElementById('reconciliations').innerText")).contains(connection),
        Duration.ofSeconds(20), "the operator's page lists the reconciliation");
    assertThat(String.valueOf(cdp.evaluate("document.getElementById('reconcile-totals').innerText")))
        .contains("1 runs", "Plaid calls");

    JsonObject shot = cdp.call("Page.captureScreenshot", new JsonObject().put("format", "png"));
    Path file = Path.of("target", "dashboard-e2e.png");
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode(shot.getString("data")));
    assertThat(Files.size(file)).isGreaterThan(10_000);
  }

  private static boolean onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, name))) {
        return true;
      }
    }
    return false;
  }

  /** Reads Chromium's output until it says where its DevTools endpoint is; the rest is drained in the background. */
  private static String devtoolsUrl(Process process) throws Exception {
    BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    AtomicReference<String> found = new AtomicReference<>();
    Thread drain = new Thread(() -> {
      try {
        String line;
        while ((line = reader.readLine()) != null) {
          Matcher matcher = DEVTOOLS.matcher(line);
          if (matcher.find()) {
            found.set(matcher.group(1));
          }
        }
      } catch (IOException e) {
        // the browser is gone
      }
    }, "chromium-output");
    drain.setDaemon(true);
    drain.start();
    Await.until(() -> found.get() != null || !process.isAlive(), Duration.ofSeconds(30), "Chromium starts its DevTools endpoint");
    assertThat(found.get()).as("Chromium's DevTools endpoint").isNotNull();
    return found.get();
  }

  /** A minimal Chrome DevTools protocol client over one WebSocket. */
  static final class Cdp {
    private final WebSocket ws;
    private final WebSocketClient client;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, Promise<JsonObject>> pending = new ConcurrentHashMap<>();

    private Cdp(WebSocketClient client, WebSocket ws) {
      this.client = client;
      this.ws = ws;
      ws.textMessageHandler(text -> {
        JsonObject message = new JsonObject(text);
        Integer id = message.getInteger("id");
        Promise<JsonObject> promise = id == null ? null : pending.remove(id);
        if (promise != null) {
          if (message.containsKey("error")) {
            promise.fail(message.getJsonObject("error").encode());
          } else {
            promise.complete(message.getJsonObject("result", new JsonObject()));
          }
        }
      });
    }

    static Cdp connect(Vertx vertx, String url) {
      URI uri = URI.create(url);
      WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(64 << 20)
          .setMaxMessageSize(64 << 20));
      WebSocket ws = Await.result(client.connect(new WebSocketConnectOptions().setHost(uri.getHost()).setPort(uri.getPort())
          .setURI(uri.getPath()).setAllowOriginHeader(false)));
      return new Cdp(client, ws);
    }

    JsonObject call(String method, JsonObject params) {
      int id = ids.incrementAndGet();
      Promise<JsonObject> promise = Promise.promise();
      pending.put(id, promise);
      ws.writeTextMessage(new JsonObject().put("id", id).put("method", method).put("params", params).encode());
      return Await.result(promise.future(), Duration.ofSeconds(30));
    }

    Object evaluate(String expression) {
      JsonObject result = call("Runtime.evaluate", new JsonObject().put("expression", expression).put("returnByValue", true));
      return result.getJsonObject("result", new JsonObject()).getValue("value");
    }

    void close() {
      ws.close();
      client.close();
    }
  }

}
