-- GET /metrics (docs/CONTRACT.md, "Metrics") without counting the big tables at
-- every scrape: counting a million deliveries takes ~170 ms even as an
-- index-only scan (bench/metrics_scrape.sh). Instead, statement-level
-- triggers keep running counts per series and label set in `metric_counts`,
-- and a scrape sums a few hundred rows at most.
--
-- Each writer adds its deltas to one of 64 slots (its backend pid mod 64),
-- so concurrent transactions rarely wait for each other's counter row; a
-- scrape sums the slots. A statement's deltas are grouped by label set and
-- applied in label order, so two statements never lock counter rows in
-- opposite orders. Updates that do not move a row between label sets (most
-- of them: attempts, outcome_published) change no counter.

CREATE TABLE IF NOT EXISTS metric_counts (
    series text     NOT NULL,  -- deliveries, rejected_events, scheduled_reminders, generated_tasks
    labels text[]   NOT NULL,  -- the series' label values, in the series' label order
    slot   smallint NOT NULL,
    n      bigint   NOT NULL,
    PRIMARY KEY (series, labels, slot)
) WITH (fillfactor = 10);  -- few counter rows per page, room for their updates

-- Writes wait while the triggers are created and the counts taken, so no
-- row is counted twice or missed.
LOCK TABLE deliveries, rejected_events, scheduled_reminders, tasks IN SHARE ROW EXCLUSIVE MODE;
DELETE FROM metric_counts;

-- Per counted table: a trigger function with static SQL (plpgsql keeps its
-- plans per connection; a generic one reading rows through to_jsonb cost
-- 4 times as much per write), generated here from one template. Each
-- statement's transition tables are reduced to (label set, count) first,
-- so a statement touching a million rows adds a handful of deltas. A
-- transition table exists only for its own event, hence one statement per
-- operation and one trigger per event. Then the counts so far.
DO $do$
DECLARE
    t record;
    upsert constant text := $q$
        INSERT INTO metric_counts AS m (series, labels, slot, n)
        SELECT %L, d.labels, (pg_backend_pid() %% 64)::smallint, sum(d.n)
        FROM (%s) d GROUP BY d.labels HAVING sum(d.n) <> 0 ORDER BY d.labels
        ON CONFLICT (series, labels, slot) DO UPDATE SET n = m.n + EXCLUDED.n;$q$;
    rows_of constant text := 'SELECT %s AS labels, %s AS n FROM %s WHERE %s';
    plus text;
    minus text;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        -- todo_deliveries{channel,status}
        ('deliveries', 'deliveries', 'ARRAY[channel, status]', 'true'),
        -- todo_rejected_events{topic,reason}
        ('rejected_events', 'rejected_events', 'ARRAY[topic, reason]', 'true'),
        -- todo_scheduled_reminders{state}
        ('scheduled_reminders', 'scheduled_reminders', 'ARRAY[state]', 'true'),
        -- todo_generated_tasks: the occurrences after the first
        ('tasks', 'generated_tasks', 'ARRAY[]::text[]', 'occurrence > 1')
    ) AS v(tbl, series, labels, keep)
    LOOP
        plus := format(rows_of, t.labels, 1, 'new_rows', t.keep);
        minus := format(rows_of, t.labels, -1, 'old_rows', t.keep);
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
            format(upsert, t.series, plus),
            format(upsert, t.series, plus || ' UNION ALL ' || minus),
            format(upsert, t.series, minus),
            t.series);
        EXECUTE format('CREATE OR REPLACE TRIGGER metric_counts_ins AFTER INSERT ON %I
                        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                       t.tbl, 'metric_counts_' || t.series);
        EXECUTE format('CREATE OR REPLACE TRIGGER metric_counts_upd AFTER UPDATE ON %I
                        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                       t.tbl, 'metric_counts_' || t.series);
        EXECUTE format('CREATE OR REPLACE TRIGGER metric_counts_del AFTER DELETE ON %I
                        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                       t.tbl, 'metric_counts_' || t.series);
        EXECUTE format('CREATE OR REPLACE TRIGGER metric_counts_trunc AFTER TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                       t.tbl, 'metric_counts_' || t.series);
        EXECUTE format('INSERT INTO metric_counts (series, labels, slot, n)
                        SELECT %L, %s, 0, count(*) FROM %I WHERE %s GROUP BY 2',
                       t.series, t.labels, t.tbl, t.keep);
    END LOOP;
END
$do$;

-- Migration 0005's indexes served only the counting scrape; every write to
-- these tables paid for them.
DROP INDEX IF EXISTS deliveries_channel_status;
DROP INDEX IF EXISTS tasks_generated;
