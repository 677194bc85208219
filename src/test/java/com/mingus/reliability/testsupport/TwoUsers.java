package com.mingus.reliability.testsupport;

import com.mingus.reliability.config.DatabaseTarget;

/**
 * Two users' data in every table that holds a user's data, written as the login role (the tables' owner), for
 * the row-level security tests: alice owns {@code conn_a}, bob owns {@code conn_b}; each has an account, two
 * transactions, a sync log, a reconciliation, a health row, a notification with a delivery and an attempt, a
 * dedupe row, preferences with an e-mail address, and an event in sync's outbox.
 */
public final class TwoUsers {
  public static final String ALICE = "alice";
  public static final String BOB = "bob";
  public static final String ALICE_CONNECTION = "conn_a";
  public static final String BOB_CONNECTION = "conn_b";
  public static final String ALICE_NOTIFICATION = "00000000-0000-0000-0000-00000000000a";
  public static final String BOB_NOTIFICATION = "00000000-0000-0000-0000-00000000000b";

  private TwoUsers() {}

  public static void seed(DatabaseTarget db) {
    user(db, ALICE, ALICE_CONNECTION, "a", ALICE_NOTIFICATION);
    user(db, BOB, BOB_CONNECTION, "b", BOB_NOTIFICATION);
  }

  private static void user(DatabaseTarget db, String user, String connection, String tag, String notification) {
    String delivery = notification.substring(0, notification.length() - 2) + "d" + tag;
    Sql.execute(db, """
        INSERT INTO connections (connection_id, user_id, item_id, institution_id, institution_name, token_key_id,
                                 token_nonce, token_ciphertext)
        VALUES ('%2$s', '%1$s', 'item_%3$s', 'ins_1', 'First Bank', 'test1', '\\x00'::bytea, '\\x00'::bytea);
        INSERT INTO sync_schedule (connection_id, next_sync_at) VALUES ('%2$s', now() + interval '1 hour');
        INSERT INTO accounts (account_id, connection_id, data, balances)
        VALUES ('acc_%3$s', '%2$s', '{"account_id": "acc_%3$s", "name": "Checking %3$s"}', '{"current": 100}');
        INSERT INTO transactions (transaction_id, connection_id, account_id, amount, date, name, data)
        VALUES ('tx_%3$s1', '%2$s', 'acc_%3$s', 10, '2026-12-01', 'Coffee', '{"transaction_id": "tx_%3$s1"}'),
               ('tx_%3$s2', '%2$s', 'acc_%3$s', 20, '2026-12-02', 'Rent', '{"transaction_id": "tx_%3$s2"}');
        INSERT INTO sync_logs (sync_id, connection_id, trigger, status, started_at, duration_ms)
        VALUES (gen_random_uuid(), '%2$s', 'periodic', 'success', now(), 5);
        INSERT INTO reconciliations (connection_id, sync_id, trigger, status, started_at, start_date, end_date,
                                     plaid_calls, checked, missing, extra, changed, balances_checked, balances_changed)
        VALUES ('%2$s', gen_random_uuid(), 'scheduled', 'clean', now(), '2026-11-01', '2026-12-01', 1, 2, 0, 0, 0, 1, 0);
        INSERT INTO sync_outbox (connection_id, address, body, redrive_at)
        VALUES ('%2$s', 'connection.registered', '{"kind": "registered", "connection_id": "%2$s", "user_id": "%1$s"}', now());
        INSERT INTO health_connections (connection_id, user_id, item_id, institution_id, status, status_since)
        VALUES ('%2$s', '%1$s', 'item_%3$s', 'ins_1', 'active', now());
        INSERT INTO notifications (id, user_id, type, priority, title, message, connection_id)
        VALUES ('%4$s', '%1$s', 'plaid_connection_issue', 'high', 'Reconnect %3$s', 'Your bank needs you', '%2$s');
        INSERT INTO notify_deliveries (id, notification_id, user_id, channel, target, idempotency_key, status, priority)
        VALUES ('%5$s', '%4$s', '%1$s', 'email', '%1$s@example.com', 'key_%3$s', 'sent', 'high');
        INSERT INTO notify_attempts (delivery_id, attempt, outcome, started_at) VALUES ('%5$s', 1, 'sent', now());
        INSERT INTO notify_dedupe (user_id, dedupe_key, notification_id, expires_at)
        VALUES ('%1$s', 'dedupe_%3$s', '%4$s', now() + interval '1 hour');
        INSERT INTO notify_preferences (user_id, email) VALUES ('%1$s', '%1$s@example.com');
        """.formatted(user, connection, tag, notification, delivery));
  }
}
