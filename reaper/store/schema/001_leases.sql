-- One row per flow run: the lease its sidecar renews. Built for constant updates:
-- every heartbeat rewrites renewed_at, expires_at and seq, so no index covers them.
-- With only the primary key (run_id, never changed) and an index on state (changed
-- a few times per run, not per heartbeat) indexed, a renewal is a HOT update: the new
-- row version goes on the same page (fillfactor 70 leaves the room) and no index is
-- touched. See docs/reaper.md.
CREATE TABLE lifeline_leases (
  run_id           uuid        PRIMARY KEY,
  holder           text        NOT NULL,
  node             text        NOT NULL DEFAULT '',
  epoch            bigint      NOT NULL,
  seq              bigint      NOT NULL,
  ttl_ms           integer     NOT NULL,            -- granted TTL
  phase            text        NOT NULL,            -- running | terminating
  state            text        NOT NULL,            -- active | released | expired | reaped
  renewed_at       timestamptz NOT NULL,            -- database clock at the durable renewal
  expires_at       timestamptz NOT NULL,            -- renewed_at + ttl
  created_at       timestamptz NOT NULL DEFAULT now(),
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  released_at      timestamptz,
  release_outcome  text,                            -- exited | evicted
  exit_code        integer,
  CONSTRAINT lifeline_leases_phase_check CHECK (phase IN ('running', 'terminating')),
  CONSTRAINT lifeline_leases_outcome_check CHECK (release_outcome IN ('exited', 'evicted')),
  CONSTRAINT lifeline_leases_ttl_check CHECK (ttl_ms > 0)
) WITH (fillfactor = 70);

CREATE INDEX lifeline_leases_state_idx ON lifeline_leases (state);
