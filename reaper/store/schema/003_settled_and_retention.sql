-- Bounded sweeps and retention (see docs/reaping.md, "Tables that grow").
--
-- A released lease is looked at by two sweeps: a failed release (evicted, exit code not 0)
-- gets a reap job, a clean one gets a completion check after completion_grace. Both used
-- to find their candidates among *all* released leases, a set that grows by every run
-- ever finished (25,000 an hour at the scale we aim for), on every tick. `settled` marks a
-- released lease both sweeps are done with; the partial index holds only the unsettled
-- ones, so a sweep reads what is still to do, not history. Neither `state` nor `settled`
-- changes on a renewal, so renewals stay HOT updates.
ALTER TABLE lifeline_leases ADD COLUMN settled boolean NOT NULL DEFAULT false;

UPDATE lifeline_leases l SET settled = true
WHERE l.state = 'released'
  AND (EXISTS (SELECT 1 FROM lifeline_completion_checks c WHERE c.run_id = l.run_id AND c.epoch = l.epoch)
       OR EXISTS (SELECT 1 FROM lifeline_reaps r WHERE r.run_id = l.run_id AND r.job_key = 'lease:' || l.epoch));

CREATE INDEX lifeline_leases_unsettled_idx ON lifeline_leases (released_at)
  WHERE state = 'released' AND NOT settled;

-- Retention ([reaper] retention): finished jobs, audit rows, completion checks and finished
-- leases older than the retention are deleted in small batches, oldest first.
CREATE INDEX lifeline_audit_at_idx ON lifeline_audit (at);
CREATE INDEX lifeline_reaps_finished_idx ON lifeline_reaps (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX lifeline_completion_checks_at_idx ON lifeline_completion_checks (checked_at);
CREATE INDEX lifeline_leases_finished_idx ON lifeline_leases (state_changed_at) WHERE state IN ('released', 'reaped');
CREATE INDEX lifeline_run_attempts_at_idx ON lifeline_run_attempts (last_scheduled_at);
