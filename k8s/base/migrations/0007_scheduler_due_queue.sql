-- The scheduler follows what became due, not history (docs/CONTRACT.md,
-- "Scheduler": a tick's cost grows with the reminders due since the last
-- tick). Until 0006 a tick walked every open task with a past reminder
-- (the partial index tasks_reminders_due) and probed scheduled_reminders
-- for each: people leave reminded tasks open, so after a year that walk
-- covered millions of recorded reminders at every tick and every scrape.
--
-- Now a trigger on `tasks` keeps `scheduler_due_queue`: one row per
-- reminder that may still need publishing, i.e. per open task with a
-- finite remind_at, keyed (remind_at, task_id). A tick reads the head of
-- the queue (remind_at <= now()), re-checks each row against `tasks` and
-- `scheduled_reminders`, and deletes the row in the statement that records
-- the reminder (components/scheduler/src/store.rs). So the queue holds
-- only reminders not yet due or not yet handled, and empties itself:
-- - a tick deletes what it records (published or skipped) and what it
--   finds stale (task gone, completed, another remind_at, or recorded);
-- - the trigger deletes a task's row when its remind_at changes, when it is
--   completed and when it is deleted (TRUNCATE empties the queue).
-- Nothing here depends on scheduled_reminders keeping history: a queue row
-- exists only until its reminder is recorded, and pruning recorded rows
-- (section 6, Retention) cannot bring one back.
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
    -- The tick's order (oldest first) and the trigger's lookups in one index.
    PRIMARY KEY (remind_at, task_id)
) WITH (autovacuum_vacuum_scale_factor = 0.01);  -- a churning head: vacuum it early

-- Writes to `tasks` wait until the triggers exist and the backfill is
-- done, so no reminder is missed or added twice.
LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;

-- One row trigger function for the three events; the triggers' WHEN clauses
-- keep it from running for writes that do not touch a reminder (most
-- updates of a task). ON CONFLICT DO UPDATE (not DO NOTHING) locks an
-- existing row, so a tick deleting that row as stale at the same moment
-- skips it (SKIP LOCKED) instead of losing the reminder.
CREATE OR REPLACE FUNCTION scheduler_due_queue_track() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM scheduler_due_queue;
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.remind_at IS NOT NULL AND NOT OLD.completed THEN
        DELETE FROM scheduler_due_queue WHERE remind_at = OLD.remind_at AND task_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.remind_at IS NOT NULL AND isfinite(NEW.remind_at)
       AND NOT NEW.completed THEN
        INSERT INTO scheduler_due_queue (remind_at, task_id) VALUES (NEW.remind_at, NEW.id)
        ON CONFLICT (remind_at, task_id) DO UPDATE SET task_id = EXCLUDED.task_id;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER scheduler_due_queue_ins AFTER INSERT ON tasks
    FOR EACH ROW WHEN (NEW.remind_at IS NOT NULL AND NOT NEW.completed)
    EXECUTE FUNCTION scheduler_due_queue_track();
CREATE OR REPLACE TRIGGER scheduler_due_queue_upd AFTER UPDATE OF id, remind_at, completed ON tasks
    FOR EACH ROW WHEN (OLD.remind_at IS DISTINCT FROM NEW.remind_at
                       OR OLD.completed IS DISTINCT FROM NEW.completed
                       OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION scheduler_due_queue_track();
CREATE OR REPLACE TRIGGER scheduler_due_queue_del AFTER DELETE ON tasks
    FOR EACH ROW WHEN (OLD.remind_at IS NOT NULL AND NOT OLD.completed)
    EXECUTE FUNCTION scheduler_due_queue_track();
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
-- to `tasks` paid for this index (the trigger's cost replaces it).
DROP INDEX IF EXISTS tasks_reminders_due;
