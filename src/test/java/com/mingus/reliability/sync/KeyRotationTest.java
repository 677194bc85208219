package com.mingus.reliability.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.crypto.JwtIssuer;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Http;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import com.mingus.reliability.config.ConfigLoader;
import com.mingus.reliability.sandbox.SandboxVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Key rotation end to end (docs/secrets.md): connections linked under k1; a restart with "k2,k1" re-seals
 * every token under k2 in the background, in small batches, while syncs keep going to the sandbox, and
 * picks up where it stopped when the node is stopped half way; a restart with only k2 still syncs; a
 * ciphertext moved onto another user's row does not open there, is reported and is not used; and a
 * configuration without a key that stored tokens need stops start-up naming the key id, never a key.
 */
class KeyRotationTest {
  private static final String SECRET = "key-rotation-test-jwt-secret-0123456789abcdef";
  private static final String K1 = "k1:" + key("first-32-byte-key-for-rotation!!");
  private static final String K2 = "k2:" + key("second-32-byte-key-for-rotation!");
  private static final String K3 = "k3:" + key("third-32-byte-key-for-rotation!!");
  private static final int CONNECTIONS = 24;

  private static String key(String ascii) {
    return Base64.getEncoder().encodeToString(ascii.getBytes(StandardCharsets.US_ASCII));
  }

