package com.mingus.reliability.db;

import static com.mingus.reliability.testsupport.TwoUsers.ALICE;
import static com.mingus.reliability.testsupport.TwoUsers.ALICE_CONNECTION;
import static com.mingus.reliability.testsupport.TwoUsers.BOB;
import static com.mingus.reliability.testsupport.TwoUsers.BOB_CONNECTION;
import static com.mingus.reliability.testsupport.TwoUsers.BOB_NOTIFICATION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import com.mingus.reliability.testsupport.TwoUsers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Row-level security (V14) on its own, through {@link Tenancy}, against two users' data in every table that
 * holds a user's data. The stores' own queries with their user conditions taken out are checked in each
 * owner's package (SyncRowLevelSecurityTest, HealthRowLevelSecurityTest, NotifyRowLevelSecurityTest).
 */
class RowLevelSecurityTest {
  /** Each user-data table and a column that names its rows. */
  private static final Map<String, String> USER_TABLES = Map.ofEntries(
      Map.entry("connections", "connection_id"), Map.entry("sync_schedule", "connection_id"),
      Map.entry("accounts", "account_id"), Map.entry("transactions", "transaction_id"),
      Map.entry("sync_logs", "connection_id"), Map.entry("sync_outbox", "id::text"),
      Map.entry("health_connections", "connection_id"), Map.entry("notifications", "id::text"),
      Map.entry("notify_deliveries", "id::text"), Map.entry("notify_attempts", "delivery_id::text"),
      Map.entry("notify_preferences", "user_id"));

  /** Tables the tenant may read that hold no user's data. */
  private static final Set<String> SHARED_FOR_TENANT = Set.of("institution_pauses");
  /** Tables that name a connection but are operators' only: row-level security with no tenant policy. */
  private static final Set<String> OPERATOR_ONLY = Set.of("operator_alerts");

  private static Vertx vertx;
  private static DatabaseTarget db;
  private static Pool pool;

  @BeforeAll
  static void seed() {
    db = TestDatabase.fresh(RowLevelSecurityTest.class);
    TwoUsers.seed(db);
    vertx = Vertx.vertx();
    pool = Pools.create(vertx, Pools.connectionConfig(db, 1), "rls-test");
  }

  @AfterAll
  static void close() {
    Await.result(pool.close());
    Await.result(vertx.close());
  }

  @Test
  void everyTableNamingAUserOrAConnectionHasRowLevelSecurityAndATenantPolicy() {
    List<String> tables = Sql.strings(db, """
        SELECT DISTINCT table_name FROM information_schema.columns
        WHERE table_schema = current_schema()
          AND column_name IN ('user_id', 'connection_id', 'notification_id', 'delivery_id')
          AND table_name NOT IN (SELECT table_name FROM information_schema.views WHERE table_schema = current_schema())
        ORDER BY 1""");
    assertThat(tables).as("the tables found").contains("connections", "transactions", "notifications", "notify_attempts");
    List<String> missing = new ArrayList<>();
    for (String table : tables) {
      boolean secured = Boolean.parseBoolean(Sql.strings(db,
          "SELECT relrowsecurity::text FROM pg_class WHERE oid = to_regclass(?)", table).get(0));
      long tenantPolicies = Sql.number(db, "SELECT count(*) FROM pg_policies WHERE schemaname = current_schema() "
          + "AND tablename = ? AND 'mingus_tenant' = ANY(roles)", table);
      if (!secured || (tenantPolicies == 0 && !OPERATOR_ONLY.contains(table))) {
        missing.add(table + (secured ? " (no tenant policy)" : " (row-level security off)"));
      }
    }
    assertThat(missing).as("tables holding a user's data without their wall").isEmpty();
  }

