-- The scheduler follows what became due, not history (docs/CONTRACT.md,
-- "Scheduler": a tick's cost grows with the reminders due since the last
-- tick). Until 0006 a tick walked every open task with a past reminder
-- (the partial index tasks_reminders_due) and probed scheduled_reminders
-- for each: people leave reminded tasks open, so after a year that walk
-- covered millions of recorded reminders at every tick and every scrape.
--
-- Now a trigger on `tasks` adds a row to `scheduler_due_queue`, keyed
-- (remind_at, task_id), whenever a task gets a reminder to send: inserted
-- open with a finite remind_at, its remind_at changed, or reopened. A tick
-- reads the head of the queue (remind_at <= now()), checks each row against
-- `tasks` (open, same remind_at) and `scheduled_reminders` (not recorded),
-- and deletes it in the statement that records the reminder, or as stale
-- (components/scheduler/src/store.rs). So the queue empties itself: every
-- row leaves once its remind_at has passed. The trigger deletes nothing: a
-- task completed, deleted or re-timed leaves its old row to be dropped by
-- the tick that finds it due, in a batch, rather than making each of the
-- backend's writes pay for a delete (bench/scheduler_tick.sh measures the
-- writes). Nothing here depends on scheduled_reminders keeping history: a
-- row is added only when a task's reminder changes, and pruning recorded
-- rows (section 6, Retention) cannot bring one back.
--
-- Lost bookkeeping (triggers disabled for a bulk load, a restore without
-- this table, ...) is repaired by one statement, which this migration also
-- uses for its backfill:
--     SELECT scheduler_due_queue_rebuild();
-- It adds every open, finite, unrecorded reminder (a sequential scan of
-- `tasks`, seconds per million rows) and may run while the services work:
-- a row it adds for a task that changed meanwhile is stale, and the tick
-- drops stale rows when they come due.

CREATE TABLE IF NOT EXISTS scheduler_due_queue (
    remind_at timestamptz NOT NULL,
    task_id   uuid        NOT NULL,
    -- The tick's order (oldest first) and the trigger's ON CONFLICT in one index.
    PRIMARY KEY (remind_at, task_id)
) WITH (autovacuum_vacuum_scale_factor = 0.01);  -- a churning head: vacuum it early

-- Writes to `tasks` wait until the triggers exist and the backfill is
-- done, so no reminder is missed or added twice.
LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;

-- The row trigger's WHEN clauses keep it from running for writes that give
-- no task a new reminder (most updates, completions, deletions).
-- ON CONFLICT DO UPDATE (not DO NOTHING) locks and renews a row already
-- there (a task set back to a remind_at whose stale row is still queued),
-- so a tick deleting that row as stale at the same moment skips it (SKIP
-- LOCKED, or a changed xmin) instead of losing the reminder.
CREATE OR REPLACE FUNCTION scheduler_due_queue_track() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM scheduler_due_queue;
    ELSE
        INSERT INTO scheduler_due_queue (remind_at, task_id) VALUES (NEW.remind_at, NEW.id)
        ON CONFLICT (remind_at, task_id) DO UPDATE SET task_id = EXCLUDED.task_id;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER scheduler_due_queue_ins AFTER INSERT ON tasks
    FOR EACH ROW WHEN (NEW.remind_at IS NOT NULL AND isfinite(NEW.remind_at) AND NOT NEW.completed)
    EXECUTE FUNCTION scheduler_due_queue_track();
CREATE OR REPLACE TRIGGER scheduler_due_queue_upd AFTER UPDATE OF id, remind_at, completed ON tasks
    FOR EACH ROW WHEN (NEW.remind_at IS NOT NULL AND isfinite(NEW.remind_at) AND NOT NEW.completed
                       AND (OLD.remind_at IS DISTINCT FROM NEW.remind_at OR OLD.completed
                            OR OLD.id IS DISTINCT FROM NEW.id))
    EXECUTE FUNCTION scheduler_due_queue_track();
-- TRUNCATE tasks empties the queue (a statement trigger: nothing per row).
CREATE OR REPLACE TRIGGER scheduler_due_queue_trunc AFTER TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION scheduler_due_queue_track();

-- The rebuild: every open, finite reminder not yet recorded. Returns how
-- many rows it added (0 when the queue was complete).
CREATE OR REPLACE FUNCTION scheduler_due_queue_rebuild() RETURNS bigint
LANGUAGE sql AS $fn$
    WITH added AS (
        INSERT INTO scheduler_due_queue (remind_at, task_id)
        SELECT t.remind_at, t.id FROM tasks t
        WHERE t.remind_at IS NOT NULL AND isfinite(t.remind_at) AND NOT t.completed
          AND NOT EXISTS (SELECT 1 FROM scheduled_reminders s
                          WHERE s.task_id = t.id AND s.remind_at = t.remind_at)
        ON CONFLICT (remind_at, task_id) DO NOTHING
        RETURNING 1)
    SELECT count(*) FROM added
$fn$;

-- The backfill: reminders already due and unrecorded are published (or
-- skipped when too late) by the first ticks after the upgrade, as before.
DO $$ BEGIN PERFORM scheduler_due_queue_rebuild(); END $$;
ANALYZE scheduler_due_queue;

-- The tick and the scrape no longer read tasks by remind_at; every write
-- to `tasks` paid for this index, and without it an update of remind_at or
-- completed can be HOT (the trigger's cost replaces it).
DROP INDEX IF EXISTS tasks_reminders_due;
