#!/usr/bin/env bash
# What the metric counters cost a writer (issue 19, item 4): pgbench, each
# transaction one INSERT and one status UPDATE of a delivery (autocommit,
# like the services), at 8 and 16 clients, with
#   off   the counting triggers disabled,
#   0006  migration 0006's trigger functions (slot = backend pid % 64),
#   0009  migration 0009's (slot = transaction id % 64, plus the _total
#         series),
# interleaved in one run (off, 0006, 0009 for each client count, ROUNDS
# times), so drift of the machine hits all three alike. Not part of the test
# suite: it prints numbers, it asserts nothing.
#
#   bench/counters_pgbench.sh [seconds per point, default 10] [rounds, default 1]
#   CLIENTS="1 8 16" bench/counters_pgbench.sh   (client counts, default "8 16")
#   DURABLE=1 bench/counters_pgbench.sh   (fsync and synchronous_commit on, as
#                                          in production: a commit waits for
#                                          the disk, so does a transaction
#                                          waiting for its counter row)
#
# One database throughout: migrated to 0006, its trigger functions and
# triggers on deliveries saved, then 0009 applied and its saved; a variant
# is switched by dropping the triggers and re-creating its own (none for
# off). 0009's index `deliveries_prunable` exists in
# every variant, so only the counters differ.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
rounds=${2:-1}

# Migrate to 0006 only, through a folder holding migrations up to 0006.
upto=$(mktemp -d "${TMPDIR:-/tmp}/counters-migrations.XXXXXX")
mkdir -p "$upto/migrations"
cp "$root/migrations/migrate.sh" "$root"/migrations/000[1-6]_*.sql "$upto/migrations/"
real_root=$root
root=$upto
# shellcheck source=bench/throwaway_pg.sh
source "$real_root/bench/throwaway_pg.sh" counters-bench
root=$real_root
rm -rf "$upto"

if [ "${DURABLE:-0}" = 1 ]; then
  # throwaway_pg.sh starts without fsync; command-line settings beat the
  # config files, so restart with them on.
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w restart \
    -o "-p $port -k $dir -c listen_addresses='' -c shared_buffers=256MB -c fsync=on -c synchronous_commit=on" >/dev/null
  echo "durable: fsync $(psql -At -c 'SHOW fsync'), synchronous_commit $(psql -At -c 'SHOW synchronous_commit')"
fi