  @Test
  void theTenantHoldsGrantsOnlyOnTablesWithRowLevelSecurity() {
    List<String> granted = Sql.strings(db, """
        SELECT DISTINCT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relrowsecurity
          AND (has_table_privilege('mingus_tenant', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
               OR has_any_column_privilege('mingus_tenant', c.oid, 'SELECT, INSERT, UPDATE'))
        ORDER BY 1""");
    assertThat(granted).as("tables a tenant can touch with no row-level security").isSubsetOf(SHARED_FOR_TENANT);
  }

  @Test
  void aQueryWithoutItsUserConditionReadsOnlyTheCallersRows() {
    for (Map.Entry<String, String> table : USER_TABLES.entrySet()) {
      String sql = "SELECT " + table.getValue() + " FROM " + table.getKey();
      assertThat(Sql.strings(db, sql)).as("the owner sees both users' %s", table.getKey()).hasSize(rowsOf(table.getKey()) * 2);
      Set<String> alice = names(Tenancy.asUser(pool, ALICE, conn -> conn.query(sql).execute()));
      Set<String> bob = names(Tenancy.asUser(pool, BOB, conn -> conn.query(sql).execute()));
      assertThat(alice).as("alice's %s", table.getKey()).hasSize(rowsOf(table.getKey())).doesNotContainAnyElementsOf(bob);
      assertThat(bob).as("bob's %s", table.getKey()).hasSize(rowsOf(table.getKey()));
    }
    // a join through every table of the connection view, with no WHERE at all
    Set<String> joined = names(Tenancy.asUser(pool, ALICE, conn -> conn.query("""
        SELECT c.connection_id FROM connections c JOIN sync_schedule s ON s.connection_id = c.connection_id
        JOIN health_connections h ON h.connection_id = c.connection_id
        JOIN transactions t ON t.connection_id = c.connection_id""").execute()));
    assertThat(joined).containsExactly(ALICE_CONNECTION);
  }

  private static int rowsOf(String table) {
    return table.equals("transactions") ? 2 : 1;
  }

