package com.mingus.reliability.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.BusMessage;
import com.mingus.reliability.bus.MessageCodecs;
import com.mingus.reliability.config.ConfigLoader;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.sandbox.SandboxVerticle;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Issue #18, "0 plaintext access tokens": two clustered nodes in this JVM, one PostgreSQL, one Plaid sandbox
 * behind a recording proxy (which learns every access token Plaid issues from the exchange answers). Users
 * link over HTTP with the sandbox's public tokens, Plaid's webhooks drive syncs, a user asks for a sync
 * now, an Item needs its login repaired (update-mode Link token, LOGIN_REPAIRED webhook), and a connection
 * is removed. Captured meanwhile: every event bus message on either node, out and in, encoded as it would be
 * to leave the node; every log line of the JVM with the application's packages at DEBUG, before redaction;
 * and afterwards every text, bytea, json and jsonb column of every table. No access token may appear in
 * any of them, as it is, without its prefix, in hex or in base64. A public token may be on the bus only
 * node-locally: no node may receive one it did not send itself.
 */
class NoPlaintextTokenTest {
  private static final String JWT_SECRET = "no-plaintext-token-test-jwt-secret-0123456789";

  /** One captured event bus message: which node, which way, where to, and its bytes as they would go on the wire. */
  record Captured(int node, String direction, String address, byte[] wire) {}

  /** One captured log line: everything an appender could write (message with arguments, exception, MDC). */
  record Line(String logger, String text) {}

  private final ConcurrentLinkedQueue<Captured> bus = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Line> logs = new ConcurrentLinkedQueue<>();
  private final Set<String> accessTokens = ConcurrentHashMap.newKeySet();
  private final Set<String> publicTokens = ConcurrentHashMap.newKeySet();

