package com.mingus.reliability.notify;

import com.mingus.reliability.config.ConfigException;
import com.mingus.reliability.crypto.TokenCipher;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Key rotation for notify's sealed secrets (users' webhook signing secrets, the generated VAPID key), which
 * share the access tokens' keys (docs/secrets.md): at start-up, a stored secret under a key id the
 * configuration lacks stops start-up naming the id; every secret under a key other than the primary is
 * re-sealed, in batches, each row written only if it still holds the value that was opened. They are few
 * (one per user with a webhook, one VAPID pair), so this runs once per start, before notify serves.
 */
final class SecretRotation {
  private static final Logger log = LoggerFactory.getLogger(SecretRotation.class);
  private static final int BATCH = 500;

  static final String KEY_IDS = """
      SELECT split_part(webhook_secret, ':', 2) AS key_id, count(*) AS n FROM notify_preferences
      WHERE webhook_secret LIKE 'enc1:%' GROUP BY 1
      UNION ALL
      SELECT split_part(value, ':', 2), count(*) FROM notify_settings WHERE value LIKE 'enc1:%' GROUP BY 1
      """;
  static final String WEBHOOKS = "SELECT user_id AS id, webhook_secret AS sealed FROM notify_preferences "
      + "WHERE webhook_secret LIKE 'enc1:%' AND split_part(webhook_secret, ':', 2) <> $1 AND user_id > $2 "
      + "ORDER BY user_id LIMIT $3";
  static final String WEBHOOK_CAS = "UPDATE notify_preferences SET webhook_secret = $3 WHERE user_id = $1 AND webhook_secret = $2";
  static final String SETTINGS = "SELECT key AS id, value AS sealed FROM notify_settings "
      + "WHERE value LIKE 'enc1:%' AND split_part(value, ':', 2) <> $1 AND key > $2 ORDER BY key LIMIT $3";
  static final String SETTING_CAS = "UPDATE notify_settings SET value = $3 WHERE key = $1 AND value = $2";

  private SecretRotation() {}

  /** Checks every stored key id, then re-seals what is not under the primary; answers how many were re-sealed. */
  static Future<Integer> run(Pool pool, TokenCipher cipher) {
    return pool.query(KEY_IDS).execute().compose(rows -> {
      List<String> missing = new ArrayList<>();
      for (Row row : rows) {
        if (!cipher.knows(row.getString("key_id")) && !missing.contains("'" + row.getString("key_id") + "'")) {
          missing.add("'" + row.getString("key_id") + "'");
        }
      }
      if (!missing.isEmpty()) {
        return Future.failedFuture(new ConfigException("TOKEN_ENCRYPTION_KEYS", "notification secrets are sealed with key id "
            + String.join(", ", missing) + ", which the setting does not name; put that key back (after the primary) "
            + "until they are re-sealed (docs/secrets.md)"));
      }
      return reseal(pool, cipher, WEBHOOKS, WEBHOOK_CAS, "notify.webhook_secret:", "", 0)
          .compose(webhooks -> reseal(pool, cipher, SETTINGS, SETTING_CAS, "notify.setting:", "", 0)
              .map(settings -> webhooks + settings))
          .onSuccess(count -> {
            if (count > 0) {
              log.info("Re-sealed {} notification secret(s) under key {}", count, cipher.primaryKeyId());
            }
          });
    });
  }

  private static Future<Integer> reseal(Pool pool, TokenCipher cipher, String select, String update, String contextPrefix,
      String after, int done) {
    return pool.preparedQuery(select).execute(Tuple.of(cipher.primaryKeyId(), after, BATCH)).compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture(done);
      }
      List<Tuple> writes = new ArrayList<>();
      String last = after;
      for (Row row : rows) {
        String id = row.getString("id");
        String sealed = row.getString("sealed");
        last = id;
        try {
          String context = contextPrefix + id;
          writes.add(Tuple.of(id, sealed, cipher.sealText(cipher.openText(sealed, context), context)));
        } catch (IllegalStateException e) {
          log.error("A sealed notification secret ({}{}) does not open; left as it is", contextPrefix, id);
        }
      }
      String next = last;
      Future<Integer> written = writes.isEmpty() ? Future.succeededFuture(0)
          : pool.preparedQuery(update).executeBatch(writes).map(result -> {
            int n = 0;
            for (var r = result; r != null; r = r.next()) {
              n += r.rowCount();
            }
            return n;
          });
      return written.compose(n -> rows.size() < BATCH ? Future.succeededFuture(done + n)
          : reseal(pool, cipher, select, update, contextPrefix, next, done + n));
    });
  }
}