  /** The whole rotation against one sandbox that outlives the restarts (an external Plaid, as in production). */
  @Test
  void tokensMoveFromK1ToK2WhileSyncsKeepWorkingResumeAfterAStopAndOnlyK2IsNeededAfterwards() throws Exception {
    DatabaseTarget db = TestDatabase.fresh(KeyRotationTest.class);
    Vertx plaidSide = Vertx.vertx();
    try {
      JsonObject section = ConfigLoader.bundledDefaults().getJsonObject("sandbox").copy().put("port", 0);
      SandboxVerticle verticle = new SandboxVerticle();
      Await.result(plaidSide.deployVerticle(verticle, new DeploymentOptions().setConfig(section)));
      int httpPort;
      try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
        httpPort = socket.getLocalPort();
      }
      Map<String, String> external = Map.of("PLAID_BASE_URL", "http://127.0.0.1:" + verticle.port(),
          "PLAID_CLIENT_ID", section.getString("client_id"), "PLAID_SECRET", section.getString("secret"),
          "MINGUS_JWT_SECRET", SECRET, "HTTP_PORT", Integer.toString(httpPort));
      SandboxControl sandbox = new SandboxControl(verticle.port());
      sandbox.institution("ins_keys", "Key Bank");
      runRotation(db, sandbox, external, httpPort);
    } finally {
      Await.result(plaidSide.close());
    }
  }

  private void runRotation(DatabaseTarget db, SandboxControl sandbox, Map<String, String> external, int httpPort) {
    List<String[]> linked = new ArrayList<>();
    // 1. k1 only
    try (Application app = TestApp.start(db, with(external, K1), fast())) {
      for (int i = 0; i < CONNECTIONS; i++) {
        JsonObject item = sandbox.post("/__control/items", new JsonObject().put("institution_id", "ins_keys")
            .put("user_id", "rot-" + i).put("transactions", 5)
            .put("webhook", "http://127.0.0.1:" + httpPort + "/api/plaid/webhook"));
        JsonObject registered = Await.result(Bus.request(app.vertx(), Addresses.SYNC_REGISTER,
            new JsonObject().put("user_id", "rot-" + i).put("public_token", item.getString("public_token")), 15_000));
        linked.add(new String[] {"rot-" + i, registered.getString("connection_id"), item.getString("item_id")});
      }
      for (String[] l : linked) {
        awaitSuccesses(db, l[1], 1);
      }
      assertThat(Sql.strings(db, "SELECT DISTINCT token_key_id FROM connections")).containsExactly("k1");
      assertThat(vapid(db)).startsWith("enc1:k1:");
      JsonObject keys = adminKeys(app);
      assertThat(keys.getString("primary_key_id")).isEqualTo("k1");
      assertThat(keys.getLong("rows_under_old_keys")).isZero();
    }

    // 2a. "k2,k1", slowly (3 rows a batch, 3 s between), stopped half way: some rows k2, the rest still k1
    Map<String, Object> slow = new java.util.HashMap<>(fast());
    slow.put("sync.key_rotation.batch", 3);
    slow.put("sync.key_rotation.pause_ms", 3_000);
    try (Application app = TestApp.start(db, with(external, K2 + "," + K1), slow)) {
      Await.until(() -> count(db, "SELECT count(*) FROM connections WHERE token_key_id = 'k2'") >= 6,
          Duration.ofSeconds(20), "the rotation has begun");
      assertThat(vapid(db)).as("notify re-seals its secrets at start").startsWith("enc1:k2:");
    }
    long movedBeforeStop = count(db, "SELECT count(*) FROM connections WHERE token_key_id = 'k2'");
    assertThat(movedBeforeStop).as("stopped half way").isBetween(6L, (long) CONNECTIONS - 1);
    System.getLogger(KeyRotationTest.class.getName()).log(System.Logger.Level.INFO,
        "Stopped half way: " + movedBeforeStop + " of " + CONNECTIONS + " tokens under k2");
    assertThat(count(db, "SELECT count(*) FROM connections WHERE token_key_id = 'k1'")).isEqualTo(CONNECTIONS - movedBeforeStop);

    // 2b. "k2,k1" again: the rotation resumes and finishes (5 rows a batch) while webhooks and sync-nows keep syncing
    Map<String, Object> small = new java.util.HashMap<>(fast());
    small.put("sync.key_rotation.batch", 5);
    small.put("sync.key_rotation.pause_ms", 200);
    try (Application app = TestApp.start(db, with(external, K2 + "," + K1), small)) {
      JsonObject during = adminKeys(app);
      assertThat(during.getString("primary_key_id")).isEqualTo("k2");
      long successesBefore = count(db, "SELECT count(*) FROM sync_logs WHERE status = 'success'");
      for (int i = 0; i < 6; i++) {
        sandbox.mutate(linked.get(i)[2], 2, 0, 0);
      }
      for (int i = 6; i < 12; i++) {
        Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
            new JsonObject().put("user_id", linked.get(i)[0]).put("connection_id", linked.get(i)[1]), 5_000));
      }
      Await.until(() -> adminKeys(app).getLong("rows_under_old_keys") == 0, Duration.ofSeconds(30),
          "every token is re-sealed under k2");
      Await.until(() -> count(db, "SELECT count(*) FROM sync_logs WHERE status = 'success'") >= successesBefore + 12,
          Duration.ofSeconds(30), "the twelve syncs asked for during the rotation succeeded");
      assertThat(count(db, "SELECT count(*) FROM sync_logs WHERE status <> 'success'")).as("no sync failed").isZero();
      assertThat(Sql.strings(db, "SELECT DISTINCT token_key_id FROM connections")).containsExactly("k2");
      String metrics = Http.get(app.httpPort(), "/metrics").body();
      assertThat(metrics).containsPattern("(?m)^mingus_sync_tokens_old_key(\\{[^}]*\\})? 0\\.0$");
      assertThat(metrics).containsPattern("(?m)^mingus_sync_tokens_resealed_total(\\{[^}]*\\})? [1-9]");
      // idempotent: another pass finds nothing to do
      assertThat(adminKeys(app).getJsonArray("keys").size()).isEqualTo(1);
    }

    // 3. k2 only: syncs still open their tokens; a ciphertext moved onto another user's row is refused there
    try (Application app = TestApp.start(db, with(external, K2), fast())) {
      String[] victim = linked.get(1);
      String[] donor = linked.get(0);
      long successes = count(db, "SELECT count(*) FROM sync_logs WHERE status = 'success' AND connection_id = '" + victim[1] + "'");
      Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
          new JsonObject().put("user_id", victim[0]).put("connection_id", victim[1]), 5_000));
      awaitSuccesses(db, victim[1], successes + 1);

      Set<String> victimBefore = Set.copyOf(Sql.strings(db,
          "SELECT transaction_id FROM transactions WHERE connection_id = ?", victim[1]));
      Sql.execute(db, "UPDATE connections v SET token_nonce = d.token_nonce, token_ciphertext = d.token_ciphertext "
          + "FROM connections d WHERE v.connection_id = '" + victim[1] + "' AND d.connection_id = '" + donor[1] + "'");
      sandbox.mutate(donor[2], 3, 0, 0);
      Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
          new JsonObject().put("user_id", victim[0]).put("connection_id", victim[1]), 5_000));
      Await.until(() -> adminKeys(app).getLong("unreadable") == 1, Duration.ofSeconds(20),
          "the moved ciphertext is reported unreadable");
      // the re-sealer's scan may report the row before the sync that met it has stopped the connection
      Await.until(() -> List.of("stopped").equals(Sql.strings(db, "SELECT paused FROM sync_schedule WHERE connection_id = ?",
          victim[1])), Duration.ofSeconds(20), "the sync that met the moved ciphertext stops the connection");
      assertThat(Sql.strings(db, "SELECT status FROM sync_logs WHERE connection_id = ? ORDER BY started_at DESC LIMIT 1",
          victim[1])).containsExactly("failed");
      assertThat(Set.copyOf(Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ?", victim[1])))
          .as("nothing of the donor's Item reached the victim's connection").isEqualTo(victimBefore);
      assertThat(Http.get(app.httpPort(), "/metrics").body())
          .containsPattern("(?m)^mingus_sync_tokens_unreadable(\\{[^}]*\\})? 1\\.0$");
      // the donor's own row still works
      long donorSuccesses = count(db, "SELECT count(*) FROM sync_logs WHERE status = 'success' AND connection_id = '" + donor[1] + "'");
      Await.result(Bus.request(app.vertx(), Addresses.SYNC_NOW,
          new JsonObject().put("user_id", donor[0]).put("connection_id", donor[1]), 5_000));
      awaitSuccesses(db, donor[1], donorSuccesses + 1);
    }

    // 4. a configuration without k2: start-up stops, naming the key id and the setting, never a key
    assertThatThrownBy(() -> TestApp.start(db, with(external, K3), fast()).close())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TOKEN_ENCRYPTION_KEYS")
        .hasMessageContaining("'k2'")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(K2.substring(3)).doesNotContain(K3.substring(3)));
  }

  private static Map<String, Object> fast() {
    return Map.of("sync.poll_interval_ms", 200, "sync.webhook_coalesce_ms", 200, "sync.key_rotation.start_delay_ms", 100);
  }

  private static Map<String, String> with(Map<String, String> external, String keys) {
    Map<String, String> env = new java.util.HashMap<>(external);
    env.put("TOKEN_ENCRYPTION_KEYS", keys);
    return env;
  }

  private static JsonObject adminKeys(Application app) {
    String token = JwtIssuer.issue(app.vertx(), SECRET, "operator", List.of("user", "admin"), "Operator",
        "ops@example.com", 600);
    Http.Response response = Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + "/api/admin/keys"))
        .header("Authorization", "Bearer " + token).GET());
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    return response.json();
  }

  private static String vapid(DatabaseTarget db) {
    return Sql.strings(db, "SELECT value FROM notify_settings WHERE key = 'vapid'").get(0);
  }

  private static long count(DatabaseTarget db, String sql) {
    return Sql.number(db, sql);
  }

  private static void awaitSuccesses(DatabaseTarget db, String connectionId, long atLeast) {
    Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_logs WHERE status = 'success' AND connection_id = ?",
        connectionId) >= atLeast, Duration.ofSeconds(30), connectionId + " has " + atLeast + " successful syncs");
  }
}
