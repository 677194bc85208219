-- Every start of a server node, so a restart can tell it found the data of the runs before it.
CREATE TABLE server_starts (
  id          BIGSERIAL PRIMARY KEY,
  node_id     TEXT        NOT NULL,
  version     TEXT        NOT NULL,
  started_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
