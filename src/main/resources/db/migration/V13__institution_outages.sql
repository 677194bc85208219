-- Each bank's past outages: when its circuit opened and closed again, and why. Health's maintenance forecast
-- learns a bank's recurring windows from them (docs/health.md, "Predicted maintenance"). One row per outage:
-- a node whose circuit opens while another's row for the same outage is still open (or just closed) adds
-- none, so a cluster's nodes do not count one outage several times.
CREATE TABLE health_institution_outages (
  institution_id  TEXT        NOT NULL,
  started_at      TIMESTAMPTZ NOT NULL,
  ended_at        TIMESTAMPTZ,
  -- failures, plaid_down, maintenance (from Plaid's status) or predicted_maintenance (paused ahead, not
  -- learned from: a prediction must not confirm itself)
  reason          TEXT        NOT NULL,
  PRIMARY KEY (institution_id, started_at)
);

CREATE INDEX health_institution_outages_started ON health_institution_outages (started_at);
