-- Row-level security, the second wall behind every query's own user_id condition (docs/row-level-security.md).
--
-- Code that serves a user's request runs its transaction as mingus_tenant with mingus.user_id set to the
-- caller (db/Tenancy.java: SET LOCAL semantics, so nothing outlives the transaction on a pooled connection);
-- operator commands run as mingus_operator. Background work (the sync runner, health, the notify dispatcher,
-- the outbox relays) keeps the pool's login role, the tables' owner, which row-level security does not restrict
-- (no FORCE): it must see every user's rows. A table holding a user's data gets a policy for both roles; the
-- tenant's compares the row's user, directly or through its connection's owner, with mingus.user_id; without
-- one set the tenant sees and writes nothing. The operator's policy passes every row, and the operator's reach
-- is bounded by its grants instead: read-only except the writes operator commands make, and never the
-- sealed access tokens (column grants on connections).

-- Roles are cluster-wide and NOLOGIN; several databases of one server (tests) share them.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mingus_tenant') THEN
    BEGIN
      CREATE ROLE mingus_tenant NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- created meanwhile by another database's migration
    END;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mingus_operator') THEN
    BEGIN
      CREATE ROLE mingus_operator NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  -- the login role switches to them per transaction, so it must be a member (a superuser needs no grant)
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT (pg_has_role(current_user, 'mingus_tenant', 'MEMBER') AND pg_has_role(current_user, 'mingus_operator', 'MEMBER')) THEN
    BEGIN
      EXECUTE format('GRANT mingus_tenant, mingus_operator TO %I', current_user);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE EXCEPTION 'the database login role % must be a member of mingus_tenant and mingus_operator: '
        'run GRANT mingus_tenant, mingus_operator TO % as a role that may, then restart', current_user, current_user;
    END;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO mingus_tenant, mingus_operator', current_schema());
END
$$;

-- --- what each role may touch (grants first: a policy never widens them) --------------------------------

-- the user's own requests: read their data, register and remove a connection, ask for a sync, notifications
GRANT SELECT, INSERT, DELETE ON connections TO mingus_tenant;
GRANT SELECT, INSERT, UPDATE ON sync_schedule TO mingus_tenant;       -- sync-now, retry; FOR UPDATE on removal
GRANT SELECT ON accounts, transactions TO mingus_tenant;
GRANT SELECT, DELETE ON sync_logs TO mingus_tenant;
GRANT SELECT (id), INSERT ON sync_outbox TO mingus_tenant;              -- registered / removed events
GRANT USAGE ON SEQUENCE sync_outbox_id_seq TO mingus_tenant;
GRANT SELECT ON institution_pauses TO mingus_tenant;                  -- no user data: is my bank paused
GRANT SELECT ON health_connections TO mingus_tenant;
GRANT SELECT, UPDATE ON notifications TO mingus_tenant;               -- the inbox, mark read
GRANT SELECT ON notify_deliveries, notify_attempts TO mingus_tenant;  -- a notification's own deliveries
GRANT SELECT, INSERT, UPDATE ON notify_preferences TO mingus_tenant;

-- operators: every user's connection health, sync status and reconciliations, not the sealed tokens
GRANT SELECT (connection_id, user_id, item_id, institution_id, institution_name, token_key_id, created_at, updated_at)
  ON connections TO mingus_operator;
GRANT SELECT, UPDATE ON sync_schedule TO mingus_operator;              -- reconcile now
GRANT SELECT ON sync_logs, reconciliations, institution_pauses TO mingus_operator;
GRANT SELECT ON health_connections TO mingus_operator;
GRANT SELECT ON notifications, notify_deliveries, notify_attempts TO mingus_operator;

-- --- row-level security on every table holding a user's data ---------------------------------------------

ALTER TABLE connections ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON connections TO mingus_tenant
  USING (user_id = NULLIF(current_setting('mingus.user_id', true), ''))
  WITH CHECK (user_id = NULLIF(current_setting('mingus.user_id', true), ''));
CREATE POLICY operator_rows ON connections TO mingus_operator USING (true) WITH CHECK (true);

