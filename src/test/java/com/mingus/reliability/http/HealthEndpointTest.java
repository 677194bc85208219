package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.db.EmbeddedDatabase;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HealthEndpointTest {

  @Test
  void healthAnswersWithEachCheckAndMetricsArePrometheusText() {
    try (Application app = TestApp.start(HealthEndpointTest.class)) {
      Http.Response health = Http.get(app.httpPort(), "/api/reliability/health");
      assertThat(health.status()).isEqualTo(200);
      JsonObject body = health.json();
      assertThat(body.getBoolean("success")).isTrue();
      assertThat(body.getString("status")).isEqualTo("up");
      assertThat(body.getJsonObject("checks").fieldNames()).contains("db", "http");
      assertThat(body.getJsonObject("checks").getJsonObject("db").getBoolean("healthy")).isTrue();

      Http.Response metrics = Http.get(app.httpPort(), "/metrics");
      assertThat(metrics.status()).isEqualTo(200);
      assertThat(metrics.body())
          .contains("# TYPE")
          .contains("vertx_http_server_requests_total")
          .contains("vertx_eventbus_")
          .contains("vertx_pool_")
          .contains("jvm_memory_used_bytes");
    }
  }

  @Test
  void unknownPathsAndOversizedBodiesGetJsonErrors() {
    try (Application app = TestApp.start(HealthEndpointTest.class)) {
      Http.Response missing = Http.get(app.httpPort(), "/api/reliability/nothing-here");
      assertThat(missing.status()).isEqualTo(404);
      assertThat(missing.json().getBoolean("success")).isFalse();
      assertThat(missing.json().getJsonObject("error").getString("code")).isEqualTo("NOT_FOUND");

      byte[] big = new byte[70_000];
      Http.Response tooBig = Http.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://127.0.0.1:" + app.httpPort() + "/api/reliability/connections"))
          .header("Content-Type", "application/json")
          .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(big)));
      assertThat(tooBig.status()).isEqualTo(413);
      assertThat(tooBig.json().getJsonObject("error").getString("code")).isEqualTo("BODY_TOO_LARGE");
    }
  }

  @Test
  void healthTurns503WhenTheDatabaseStopsAndBackTo200WhenItReturns() throws Exception {
    Path dir = Files.createTempDirectory("mingus-health-pg");
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    EmbeddedDatabase db = EmbeddedDatabase.start(dir, false, port);
    try (Application app = TestApp.start(db.target(), Map.of())) {
      assertThat(Http.get(app.httpPort(), "/api/reliability/health").status()).isEqualTo(200);

      db.close();
      Http.Response down = Http.await(app.httpPort(), "/api/reliability/health", r -> r.status() == 503,
          Duration.ofSeconds(20));
      assertThat(down.status()).isEqualTo(503);
      assertThat(down.json().getString("status")).isEqualTo("down");
      assertThat(down.json().getJsonObject("error").getString("message")).startsWith("db: ");
      assertThat(down.json().getJsonObject("checks").getJsonObject("http").getBoolean("healthy")).isTrue();
      // not ready, and still alive: a restart would not bring the database back
      assertThat(Http.get(app.httpPort(), "/api/reliability/health/ready").status()).isEqualTo(503);
      Http.Response live = Http.get(app.httpPort(), "/api/reliability/health/live");
      assertThat(live.status()).isEqualTo(200);
      assertThat(live.json().getString("status")).isEqualTo("up");

      db = EmbeddedDatabase.start(dir, false, port);
      Http.Response up = Http.await(app.httpPort(), "/api/reliability/health", r -> r.status() == 200,
          Duration.ofSeconds(30));
      assertThat(up.status()).isEqualTo(200);
      assertThat(Http.get(app.httpPort(), "/api/reliability/health/ready").status()).isEqualTo(200);
    } finally {
      db.close();
    }
  }

  static {
    TestDatabase.server();
  }
}
