package com.mingus.reliability.sync;

import static org.assertj.core.api.Assertions.assertThat;

import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.config.DatabaseTarget;
import com.mingus.reliability.crypto.TokenCipher;
import com.mingus.reliability.db.Pools;
import com.mingus.reliability.testsupport.Await;
import com.mingus.reliability.testsupport.Sql;
import com.mingus.reliability.testsupport.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TokenRotation} against a real PostgreSQL: two rotations racing over the same rows re-seal each row
 * once and lose none; a ciphertext moved onto another row is marked unreadable, left under its old key and
 * reported; the compare-and-set leaves a row alone that changed since it was read; start-up names a
 * missing key id.
 */
class TokenRotationTest {
  private static final String K1 = "k1:" + key("first-32-byte-key-for-rotation!!");
  private static final String K2 = "k2:" + key("second-32-byte-key-for-rotation!");
  private static final int ROWS = 60;

  private Vertx vertx;
  private Pool pool;
  private DatabaseTarget db;

  private static String key(String ascii) {
    return Base64.getEncoder().encodeToString(ascii.getBytes(StandardCharsets.US_ASCII));
  }

  @BeforeEach
  void setUp() {
    db = TestDatabase.fresh("TokenRotationTest" + System.nanoTime());
    vertx = Vertx.vertx();
    pool = Pools.create(vertx, Pools.connectionConfig(db, 4), "test");
    TokenCipher k1 = TokenCipher.parse(K1, "test");
    List<Tuple> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      TokenCipher.Sealed sealed = k1.seal("access-sandbox-token-" + i, "user-" + i, "item-" + i);
      rows.add(Tuple.of(String.format("conn_%03d", i), "user-" + i, "item-" + i, sealed.keyId(),
          Buffer.buffer(sealed.nonce()), Buffer.buffer(sealed.ciphertext())));
    }
    Await.result(pool.preparedQuery("INSERT INTO connections (connection_id, user_id, item_id, token_key_id, token_nonce, "
        + "token_ciphertext) VALUES ($1, $2, $3, $4, $5, $6)").executeBatch(rows));
  }

  @AfterEach
  void tearDown() {
    Await.result(pool.close());
    Await.result(vertx.close());
  }

  private TokenRotation rotation(String keys, int batch) {
    return new TokenRotation(vertx, pool, TokenCipher.parse(keys, "test"), new JsonObject().put("batch", batch), null);
  }

  /** Runs batches until one finds nothing. */
  private static Future<Integer> drain(TokenRotation rotation, int done) {
    return rotation.runBatch().compose(n -> n == 0 ? Future.succeededFuture(done) : drain(rotation, done + n));
  }

  @Test
  void racingRotationsReSealEveryRowOnceAndAMovedCiphertextIsReportedNotUsed() {
    // user 1's row gets user 0's ciphertext: it does not open there
    Sql.execute(db, "UPDATE connections v SET token_nonce = d.token_nonce, token_ciphertext = d.token_ciphertext "
        + "FROM connections d WHERE v.connection_id = 'conn_001' AND d.connection_id = 'conn_000'");
    TokenRotation a = rotation(K2 + "," + K1, 7);
    TokenRotation b = rotation(K2 + "," + K1, 7);
    List<Integer> looked = Await.result(Future.all(drain(a, 0), drain(b, 0)), Duration.ofSeconds(30)).list();
    // SKIP LOCKED: between them the two looked at each row about once, not each at all of them
    assertThat(looked.get(0) + looked.get(1)).isBetween(ROWS, ROWS + 14);

    TokenCipher k2Only = TokenCipher.parse(K2, "test");
    List<Row> rows = new ArrayList<>();
    Await.result(pool.query("SELECT * FROM connections ORDER BY connection_id").execute()).forEach(rows::add);
    for (Row row : rows) {
      int i = Integer.parseInt(row.getString("connection_id").substring(5));
      if (i == 1) {
        assertThat(row.getString("token_key_id")).as("the moved ciphertext stays as it was").isEqualTo("k1");
        assertThat(row.getOffsetDateTime("token_unreadable_at")).as("and is marked").isNotNull();
        continue;
      }
      assertThat(row.getString("token_key_id")).isEqualTo("k2");
      assertThat(row.getOffsetDateTime("token_unreadable_at")).isNull();
      assertThat(k2Only.open(SyncStore.sealed(row), row.getString("user_id"), row.getString("item_id")))
          .isEqualTo("access-sandbox-token-" + i);
    }
    JsonObject readout = Await.result(a.readout());
    assertThat(readout.getLong("rows_under_old_keys")).isEqualTo(1);
    assertThat(readout.getLong("unreadable")).isEqualTo(1);
    assertThat(readout.getString("primary_key_id")).isEqualTo("k2");
    // idempotent: nothing is left to do, the unreadable row is not tried again
    assertThat(Await.result(a.runBatch())).isZero();
  }

  @Test
  void aRowThatChangedSinceItWasReadIsNotOverwritten() {
    Row before = Await.result(pool.query("SELECT * FROM connections WHERE connection_id = 'conn_005'").execute())
        .iterator().next();
    // someone re-seals the row first (another node)
    TokenCipher k2 = TokenCipher.parse(K2 + "," + K1, "test");
    TokenCipher.Sealed theirs = k2.seal("access-sandbox-token-5", "user-5", "item-5");
    Await.result(pool.preparedQuery(TokenRotation.RESEAL).execute(Tuple.of("conn_005", "k1",
        Buffer.buffer(SyncStore.sealed(before).nonce()), theirs.keyId(), Buffer.buffer(theirs.nonce()),
        Buffer.buffer(theirs.ciphertext()))));
    // a late write from what was read before is refused by the compare-and-set
    TokenCipher.Sealed late = k2.seal("access-sandbox-token-5", "user-5", "item-5");
    int written = Await.result(pool.preparedQuery(TokenRotation.RESEAL).execute(Tuple.of("conn_005", "k1",
        Buffer.buffer(SyncStore.sealed(before).nonce()), late.keyId(), Buffer.buffer(late.nonce()),
        Buffer.buffer(late.ciphertext())))).rowCount();
    assertThat(written).isZero();
    assertThat(Sql.strings(db, "SELECT encode(token_nonce, 'hex') FROM connections WHERE connection_id = 'conn_005'"))
        .containsExactly(java.util.HexFormat.of().formatHex(theirs.nonce()));
  }

  @Test
  void aStoredKeyIdTheConfigurationLacksIsNamedAtStartUp() {
    Throwable refused = Await.result(rotation(K2, 10).checkKeys().map(ok -> (Throwable) null).otherwise(e -> e));
    assertThat(refused).isInstanceOf(ConfigException.class);
    assertThat(refused.getMessage()).startsWith("TOKEN_ENCRYPTION_KEYS: " + ROWS + " stored access token(s)")
        .contains("'k1'").doesNotContain(K1.substring(3)).doesNotContain(K2.substring(3));
    String accepted = Await.result(rotation(K2 + "," + K1, 10).checkKeys().map(ok -> "ok"));
    assertThat(accepted).isEqualTo("ok");
  }
}
