package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.BusMessage;
import com.mingus.reliability.health.HealthVerticle;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.deployment.DeploymentContext;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Health tracking is the only source of health: with it undeployed, HTTP answers 503 and the feed says
 * health is unavailable (no view made up from sync's registry or events); with it back, both answer again.
 */
class HealthUnavailableTest {
  private static Application app;
  private static SandboxControl sandbox;
  private static ApiCaller alice;
  private static String connection;

  @BeforeAll
  static void start() {
    app = TestApp.start(TestDatabase.fresh(HealthUnavailableTest.class), Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET),
        Map.of("sync.poll_interval_ms", 200, "http.bus_timeout_ms", 1500, "http.feed.health_check_ms", 200));
    sandbox = new SandboxControl(app.sandboxPort());
    sandbox.institution("ins_gone", "Gone Bank");
    alice = ApiCaller.user(app, "alice");
    Http.Response registered = alice.post("/api/reliability/connections", new JsonObject()
        .put("public_token", sandbox.item("ins_gone", "alice", 5).getString("public_token")));
    assertThat(registered.status()).as(registered.body()).isEqualTo(201);
    connection = registered.json().getJsonObject("connection").getString("connection_id");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void withHealthGoneTheApiAnswers503AndTheFeedSaysSoAndWithHealthBackBothAnswerAgain() {
    // just registered, health already knows it: the answer is health's own, not a view of sync's registry
    Http.Response before = alice.get("/api/reliability/connections/" + connection + "/health");
    assertThat(before.status()).as(before.body()).isEqualTo(200);
    assertThat(before.json().getJsonObject("connection").getString("status")).isEqualTo("active");
    assertThat(before.json().getJsonObject("connection").containsKey("source")).isFalse();
    FeedClient watching = FeedClient.authenticated(app.vertx(), app.httpPort(), alice.token);
    assertThat(watching.messages.get(0).getJsonArray("connections").encode()).contains(connection);

    DeploymentOptions healthOptions = undeployHealth();
    AtomicInteger completed = new AtomicInteger();
    MessageConsumer<Object> syncs = app.vertx().eventBus().consumer(Addresses.SYNC_COMPLETED, message -> {
      JsonObject event = message.body() instanceof BusMessage record ? record.toJson() : (JsonObject) message.body();
      if (connection.equals(event.getString("connection_id"))) {
        completed.incrementAndGet();
      }
    });
    try {
      for (String path : new String[] {"/api/reliability/connections/" + connection + "/health",
          "/api/reliability/connections/health", "/api/reliability/connections/" + connection + "/sync-status",
          "/api/reliability/institutions"}) {
        Http.Response down = alice.get(path);
        assertThat(down.status()).as(path + ": " + down.body()).isEqualTo(503);
        assertThat(ApiCaller.errorCode(down)).as(path).isEqualTo("SERVICE_UNAVAILABLE");
      }
      watching.await(m -> "unavailable".equals(m.getString("type")) && "health".equals(m.getString("component")),
          Duration.ofSeconds(5));
      int seen = watching.messages.size();

      // a client arriving now is told, and gets no snapshot made up from elsewhere
      FeedClient arriving = Await.result(FeedClient.open(app.vertx(), app.httpPort(), "http://localhost:8080", null));
      arriving.send(new JsonObject().put("type", "auth").put("token", alice.token));
      JsonObject first = arriving.await(m -> true, Duration.ofSeconds(10));
      assertThat(first.getString("type")).isEqualTo("unavailable");

      // sync keeps working, and its events are not turned into health here
      assertThat(alice.post("/api/reliability/connections/" + connection + "/sync-now", new JsonObject()).status())
          .isEqualTo(202);
      Await.until(() -> completed.get() > 0, Duration.ofSeconds(20), "the sync completes while health is gone");
      Await.holds(() -> watching.messages.subList(seen, watching.messages.size()).stream()
              .noneMatch(m -> "health".equals(m.getString("type")) || "snapshot".equals(m.getString("type")))
              && arriving.messages.stream().noneMatch(m -> "health".equals(m.getString("type"))),
          Duration.ofSeconds(2), "no health state reaches the feed while health is gone");

      redeploy(healthOptions);
      Await.until(() -> alice.get("/api/reliability/connections/" + connection + "/health").status() == 200,
          Duration.ofSeconds(20), "health answers again");
      Http.Response back = alice.get("/api/reliability/connections/" + connection + "/health");
      assertThat(back.json().getJsonObject("connection").getString("connection_id")).isEqualTo(connection);
      for (FeedClient client : new FeedClient[] {watching, arriving}) {
        client.await(m -> "snapshot".equals(m.getString("type"))
            && m.getJsonArray("connections").encode().contains(connection)
            && client.messages.indexOf(m) > client.messages.indexOf(client.messages.stream()
                .filter(u -> "unavailable".equals(u.getString("type"))).findFirst().orElseThrow()), Duration.ofSeconds(10));
      }
      assertThat(alice.get("/api/reliability/connections/" + connection + "/sync-status").status()).isEqualTo(200);
      arriving.close();
    } finally {
      syncs.unregister();
      watching.close();
    }
  }

  private static DeploymentOptions undeployHealth() {
    VertxInternal vertx = (VertxInternal) app.vertx();
    DeploymentContext health = vertx.deploymentManager().deployments().stream()
        .filter(d -> d.deployment().instances().stream().anyMatch(HealthVerticle.class::isInstance))
        .findFirst().orElseThrow();
    DeploymentOptions options = new DeploymentOptions(health.deployment().options());
    Await.result(app.vertx().undeploy(health.id()));
    return options;
  }

  private static void redeploy(DeploymentOptions options) {
    Await.result(app.vertx().deployVerticle(HealthVerticle::new, options));
  }
}
