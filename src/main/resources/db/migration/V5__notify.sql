-- Notification delivery (owner: notify). Templates, preferences, the outbox of notifications and their
-- deliveries, and every delivery attempt. Nothing is sent before its delivery row is committed.

-- One template per type, seeded from the defaults in code at start-up (INSERT ... ON CONFLICT DO NOTHING),
-- so an operator's edit survives restarts and upgrades.
CREATE TABLE notify_templates (
  type         TEXT PRIMARY KEY,
  priority     TEXT        NOT NULL,
  channels     TEXT[]      NOT NULL,
  subject      TEXT        NOT NULL,
  email_html   TEXT        NOT NULL,
  email_text   TEXT        NOT NULL,
  in_app       TEXT        NOT NULL,
  push         TEXT        NOT NULL,
  sms          TEXT        NOT NULL,
  version      INT         NOT NULL DEFAULT 1,
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_by   TEXT
);

CREATE TABLE notify_preferences (
  user_id                  TEXT PRIMARY KEY,
  time_zone                TEXT        NOT NULL DEFAULT 'UTC',
  quiet_start              TIME,
  quiet_end                TIME,
  channels                 JSONB       NOT NULL DEFAULT '{}'::jsonb,
  email                    TEXT,
  phone                    TEXT,
  push_subscriptions       JSONB       NOT NULL DEFAULT '[]'::jsonb,
  webhook_url              TEXT,
  webhook_secret           TEXT,
  webhook_disabled_reason  TEXT,
  updated_at               TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
  id             UUID PRIMARY KEY,
  user_id        TEXT        NOT NULL,
  type           TEXT        NOT NULL,
  priority       TEXT        NOT NULL,
  title          TEXT        NOT NULL,
  message        TEXT        NOT NULL,
  connection_id  TEXT,
  dedupe_key     TEXT,
  data           JSONB       NOT NULL DEFAULT '{}'::jsonb,
  in_app         BOOLEAN     NOT NULL DEFAULT true,
  test           BOOLEAN     NOT NULL DEFAULT false,
  occurrences    INT         NOT NULL DEFAULT 1,
  read_at        TIMESTAMPTZ,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_feed ON notifications (user_id, created_at DESC) WHERE in_app;

-- The dedupe window: one row per (user, caller's dedupe key); a new request inside the cooldown merges
-- into notification_id. The primary key serialises concurrent requests with the same key.
CREATE TABLE notify_dedupe (
  user_id          TEXT        NOT NULL,
  dedupe_key       TEXT        NOT NULL,
  notification_id  UUID        NOT NULL,
  expires_at       TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (user_id, dedupe_key)
);

-- The outbox. idempotency_key is stable across retries and is what the provider sees (Message-ID,
-- webhook-id, Topic, Idempotency-Key), so a retry after a crash can be recognised downstream.
CREATE TABLE notify_deliveries (
  id                   UUID PRIMARY KEY,
  notification_id      UUID        NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  user_id              TEXT        NOT NULL,
  channel              TEXT        NOT NULL,
  target               TEXT,
  idempotency_key      TEXT        NOT NULL UNIQUE,
  status               TEXT        NOT NULL CHECK (status IN ('pending', 'retrying', 'sent', 'failed', 'skipped')),
  reason               TEXT,
  subject              TEXT,
  body                 TEXT,
  body_html            TEXT,
  priority             TEXT        NOT NULL,
  attempts             INT         NOT NULL DEFAULT 0,
  next_attempt_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  lease_owner          TEXT,
  lease_until          TIMESTAMPTZ,
  provider_message_id  TEXT,
  last_error           TEXT,
  dead_lettered_at     TIMESTAMPTZ,
  created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
  sent_at              TIMESTAMPTZ
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX notify_deliveries_by_notification ON notify_deliveries (notification_id);
CREATE INDEX notify_deliveries_dead ON notify_deliveries (dead_lettered_at) WHERE dead_lettered_at IS NOT NULL;

CREATE TABLE notify_attempts (
  id                   BIGSERIAL PRIMARY KEY,
  delivery_id          UUID        NOT NULL REFERENCES notify_deliveries (id) ON DELETE CASCADE,
  attempt              INT         NOT NULL,
  outcome              TEXT        NOT NULL,
  provider_message_id  TEXT,
  error                TEXT,
  started_at           TIMESTAMPTZ NOT NULL,
  finished_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notify_attempts_by_delivery ON notify_attempts (delivery_id, attempt);

-- Values every node must share, such as the generated VAPID key pair of the embedded default.
CREATE TABLE notify_settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
