#!/usr/bin/env bash
# Cost of a GET /metrics scrape over 1 million delivery rows. Not
# part of the test suite: it takes a minute or two and prints numbers rather
# than asserting them.
#
#   bench/metrics_scrape.sh [deliveries]        (default 1000000)
#
# Starts a throwaway PostgreSQL (PG_BIN, default /usr/lib/postgresql/15/bin;
# as the `postgres` user when run as root), migrates it with
# migrations/migrate.sh, fills `deliveries` (plus 100 000 tasks, 50 000
# scheduled reminders and 2 000 rejected events), and prints EXPLAIN
# (ANALYZE, BUFFERS) and timings of the scrape's statement, taken verbatim
# from components/metrics/src/store.rs (const SCRAPE):
#   1. as migrated: the scrape sums migration 0009's running counts (and
#      counts the pending and retrying deliveries from their partial index);
#   2. what those counts cost a writer: one-row INSERTs and UPDATEs of
#      deliveries with the triggers on and off.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
# shellcheck source=bench/throwaway_pg.sh
source "$root/bench/throwaway_pg.sh" metrics-bench

# The scrape's statement as the component runs it.
scrape_sql=$(awk '/^const SCRAPE: &str = "\\$/ {on=1; next} on && /";$/ {sub(/";$/, ""); print; exit} on {print}' \
  "$root/components/metrics/src/store.rs")
[ -n "$scrape_sql" ] || { echo "could not read const SCRAPE from store.rs" >&2; exit 1; }

echo "== filling deliveries with $n rows, 100000 tasks, 50000 scheduled reminders, 2000 rejected events"
start=$(date +%s)
psql <<SQL
-- Deliveries: 60 % e-mail, 40 % push; 90 % sent, 6 % failed, 3 % retrying,
-- 1 % pending; every final outcome published except 40.
INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient,
                        status, attempts, outcome_published, created_at, updated_at)
SELECT gen_random_uuid(), 'u-' || (i % 10000), gen_random_uuid(),
       now() - (i % 365) * interval '1 day',
       CASE WHEN i % 10 < 6 THEN 'email' ELSE 'push' END,
       'r-' || i,
       CASE WHEN i % 100 < 90 THEN 'sent' WHEN i % 100 < 96 THEN 'failed'
            WHEN i % 100 < 99 THEN 'retrying' ELSE 'pending' END,
       1, i % 100 >= 96 OR i > 40,
       now() - (i % 365) * interval '1 day', now() - (i % 365) * interval '1 day'
FROM generate_series(1, $n) i;
-- Tasks: 10 % generated occurrences, 30 % open with a past reminder (of
-- which all but 25 were published), the rest completed or reminding later.
INSERT INTO tasks (id, user_id, title, remind_at, completed, series_id, occurrence)
SELECT gen_random_uuid(), 'u-' || (i % 10000), 'task ' || i,
       CASE WHEN i % 10 < 3 THEN now() - (i % 300) * interval '1 hour' - interval '1 minute'
            ELSE now() + (i % 300) * interval '1 hour' END,
       i % 10 >= 3 AND i % 10 < 6,
       gen_random_uuid(), CASE WHEN i % 10 = 9 THEN 2 + i % 5 ELSE 1 END
FROM generate_series(1, 100000) i;
INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at)
SELECT id, remind_at, gen_random_uuid(),
       CASE WHEN row_number() OVER () % 50 = 0 THEN 'skipped' ELSE 'published' END, now()
FROM tasks WHERE remind_at <= now() AND NOT completed
OFFSET 25;
INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at)
SELECT gen_random_uuid(), now() - i * interval '1 minute', gen_random_uuid(), 'published', now()
FROM generate_series(1, 50000 - (SELECT count(*) FROM scheduled_reminders)::int) i;
INSERT INTO rejected_events (id, topic, reason, payload)
SELECT 'ev-' || i, CASE WHEN i % 2 = 0 THEN 'reminders' ELSE 'task-events' END,
       (ARRAY['invalid_json', 'invalid_data', 'unsupported_version', 'no_recipient'])[1 + i % 4], '{}'
FROM generate_series(1, 2000) i;
VACUUM (ANALYZE) deliveries, tasks, scheduled_reminders, rejected_events;
SQL
echo "   $(($(date +%s) - start)) s; deliveries $(psql -At -c "SELECT pg_size_pretty(pg_relation_size('deliveries'))"), metric_counts $(psql -At -c "SELECT count(*) FROM metric_counts") rows"

explain() {
  echo "-- EXPLAIN (ANALYZE, BUFFERS) of the scrape"
  psql -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $scrape_sql"
}
timing() {
  # Median of 21 runs of the statement (a scrape's only statement).
  psql -At <<SQL
CREATE TEMP TABLE runs (ms float8);
DO \$\$
DECLARE t0 timestamptz; BEGIN
  FOR i IN 1..21 LOOP
    t0 := clock_timestamp();
    EXECUTE \$q\$ $scrape_sql \$q\$;
    INSERT INTO runs VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END \$\$;
SELECT 'scrape: median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3)
       || ' ms, max ' || round(max(ms)::numeric, 3) || ' ms over 21 runs' FROM runs;
SQL
}

echo
echo "== 1. as migrated ($n deliveries)"
echo "-- the scrape's result"
psql -At -c "$scrape_sql"
explain
timing

echo
echo "== 2. what the counters cost a writer: pgbench, each transaction one INSERT and one"
echo "   status UPDATE of a delivery (autocommit, like the services), triggers on and off"
cat > "$dir/write.sql" <<'SQL'
\set id random(1, 2000000000)
INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient, status) VALUES (gen_random_uuid(), 'u-bench', md5(:id::text)::uuid, '2026-01-01Z', 'email', 'r', 'pending') ON CONFLICT DO NOTHING;
UPDATE deliveries SET status = 'sent', attempts = 1 WHERE task_id = md5(:id::text)::uuid AND remind_at = '2026-01-01Z' AND channel = 'email' AND recipient = 'r';
SQL
chmod a+r "$dir/write.sql"
write_cost() {
  for c in 1 8; do
    "${as_pg[@]}" "$pg_bin/pgbench" "$url" -n -f "$dir/write.sql" -c $c -j $((c < 2 ? 1 : 2)) -T 10 2>"$dir/pgbench.err" \
      | awk -v label="$1" -v c=$c '/latency average/ {lat=$4} /^tps/ {tps=$3} END {printf "   %s, %d clients: %.0f transactions/s, latency average %.3f ms\n", label, c, tps, lat}'
  done
}
write_cost "triggers on "
echo "   the running counts (final deliveries since 0009) agree with counting the table after it: $(psql -At -c "SELECT (SELECT jsonb_object_agg(channel || '/' || status, n) FROM (SELECT channel, status, count(*) n FROM deliveries WHERE status IN ('sent', 'failed') GROUP BY 1, 2) c)
  = (SELECT jsonb_object_agg(labels[1] || '/' || labels[2], n) FROM (SELECT labels, sum(n) n FROM metric_counts WHERE series = 'deliveries' GROUP BY 1 HAVING sum(n) > 0) m)")"
psql -c "ALTER TABLE deliveries DISABLE TRIGGER USER"
write_cost "triggers off"
psql -c "ALTER TABLE deliveries ENABLE TRIGGER USER"
