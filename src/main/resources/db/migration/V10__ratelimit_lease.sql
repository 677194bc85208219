-- One owner per endpoint's Plaid budget in a cluster, fenced (docs/ratelimit.md, "Cluster-wide budgets"):
-- a node owns an endpoint while its lease row says so and has not expired by PostgreSQL's clock. Taking
-- a row from another owner (only once it expired) increments fencing_token; renewing one's own keeps it.
-- A released lease keeps its row (expires_at set to the release time), so tokens only ever grow.
CREATE TABLE ratelimit_owners (
  endpoint      text        PRIMARY KEY,
  owner         text        NOT NULL,
  fencing_token bigint      NOT NULL,
  expires_at    timestamptz NOT NULL
);

-- The grant log becomes the owners' write-through journal: each row says which owner (fencing token) granted
-- it and for which Item ('' for a call without one), so a new owner continues from exact counts, the
-- Items' minute windows included. A single node writes behind with token 0.
ALTER TABLE ratelimit_grants
  ADD COLUMN fencing_token bigint NOT NULL DEFAULT 0,
  ADD COLUMN item_id       text   NOT NULL DEFAULT '';
ALTER TABLE ratelimit_grants DROP CONSTRAINT ratelimit_grants_pkey;
ALTER TABLE ratelimit_grants ADD PRIMARY KEY (endpoint, granted_at, fencing_token, item_id);
