#!/usr/bin/env bash
# Retention (README, "Retention"): what a prune costs over 1,000,000 old
# deliveries, and whether it holds up the services' writers. Not part of
# the test suite: it takes a few minutes and prints numbers rather than
# asserting them.
#
#   bench/retention_prune.sh [old deliveries] [open reminded tasks]
#                            (defaults 1000000 and 1000000)
#
# Starts a throwaway PostgreSQL (bench/throwaway_pg.sh), migrates it, and
# fills it with the old deliveries (final, published, 31 to 400 days old),
# 100,000 live ones, and the open tasks whose reminders were recorded 40
# days ago (the scheduler's history, which retention must walk past and
# keep) plus 10,000 completed ones (prunable). Then:
#   1. a writer alone: pgbench, 4 clients, each transaction what a delivery
#      writes (claim INSERT, then the final, published UPDATE), autocommit;
#   2. the same writer while the prune runs batch after batch until nothing
#      is left: each batch is the component's own statement (read verbatim
#      from components/scheduler/src/retention/store.rs), timed; a sampler
#      session reads pg_locks every ~10 ms and keeps the longest wait of any
#      lock (pg_locks.waitstart); then the sweep of scheduled_reminders,
#      one window per call, once round the whole history;
#   3. the writer with and without the prune's partial index
#      deliveries_prunable (migration 0008), alternated twice;
# and prints the batch times, the writer's latency in each phase and the
# longest lock wait seen, next to the longest batch.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
open_tasks=${2:-1000000}
batch=${RETENTION_BATCH:-5000}
age_s=$((30 * 86400))
writer_s=${WRITER_SECONDS:-60}
# shellcheck source=bench/throwaway_pg.sh
source "$root/bench/throwaway_pg.sh" retention-bench

store="$root/components/scheduler/src/retention/store.rs"
const_sql() {
  awk -v name="$1" '$0 ~ "^const " name ": &str = \"\\\\$" {on=1; next} on && /";$/ {sub(/";$/, ""); print; exit} on {print}' "$store" \
    | sed -e "s/\\\$1::text::int8/$age_s::int8/g" -e "s/\\\$2::text::int/$batch/g" -e "s/\\\$3::text::int/$((batch * 2))/g"
}
prune_deliveries=$(const_sql PRUNE_DELIVERIES)
prune_reminders=$(const_sql PRUNE_REMINDERS)
[ -n "$prune_deliveries" ] && [ -n "$prune_reminders" ] || { echo "could not read the statements from $store" >&2; exit 1; }

echo "== filling: $n old deliveries, 100000 live ones, $open_tasks open reminded tasks, 10000 completed"
start=$(date +%s)
psql <<SQL
INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient,
                        status, attempts, outcome_published, created_at, updated_at)
SELECT gen_random_uuid(), 'u-' || (i % 10000), gen_random_uuid(), now() - interval '31 days' - (i % 370) * interval '1 day',
       CASE WHEN i % 10 < 6 THEN 'email' ELSE 'push' END, 'r-' || i,
       CASE WHEN i % 100 < 94 THEN 'sent' ELSE 'failed' END, 1, true,
       now() - interval '31 days' - (i % 370) * interval '1 day',
       now() - interval '31 days' - (i % 370) * interval '1 day' - (i % 86400) * interval '1 second'
FROM generate_series(1, $n) i;
INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient,
                        status, attempts, outcome_published, created_at, updated_at)
SELECT gen_random_uuid(), 'u-' || (i % 10000), gen_random_uuid(), now() - (i % 29) * interval '1 day',
       CASE WHEN i % 2 = 0 THEN 'email' ELSE 'push' END, 'live-' || i,
       (ARRAY['sent', 'failed', 'pending', 'retrying'])[1 + i % 4], 1, i % 4 < 2,
       now() - (i % 29) * interval '1 day', now() - (i % 29) * interval '1 day'
FROM generate_series(1, 100000) i;
INSERT INTO tasks (id, user_id, title, remind_at, completed)
SELECT gen_random_uuid(), 'u-' || (i % 10000), 'task ' || i,
       now() - interval '40 days' - (i % 1000) * interval '1 minute', i > $open_tasks
FROM generate_series(1, $open_tasks + 10000) i;
INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at, recorded_at)
SELECT id, remind_at, gen_random_uuid(), 'published', remind_at, remind_at FROM tasks;
VACUUM (ANALYZE) deliveries, tasks, scheduled_reminders;
SQL
echo "   $(($(date +%s) - start)) s; deliveries $(psql -At -c "SELECT pg_size_pretty(pg_relation_size('deliveries'))")"

cat > "$dir/write.sql" <<'SQL'
\set id random(1, 2000000000)
INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient, status) VALUES (gen_random_uuid(), 'u-bench', md5(:id::text)::uuid, now(), 'email', 'r', 'pending') ON CONFLICT DO NOTHING;
UPDATE deliveries SET status = 'sent', attempts = 1, outcome_published = true, updated_at = now() WHERE task_id = md5(:id::text)::uuid AND channel = 'email' AND recipient = 'r';
SQL
chmod -R a+rwX "$dir"
writer() { # $1: seconds, $2: log prefix
  (cd "$dir" && "${as_pg[@]}" "$pg_bin/pgbench" "$url" -n -f "$dir/write.sql" -c 4 -j 2 -T "$1" -l --log-prefix="$2" 2>"$dir/pgbench.err" \
    | awk '/^tps/ {printf "%.0f transactions/s", $3}')
}
latencies() { # per-transaction latency (µs, column 3) of pgbench's logs
  cat "$dir/$1".* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms over %d transactions", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, a[int(NR*0.999)]/1000, a[NR]/1000, NR}'
}

