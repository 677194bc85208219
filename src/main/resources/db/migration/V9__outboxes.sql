-- Work one verticle hands to another must survive the death of the node in between (docs/cluster.md,
-- "What crosses the bus"). Each producer writes what it must tell in the transaction that makes it true,
-- tells it after the commit, and forgets it once the receiver has applied it; any node tells again what
-- stays unacknowledged past its redrive time. The receivers apply each item at most once.

-- Sync's events for health tracking (registered, removed, a Plaid ITEM webhook, a sync's outcome).
-- Owner: sync. A row lives from the commit of its cause to health's acknowledgement, normally milliseconds,
-- so the table stays small; the id orders a connection's events as they were committed.
CREATE TABLE sync_outbox (
  id             BIGSERIAL   PRIMARY KEY,
  connection_id  TEXT        NOT NULL,
  address        TEXT        NOT NULL,
  body           JSONB       NOT NULL,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  redrive_at     TIMESTAMPTZ NOT NULL,
  attempts       INTEGER     NOT NULL DEFAULT 0
);

-- Health's notifications for notify, written with the state change that calls for them and cleared when
-- notify has accepted them (its dedupe key makes a repeat the same notification). Owner: health.
ALTER TABLE health_connections ADD COLUMN pending_notices JSONB;
ALTER TABLE health_connections ADD COLUMN notices_redrive_at TIMESTAMPTZ;
-- Only rows with a notice not yet accepted are in this index; updates that leave the columns alone stay HOT.
CREATE INDEX health_connections_pending_notices ON health_connections (notices_redrive_at)
  WHERE pending_notices IS NOT NULL;
