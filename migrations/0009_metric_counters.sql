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
-- 3. UPDATE counts per row, INSERT, DELETE and TRUNCATE per statement. A
--    row trigger's WHEN is checked before any function runs, so an UPDATE
--    that moves no counted row between label sets (attempts, leases,
--    outcome_published, a task's title) costs nothing, and one that does is
--    one upsert of one or two rows, without 0006's transition tables.
--    INSERT and DELETE stay one upsert per label set per statement (0006's
--    triggers): a per-row upsert of one counter row in a statement of N rows
--    writes N versions of that row in one transaction, each found by walking
--    the ones before (N^2 steps: a million-row INSERT would not finish). The
--    services' UPDATEs touch a handful of rows each.
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
BEGIN
    -- Per counted table: its series, which rows count (keep), their label
    -- values and which of them the total counts; %1$s is the row (NEW, OLD,
    -- or nothing for a column of a transition table).
    FOR t IN SELECT * FROM (VALUES
        ('deliveries', 'deliveries', $$%1$sstatus IN ('sent', 'failed')$$,
         'ARRAY[%1$schannel, %1$sstatus]', 'true'),
        ('rejected_events', 'rejected_events', 'true', 'ARRAY[%1$stopic, %1$sreason]', 'true'),
        ('scheduled_reminders', 'scheduled_reminders', 'true', 'ARRAY[%1$sstate]', 'true'),
        ('tasks', 'generated_tasks', '%1$soccurrence > 1', 'ARRAY[]::text[]', 'true')
    ) AS v(tbl, series, keep, labels, counted)
    LOOP
        -- Per updated row: one moved from the old label set to the new one
        -- (adding to the new one's total).
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION %1$I() RETURNS trigger LANGUAGE plpgsql AS $fn$
            BEGIN
                INSERT INTO metric_counts AS m (series, labels, slot, n, total)
                SELECT %2$L, v.labels, %4$s, v.n, v.total
                FROM (VALUES (CASE WHEN %6$s THEN %7$s END, -1, 0),
                             (CASE WHEN %8$s THEN %3$s END, 1, CASE WHEN %5$s THEN 1 ELSE 0 END))
                     AS v(labels, n, total)
                WHERE v.labels IS NOT NULL
                ORDER BY v.labels
                ON CONFLICT (series, labels, slot)
                DO UPDATE SET n = m.n + EXCLUDED.n, total = m.total + EXCLUDED.total;
                RETURN NULL;
            END
            $fn$$f$,
            'metric_counts_row_' || t.series, t.series,
            format(t.labels, 'NEW.'), slot, format(t.counted, 'NEW.'),
            format(t.keep, 'OLD.'), format(t.labels, 'OLD.'), format(t.keep, 'NEW.'));
        -- Per statement: INSERT adds the kept rows per label set (in label
        -- order) to n and the counted ones to total, DELETE lowers n, and
        -- TRUNCATE starts the series again.
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION %1$I() RETURNS trigger LANGUAGE plpgsql AS $fn$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO metric_counts AS m (series, labels, slot, n, total)
                    SELECT %2$L, d.labels, %3$s, count(*), count(*) FILTER (WHERE d.counted)
                    FROM (SELECT %4$s AS labels, %6$s AS counted FROM new_rows WHERE %5$s) d
                    GROUP BY d.labels ORDER BY d.labels
                    ON CONFLICT (series, labels, slot)
                    DO UPDATE SET n = m.n + EXCLUDED.n, total = m.total + EXCLUDED.total;
                ELSIF TG_OP = 'DELETE' THEN
                    INSERT INTO metric_counts AS m (series, labels, slot, n)
                    SELECT %2$L, d.labels, %3$s, -count(*)
                    FROM (SELECT %4$s AS labels FROM old_rows WHERE %5$s) d
                    GROUP BY d.labels ORDER BY d.labels
                    ON CONFLICT (series, labels, slot) DO UPDATE SET n = m.n + EXCLUDED.n;
                ELSIF TG_OP = 'TRUNCATE' THEN
                    DELETE FROM metric_counts WHERE series = %2$L;
                END IF;
                RETURN NULL;
            END
            $fn$$f$,
            'metric_counts_' || t.series, t.series, slot,
            format(t.labels, ''), format(t.keep, ''), format(t.counted, ''));
        EXECUTE format('DROP TRIGGER IF EXISTS metric_counts_upd ON %I', t.tbl);
        EXECUTE format('CREATE OR REPLACE TRIGGER metric_counts_upd_row AFTER UPDATE ON %I
                        FOR EACH ROW WHEN ((%s OR %s) AND (%s, %s) IS DISTINCT FROM (%s, %s))
                        EXECUTE FUNCTION %I()',
                       t.tbl, format(t.keep, 'OLD.'), format(t.keep, 'NEW.'),
                       format(t.keep, 'OLD.'), format(t.labels, 'OLD.'),
                       format(t.keep, 'NEW.'), format(t.labels, 'NEW.'),
                       'metric_counts_row_' || t.series);
        -- 0006's INSERT, DELETE and TRUNCATE triggers call the statement
        -- function replaced above. The counts start again from the tables.
        EXECUTE format('INSERT INTO metric_counts (series, labels, slot, n, total)
                        SELECT %L, d.labels, 0, count(*), count(*) FILTER (WHERE d.counted)
                        FROM (SELECT %s AS labels, %s AS counted FROM %I WHERE %s) d GROUP BY 2',
                       t.series, format(t.labels, ''), format(t.counted, ''), t.tbl, format(t.keep, ''));
    END LOOP;
END
$do$;

CREATE INDEX IF NOT EXISTS deliveries_in_flight ON deliveries (channel, status)
    WHERE status IN ('pending', 'retrying');
CREATE INDEX IF NOT EXISTS deliveries_prunable ON deliveries (updated_at)
    WHERE status IN ('sent', 'failed') AND outcome_published;