-- Tables keyed by connection: through the connection's owner, one primary-key probe of connections (its own
-- policy applies inside too). Measured cheaper than a user_id column on each (docs/row-level-security.md).
ALTER TABLE sync_schedule ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON sync_schedule TO mingus_tenant
  USING (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = sync_schedule.connection_id
                 AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')))
  WITH CHECK (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = sync_schedule.connection_id
                      AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')));
CREATE POLICY operator_rows ON sync_schedule TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON accounts TO mingus_tenant
  USING (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = accounts.connection_id
                 AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')))
  WITH CHECK (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = accounts.connection_id
                      AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')));
CREATE POLICY operator_rows ON accounts TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE transactions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON transactions TO mingus_tenant
  USING (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = transactions.connection_id
                 AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')))
  WITH CHECK (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = transactions.connection_id
                      AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')));
CREATE POLICY operator_rows ON transactions TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE sync_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON sync_logs TO mingus_tenant
  USING (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = sync_logs.connection_id
                 AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')))
  WITH CHECK (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = sync_logs.connection_id
                      AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')));
CREATE POLICY operator_rows ON sync_logs TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE reconciliations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON reconciliations TO mingus_tenant
  USING (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = reconciliations.connection_id
                 AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')))
  WITH CHECK (EXISTS (SELECT 1 FROM connections c WHERE c.connection_id = reconciliations.connection_id
                      AND c.user_id = NULLIF(current_setting('mingus.user_id', true), '')));
CREATE POLICY operator_rows ON reconciliations TO mingus_operator USING (true) WITH CHECK (true);

-- The outbox row outlives its connection on removal (the removed event is written after the delete), so it is
-- matched on the user its event names.
ALTER TABLE sync_outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON sync_outbox TO mingus_tenant
  USING (body ->> 'user_id' = NULLIF(current_setting('mingus.user_id', true), ''))
  WITH CHECK (body ->> 'user_id' = NULLIF(current_setting('mingus.user_id', true), ''));
CREATE POLICY operator_rows ON sync_outbox TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE health_connections ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON health_connections TO mingus_tenant
  USING (user_id = NULLIF(current_setting('mingus.user_id', true), ''))
  WITH CHECK (user_id = NULLIF(current_setting('mingus.user_id', true), ''));
CREATE POLICY operator_rows ON health_connections TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON notifications TO mingus_tenant
  USING (user_id = NULLIF(current_setting('mingus.user_id', true), ''))
  WITH CHECK (user_id = NULLIF(current_setting('mingus.user_id', true), ''));
CREATE POLICY operator_rows ON notifications TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE notify_dedupe ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON notify_dedupe TO mingus_tenant
  USING (user_id = NULLIF(current_setting('mingus.user_id', true), ''))
  WITH CHECK (user_id = NULLIF(current_setting('mingus.user_id', true), ''));
CREATE POLICY operator_rows ON notify_dedupe TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE notify_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON notify_deliveries TO mingus_tenant
  USING (user_id = NULLIF(current_setting('mingus.user_id', true), ''))
  WITH CHECK (user_id = NULLIF(current_setting('mingus.user_id', true), ''));
CREATE POLICY operator_rows ON notify_deliveries TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE notify_attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON notify_attempts TO mingus_tenant
  USING (EXISTS (SELECT 1 FROM notify_deliveries d WHERE d.id = notify_attempts.delivery_id
                 AND d.user_id = NULLIF(current_setting('mingus.user_id', true), '')))
  WITH CHECK (EXISTS (SELECT 1 FROM notify_deliveries d WHERE d.id = notify_attempts.delivery_id
                      AND d.user_id = NULLIF(current_setting('mingus.user_id', true), '')));
CREATE POLICY operator_rows ON notify_attempts TO mingus_operator USING (true) WITH CHECK (true);

ALTER TABLE notify_preferences ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON notify_preferences TO mingus_tenant
  USING (user_id = NULLIF(current_setting('mingus.user_id', true), ''))
  WITH CHECK (user_id = NULLIF(current_setting('mingus.user_id', true), ''));
CREATE POLICY operator_rows ON notify_preferences TO mingus_operator USING (true) WITH CHECK (true);

-- Operator alerts name a connection but are operators' own: no tenant policy, so a tenant sees none even if
-- granted by mistake.
ALTER TABLE operator_alerts ENABLE ROW LEVEL SECURITY;
CREATE POLICY operator_rows ON operator_alerts TO mingus_operator USING (true) WITH CHECK (true);