# A variant's counting on deliveries: its trigger functions and triggers,
# as SQL that drops whatever triggers are there first.
variant_sql() {
  psql -At -c "SELECT string_agg(pg_get_functiondef(p.oid), E';\n') || E';\n'
               FROM pg_proc p WHERE p.proname LIKE 'metric_counts\_%'"
  psql -At -c "SELECT string_agg(pg_get_triggerdef(t.oid), E';\n') || E';\n'
               FROM pg_trigger t WHERE t.tgrelid = 'deliveries'::regclass AND NOT t.tgisinternal"
}
drop_triggers() {
  psql -At -c "SELECT string_agg(format('DROP TRIGGER %I ON deliveries', t.tgname), E';\n') || E';\n'
               FROM pg_trigger t WHERE t.tgrelid = 'deliveries'::regclass AND NOT t.tgisinternal"
}
variant_sql > "$dir/f0006.sql"
psql -1 -f "$root/migrations/0009_metric_counters.sql"
variant_sql > "$dir/f0009.sql"
chmod a+r "$dir"/*.sql

cat > "$dir/write.sql" <<'SQL'
\set id random(1, 2000000000)
INSERT INTO deliveries (delivery_id, user_id, task_id, remind_at, channel, recipient, status) VALUES (gen_random_uuid(), 'u-bench', md5(:id::text)::uuid, '2026-01-01Z', 'email', 'r', 'pending') ON CONFLICT DO NOTHING;
UPDATE deliveries SET status = 'sent', attempts = 1 WHERE task_id = md5(:id::text)::uuid AND remind_at = '2026-01-01Z' AND channel = 'email' AND recipient = 'r';
SQL
chmod a+r "$dir/write.sql"

use() {
  drop_triggers > "$dir/drop.sql"
  psql -1 -f "$dir/drop.sql"
  case $1 in
    off) ;;
    *) psql -1 -f "$dir/f$1.sql" ;;
  esac
  psql -c "VACUUM (ANALYZE) deliveries, metric_counts" -c CHECKPOINT
}

# CPU seconds the server's backends used so far: the postmaster's reaped
# children (each pgbench run's backends exit when it disconnects).
server_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($16 + $17) / hz}' "/proc/$(head -1 "$dir/data/postmaster.pid")/stat"
}

# Collisions, directly: every 50 ms during a run, how many backends wait
# for a lock (a counter row another transaction holds until its commit);
# prints the mean.
lock_waits() { # seconds
  psql -At -c "CREATE TEMP TABLE waits (n int)" -c "DO \$\$ BEGIN
      FOR i IN 1..($1 * 20) LOOP
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO waits SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock';
        PERFORM pg_sleep(0.05);
      END LOOP; END \$\$" -c "SELECT round(avg(n), 2) FROM waits"
}

run() { # variant clients -> "tps cpu_us_per_transaction lock_waiters"
  local before after
  before=$(server_cpu)
  lock_waits "$((secs - 1))" >"$dir/waits.out" &
  "${as_pg[@]}" "$pg_bin/pgbench" "$url" -n -f "$dir/write.sql" -c "$2" -j 2 -T "$secs" >"$dir/pgbench.out" 2>"$dir/pgbench.err"
  wait
  after=$(server_cpu)
  awk -v b="$before" -v a="$after" -v w="$(tail -1 "$dir/waits.out")" '/^tps/ {tps=$3} /actually processed/ {n=$NF}
    END {printf "%s %.1f %s\n", tps, 1e6 * (a - b) / n, w}' "$dir/pgbench.out"
}

declare -A tps cpu waits
for round in $(seq 1 "$rounds"); do
  for c in ${CLIENTS:-8 16}; do
    for v in off 0006 0009; do
      use $v >/dev/null
      read -r t u w < <(run $v $c)
      tps[$v,$c]="${tps[$v,$c]:-} $t"
      cpu[$v,$c]="${cpu[$v,$c]:-} $u"
      waits[$v,$c]="${waits[$v,$c]:-} $w"
      echo "round $round, $c clients, $v: $t transactions/s, server CPU $u us per transaction, $w backends waiting for a lock (mean)"
    done
  done
done

echo
# Per round, each variant's cost is 1 - its tps / the same round's "off"
# tps; the table gives the median over the rounds (and the range), so a
# burst of load on the machine during one run moves one ratio, not all.
echo "| clients | off tps (median) | 0006 cost: median (min..max) | 0009 cost: median (min..max) |"
echo "|---|---|---|---|"
for c in ${CLIENTS:-8 16}; do
  awk -v c=$c -v off="${tps[off,$c]}" -v a="${tps[0006,$c]}" -v b="${tps[0009,$c]}" '
    function sort(x, n,  i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) { t = x[j]; x[j] = x[j-1]; x[j-1] = t } }
    function median(x, n) { sort(x, n); return n % 2 ? x[(n+1)/2] : (x[n/2] + x[n/2+1]) / 2 }
    function costs(s, o, r,  n, i, v) { n = split(s, v, " "); for (i = 1; i <= n; i++) r[i] = 100 * (1 - v[i] / o[i]); return n }
    BEGIN {
      n = split(off, o, " "); for (i = 1; i <= n; i++) oo[i] = o[i]
      na = costs(a, o, ra); nb = costs(b, o, rb)
      ma = median(ra, na); mb = median(rb, nb)
      printf "| %d | %.0f | %.1f %% (%.1f..%.1f) | %.1f %% (%.1f..%.1f) |\n", c, median(oo, n), ma, ra[1], ra[na], mb, rb[1], rb[nb]
    }'
done
echo
# The server's CPU per transaction is much less disturbed by other load on
# the machine than throughput is; on a CPU-bound server, throughput falls by
# 1 - (CPU without counters) / (CPU with them).
echo "| clients | off: server CPU per transaction (median) | 0006 | 0009 | 0006 cost | 0009 cost |"
echo "|---|---|---|---|---|---|"
for c in ${CLIENTS:-8 16}; do
  awk -v c=$c -v off="${cpu[off,$c]}" -v a="${cpu[0006,$c]}" -v b="${cpu[0009,$c]}" '
    function sort(x, n,  i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) { t = x[j]; x[j] = x[j-1]; x[j-1] = t } }
    function median(s,  x, n) { n = split(s, x, " "); sort(x, n); return n % 2 ? x[(n+1)/2] : (x[n/2] + x[n/2+1]) / 2 }
    BEGIN { o = median(off); x = median(a); y = median(b)
      printf "| %d | %.0f us | %.0f us | %.0f us | %.1f %% | %.1f %% |\n", c, o, x, y, 100 * (1 - o / x), 100 * (1 - o / y) }'
done
echo
echo "| clients | backends waiting for a lock, mean per run: off | 0006 | 0009 |"
echo "|---|---|---|---|"
for c in ${CLIENTS:-8 16}; do
  echo "| $c | ${waits[off,$c]} | ${waits[0006,$c]} | ${waits[0009,$c]} |"
done
echo
echo "counter rows: $(psql -At -c "SELECT count(*) || ' rows in ' || count(DISTINCT slot) || ' slots' FROM metric_counts")"
