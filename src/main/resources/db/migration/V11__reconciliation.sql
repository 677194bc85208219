-- Reconciliation (docs/sync.md, "Reconciliation"): each connection's stored transactions and balances are
-- compared with Plaid's full history (/transactions/get) every sync.reconcile_interval_s, and at once when an
-- operator asks; drift is repaired in the same commit and every run is kept here.
ALTER TABLE sync_schedule ADD COLUMN next_reconcile_at timestamptz DEFAULT now() + interval '1 day';

CREATE TABLE reconciliations (
  id                bigserial   PRIMARY KEY,
  connection_id     text        NOT NULL REFERENCES connections (connection_id) ON DELETE CASCADE,
  sync_id           uuid        NOT NULL,
  trigger           text        NOT NULL,              -- 'scheduled' or 'operator'
  status            text        NOT NULL,              -- 'clean', 'repaired', 'deferred', 'failed'
  started_at        timestamptz NOT NULL,
  finished_at       timestamptz NOT NULL DEFAULT now(),
  start_date        date        NOT NULL,
  end_date          date        NOT NULL,
  plaid_calls       integer     NOT NULL,
  checked           integer     NOT NULL,              -- transactions Plaid holds in the range
  missing           integer     NOT NULL,              -- at Plaid, not stored
  extra             integer     NOT NULL,              -- stored, not at Plaid
  changed           integer     NOT NULL,              -- both, but amount, date or pending differ
  balances_checked  integer     NOT NULL,
  balances_changed  integer     NOT NULL,
  error_code        text,
  message           text
);
CREATE INDEX reconciliations_connection ON reconciliations (connection_id, id DESC);
