-- GET /metrics (CONTRACT.md, section 10) without counting the big tables at
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

-- The trigger function of every counted table (statement-level, over the
-- statement's transition tables): +1 per new row and -1 per old row for
-- series TG_ARGV[0], under the label set read from the columns named in
-- TG_ARGV[1]; with TG_ARGV[2] and [3], only rows whose column [2] is at
-- least [3] count. A transition table exists only for its own event, so
-- each is read only when the operation has it. Static SQL: plpgsql keeps
-- the plans per connection.
CREATE OR REPLACE FUNCTION metric_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    deltas jsonb := '[]';
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM metric_counts WHERE series = TG_ARGV[0];
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        deltas := deltas || (SELECT coalesce(jsonb_agg(jsonb_build_object('row', to_jsonb(x), 'n', 1)), '[]') FROM new_rows x);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        deltas := deltas || (SELECT coalesce(jsonb_agg(jsonb_build_object('row', to_jsonb(x), 'n', -1)), '[]') FROM old_rows x);
    END IF;
    INSERT INTO metric_counts AS m (series, labels, slot, n)
    SELECT TG_ARGV[0], d.labels, (pg_backend_pid() % 64)::smallint, sum(d.n)
    FROM (SELECT ARRAY(SELECT e.value -> 'row' ->> c.name
                       FROM unnest(TG_ARGV[1]::text[]) WITH ORDINALITY AS c(name, i) ORDER BY c.i) AS labels,
                 (e.value ->> 'n')::bigint AS n
          FROM jsonb_array_elements(deltas) AS e
          WHERE TG_NARGS < 4 OR (e.value -> 'row' ->> TG_ARGV[2])::bigint >= TG_ARGV[3]::bigint) d
    GROUP BY d.labels HAVING sum(d.n) <> 0 ORDER BY d.labels
    ON CONFLICT (series, labels, slot) DO UPDATE SET n = m.n + EXCLUDED.n;
    RETURN NULL;
END
$fn$;

-- Writes wait while the triggers are created and the counts taken, so no
-- row is counted twice or missed.
LOCK TABLE deliveries, rejected_events, scheduled_reminders, tasks IN SHARE ROW EXCLUSIVE MODE;
DELETE FROM metric_counts;

-- One trigger per event: a trigger with transition tables may have only one.
CREATE OR REPLACE PROCEDURE metric_counts_watch(tbl regclass, args text) LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('CREATE OR REPLACE TRIGGER metric_counts_ins AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION metric_counts_apply(%s)', tbl, args);
    EXECUTE format('CREATE OR REPLACE TRIGGER metric_counts_upd AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION metric_counts_apply(%s)', tbl, args);
    EXECUTE format('CREATE OR REPLACE TRIGGER metric_counts_del AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION metric_counts_apply(%s)', tbl, args);
    EXECUTE format('CREATE OR REPLACE TRIGGER metric_counts_trunc AFTER TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION metric_counts_apply(%s)', tbl, args);
END
$fn$;

-- todo_deliveries{channel,status}
CALL metric_counts_watch('deliveries', $$'deliveries', '{channel,status}'$$);
INSERT INTO metric_counts (series, labels, slot, n)
SELECT 'deliveries', ARRAY[channel, status], 0, count(*) FROM deliveries GROUP BY channel, status;

-- todo_rejected_events{topic,reason}
CALL metric_counts_watch('rejected_events', $$'rejected_events', '{topic,reason}'$$);
INSERT INTO metric_counts (series, labels, slot, n)
SELECT 'rejected_events', ARRAY[topic, reason], 0, count(*) FROM rejected_events GROUP BY topic, reason;

-- todo_scheduled_reminders{state}
CALL metric_counts_watch('scheduled_reminders', $$'scheduled_reminders', '{state}'$$);
INSERT INTO metric_counts (series, labels, slot, n)
SELECT 'scheduled_reminders', ARRAY[state], 0, count(*) FROM scheduled_reminders GROUP BY state;

-- todo_generated_tasks: the occurrences after the first.
CALL metric_counts_watch('tasks', $$'generated_tasks', '{}', 'occurrence', '2'$$);
INSERT INTO metric_counts (series, labels, slot, n)
SELECT 'generated_tasks', '{}', 0, count(*) FROM tasks WHERE occurrence > 1 HAVING count(*) > 0;

DROP PROCEDURE metric_counts_watch(regclass, text);

-- Migration 0005's indexes served only the counting scrape; every write to
-- these tables paid for them.
DROP INDEX IF EXISTS deliveries_channel_status;
DROP INDEX IF EXISTS tasks_generated;
