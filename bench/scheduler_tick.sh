#!/usr/bin/env bash
# Cost of a scheduler tick over 1 million tasks. Not part of the
# test suite: it takes a few minutes and prints numbers rather than
# asserting them.
#
#   bench/scheduler_tick.sh [tasks]        (default 1000000)
#
# Starts a throwaway PostgreSQL (PG_BIN, default /usr/lib/postgresql/15/bin;
# as the `postgres` user when run as root), migrates it with
# migrations/migrate.sh, fills `tasks`, and prints EXPLAIN (ANALYZE,
# BUFFERS) and timings of the tick's read, taken verbatim from
# components/scheduler/src/store.rs (const DUE), in two states:
#   1. nothing due: open tasks remind in the future, the rest are completed
#      or have no reminder;
#   2. the same plus 100 000 open tasks whose past reminders were already
#      published (they stay in the partial index until completed);
# and finally with 500 due reminders (one full batch).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
# shellcheck source=bench/throwaway_pg.sh
source "$root/bench/throwaway_pg.sh" scheduler-bench

# The tick's read as the component runs it, with the default batch.
tick_sql=$(awk '/^const DUE: &str = "\\$/ {on=1; next} on && /";$/ {sub(/";$/, ""); print; exit} on {print}' \
  "$root/components/scheduler/src/store.rs" | sed 's/\$1::text::int/500/')
[ -n "$tick_sql" ] || { echo "could not read const DUE from store.rs" >&2; exit 1; }

echo "== filling tasks with $n rows"
start=$(date +%s)
psql <<SQL
INSERT INTO tasks (id, user_id, title, due_at, remind_at, completed, completed_at)
SELECT gen_random_uuid(), 'u-' || (i % 10000), 'task ' || i,
       ts + interval '30 minutes', CASE WHEN kind = 1 THEN NULL ELSE ts END,
       kind = 0, CASE WHEN kind = 0 THEN ts + interval '1 hour' END
FROM (SELECT i, i % 10 AS k,
             -- 0: completed, reminded in the past (50 %); 1: no reminder (20 %);
             -- 2: open, reminder in the future (30 %)
             CASE WHEN i % 10 < 5 THEN 0 WHEN i % 10 < 7 THEN 1 ELSE 2 END AS kind,
             CASE WHEN i % 10 < 5 THEN now() - (i % 365) * interval '1 day' - interval '1 hour'
                  ELSE now() + (1 + i % 365) * interval '1 day' END AS ts
      FROM generate_series(1, $n) i) g;
VACUUM (ANALYZE) tasks;
SQL
echo "   $(($(date +%s) - start)) s; table $(psql -At -c "SELECT pg_size_pretty(pg_relation_size('tasks'))"), partial index $(psql -At -c "SELECT pg_size_pretty(pg_relation_size('tasks_reminders_due'))") ($(psql -At -c "SELECT count(*) FROM tasks WHERE remind_at IS NOT NULL AND NOT completed") entries)"

explain() {
  echo "-- EXPLAIN (ANALYZE, BUFFERS) of the tick's read"
  psql -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $tick_sql"
}
timing() {
  # Median of 21 runs of the read, as one statement each (what a tick with
  # nothing due costs: this read is its only statement).
  psql -At <<SQL
CREATE TEMP TABLE runs (ms float8);
DO \$\$
DECLARE t0 timestamptz; BEGIN
  FOR i IN 1..21 LOOP
    t0 := clock_timestamp();
    EXECUTE \$q\$ $tick_sql \$q\$;
    INSERT INTO runs VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END \$\$;
SELECT 'tick read: median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3)
       || ' ms, max ' || round(max(ms)::numeric, 3) || ' ms over 21 runs' FROM runs;
SQL
}

echo
echo "== 1. nothing due ($n tasks)"
explain
timing

echo
echo "== 2. plus 100000 open tasks whose past reminders were already published"
psql <<SQL
WITH ins AS (
  INSERT INTO tasks (id, user_id, title, remind_at)
  SELECT gen_random_uuid(), 'u-' || i, 'open ' || i, now() - (i % 300) * interval '1 day' - interval '1 minute'
  FROM generate_series(1, 100000) i
  RETURNING id, remind_at)
INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at)
SELECT id, remind_at, gen_random_uuid(), 'published', now() FROM ins;
VACUUM (ANALYZE) tasks, scheduled_reminders;
SQL
explain
timing

echo
echo "== 3. plus 500 due reminders (one full batch to publish)"
psql <<SQL
INSERT INTO tasks (id, user_id, title, remind_at)
SELECT gen_random_uuid(), 'u-' || i, 'due ' || i, now() - i * interval '1 second'
FROM generate_series(1, 500) i;
VACUUM (ANALYZE) tasks;
SQL
explain
timing