  @Test
  void withoutAUserIdTheTenantSeesNothing() {
    for (String table : USER_TABLES.keySet()) {
      long seen = Await.result(pool.withTransaction(conn -> conn.query("SET LOCAL ROLE mingus_tenant").execute()
          .compose(v -> conn.query("SELECT count(*) FROM " + table).execute())
          .map(rows -> rows.iterator().next().getLong(0))));
      assertThat(seen).as("%s with no user id set", table).isZero();
    }
    assertThatThrownBy(() -> Await.result(Tenancy.asUser(pool, " ", conn -> conn.query("SELECT 1").execute())))
        .hasRootCauseInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void writingAnotherUsersRowsIsRefusedOrTouchesNothing() {
    String before = fingerprint();
    // a new row in bob's name, or one of bob's rows moved to alice's or alice's to bob's: refused
    assertRefused(ALICE, "INSERT INTO connections (connection_id, user_id, item_id, token_key_id, token_nonce, "
        + "token_ciphertext) VALUES ('conn_x', 'bob', 'item_x', 'test1', '\\x00'::bytea, '\\x00'::bytea)",
        "row-level security");
    assertRefused(ALICE, "INSERT INTO sync_schedule (connection_id, next_sync_at) VALUES ('conn_b', now())",
        "row-level security");
    assertRefused(ALICE, "INSERT INTO notify_preferences (user_id, email) VALUES ('bob', 'evil@example.com') "
        + "ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email", "row-level security");
    assertRefused(ALICE, "UPDATE notify_preferences SET user_id = 'bob' WHERE user_id = 'alice'", "row-level security");
    assertRefused(ALICE, "INSERT INTO sync_outbox (connection_id, address, body, redrive_at) "
        + "VALUES ('conn_b', 'connection.removed', '{\"user_id\": \"bob\"}', now())", "row-level security");
    // bob's rows named outright: nothing to update or delete
    assertThat(changed(ALICE, "UPDATE notifications SET read_at = now() WHERE id = '" + BOB_NOTIFICATION + "'")).isZero();
    assertThat(changed(ALICE, "UPDATE sync_schedule SET next_sync_at = now(), priority = 0 WHERE connection_id = 'conn_b'"))
        .isZero();
    assertThat(changed(ALICE, "DELETE FROM sync_logs WHERE connection_id = 'conn_b'")).isZero();
    assertThat(changed(ALICE, "DELETE FROM connections WHERE connection_id = 'conn_b'")).isZero();
    assertThat(changed(ALICE, "UPDATE notify_preferences SET email = 'evil@example.com' WHERE user_id = 'bob'")).isZero();
    // what the tenant has no grant for at all
    assertRefused(ALICE, "DELETE FROM transactions", "permission denied");
    assertRefused(ALICE, "INSERT INTO notifications (id, user_id, type, priority, title, message) "
        + "VALUES (gen_random_uuid(), 'alice', 'system_maintenance', 'low', 't', 'm')", "permission denied");
    assertRefused(ALICE, "SELECT body FROM sync_outbox", "permission denied");
    assertRefused(ALICE, "SELECT value FROM notify_settings", "permission denied");
    assertRefused(ALICE, "SELECT count(*) FROM operator_alerts", "permission denied");
    assertRefused(ALICE, "SELECT count(*) FROM ratelimit_grants", "permission denied");
    assertThat(fingerprint()).as("every user's data as it was").isEqualTo(before);
    // and the same statements on alice's own rows do change them (so the zeros above were the wall)
    assertThat(changed(ALICE, "UPDATE sync_schedule SET priority = 1 WHERE connection_id = '" + ALICE_CONNECTION + "'"))
        .isEqualTo(1);
  }

  @Test
  void theRoleAndTheUserEndWithTheTransaction() {
    // one connection in the pool: the next borrower gets the very connection the tenant's transaction used
    Await.result(Tenancy.asUser(pool, ALICE, conn -> conn.query("SELECT 1").execute()));
    assertThat(whoAmI()).isEqualTo("postgres|");
    Future<Object> failed = Tenancy.asUser(pool, ALICE, conn -> conn.query("SELECT 1/0").execute().map(rows -> null));
    assertThatThrownBy(() -> Await.result(failed)).hasMessageContaining("division by zero");
    assertThat(whoAmI()).as("after a rollback").isEqualTo("postgres|");
    assertThat(Await.result(Tenancy.asUser(pool, BOB, conn -> conn.query(
            "SELECT current_user || '|' || current_setting('mingus.user_id', true)").execute()))
        .iterator().next().getString(0)).isEqualTo("mingus_tenant|bob");
  }

  @Test
  void whenTheScopingFailsTheStatementsSentBehindItRunNot() {
    long before = Sql.number(db, "SELECT count(*) FROM server_starts");
    Future<Long> seen = pool.withTransaction(conn -> Tenancy.pipelined(conn, conn.query("SELECT 1/0").execute(),
        c -> c.query("INSERT INTO server_starts (node_id, version) VALUES ('intruder', 'x')").execute()
            .compose(v -> c.query("SELECT count(*) FROM connections").execute())
            .map(rows -> rows.iterator().next().getLong(0))));
    assertThatThrownBy(() -> Await.result(seen)).hasMessageContaining("division by zero");
    assertThat(Sql.number(db, "SELECT count(*) FROM server_starts")).as("nothing written as the login role").isEqualTo(before);
    assertThatThrownBy(() -> Await.result(Tenancy.asUser(pool, "alice\u0000", conn -> conn.query("SELECT 1").execute())))
        .hasRootCauseInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aLoginRoleThatIsNoSuperuserMigratesAndIsWalledInToo() {
    // an external database: the login role owns the database, an administrator made it a member of both roles
    String role = "mingus_app_" + System.nanoTime();
    DatabaseTarget admin = TestDatabase.server().target();
    TestDatabase.execute(admin, "CREATE ROLE " + role + " LOGIN");
    TestDatabase.execute(admin, "GRANT mingus_tenant, mingus_operator TO " + role);
    TestDatabase.execute(admin, "CREATE DATABASE " + role + " OWNER " + role);
    DatabaseTarget own = new DatabaseTarget(admin.host(), admin.port(), role, role, null);
    assertThat(Migrations.migrate(own)).isPositive();
    TwoUsers.seed(own);
    assertThat(Sql.number(own, "SELECT count(*) FROM transactions")).as("the owner, background work").isEqualTo(4);
    Pool external = Pools.create(vertx, Pools.connectionConfig(own, 1), "rls-external");
    try {
      assertThat(names(Tenancy.asUser(external, ALICE, conn -> conn.query("SELECT transaction_id FROM transactions")
          .execute()))).containsExactly("tx_a1", "tx_a2");
      assertThat(names(Tenancy.asOperator(external, conn -> conn.query("SELECT connection_id FROM connections")
          .execute()))).hasSize(2);
    } finally {
      Await.result(external.close());
    }
  }

  private static String whoAmI() {
    return Await.result(pool.query("SELECT current_user || '|' || COALESCE(current_setting('mingus.user_id', true), '')")
        .execute()).iterator().next().getString(0);
  }

  @Test
  void theOperatorSeesEveryUsersRowsButNotTheSealedTokens() {
    assertThat(names(Tenancy.asOperator(pool, conn -> conn.query(
        "SELECT connection_id FROM connections").execute()))).containsExactlyInAnyOrder(ALICE_CONNECTION, BOB_CONNECTION);
    assertThat(names(Tenancy.asOperator(pool, conn -> conn.query(
        "SELECT connection_id FROM health_connections").execute()))).hasSize(2);
    assertThat(names(Tenancy.asOperator(pool, conn -> conn.query(
        "SELECT connection_id FROM reconciliations").execute()))).hasSize(2);
    assertThat(names(Tenancy.asOperator(pool, conn -> conn.query(
        "SELECT id::text FROM notify_deliveries").execute()))).hasSize(2);
    assertThat(changed(null, "UPDATE sync_schedule SET next_reconcile_at = now() WHERE connection_id = 'conn_b'"))
        .as("reconcile now").isEqualTo(1);
    assertRefused(null, "SELECT token_ciphertext FROM connections", "permission denied");
    assertRefused(null, "SELECT data FROM transactions", "permission denied");
    assertRefused(null, "UPDATE notifications SET read_at = now()", "permission denied");
    assertRefused(null, "DELETE FROM connections", "permission denied");
    assertRefused(null, "SELECT value FROM notify_settings", "permission denied");
  }

  // --- helpers ----------------------------------------------------------------------------------------

  private static <T> Future<T> as(String userId, Function<SqlConnection, Future<T>> work) {
    return Tenancy.scoped(pool, userId, work);
  }

  private static int changed(String userId, String sql) {
    return Await.result(as(userId, conn -> conn.query(sql).execute().map(rows -> rows.rowCount())));
  }

  private static void assertRefused(String userId, String sql, String why) {
    assertThatThrownBy(() -> Await.result(as(userId, conn -> conn.query(sql).execute())))
        .as(sql).hasMessageContaining(why);
  }

  private static Set<String> names(Future<? extends Iterable<Row>> rows) {
    Set<String> out = new TreeSet<>();
    for (Row row : Await.result(rows)) {
      out.add(row.getValue(0).toString());
    }
    return out;
  }

  /** Every row of every user-data table, as the owner sees it. */
  private static String fingerprint() {
    StringBuilder out = new StringBuilder();
    for (String table : new TreeSet<>(USER_TABLES.keySet())) {
      out.append(table).append(Sql.strings(db, "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM " + table + " t"));
    }
    return out.toString();
  }
}
