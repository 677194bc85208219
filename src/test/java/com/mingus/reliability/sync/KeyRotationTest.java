package com.mingus.reliability.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.app.Application;
import com.mingus.reliability.bus.Addresses;
import com.mingus.reliability.bus.Bus;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.SandboxControl;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestApp;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Adding a key re-encrypts every stored token under it in the background while syncs keep working. */
class KeyRotationTest {

  @Test
  void addingANewKeyReEncryptsExistingTokensWithoutDowntime() {
    DatabaseTarget db = TestDatabase.fresh(KeyRotationTest.class);
    String sandboxPort;
    String connectionId;
    try (Application first = TestApp.start(db, Map.of(), Map.of())) {
      SandboxControl sandbox = new SandboxControl(first.sandboxPort());
      sandbox.institution("ins_keys", "Key Bank");
      for (int i = 0; i < 30; i++) {
        JsonObject item = sandbox.item("ins_keys", "user-" + i, 5);
        Await.result(Bus.request(first.vertx(), Addresses.SYNC_REGISTER, new JsonObject().put("user_id", "user-" + i)
            .put("public_token", item.getString("public_token")), 15_000));
      }
      sandboxPort = String.valueOf(first.sandboxPort());
      connectionId = Sql.strings(db, "SELECT connection_id FROM connections WHERE user_id = 'user-0'").get(0);
      assertThat(Sql.strings(db, "SELECT DISTINCT token_key_id FROM connections")).containsExactly("test1");
    }
    String rotated = "test2:" + Base64.getEncoder().encodeToString(
        "another-32-byte-key-for-rotation".getBytes(StandardCharsets.US_ASCII)) + "," + TestApp.TEST_KEYS;
    try (Application second = TestApp.start(db, Map.of("TOKEN_ENCRYPTION_KEYS", rotated), Map.of())) {
      Await.until(() -> Sql.strings(db, "SELECT DISTINCT token_key_id FROM connections").equals(java.util.List.of("test2")),
          Duration.ofSeconds(20), "every token is re-encrypted under the new key");
      // Tokens still open: a sync-now goes through Plaid (the sandbox of this run) and succeeds.
      JsonObject now = Await.result(Bus.request(second.vertx(), Addresses.SYNC_NOW,
          new JsonObject().put("user_id", "user-0").put("connection_id", connectionId), 5_000));
      assertThat(now.getString("sync_id")).isNotBlank();
      assertThat(sandboxPort).isNotBlank();
    }
  }
}
