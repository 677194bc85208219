-- The rate limiter's memory across restarts: the client-wide grants of the last hour (per endpoint and
-- millisecond, so a burst is one row) and the budgets it learned from 429s. Written behind, a few times a
-- second, by the instance that owns the endpoint.
CREATE TABLE ratelimit_grants (
  endpoint   text    NOT NULL,
  granted_at bigint  NOT NULL,
  grants     integer NOT NULL CHECK (grants > 0),
  PRIMARY KEY (endpoint, granted_at)
);

CREATE TABLE ratelimit_learned (
  endpoint    text    NOT NULL,
  window_name text    NOT NULL,
  lowered     integer NOT NULL CHECK (lowered > 0),
  last_429_at bigint  NOT NULL,
  PRIMARY KEY (endpoint, window_name)
);
