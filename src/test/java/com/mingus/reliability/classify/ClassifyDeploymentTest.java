package com.mingus.reliability.classify;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.bus.Classification;
import com.mingus.reliability.bus.ClassifyRequest;
import com.mingus.reliability.bus.ErrorCategory;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The application deploys the classifier: it answers on the bus, reports in the health check, counts in /metrics. */
class ClassifyDeploymentTest {

  @Test
  void theApplicationAnswersClassifyErrorAndListsClassifyInItsHealthAndMetrics() {
    try (Application app = TestApp.start(ClassifyDeploymentTest.class)) {
      Classification c = Bus.<Classification>request(app.vertx(), Addresses.CLASSIFY_ERROR,
              ClassifyRequest.plaidError("INSTITUTION_ERROR", "INSTITUTION_DOWN", null, 400, null, 1,
                  "/transactions/sync", "ins_1"), 5_000)
          .await();
      assertThat(c.category()).isEqualTo(ErrorCategory.BANK_MAINTENANCE);

      Http.Response health = Http.get(app.httpPort(), "/api/reliability/health");
      assertThat(health.status()).isEqualTo(200);
      JsonObject classify = health.json().getJsonObject("checks").getJsonObject("classify");
      assertThat(classify).isNotNull();
      assertThat(classify.getBoolean("healthy")).isTrue();

      assertThat(Http.get(app.httpPort(), "/metrics").body())
          .containsPattern("mingus_classifications_total\\{[^}]*category=\"bank_maintenance\"[^}]*} 1\\.0");
    }
  }
}
