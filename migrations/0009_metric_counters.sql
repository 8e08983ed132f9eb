-- Migration 0006's running counts, redone (issues 19 and 20):
--
-- 1. The slot is the transaction's id mod 64, not the backend pid's. A
--    pooled connection kept its pid, so two connections whose pids met in
--    one slot kept meeting at every write, and each waited for the other's
--    commit (about one chance in two with 10 connections). Transactions
--    running at the same moment have nearly consecutive ids, so they land in
--    different slots unless 64 or more are in flight at once, and all the
--    statements of one transaction use one slot (so two transactions lock
--    the counter rows of a label set in one order, as in 0006).
--
-- 2. A monotonic `total` next to each gauge count `n`, for rate(): a gauge
--    of rows drops when retention deletes them, `total` counts what was
--    written and never goes down (DELETE does not touch it):
--      deliveries          {channel, status}  rows entering sent or failed
--      rejected_events     {topic, reason}    events kept as rejected
--      scheduled_reminders {state}            reminders published/skipped
--      generated_tasks     {}                 occurrences created
--    `GET /metrics` writes them as the `_total` counters. They start at the
--    rows present when this migration runs and reset only when their table
--    is truncated (or the counts are rebuilt, as here); Prometheus' rate()
--    reads that as a counter reset.
--
-- 3. Still one statement-level trigger per operation (0006's triggers,
--    calling the functions replaced here): a statement's rows are reduced
--    to one delta per label set, applied in label order, so two
--    statements that do share a slot lock its rows in one order. (Row
--    triggers, tried, skip the UPDATEs that move no counted row for free,
--    but lock counter rows in row order, so two transactions sharing a slot
--    could deadlock after a provider accepted a send; and a million-row
--    INSERT would write one counter row a million times in one transaction,
--    each version found by walking the ones before.)
--
-- 4. Deliveries are counted once they are final (sent, failed): a delivery
--    is claimed `pending`, maybe `retrying`, then final, and counting each
--    step made three counter-row writes per delivery. The in-flight ones
--    (pending, retrying) are few (what is being sent or waits for a retry),
--    so `GET /metrics` counts them from `deliveries_in_flight`, which holds
--    only them; the claim's INSERT then writes no counter row.
--
-- 5. `deliveries_prunable`: final, published deliveries by updated_at, the
--    rows retention deletes oldest first; `GET /metrics` reads the oldest
--    (todo_retention_oldest_seconds) from its first entry.

LOCK TABLE deliveries, rejected_events, scheduled_reminders, tasks IN SHARE ROW EXCLUSIVE MODE;
ALTER TABLE metric_counts ADD COLUMN IF NOT EXISTS total bigint NOT NULL DEFAULT 0;
DELETE FROM metric_counts;

DO $do$
DECLARE
    t record;
    slot constant text := '(pg_current_xact_id()::text::bigint % 64)::smallint';
    upsert constant text := $q$
        INSERT INTO metric_counts AS m (series, labels, slot, n, total)
        SELECT %L, d.labels, %s, d.n, %s FROM (%s) d ORDER BY d.labels
        ON CONFLICT (series, labels, slot)
        DO UPDATE SET n = m.n + EXCLUDED.n, total = m.total + EXCLUDED.total;$q$;
    counted constant text := 'SELECT %s AS labels, count(*) AS n FROM %s WHERE %s GROUP BY 1';
BEGIN
    -- Per counted table: its series, which rows count (keep) and their
    -- label values, as columns of the table.
    FOR t IN SELECT * FROM (VALUES
        ('deliveries', 'deliveries', $$status IN ('sent', 'failed')$$, 'ARRAY[channel, status]'),
        ('rejected_events', 'rejected_events', 'true', 'ARRAY[topic, reason]'),
        ('scheduled_reminders', 'scheduled_reminders', 'true', 'ARRAY[state]'),
        ('tasks', 'generated_tasks', 'occurrence > 1', 'ARRAY[]::text[]')
    ) AS v(tbl, series, keep, labels)
    LOOP
        -- INSERT adds its kept rows per label set to n and total; UPDATE
        -- moves them between label sets (n) and adds to total what entered
        -- one; DELETE lowers n only; TRUNCATE starts the series again.
        -- A transition table exists only for its own event, hence one
        -- statement per operation.
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql AS $fn$
            BEGIN
                IF TG_OP = 'INSERT' THEN %s
                ELSIF TG_OP = 'UPDATE' THEN %s
                ELSIF TG_OP = 'DELETE' THEN %s
                ELSE DELETE FROM metric_counts WHERE series = %L;
                END IF;
                RETURN NULL;
            END
            $fn$$f$,
            'metric_counts_' || t.series,
            format(upsert, t.series, slot, 'd.n',
                   format(counted, t.labels, 'new_rows', t.keep)),
            format(upsert, t.series, slot, 'greatest(d.n, 0)',
                   format('SELECT x.labels, sum(x.n) AS n FROM (%s UNION ALL %s) x
                           GROUP BY x.labels HAVING sum(x.n) <> 0',
                          format(counted, t.labels, 'new_rows', t.keep),
                          replace(format(counted, t.labels, 'old_rows', t.keep), 'count(*)', '-count(*)'))),
            format(upsert, t.series, slot, '0',
                   replace(format(counted, t.labels, 'old_rows', t.keep), 'count(*)', '-count(*)')),
            t.series);
        -- 0006's triggers call the functions replaced here. The counts
        -- start again from the tables.
        EXECUTE format('INSERT INTO metric_counts (series, labels, slot, n, total)
                        SELECT %L, d.labels, 0, d.n, d.n FROM (%s) d',
                       t.series, format(counted, t.labels, t.tbl, t.keep));
    END LOOP;
END
$do$;

-- status first: PostgreSQL 15 then counts them by an index-only scan.
CREATE INDEX IF NOT EXISTS deliveries_in_flight ON deliveries (status, channel)
    WHERE status IN ('pending', 'retrying');
CREATE INDEX IF NOT EXISTS deliveries_prunable ON deliveries (updated_at)
    WHERE status IN ('sent', 'failed') AND outcome_published;
