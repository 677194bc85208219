package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The embedded default's demo: banks, users and connections appear, and faults start happening on their own. */
class DemoPopulationTest {

  @Test
  void theDemoRegistersConnectionsWhoseWebhooksReachUsAndFaultsShowUpWithinSeconds() {
    try (Application app = TestApp.start(TestDatabase.fresh(DemoPopulationTest.class),
        Map.of("MINGUS_DEMO", "true", "MINGUS_JWT_SECRET", ApiCaller.SECRET),
        Map.of("demo.users", 2, "demo.transactions_per_item", 20, "demo.first_fault_after_ms", 500, "demo.act_spacing_ms", 1000,
            "sync.poll_interval_ms", 200))) {
      ApiCaller operator = ApiCaller.admin(app, "olivia");
      Await.until(() -> operator.get("/api/admin/connections").json().getInteger("total_connections", 0) == 6,
          Duration.ofSeconds(20), "the demo registers 4 + 2 connections");
      Set<String> statuses = new HashSet<>();
      Await.until(() -> {
        JsonArray connections = operator.get("/api/admin/connections").json().getJsonArray("connections");
        connections.forEach(c -> statuses.add(((JsonObject) c).getString("status")));
        return statuses.contains("maintenance");
      }, Duration.ofSeconds(30), "a bank's maintenance shows; seen " + statuses);
      ApiCaller demoUser = ApiCaller.user(app, "demo-user");
      assertThat(demoUser.get("/api/reliability/connections/health").json().getInteger("total_connections")).isEqualTo(4);
      // the login that expires a few seconds in is told by a webhook to our own endpoint, which takes it
      var sandbox = new com.mingus.reliability.testsupport.SandboxControl(app.sandboxPort());
      Await.until(() -> sandbox.get("/__control/webhooks").getJsonArray("webhooks").stream()
              .anyMatch(h -> ((JsonObject) h).getString("url").endsWith("/api/plaid/webhook")
                  && "delivered".equals(((JsonObject) h).getString("state"))),
          Duration.ofSeconds(20), "a demo webhook is delivered to /api/plaid/webhook");
    }
  }
}
