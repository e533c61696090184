-- Work shared by `rapport worker` processes. A job is claimed by setting its state to
-- 'running' with a lease; a worker that dies leaves the lease to expire, and the job is
-- claimed again. Jobs whose effects are writes to this store complete in the same
-- transaction as those writes, so they take effect exactly once.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,                 -- JSON
    dedupe_key   TEXT UNIQUE,                   -- enqueueing the same key again is a no-op
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after    INTEGER NOT NULL,
    locked_by    TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs(state, run_after, id);

-- Duties only one worker may do at a time (the SLA timer, the outbox sweep): held by a
-- lease that its holder renews.
CREATE TABLE singleton_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    lease_until INTEGER NOT NULL
);

-- The due time whose breach was escalated, so a breach escalates once.
ALTER TABLE conversations ADD COLUMN escalated_due_at INTEGER;
