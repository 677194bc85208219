-- Sync scheduling owns these tables: the connection registry, schedules and leases, stored Plaid data, sync logs.

CREATE TABLE connections (
  connection_id       TEXT PRIMARY KEY,
  user_id             TEXT        NOT NULL,
  item_id             TEXT        NOT NULL UNIQUE,
  institution_id      TEXT,
  institution_name    TEXT,
  -- the access token, AES-256-GCM: key id, 96-bit nonce, ciphertext with tag; (user_id, item_id) bound as AAD
  token_key_id        TEXT        NOT NULL,
  token_nonce         BYTEA       NOT NULL,
  token_ciphertext    BYTEA       NOT NULL,
  -- where /transactions/sync resumes; committed with the changes it covers
  sync_cursor         TEXT,
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX connections_user ON connections (user_id);
CREATE INDEX connections_institution ON connections (institution_id);
CREATE INDEX connections_token_key ON connections (token_key_id);

-- When each connection syncs next, and who holds it. One row per connection.
CREATE TABLE sync_schedule (
  connection_id       TEXT PRIMARY KEY REFERENCES connections (connection_id) ON DELETE CASCADE,
  next_sync_at        TIMESTAMPTZ NOT NULL,
  priority            SMALLINT    NOT NULL DEFAULT 2,      -- 0 manual, 1 webhook, 2 retry/periodic, 3 background
  trigger             TEXT        NOT NULL DEFAULT 'initial',
  requested_at        TIMESTAMPTZ,                         -- latest request for fresh data (webhook, sync-now)
  pending_sync_id     UUID,                                -- the id already promised to a sync-now caller
  paused              TEXT,                                -- null, 'needs_user', 'institution'
  attempt             INTEGER     NOT NULL DEFAULT 0,      -- consecutive failed attempts
  retry_count         INTEGER     NOT NULL DEFAULT 0,      -- manual retries asked through the API
  last_retry_at       TIMESTAMPTZ,
  lease_owner         TEXT,
  lease_token         UUID,
  lease_until         TIMESTAMPTZ,
  claimed_at          TIMESTAMPTZ,
  last_success_at     TIMESTAMPTZ,
  last_attempt_at     TIMESTAMPTZ,
  next_balance_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sync_schedule_due ON sync_schedule (next_sync_at) WHERE paused IS NULL;
CREATE INDEX sync_schedule_lease ON sync_schedule (lease_until) WHERE lease_owner IS NOT NULL;

-- Institutions health tracking asked sync to leave alone (down, maintenance); resumed by health.
CREATE TABLE institution_pauses (
  institution_id      TEXT PRIMARY KEY,
  reason              TEXT        NOT NULL,
  until_at            TIMESTAMPTZ,
  paused_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  account_id          TEXT PRIMARY KEY,
  connection_id       TEXT        NOT NULL REFERENCES connections (connection_id) ON DELETE CASCADE,
  data                JSONB       NOT NULL,
  balances            JSONB,
  balances_at         TIMESTAMPTZ,
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX accounts_connection ON accounts (connection_id);

-- Plaid-shaped transactions; transaction_id is Plaid's and the dedupe key.
CREATE TABLE transactions (
  transaction_id          TEXT PRIMARY KEY,
  connection_id           TEXT        NOT NULL REFERENCES connections (connection_id) ON DELETE CASCADE,
  account_id              TEXT        NOT NULL,
  amount                  NUMERIC(18, 4),
  date                    DATE,
  pending                 BOOLEAN     NOT NULL DEFAULT false,
  pending_transaction_id  TEXT,
  name                    TEXT,
  data                    JSONB       NOT NULL,
  updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX transactions_connection_date ON transactions (connection_id, date DESC, transaction_id);

-- One row per sync attempt (the seed's SyncStatus values).
CREATE TABLE sync_logs (
  sync_id             UUID PRIMARY KEY,
  connection_id       TEXT        NOT NULL REFERENCES connections (connection_id) ON DELETE CASCADE,
  trigger             TEXT        NOT NULL,
  status              TEXT        NOT NULL,     -- success, partial, failed, rate_limited, maintenance, retrying
  started_at          TIMESTAMPTZ NOT NULL,
  duration_ms         INTEGER     NOT NULL,
  pages               INTEGER     NOT NULL DEFAULT 0,
  restarts            INTEGER     NOT NULL DEFAULT 0,
  added               INTEGER     NOT NULL DEFAULT 0,
  modified            INTEGER     NOT NULL DEFAULT 0,
  removed             INTEGER     NOT NULL DEFAULT 0,
  error_type          TEXT,
  error_code          TEXT,
  category            TEXT,
  message             TEXT,
  node_id             TEXT
);
CREATE INDEX sync_logs_connection_started ON sync_logs (connection_id, started_at DESC);
