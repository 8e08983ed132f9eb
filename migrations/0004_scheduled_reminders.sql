-- Reminder scheduler (docs/CONTRACT.md, "Scheduler"): what each tick published or
-- skipped, keyed like a reminder, so a reminder is published once and a
-- changed remind_at is a new reminder.
CREATE TABLE IF NOT EXISTS scheduled_reminders (
    task_id      uuid NOT NULL,
    remind_at    timestamptz NOT NULL,
    -- The CloudEvent id: UUID v5 of "{task_id}/{remind_at}" (URL namespace).
    event_id     uuid NOT NULL,
    state        text NOT NULL CHECK (state IN ('published', 'skipped')),
    -- When the sidecar accepted the publish; NULL for skipped reminders.
    published_at timestamptz,
    PRIMARY KEY (task_id, remind_at)
);

-- The tick's read: open tasks with a reminder, by remind_at. Partial (no
-- completed tasks, no tasks without a reminder) and holding the id, so a
-- tick scans only the entries with remind_at <= now() and reads no table
-- page for them (an index-only scan): with nothing due it touches a couple
-- of index pages whatever the size of `tasks`.
CREATE INDEX IF NOT EXISTS tasks_reminders_due
    ON tasks (remind_at, id)
    WHERE remind_at IS NOT NULL AND NOT completed;
