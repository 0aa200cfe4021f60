-- The reap pipeline's state (owned by reaper/reap/, see docs/reaping.md).
--
-- lifeline_reaps: one row per dead run to handle, a persisted state machine
--   detected -> crashing -> freeing -> rescheduling -> done | skipped | failed.
-- (run_id, job_key) makes detection idempotent: job_key is 'lease:<epoch>' for a lease that
-- expired or was released, 'orphan:<state id>' / 'pending:<state id>' for runs found by the
-- orphan sweep, so each dead incarnation of a run gets exactly one job. Replicas claim rows
-- with FOR UPDATE SKIP LOCKED and a claim deadline (claim_until); a crashed replica's claims
-- lapse and another replica resumes the job at its recorded step.
CREATE TABLE lifeline_reaps (
  run_id               uuid        NOT NULL,
  job_key              text        NOT NULL,
  lease_epoch          bigint      NOT NULL DEFAULT 0,      -- 0 for runs without a lease
  reason               text        NOT NULL,                -- expired|evicted|exit_code|orphan|stuck_pending|incomplete
  step                 text        NOT NULL DEFAULT 'detected',
  outcome              text,                                -- lifeline_reaper_reaps_total{outcome} once final
  note                 text,                                -- the last decision's reason, one sentence
  -- what the lease said
  holder               text        NOT NULL DEFAULT '',
  node                 text        NOT NULL DEFAULT '',
  ttl_ms               integer     NOT NULL DEFAULT 0,
  last_renewed_at      timestamptz,
  exit_code            integer,
  detected_at          timestamptz NOT NULL,                -- lease expiry or release time (orphans: sweep time)
  -- recorded along the way
  seen_state_id        uuid,                                -- the RUNNING/PENDING state acted upon
  crash_transition_id  uuid,
  crashed_state_id     uuid,
  crashed_at           timestamptz,
  deployment_id        uuid,
  concurrency_lease_id uuid,
  concurrency_lease    text,                                -- probe result: exists | gone | error
  freed_task_runs      integer     NOT NULL DEFAULT 0,
  freed_subflows       integer     NOT NULL DEFAULT 0,
  retry_planned        boolean     NOT NULL DEFAULT false,
  retry_attempt        integer     NOT NULL DEFAULT 0,
  retry_transition_id  uuid,
  retry_message        text,
  scheduled_time       timestamptz,
  answers              jsonb       NOT NULL DEFAULT '[]',   -- every Prefect answer, in order
  -- scheduling between replicas
  failures             integer     NOT NULL DEFAULT 0,      -- transient Prefect failures (backoff)
  next_attempt_at      timestamptz NOT NULL DEFAULT now(),
  claimed_by           text,
  claim_until          timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  finished_at          timestamptz,
  PRIMARY KEY (run_id, job_key),
  CONSTRAINT lifeline_reaps_step_check CHECK
    (step IN ('detected', 'crashing', 'freeing', 'rescheduling', 'done', 'skipped', 'failed'))
);

-- The claim query scans only unfinished jobs, oldest first.
CREATE INDEX lifeline_reaps_pending_idx ON lifeline_reaps (detected_at)
  WHERE step IN ('detected', 'crashing', 'freeing', 'rescheduling');

-- Retries lifeline scheduled per run (AwaitingRetry accepted), capped by policy.
CREATE TABLE lifeline_run_attempts (
  run_id            uuid        PRIMARY KEY,
  attempts          integer     NOT NULL DEFAULT 0,
  last_scheduled_at timestamptz
);

-- Every decision the reaper made, with its reason (operators' record; append-only).
CREATE TABLE lifeline_audit (
  id        bigserial   PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  run_id    uuid        NOT NULL,
  job_key   text        NOT NULL DEFAULT '',
  replica   text        NOT NULL DEFAULT '',
  step      text        NOT NULL,
  decision  text        NOT NULL,
  reason    text        NOT NULL DEFAULT '',
  detail    jsonb
);
CREATE INDEX lifeline_audit_run_idx ON lifeline_audit (run_id, at);

-- Shared between replicas: when a reaper last swept for expired leases. A reaper coming
-- back from an outage of its own extends every active lease unless this is recent (another
-- replica kept sweeping, so sidecars could renew meanwhile).
CREATE TABLE lifeline_reaper_state (
  id            integer     PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  last_sweep_at timestamptz,
  last_sweep_by text
);
INSERT INTO lifeline_reaper_state (id) VALUES (1);

-- Completed releases (exit code 0) checked against Prefect after completion_grace: the run
-- had reached a final state, so nothing was done. Keeps the check to once per lease epoch.
CREATE TABLE lifeline_completion_checks (
  run_id     uuid        NOT NULL,
  epoch      bigint      NOT NULL,
  state_type text        NOT NULL,
  checked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, epoch)
);
