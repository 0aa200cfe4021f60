-- Reap jobs written as HOT updates (see docs/reaping.md, "What a reaped run costs PostgreSQL").
--
-- A job row is rewritten at every step of its pipeline (crashing, freeing, rescheduling)
-- and on every claim. The pending-jobs index used to be partial on `step`, so each of those
-- updates changed a column of an index predicate: none was a HOT update, every one added an
-- entry to both indexes and PostgreSQL spent a full core on 10,000 reaped runs. The index
-- is now partial on `finished_at IS NULL`: `finished_at` is set once, when the job ends, so
-- the step updates and claims touch no indexed column, and fillfactor 70 leaves room on the
-- page for the new row version.
CREATE INDEX lifeline_reaps_unfinished_idx ON lifeline_reaps (detected_at) WHERE finished_at IS NULL;
DROP INDEX lifeline_reaps_pending_idx;
ALTER TABLE lifeline_reaps SET (fillfactor = 70);
