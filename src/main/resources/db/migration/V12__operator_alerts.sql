-- Operator alerts and broadcasts (owner: notify; docs/notify.md, "Operator alerts" and "Broadcasts").

-- One row per thing operators must hear about: a bank's circuit opening, a dead letter, reconciliation drift.
-- Every node's notify sees the same event; the one whose insert wins the dedupe key writes the alert's
-- notification and deliveries (to the operator webhook and e-mail) in the same transaction, so the alert is
-- told exactly once and survives a crash. notification_id is the outbox notification that carries it (null when
-- no operator channel is configured); it is not a foreign key, because alerts outlive the notification retention.
CREATE TABLE operator_alerts (
  id               UUID PRIMARY KEY,
  kind             TEXT        NOT NULL CHECK (kind IN ('circuit_open', 'dead_letter', 'reconciliation_drift')),
  dedupe_key       TEXT        NOT NULL UNIQUE,
  severity         TEXT        NOT NULL,
  title            TEXT        NOT NULL,
  message          TEXT        NOT NULL,
  data             JSONB       NOT NULL DEFAULT '{}'::jsonb,
  institution_id   TEXT,
  connection_id    TEXT,
  notification_id  UUID,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX operator_alerts_recent ON operator_alerts (created_at DESC, id);

-- The last circuit state notify saw per bank, so that only a closed → open edge alerts: a failed half-open
-- probe re-opens the circuit with a new circuit_since, which is the same outage, not a new one.
CREATE TABLE operator_circuits (
  institution_id  TEXT PRIMARY KEY,
  circuit         TEXT        NOT NULL,
  circuit_since   TIMESTAMPTZ,
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per operator broadcast, written in the transaction that writes every recipient's notification, so
-- a broadcast is either wholly in the outbox or not at all, and re-posting its broadcast_id sends nothing.
CREATE TABLE operator_broadcasts (
  broadcast_id  TEXT PRIMARY KEY,
  type          TEXT        NOT NULL,
  title         TEXT,
  message       TEXT        NOT NULL,
  segment       JSONB       NOT NULL,
  recipients    INT         NOT NULL,
  requested_by  TEXT,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- system_maintenance's in-app, push and SMS texts and compliance_update's SMS did not show the {detail} a
-- broadcast carries; an unedited stored copy (version 1, never saved by an operator) takes the new defaults of
-- DefaultTemplates.
UPDATE notify_templates SET
  in_app = 'Scheduled maintenance: {detail} Expected completion: {completion_time}.',
  push = 'MINGUS maintenance: {detail}',
  sms = 'MINGUS: scheduled maintenance. {detail}'
WHERE type = 'system_maintenance' AND version = 1 AND updated_by IS NULL
  AND in_app = 'Scheduled maintenance: MINGUS may be unavailable until {completion_time}.';

UPDATE notify_templates SET sms = 'MINGUS: compliance update. {detail} {action_required_text}'
WHERE type = 'compliance_update' AND version = 1 AND updated_by IS NULL
  AND sms = 'MINGUS: compliance update. {action_required_text}';
