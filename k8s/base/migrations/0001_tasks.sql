-- The todo backend's `tasks` table (docs/CONTRACT.md, "Tables"). Shared: created
-- only when the backend has not created it already.
CREATE TABLE IF NOT EXISTS tasks (
    id                uuid PRIMARY KEY,
    user_id           text NOT NULL,
    title             text NOT NULL,
    description       text,
    priority          text CHECK (priority IN ('low', 'medium', 'high')),
    tags              text[] NOT NULL DEFAULT '{}',
    due_at            timestamptz,
    remind_at         timestamptz,
    completed         boolean NOT NULL DEFAULT false,
    completed_at      timestamptz,
    recurrence_rule   text,
    recurrence_anchor text NOT NULL DEFAULT 'due' CHECK (recurrence_anchor IN ('due', 'completion')),
    timezone          text NOT NULL DEFAULT 'UTC',
    series_id         uuid,
    occurrence        integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Makes creating the next occurrence idempotent (INSERT ... ON CONFLICT).
CREATE UNIQUE INDEX IF NOT EXISTS tasks_series_occurrence_key
    ON tasks (series_id, occurrence);
