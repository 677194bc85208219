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
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node dies (SIGKILL) while it holds sync leases: another node takes its connections over once the
 * leases expire, within 15 s, and every connection ends equal to the sandbox's ground truth.
 */
class NodeDeathTest {
  private static final Logger log = LoggerFactory.getLogger(NodeDeathTest.class);
  private static final int CONNECTIONS = 20;

  @Test
  void aKilledNodesConnectionsAreTakenOverAndLoseNothing() throws Exception {
    DatabaseTarget db = TestDatabase.fresh(NodeDeathTest.class);
    // Node A: the sandbox and the registry; it claims no syncs itself.
    try (Application a = TestApp.start(db, Map.of(), Map.of("sync.max_concurrent", 0))) {
      SandboxControl sandbox = new SandboxControl(a.sandboxPort());
      sandbox.institution("ins_death", "Mortal Bank");
      List<String> items = new ArrayList<>();
      List<String> connections = new ArrayList<>();
      for (int i = 0; i < CONNECTIONS; i++) {
        JsonObject item = sandbox.item("ins_death", "user-" + i, 60);
        items.add(item.getString("item_id"));
        connections.add(Await.result(Bus.<JsonObject>request(a.vertx(), Addresses.SYNC_REGISTER, new JsonObject()
            .put("user_id", "user-" + i).put("public_token", item.getString("public_token")), 15_000)).getString("connection_id"));
      }
      // Every sync call now takes 4 s, so node B is caught mid-sync.
      sandbox.fault(new JsonObject().put("scope", new JsonObject().put("endpoint", "/transactions/sync"))
          .put("latency_ms", 4000));

      Process b = startNode(a, db);
      try {
        Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_schedule WHERE lease_owner IS NOT NULL "
                + "AND lease_until > now()") >= CONNECTIONS / 2,
            Duration.ofSeconds(60), "node B holds leases");
      } finally {
        b.destroyForcibly().waitFor();
      }
      long killedAt = System.nanoTime();
      List<String> orphaned = Sql.strings(db, "SELECT connection_id FROM sync_schedule WHERE lease_owner IS NOT NULL");
      assertThat(orphaned).isNotEmpty();
      sandbox.clearFaults();

      // Node C takes over.
      try (Application c = TestApp.start(db, Map.of("PLAID_BASE_URL", "http://127.0.0.1:" + a.sandboxPort(),
          "PLAID_CLIENT_ID", "mingus-sandbox-client", "PLAID_SECRET", "mingus-sandbox-secret-0123456789"), Map.of())) {
        Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_schedule WHERE connection_id = ANY(?) "
                + "AND last_success_at IS NOT NULL", (Object) orphaned.toArray(new String[0])) == orphaned.size(),
            Duration.ofSeconds(15), "the orphaned connections are taken over and synced");
        long recoveredMs = (System.nanoTime() - killedAt) / 1_000_000;
        log.info("{} orphaned leases recovered {} ms after the kill", orphaned.size(), recoveredMs);
        Await.until(() -> Sql.number(db, "SELECT count(*) FROM sync_schedule WHERE last_success_at IS NOT NULL")
            == CONNECTIONS, Duration.ofSeconds(30), "every connection synced");
        for (int i = 0; i < CONNECTIONS; i++) {
          assertThat(new HashSet<>(Sql.strings(db, "SELECT transaction_id FROM transactions WHERE connection_id = ?",
              connections.get(i)))).isEqualTo(sandbox.truthIds(items.get(i)));
        }
        assertThat(Sql.number(db, "SELECT count(*) - count(DISTINCT transaction_id) FROM transactions")).isZero();
        assertThat(recoveredMs).isLessThan(15_000);
      }
    }
  }

  /** Node B: the real main class in a new JVM, syncing against node A's sandbox. */
  private static Process startNode(Application a, DatabaseTarget db) throws Exception {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    Path out = Files.createTempFile("node-b", ".log");
    ProcessBuilder builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Application.class.getName()).redirectErrorStream(true).redirectOutput(out.toFile());
    Map<String, String> env = builder.environment();
    env.put("DATABASE_URL", TestDatabase.url(db));
    env.put("PLAID_BASE_URL", "http://127.0.0.1:" + a.sandboxPort());
    env.put("PLAID_CLIENT_ID", "mingus-sandbox-client");
    env.put("PLAID_SECRET", "mingus-sandbox-secret-0123456789");
    env.put("TOKEN_ENCRYPTION_KEYS", TestApp.TEST_KEYS);
    env.put("HTTP_PORT", "0");
    env.put("MINGUS_DEMO", "false");
    return builder.start();
  }
}