echo
echo "== 1. the writer alone, 10 s"
echo "   $(writer 10 alone); $(latencies alone)"

echo
echo "== 2. the writer for ${writer_s} s while the prune runs batch after batch ($batch rows per table)"
# The sampler: a new short session every ~10 ms (no long transaction that
# would hold back the horizon and keep the deleted rows' index entries alive).
(
  stop=$(($(date +%s) + writer_s))
  while [ "$(date +%s)" -lt "$stop" ]; do
    "$pg_bin/psql" "$url" -X -At -F ' ' -c "SELECT round((extract(epoch FROM clock_timestamp() - waitstart) * 1000)::numeric, 1), locktype, mode FROM pg_locks WHERE NOT granted AND waitstart IS NOT NULL" >> "$dir/waits.txt" 2>/dev/null || true
    sleep 0.01
  done
) &
sampler=$!
writer "$writer_s" during > "$dir/writer.txt" &
pgb=$!
sleep 2
: > "$dir/batches.txt"
prune() { # $1: statement; batch after batch until a batch is not full
  while prune_once "$1"; do :; done
}
prune_once() { # $1: statement; appends "ms rows"; false when the batch was not full
  {
    # The statement answers the rows it deleted; \timing adds its time.
    out=$("$pg_bin/psql" "$url" -X -At -v ON_ERROR_STOP=1 <<SQL
\timing on
$1
SQL
)
    rows=$(grep -E '^[0-9]+$' <<<"$out" | head -1)
    ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
    echo "$ms $rows" >> "$dir/batches.txt"
    [ "$rows" -ge "$batch" ]
  }
}
prune_start=$(date +%s.%N)
prune "$prune_deliveries"
deliveries_done=$(date +%s.%N)
cp "$dir/batches.txt" "$dir/deliveries.txt"
: > "$dir/batches.txt"
# The sweep of recorded reminders: enough calls to go round the whole index once more.
for _ in $(seq $(((open_tasks + 10000) / (batch * 2) + 2))); do prune_once "$prune_reminders" || true; done
prune_end=$(date +%s.%N)
wait $pgb
wait $sampler
summary() {
  sort -n "$1" | awk '{a[NR]=$1; r+=$2} END {printf "%d batches, %d rows; per batch: median %.1f ms, p95 %.1f ms, max %.1f ms", NR, r, a[int((NR+1)/2)], a[int(NR*0.95+0.5)], a[NR]}'
}
echo "   deliveries: $(summary "$dir/deliveries.txt"); $(awk -v a="$prune_start" -v b="$deliveries_done" 'BEGIN {printf "%.1f s in all", b - a}')"
echo "   scheduled_reminders, a sweep of calls ($open_tasks open tasks kept, 10000 pruned): $(summary "$dir/batches.txt"); $(awk -v a="$deliveries_done" -v b="$prune_end" 'BEGIN {printf "%.1f s in all", b - a}')"
echo "   writer: $(cat "$dir/writer.txt"); $(latencies during)"
touch "$dir/waits.txt"
longest=$(sort -n "$dir/waits.txt" | tail -1 | awk '{print $1 " ms (" $2 " " $3 ")"}')
echo "   longest lock wait seen: ${longest:-none}; samples with a waiter: $(wc -l < "$dir/waits.txt"), over 10 ms: $(awk '$1 > 10' "$dir/waits.txt" | wc -l)"
echo "   left: $(psql -At -c "SELECT count(*) FROM deliveries WHERE outcome_published AND status IN ('sent', 'failed') AND updated_at < now() - interval '30 days'") prunable deliveries, $(psql -At -c "SELECT count(*) FROM deliveries") deliveries"
echo "   the running counts agree with counting the tables: $(psql -At -c "SELECT (SELECT jsonb_object_agg(channel || '/' || status, n) FROM (SELECT channel, status, count(*) n FROM deliveries GROUP BY 1, 2) c)
  = (SELECT jsonb_object_agg(labels[1] || '/' || labels[2], n) FROM (SELECT labels, sum(n) n FROM metric_counts WHERE series = 'deliveries' GROUP BY 1 HAVING sum(n) <> 0) m)
  AND (SELECT count(*) FROM scheduled_reminders) = (SELECT sum(n) FROM metric_counts WHERE series = 'scheduled_reminders')")"

echo
echo "== 3. what the prune's index deliveries_prunable costs the writer: 10 s with it, 10 s without, twice"
for round in 1 2; do
  echo "   round $round, with:    $(writer 10 "with$round"); $(latencies "with$round")"
  psql -c "DROP INDEX deliveries_prunable"
  echo "   round $round, without: $(writer 10 "without$round"); $(latencies "without$round")"
  psql -c "CREATE INDEX deliveries_prunable ON deliveries (updated_at) WHERE outcome_published AND status IN ('sent', 'failed')"
done
