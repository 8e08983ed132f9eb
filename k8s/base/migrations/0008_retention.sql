-- Retention (docs/CONTRACT.md, section 6, "Retention") and the claimed
-- outbox flush (README, "Outbox").
--
-- POST /retention/prune deletes, oldest first and in batches, the final
-- rows older than retention_days (components/scheduler/src/retention/).
-- Each batch reads its rows off an index ordered by age that holds only
-- prunable-looking rows, so a batch costs the same over a million rows as
-- over a thousand (bench/retention_prune.sh). `rejected_events` already
-- has rejected_events_received_at (0002).

-- deliveries: final, published outcomes by updated_at. Partial, so the
-- pending, retrying and unpublished rows (the live ones) are not in it. A
-- row enters it with the update that publishes its outcome, an update that
-- changes updated_at and so is never HOT anyway.
CREATE INDEX IF NOT EXISTS deliveries_prunable
    ON deliveries (updated_at)
    WHERE outcome_published AND status IN ('sent', 'failed');

-- scheduled_reminders: when a row was written, for the skipped ones (which
-- have no published_at). New rows get now() of the statement that records
-- them, the same instant as their published_at; rows recorded before this
-- migration get the migration's time (a fast default: no table rewrite),
-- so they are kept retention_days from now: later than needed, never
-- earlier.
ALTER TABLE scheduled_reminders
    ADD COLUMN IF NOT EXISTS recorded_at timestamptz NOT NULL DEFAULT now();

-- Age order of scheduled_reminders, carrying the key, so a prune batch
-- reads its candidates from the index and probes tasks' primary key per
-- candidate (is the task completed, deleted, or re-reminded?).
CREATE INDEX IF NOT EXISTS scheduled_reminders_age
    ON scheduled_reminders ((COALESCE(published_at, recorded_at)), task_id, remind_at)
    INCLUDE (published_at, recorded_at);

-- Most old recorded reminders belong to tasks left open, which must be
-- kept; a prune that walked them all from the oldest would cost each call
-- a walk of the whole history. Instead each call examines a bounded window
-- of that index, continuing where the previous call stopped (this cursor,
-- the index key of the last row examined or deleted), and starts again
-- from the oldest once it reaches the end. One row per swept table.
CREATE TABLE IF NOT EXISTS retention_cursor (
    name      text PRIMARY KEY,
    age       timestamptz NOT NULL,
    task_id   uuid NOT NULL,
    remind_at timestamptz NOT NULL
);
INSERT INTO retention_cursor (name, age, task_id, remind_at)
VALUES ('scheduled_reminders', '-infinity', '00000000-0000-0000-0000-000000000000', '-infinity')
ON CONFLICT (name) DO NOTHING;

-- The outbox flush claims the unpublished outcomes it is about to publish
-- until flush_claimed_until (a short lease), so concurrent flushes on
-- several replicas publish each one once per round; a flush that died
-- leaves a lease that simply runs out. NULL: unclaimed. Not indexed: the
-- flush reads deliveries_unpublished (0003) and filters on it, and a claim
-- that changes no indexed column stays a HOT update.
ALTER TABLE deliveries
    ADD COLUMN IF NOT EXISTS flush_claimed_until timestamptz;
