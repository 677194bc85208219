package com.mingus.reliability.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sync's figures in /metrics, as Prometheus scrapes them: with one sync at a time and a slow bank, three new
 * connections queue (the due-queue gauge sees them waiting, the running gauge one at a time), each sync's
 * duration lands in the histogram under its trigger and outcome, each claim's lateness in the schedule-lag
 * histogram, and every outcome is counted under its bank.
 */
class SyncMetricsTest {
  private static Application app;
  private static SandboxControl sandbox;

  @BeforeAll
  static void start() {
    app = TestApp.start(TestDatabase.fresh(SyncMetricsTest.class), Map.of("MINGUS_JWT_SECRET", ApiCaller.SECRET),
        Map.of("sync.poll_interval_ms", 100, "sync.max_concurrent", 1, "sync.metrics_interval_ms", 100));
    sandbox = new SandboxControl(app.sandboxPort());
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void durationsLagQueueAndOutcomesPerBankAreScraped() {
    sandbox.institution("ins_metrics", "Metrics Bank");
    sandbox.fault(new JsonObject().put("scope", new JsonObject().put("institution_id", "ins_metrics")
        .put("endpoint", "/transactions/sync")).put("latency_ms", 700));
    ApiCaller mia = ApiCaller.user(app, "mia");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      JsonObject item = sandbox.item("ins_metrics", "mia", 3);
      Http.Response created = mia.post("/api/reliability/connections",
          new JsonObject().put("public_token", item.getString("public_token")));
      assertThat(created.status()).as(created.body()).isEqualTo(201);
      ids.add(created.json().getJsonObject("connection").getString("connection_id"));
    }

    // one at a time: the others wait in the queue while the first is slow
    Await.until(() -> value(scrape(), "mingus_sync_queue_due", "") >= 1, Duration.ofSeconds(10),
        "the queue gauge sees connections waiting");
    assertThat(value(scrape(), "mingus_sync_running", "")).isLessThanOrEqualTo(1);
    Await.until(() -> value(scrape(), "mingus_sync_outcomes_total", "institution=\"ins_metrics\",status=\"success\"") == 3,
        Duration.ofSeconds(20), "three successes counted under the bank");

    String metrics = scrape();
    assertThat(value(metrics, "mingus_sync_duration_seconds_count", "status=\"success\",trigger=\"initial\"")).isEqualTo(3);
    // each took at least the bank's 700 ms: none in the buckets below it
    Matcher bucket = Pattern.compile("^mingus_sync_duration_seconds_bucket\\{status=\"success\",trigger=\"initial\",le=\"([^\"]+)\"\\} (\\S+)$",
        Pattern.MULTILINE).matcher(metrics);
    int below = 0;
    int buckets = 0;
    while (bucket.find()) {
      buckets++;
      if (!"+Inf".equals(bucket.group(1)) && Double.parseDouble(bucket.group(1)) < 0.7) {
        below++;
        assertThat(Double.parseDouble(bucket.group(2))).as("syncs faster than the bank, le=" + bucket.group(1)).isZero();
      }
    }
    assertThat(buckets).as("a histogram, bucket by bucket").isGreaterThan(10);
    assertThat(below).isGreaterThan(3);
    assertThat(value(metrics, "mingus_sync_duration_seconds_sum", "status=\"success\",trigger=\"initial\"")).isGreaterThan(2.1);
    assertThat(value(metrics, "mingus_sync_schedule_lag_seconds_count", "trigger=\"initial\"")).isEqualTo(3);
    // the last waited for the two before it: the lag's maximum is at least their time
    assertThat(value(metrics, "mingus_sync_schedule_lag_seconds_max", "trigger=\"initial\"")).isGreaterThan(1.0);
    Await.until(() -> value(scrape(), "mingus_sync_queue_due", "") == 0, Duration.ofSeconds(5), "the queue drains");
  }

  private static String scrape() {
    Http.Response response = Http.get(app.httpPort(), "/metrics");
    assertThat(response.status()).isEqualTo(200);
    return response.body();
  }

  /** The sample of one series (labels as Prometheus prints them, in order; empty for none), 0 when absent. */
  private static double value(String metrics, String name, String labels) {
    Pattern line = Pattern.compile("^" + Pattern.quote(name) + "(\\{([^}]*)\\})? (\\S+)$", Pattern.MULTILINE);
    Matcher m = line.matcher(metrics);
    double sum = 0;
    boolean found = false;
    while (m.find()) {
      String have = m.group(2) == null ? "" : m.group(2);
      if (labels.isEmpty() ? have.isEmpty() || !have.contains("=") : have.equals(labels) || have.startsWith(labels + ",")
          || have.contains("," + labels)) {
        sum += Double.parseDouble(m.group(3));
        found = true;
      }
    }
    return found ? sum : 0;
  }
}
