-- Health tracking owns these tables: each connection's health and each bank's circuit and maintenance window.

CREATE TABLE health_connections (
  connection_id            TEXT PRIMARY KEY,
  user_id                  TEXT        NOT NULL,
  item_id                  TEXT,
  institution_id           TEXT,
  institution_name         TEXT,
  status                   TEXT        NOT NULL,
  status_since             TIMESTAMPTZ NOT NULL,
  last_successful_sync     TIMESTAMPTZ,
  last_error               JSONB,
  sync_success_count       BIGINT      NOT NULL DEFAULT 0,
  sync_failure_count       BIGINT      NOT NULL DEFAULT 0,
  consecutive_failures     INTEGER     NOT NULL DEFAULT 0,
  maintenance_until        TIMESTAMPTZ,
  retry_attempts           INTEGER     NOT NULL DEFAULT 0,
  next_retry               TIMESTAMPTZ,
  consent_expiring         BOOLEAN     NOT NULL DEFAULT false,
  consent_expiration_time  TIMESTAMPTZ,
  -- connection:state:since of the last change a user was told about, so each change is told once
  notified_key             TEXT,
  -- when the newest event applied happened (a sync's start, a webhook's arrival): an older event arriving
  -- later (from a slower node) still counts, but no longer decides the status
  last_event_at            TIMESTAMPTZ,
  -- optimistic concurrency: every write names the version it read
  version                  BIGINT      NOT NULL DEFAULT 0,
  created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at               TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX health_connections_user ON health_connections (user_id);
CREATE INDEX health_connections_institution ON health_connections (institution_id);

-- Every node's health instance sees every published event; the one whose insert claims an event applies it.
CREATE TABLE health_applied_events (
  event_key                TEXT PRIMARY KEY,
  applied_at               TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX health_applied_events_at ON health_applied_events (applied_at);

CREATE TABLE health_institutions (
  institution_id           TEXT PRIMARY KEY,
  name                     TEXT,
  circuit                  TEXT        NOT NULL DEFAULT 'closed',
  circuit_since            TIMESTAMPTZ,
  circuit_reason           TEXT,
  plaid_status             TEXT,
  maintenance              JSONB,
  -- start of the scheduled maintenance window whose users were told ahead of time
  scheduled_notified_from  TIMESTAMPTZ,
  updated_at               TIMESTAMPTZ NOT NULL DEFAULT now()
);