  @Test
  void noAccessTokenReachesTheBusTheLogsOrTheDatabaseInPlainText() throws Exception {
    DatabaseTarget db = TestDatabase.fresh(NoPlaintextTokenTest.class);
    Vertx plaidSide = Vertx.vertx();
    List<Application> nodes = new ArrayList<>();
    Appender appender = new Appender();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Logger app = ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger("com.mingus.reliability");
    Level appLevel = app.getLevel();
    try {
      int proxyPort = startPlaid(plaidSide);
      SandboxControl sandbox = new SandboxControl(sandboxPort);
      sandbox.institution("ins_secret", "Secret Bank");
      appender.setContext(root.getLoggerContext());
      appender.start();
      root.addAppender(appender);
      app.setLevel(Level.DEBUG);

      Path tls = Files.createTempDirectory("no-plaintext-tls");
      int[] clusterPorts = {freePort(), freePort()};
      String cluster = "no-plaintext-" + UUID.randomUUID().toString().substring(0, 8);
      for (int i = 0; i < 2; i++) {
        Application node = TestApp.start(db, nodeEnv(i, cluster, clusterPorts, tls, proxyPort),
            Map.of("sync.poll_interval_ms", 200, "sync.webhook_coalesce_ms", 200));
        nodes.add(node);
        intercept(i, node.vertx());
      }

      // link: three users, each through a different node than the last, with a sandbox public token
      List<String[]> linked = new ArrayList<>();
      for (int u = 0; u < 3; u++) {
        String user = "secret-user-" + u;
        JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_secret")
            .put("user_id", user).put("transactions", 12)
            .put("webhook", "http://127.0.0.1:" + nodes.get(0).httpPort() + "/api/plaid/webhook"));
        publicTokens.add(item.getString("public_token"));
        Http.Response created = call(nodes.get(u % 2), user, "POST", "/api/reliability/connections",
            new JsonObject().put("public_token", item.getString("public_token")));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        linked.add(new String[] {user, created.json().getJsonObject("connection").getString("connection_id"),
            item.getString("item_id")});
      }
      assertThat(accessTokens).as("the proxy saw every exchange").hasSize(3);
      for (String[] l : linked) {
        awaitSyncs(db, l[1], "success", 1);
      }

      // a webhook-driven sync: new transactions at Plaid, SYNC_UPDATES_AVAILABLE to node 0
      sandbox.mutate(linked.get(0)[2], 4, 1, 1);
      awaitSyncs(db, linked.get(0)[1], "success", 2);

      // sync-now, through node 1
      Http.Response now = call(nodes.get(1), linked.get(1)[0], "POST",
          "/api/reliability/connections/" + linked.get(1)[1] + "/sync-now", null);
      assertThat(now.status()).as(now.body()).isEqualTo(202);
      awaitSyncs(db, linked.get(1)[1], "success", 2);

      // the login breaks: the ITEM ERROR webhook parks it; a sync-now meets ITEM_LOGIN_REQUIRED (classified over
      // the bus); the user asks for an update-mode Link token, repairs the login, and LOGIN_REPAIRED syncs again
      String[] broken = linked.get(2);
      sandbox.post("/__control/items/" + broken[2] + "/reset-login", new JsonObject());
      Await.until(() -> "needs_user".equals(paused(db, broken[1])), Duration.ofSeconds(20), "the connection is parked");
      Http.Response retry = call(nodes.get(1), broken[0], "POST",
          "/api/reliability/connections/" + broken[1] + "/retry", null);
      assertThat(retry.status()).as(retry.body()).isEqualTo(200);
      Await.until(() -> count(db, "SELECT count(*) FROM sync_logs WHERE connection_id = ? AND error_code = 'ITEM_LOGIN_REQUIRED'",
          broken[1]) >= 1, Duration.ofSeconds(20), "a sync met ITEM_LOGIN_REQUIRED");
      Http.Response reconnect = call(nodes.get(1), broken[0], "POST",
          "/api/reliability/connections/" + broken[1] + "/reconnect", null);
      assertThat(reconnect.status()).as(reconnect.body()).isEqualTo(200);
      assertThat(reconnect.json().getString("link_token")).startsWith("link-sandbox-");
      long before = count(db, "SELECT count(*) FROM sync_logs WHERE connection_id = ? AND status = 'success'", broken[1]);
      sandbox.post("/__control/items/" + broken[2] + "/repair-login", new JsonObject());
      awaitSyncs(db, broken[1], "success", before + 1);

      // read back what a user reads, so those answers cross the bus too
      for (String[] l : linked) {
        assertThat(call(nodes.get(1), l[0], "GET", "/api/reliability/connections/" + l[1] + "/transactions", null).status())
            .isEqualTo(200);
        assertThat(call(nodes.get(0), l[0], "GET", "/api/reliability/connections/" + l[1] + "/sync-status", null).status())
            .isEqualTo(200);
      }

      // remove one, through node 1 (Plaid's /item/remove takes the token)
      Http.Response removed = call(nodes.get(1), linked.get(0)[0], "DELETE",
          "/api/reliability/connections/" + linked.get(0)[1], null);
      assertThat(removed.status()).as(removed.body()).isEqualTo(200);

      // every verticle on both nodes has had its say; now look
      List<String> findings = new ArrayList<>();
      List<Captured> bus = List.copyOf(this.bus);
      int bodies = scanBus(bus, findings);
      int lines = scanLogs(findings);
      int[] columns = scanDatabase(db, findings);
      System.getLogger(NoPlaintextTokenTest.class.getName()).log(System.Logger.Level.INFO, String.format(
          "Scanned %d bus messages (%d sent, %d delivered, %d addresses, %d bytes), %d log lines, %d columns of %d tables "
              + "(%d values) for %d access tokens and %d public tokens: %d findings", bodies,
          bus.stream().filter(c -> c.direction().equals("out")).count(),
          bus.stream().filter(c -> c.direction().equals("in")).count(),
          bus.stream().map(c -> c.address().startsWith("__vertx.reply") ? "reply" : c.address()).distinct().count(),
          bus.stream().mapToLong(c -> c.wire().length).sum(), lines, columns[0], columns[1],
          columns[2], accessTokens.size(), publicTokens.size(), findings.size()));
      assertThat(bodies).as("bus messages captured").isGreaterThan(100);
      assertThat(bus.stream().anyMatch(c -> c.node() == 1 && c.direction().equals("in")
          && bus.stream().noneMatch(o -> o.node() == 1 && o.direction().equals("out") && o.address().equals(c.address()))))
          .as("node 1 received messages another node sent, so messages did cross nodes").isTrue();
      assertThat(lines).as("log lines captured").isGreaterThan(50);
      assertThat(columns[2]).as("database values scanned").isGreaterThan(100);
      assertThat(findings).as("plaintext access tokens found").isEmpty();
    } finally {
      root.detachAppender(appender);
      app.setLevel(appLevel);
      for (int i = nodes.size() - 1; i >= 0; i--) {
        nodes.get(i).close();
      }
      Await.result(plaidSide.close());
    }
  }

  // --- Plaid: the sandbox behind a proxy that records the tokens it issues ------------------------------

  private int sandboxPort;

  private int startPlaid(Vertx vertx) {
    JsonObject sandboxSection = ConfigLoader.bundledDefaults().getJsonObject("sandbox").copy().put("port", 0);
    SandboxVerticle verticle = new SandboxVerticle();
    Await.result(vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(sandboxSection)));
    sandboxPort = verticle.port();
    HttpClient client = vertx.createHttpClient();
    HttpServer proxy = Await.result(vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      record(body);
      client.request(new RequestOptions().setMethod(request.method()).setHost("127.0.0.1").setPort(sandboxPort)
              .setURI(request.uri()).setHeaders(MultiMap.caseInsensitiveMultiMap().addAll(request.headers())
                  .remove("Host")))
          .compose(out -> out.send(body))
          .compose(answer -> answer.body().map(answerBody -> {
            record(answerBody);
            request.response().setStatusCode(answer.statusCode())
                .putHeader("Content-Type", answer.getHeader("Content-Type") == null ? "application/json"
                    : answer.getHeader("Content-Type"))
                .end(answerBody);
            return answerBody;
          }))
          .onFailure(failure -> request.response().setStatusCode(502).end());
    })).listen(0, "127.0.0.1"));
    return proxy.actualPort();
  }

  /** Learns every access and public token in a Plaid request or answer. */
  private void record(Buffer body) {
    if (body.length() == 0 || body.getByte(0) != '{') {
      return;
    }
    JsonObject json = new JsonObject(body);
    String access = json.getString("access_token");
    if (access != null) {
      accessTokens.add(access);
    }
    String publicToken = json.getString("public_token");
    if (publicToken != null) {
      publicTokens.add(publicToken);
    }
  }

  // --- the nodes -------------------------------------------------------------------------------------

  private Map<String, String> nodeEnv(int node, String cluster, int[] clusterPorts, Path tls, int plaidPort) {
    JsonObject sandboxDefaults = ConfigLoader.bundledDefaults().getJsonObject("sandbox");
    Map<String, String> env = new HashMap<>();
    env.put("PLAID_BASE_URL", "http://127.0.0.1:" + plaidPort);
    env.put("PLAID_CLIENT_ID", sandboxDefaults.getString("client_id"));
    env.put("PLAID_SECRET", sandboxDefaults.getString("secret"));
    env.put("MINGUS_JWT_SECRET", JWT_SECRET);
    env.put("HTTP_HOST", "127.0.0.1");
    env.put("DATA_DIR", tls.resolve("data-" + node).toString());
    env.put("CLUSTER", "true");
    env.put("CLUSTER_NAME", cluster);
    env.put("CLUSTER_HOST", "127.0.0.1");
    env.put("CLUSTER_PORT", Integer.toString(clusterPorts[node]));
    env.put("CLUSTER_PORT_COUNT", "1");
    env.put("CLUSTER_MEMBERS", "127.0.0.1:" + clusterPorts[0] + ",127.0.0.1:" + clusterPorts[1]);
    env.put("CLUSTER_TLS_DIR", tls.resolve("cluster-tls").toString());
    env.put("EVENT_BUS_HOST", "127.0.0.1");
    env.put("EVENT_BUS_PORT", "0");
    return env;
  }

  /** Records every message this node sends and every one it delivers, as bytes that would cross the wire. */
  private void intercept(int node, Vertx vertx) {
    vertx.eventBus().addOutboundInterceptor((DeliveryContext<Object> ctx) -> {
      bus.add(new Captured(node, "out", ctx.message().address(), wire(ctx.message().headers(), ctx.body())));
      ctx.next();
    });
    vertx.eventBus().addInboundInterceptor((DeliveryContext<Object> ctx) -> {
      bus.add(new Captured(node, "in", ctx.message().address(), wire(ctx.message().headers(), ctx.body())));
      ctx.next();
    });
  }

  /** The body encoded as the codec that would carry it to another node encodes it, with the headers. */
  private static byte[] wire(MultiMap headers, Object body) {
    Buffer out = Buffer.buffer();
    headers.forEach(h -> out.appendString(h.getKey()).appendString("=").appendString(h.getValue()).appendString("\n"));
    if (body instanceof BusMessage message) {
      new MessageCodecs().encodeToWire(out, message);
    } else if (body instanceof JsonObject json) {
      out.appendBuffer(json.toBuffer());
    } else if (body instanceof JsonArray json) {
      out.appendBuffer(json.toBuffer());
    } else if (body instanceof Buffer buffer) {
      out.appendBuffer(buffer);
    } else if (body instanceof byte[] bytes) {
      out.appendBytes(bytes);
    } else if (body instanceof ReplyException failure) {
      out.appendString(failure.failureType() + ":" + failure.failureCode() + ":" + failure.getMessage());
    } else if (body != null) {
      out.appendString(body.getClass().getName() + ":" + body);
    }
    return out.getBytes();
  }

  private static Http.Response call(Application node, String user, String method, String path, JsonObject body) {
    String token = JwtIssuer.issue(node.vertx(), JWT_SECRET, user, List.of("user"), "User " + user,
        user + "@example.com", 600);
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path))
        .header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    return Http.send(request);
  }

  private static void awaitSyncs(DatabaseTarget db, String connectionId, String status, long atLeast) {
    Await.until(() -> count(db, "SELECT count(*) FROM sync_logs WHERE connection_id = ? AND status = '" + status + "'",
        connectionId) >= atLeast, Duration.ofSeconds(30), connectionId + " has " + atLeast + " " + status + " syncs");
  }

  private static long count(DatabaseTarget db, String sql, String arg) {
    return com.mingus.reliability.testsupport.Sql.number(db, sql, arg);
  }

  private static String paused(DatabaseTarget db, String connectionId) {
    List<String> rows = com.mingus.reliability.testsupport.Sql.strings(db,
        "SELECT paused FROM sync_schedule WHERE connection_id = ?", connectionId);
    return rows.isEmpty() ? null : rows.get(0);
  }

  // --- the scans ---------------------------------------------------------------------------------------

  private List<TokenLeaks> leaks() {
    return accessTokens.stream().map(TokenLeaks::new).toList();
  }

  private int scanBus(List<Captured> bus, List<String> findings) {
    List<TokenLeaks> leaks = leaks();
    int n = 0;
    for (Captured c : bus) {
      n++;
      for (TokenLeaks leak : leaks) {
        String shape = leak.foundIn(c.wire());
        if (shape != null) {
          findings.add("bus node " + c.node() + " " + c.direction() + " " + c.address() + " carries an access token ("
              + shape.length() + "-character shape)");
        }
      }
      // a public token may be exchanged once for an access token: it stays on the node that received it
      if (c.direction().equals("in")) {
        for (String publicToken : publicTokens) {
          String text = new String(c.wire(), StandardCharsets.ISO_8859_1);
          if (text.contains(publicToken) && bus.stream().noneMatch(o -> o.node() == c.node() && o.direction().equals("out")
              && new String(o.wire(), StandardCharsets.ISO_8859_1).contains(publicToken))) {
            findings.add("node " + c.node() + " received a public token from another node on " + c.address());
          }
        }
      }
    }
    return n;
  }

  private int scanLogs(List<String> findings) {
    List<TokenLeaks> leaks = leaks();
    int n = 0;
    for (Line line : logs) {
      n++;
      for (TokenLeaks leak : leaks) {
        if (leak.foundIn(line.text()) != null) {
          findings.add("log line of " + line.logger() + " carries an access token");
        }
      }
    }
    return n;
  }

  /** Every text-like and bytea column of every table outside PostgreSQL's own schemas: {columns, tables, values}. */
  private int[] scanDatabase(DatabaseTarget db, List<String> findings) throws SQLException {
    List<TokenLeaks> leaks = leaks();
    int columns = 0;
    int values = 0;
    Set<String> tables = new java.util.HashSet<>();
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), "")) {
      List<String[]> targets = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet rows = s.executeQuery("""
          SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.udt_name
          FROM information_schema.columns c JOIN information_schema.tables t
            ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
          WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')
            AND (c.data_type IN ('text', 'character varying', 'character', 'bytea', 'json', 'jsonb')
                 OR (c.data_type = 'ARRAY' AND c.udt_name IN ('_text', '_varchar', '_jsonb', '_bytea')))
          ORDER BY 1, 2, 3""")) {
        while (rows.next()) {
          targets.add(new String[] {rows.getString(1), rows.getString(2), rows.getString(3), rows.getString(4)});
        }
      }
      for (String[] t : targets) {
        columns++;
        tables.add(t[0] + "." + t[1]);
        String sql = "SELECT \"" + t[2] + "\"" + ("bytea".equals(t[3]) ? "" : "::text") + " FROM \"" + t[0] + "\".\"" + t[1] + "\"";
        try (Statement s = c.createStatement(); ResultSet rows = s.executeQuery(sql)) {
          while (rows.next()) {
            values++;
            for (TokenLeaks leak : leaks) {
              String shape = "bytea".equals(t[3]) ? leak.foundIn(rows.getBytes(1)) : leak.foundIn(rows.getString(1));
              if (shape != null) {
                findings.add("column " + t[1] + "." + t[2] + " holds an access token");
              }
            }
          }
        }
      }
    }
    return new int[] {columns, tables.size(), values};
  }

  /** Every event of every logger, as raw as an appender gets it: the message with its arguments, the exception, the MDC. */
  private final class Appender extends AppenderBase<ILoggingEvent> {
    @Override
    protected void append(ILoggingEvent event) {
      StringBuilder text = new StringBuilder(event.getFormattedMessage() == null ? "" : event.getFormattedMessage());
      if (event.getArgumentArray() != null) {
        for (Object argument : event.getArgumentArray()) {
          text.append(' ').append(argument);
        }
      }
      if (event.getThrowableProxy() != null) {
        text.append('\n').append(ThrowableProxyUtil.asString(event.getThrowableProxy()));
      }
      text.append(' ').append(event.getMDCPropertyMap());
      logs.add(new Line(event.getLoggerName(), text.toString()));
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
