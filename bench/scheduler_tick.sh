#!/usr/bin/env bash
# A scheduler tick and a /metrics scrape over a year of history, against the
# same calls on an empty history, in one run, under the real Spin CLI
# (issue 19, docs/CONTRACT.md "Scheduler"). Not part of the test suite: it
# takes a few minutes and prints numbers rather than asserting them.
#
#   bench/scheduler_tick.sh [tasks]        (default 1000000)
#
#   APP_ROOT=<tree>  measure another checkout (its migrations, spin.toml and
#                    target/wasm32-wasip2/release/{scheduler,metrics}.wasm),
#                    e.g. main's, for a before/after; default: this one.
#   SPIN_BIN         the Spin CLI (default: spin on PATH, else
#                    target/tools/spin of this tree).
#   ROUNDS           calls per series (default 31).
#   WRITE_REPS       interleaved pgbench rounds per configuration (default 5).
#
# One throwaway PostgreSQL 15 (bench/throwaway_pg.sh), two databases
# migrated alike:
#   history: `tasks` open tasks whose past reminders (up to a year old) are
#            recorded `published` in scheduled_reminders, plus 200,000 open
#            tasks reminding later. Bulk-loaded as a restore would
#            (session_replication_role = replica: no triggers); where the
#            schema has the scheduler's queue (migration 0007) it is then
#            rebuilt with its documented statement (timed), which adds the
#            200,000 later reminders and none of the recorded ones;
#   empty:   nothing.
# Two `spin up` of the same manifest (scheduler and metrics only), one per
# database, and a fake Dapr sidecar answering 204 to every publish. Then:
#   1. EXPLAIN (ANALYZE, BUFFERS) of the scheduler's and the scrape's
#      statements (read from store.rs) on the history, nothing due;
#   2. ROUNDS x (tick, scrape) on each app, interleaved, nothing due:
#      medians and the ratio history / empty (target: within 2x + 5 ms);
#   3. 5 rounds of 500 new due reminders in both databases, then one tick
#      on each (each publishes 500): medians and the ratio (target: 2x);
#   4. where the queue's trigger exists: what it costs the writes of the
#      todo backend to `tasks` (pgbench, 1 and 8 clients): as migrated, the
#      trigger disabled, and main's schema (no trigger, the partial index
#      tasks_reminders_due that 0007 drops).
set -euo pipefail
bench_root=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "${APP_ROOT:-$bench_root}" && pwd)
n=${1:-1000000}
rounds=${ROUNDS:-31}
spin_bin=${SPIN_BIN:-$(command -v spin || echo "$bench_root/target/tools/spin")}
for c in scheduler metrics; do
  [ -f "$root/target/wasm32-wasip2/release/$c.wasm" ] || {
    echo "build it first: (cd $root && cargo build --target wasm32-wasip2 --release -p $c)" >&2; exit 1; }
done
PG_LISTEN=127.0.0.1
export PGOPTIONS='-c client_min_messages=warning'
# shellcheck source=bench/throwaway_pg.sh
source "$bench_root/bench/throwaway_pg.sh" scheduler-bench
echo "== tree $root ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), schema $(psql -At -c 'SELECT max(version) FROM schema_migrations'), $("$spin_bin" --version)"
psql -c "CREATE DATABASE history TEMPLATE postgres" -c "CREATE DATABASE empty TEMPLATE postgres"
db_url() { echo "postgresql://postgres@/$1?host=$dir&port=$port"; }
on() { local db=$1; shift; "$pg_bin/psql" "$(db_url "$db")" -X -q -v ON_ERROR_STOP=1 "$@"; }
has_queue=$(on history -At -c "SELECT to_regclass('scheduler_due_queue') IS NOT NULL")

echo "== history: $n open tasks with recorded reminders, 200000 reminding later"
start=$(date +%s)
on history <<SQL
SET session_replication_role = replica;
INSERT INTO tasks (id, user_id, title, due_at, remind_at)
SELECT gen_random_uuid(), 'u-' || (i % 10000), 'task ' || i, r + interval '30 minutes', r
FROM (SELECT i, now() - interval '1 hour' - (i % 365) * interval '1 day' - (i % 86400) * interval '1 second' AS r
      FROM generate_series(1, $n) i) g;
INSERT INTO scheduled_reminders (task_id, remind_at, event_id, state, published_at)
SELECT id, remind_at, gen_random_uuid(), 'published', remind_at FROM tasks;
INSERT INTO tasks (id, user_id, title, remind_at)
SELECT gen_random_uuid(), 'u-' || (i % 10000), 'later ' || i, now() + interval '1 hour' + i * interval '1 minute'
FROM generate_series(1, 200000) i;
SET session_replication_role = origin;
SQL
echo "   loaded in $(($(date +%s) - start)) s"
if [ "$has_queue" = t ]; then
  echo "-- the queue's rebuild (migration 0007), as after lost bookkeeping:"
  on history -At -c '\timing on' -c "SELECT 'added ' || scheduler_due_queue_rebuild() || ' rows'" | sed 's/^/   /'
fi
on history -c "VACUUM (ANALYZE)"
on empty -c "VACUUM (ANALYZE)"
on history -At -c "SELECT '   tasks ' || pg_size_pretty(pg_relation_size('tasks')) || ', scheduled_reminders '
  || pg_size_pretty(pg_relation_size('scheduled_reminders'))
  || coalesce(', tasks_reminders_due ' || pg_size_pretty(pg_relation_size(to_regclass('tasks_reminders_due'))), '')
  || coalesce(', scheduler_due_queue ' || pg_size_pretty(pg_total_relation_size(to_regclass('scheduler_due_queue'))), '')"

# ---- 1. the statements, as the components run them
stmt() { # const NAME of file $2, parameters replaced by the default batch
  awk -v n="$1" '$0 ~ "^const "n": &str = \"\\\\$" {on=1; next} on && /";$/ {sub(/";$/, ""); print; exit} on {print}' "$2" \
    | sed 's/\$1::text::int\b/500/'
}
echo
echo "== 1. EXPLAIN (ANALYZE, BUFFERS) on the history, nothing due"
for pair in scheduler:DUE scheduler:ANYTHING_DUE scheduler:DUE_PAGE scheduler:COUNT_DUE metrics:SCRAPE; do
  sql=$(stmt "${pair#*:}" "$root/components/${pair%%:*}/src/store.rs")
  [ -n "$sql" ] || continue
  echo "-- ${pair%%:*} ${pair#*:} (history; the empty database's execution time after it)"
  # In a transaction rolled back: DUE_PAGE deletes stale queue rows.
  on history -c "BEGIN" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $sql" -c "ROLLBACK"
  on empty -At -c "BEGIN" -c "EXPLAIN (ANALYZE, COSTS OFF) $sql" -c "ROLLBACK" | grep 'Execution Time' | sed 's/^/   empty: /'
done

# ---- 2. and 3. under spin up
cat > "$dir/drive.py" <<'PY'
import http.server, json, os, re, socket, statistics, subprocess, sys, threading, time, urllib.request

root, spin, tmp, port, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
psql, conninfo = sys.argv[6], sys.argv[7]

class Sidecar(http.server.BaseHTTPRequestHandler):
    """Dapr's publish API: 204 for every publish, counted."""
    published = 0
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        Sidecar.published += 1
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass

class Dual(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()

sidecar = Dual(("::", 0), Sidecar)
threading.Thread(target=sidecar.serve_forever, daemon=True).start()

# The real spin.toml reduced to the scheduler and metrics components.
with open(f"{root}/spin.toml") as f:
    text = f.read()
keep = {"scheduler", "metrics"}
out, drop = [], False
for block in re.split(r"\n(?=\[)", text):
    head = block.split("\n", 1)[0]
    m = re.match(r"\[component\.([\w-]+)", head)
    if m:
        drop = m.group(1) not in keep
    elif head.startswith("[[trigger.http]]"):
        c = re.search(r'component = "([\w-]+)"', block)
        drop = not c or c.group(1) not in keep
    else:
        drop = False
    if not drop:
        out.append(block.replace('source = "target/', f'source = "{root}/target/'))
with open(f"{tmp}/spin.toml", "w") as f:
    f.write("\n".join(out))

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

apps = {}
for db in ("history", "empty"):
    p = free_port()
    env = dict(os.environ, SPIN_VARIABLE_DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/{db}?sslmode=disable",
               SPIN_VARIABLE_DATABASE_HOST=f"127.0.0.1:{port}",
               SPIN_VARIABLE_DAPR_HTTP_PORT=str(sidecar.server_address[1]))
    proc = subprocess.Popen([spin, "up", "--from", f"{tmp}/spin.toml", "--listen", f"127.0.0.1:{p}",
                             "--runtime-config-file", f"{root}/runtime-config.toml"],
                            env=env, cwd=tmp, stdout=open(f"{tmp}/spin-{db}.out", "w"), stderr=subprocess.STDOUT)
    apps[db] = (proc, f"http://127.0.0.1:{p}")
for db, (proc, base) in apps.items():
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{base}/.well-known/spin/health", timeout=2); break
        except Exception:
            if proc.poll() is not None: sys.exit(f"spin up ({db}) exited; see {tmp}/spin-{db}.out")
            time.sleep(0.1)

def call(db, method, path):
    base = apps[db][1]
    req = urllib.request.Request(base + path, method=method, data=b"{}" if method == "POST" else None,
                                 headers={"content-type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        body = r.read()
    return (time.perf_counter() - t0) * 1000, body

def tick(db, expect):
    ms, body = call(db, "POST", "/scheduler/tick")
    got = json.loads(body)
    if got.get("published") != expect or got.get("remaining") != 0:
        sys.exit(f"tick on {db}: {got}, expected {expect} published")
    return ms

def scrape(db):
    ms, body = call(db, "GET", "/metrics")
    return ms, body.decode()

def report(name, h, e, factor, plus):
    mh, me = statistics.median(h), statistics.median(e)
    limit = factor * me + plus
    print(f"   {name}: history median {mh:.1f} ms (min {min(h):.1f}), empty {me:.1f} ms (min {min(e):.1f}); "
          f"ratio {mh / me:.2f}; target <= {factor:g}x + {plus:g} ms = {limit:.1f} ms: {'met' if mh <= limit else 'MISSED'}")

for db in apps:  # warm-up: module compilation, connection pool
    for _ in range(3):
        tick(db, 0); scrape(db)
t = {k: [] for k in ("tick h", "tick e", "scrape h", "scrape e")}
for i in range(rounds):
    order = ("history", "empty") if i % 2 == 0 else ("empty", "history")
    for db in order:
        t["tick " + db[0]].append(tick(db, 0))
    for db in order:
        t["scrape " + db[0]].append(scrape(db)[0])
print(f"\n== 2. nothing newly due: {rounds} ticks and {rounds} scrapes per app, interleaved (client-side ms, spin up)")
report("POST /scheduler/tick", t["tick h"], t["tick e"], 2, 5)
report("GET /metrics        ", t["scrape h"], t["scrape e"], 2, 5)
for line in scrape("history")[1].splitlines():
    if line.startswith("todo_scheduler_") or line.startswith("todo_schema_ready"):
        print(f"   history: {line}")

due = {"history": [], "empty": []}
for i in range(5):
    for db in ("history", "empty"):
        subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", f"{conninfo} dbname={db}", "-c",
            "INSERT INTO tasks (id, user_id, title, remind_at) SELECT gen_random_uuid(), 'u-due', "
            "'due ' || i, now() - i * interval '1 second' FROM generate_series(1, 500) i"], check=True)
    order = ("history", "empty") if i % 2 == 0 else ("empty", "history")
    for db in order:
        due[db].append(tick(db, 500))
print(f"\n== 3. 500 newly due reminders, one tick publishing them, 5 rounds per app (sidecar got {Sidecar.published} publishes)")
report("POST /scheduler/tick", due["history"], due["empty"], 2, 0)
for proc, _ in apps.values():
    proc.terminate(); proc.wait()
PY
echo
python3 "$dir/drive.py" "$root" "$spin_bin" "$dir" "$port" "$rounds" \
  "$pg_bin/psql" "host=$dir port=$port user=postgres"

# ---- 4. the trigger's cost to the backend's writes
if [ "$has_queue" != t ]; then
  echo; echo "== 4. skipped: no scheduler_due_queue in this schema"; exit 0
fi
echo
echo "== 4. what the queue costs the todo backend's writes to tasks (history database, pgbench, rounds interleaved)"
echo "   per transaction, each statement autocommitted: insert a task with a reminder, move its"
echo "   reminder, rename it (no reminder change), complete it"
cat > "$dir/write.sql" <<'SQL'
\set r random(1, 2000000000)
INSERT INTO tasks (id, user_id, title, due_at, remind_at) VALUES (md5(:r::text || '-' || :client_id)::uuid, 'u-bench', 'bench', now() + interval '2 days', now() + interval '1 day') ON CONFLICT DO NOTHING;
UPDATE tasks SET remind_at = remind_at + interval '1 hour', updated_at = now() WHERE id = md5(:r::text || '-' || :client_id)::uuid;
UPDATE tasks SET title = 'renamed', updated_at = now() WHERE id = md5(:r::text || '-' || :client_id)::uuid;
UPDATE tasks SET completed = true, completed_at = now(), updated_at = now() WHERE id = md5(:r::text || '-' || :client_id)::uuid;
SQL
chmod a+r "$dir/write.sql"
triggers() { on history -c "ALTER TABLE tasks $1 TRIGGER scheduler_due_queue_ins, $1 TRIGGER scheduler_due_queue_upd"; }
setup() {
  case $1 in
    queue) triggers ENABLE; on history -c "DROP INDEX IF EXISTS tasks_reminders_due" ;;
    bare)  triggers DISABLE; on history -c "DROP INDEX IF EXISTS tasks_reminders_due" ;;
    main)  triggers DISABLE
           on history -c "CREATE INDEX IF NOT EXISTS tasks_reminders_due ON tasks (remind_at, id) WHERE remind_at IS NOT NULL AND NOT completed" ;;
  esac
  on history -c "CHECKPOINT"
}
# Per transaction, medians over interleaved rounds of fixed transaction
# counts: transactions/s and PostgreSQL's CPU time (the postmaster, its
# live children and the children it reaped: pgbench's backends exit at its
# end) move with whatever else shares the machine; the WAL written and the
# shared buffers touched (pg_stat_database) do not, so they show the
# trigger's work even on a busy machine.
pg_cpu_ticks() {
  local pm; pm=$(head -1 "$dir/data/postmaster.pid")
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } \
    | awk -v pm="$pm" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == pm) s += $12 + $13; if (pid == pm) s += $12 + $13 + $14 + $15 } END { print s + 0 }'
}
pg_work() {  # WAL bytes so far, shared buffers touched in `history` so far
  on postgres -At -F ' ' -c "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn, blks_hit + blks_read FROM pg_stat_database WHERE datname = 'history'"
}
hz=$(getconf CLK_TCK)
declare -A cpu tps wal blk
reps=${WRITE_REPS:-5}
for rep in $(seq "$reps"); do
  for cfg in queue bare main; do
    setup $cfg
    for c in 1 8; do
      tx=$((c == 1 ? 3000 : 600))
      n=$((tx * c))
      sleep 0.5
      read -r wal0 blk0 < <(pg_work); cpu0=$(pg_cpu_ticks)
      v=$("${as_pg[@]}" "$pg_bin/pgbench" "$(db_url history)" -n -f "$dir/write.sql" -c $c -j $((c < 2 ? 1 : 2)) -t $tx 2>"$dir/pgbench.err" \
        | awk '/^tps/ {print $3}')
      sleep 0.5  # until the postmaster has reaped pgbench's backends and their stats are in
      cpu1=$(pg_cpu_ticks); read -r wal1 blk1 < <(pg_work)
      cpu[$cfg,$c]+=" $(awk -v d=$((cpu1 - cpu0)) -v hz="$hz" -v n=$n 'BEGIN {printf "%.1f", d * 1e6 / hz / n}')"
      wal[$cfg,$c]+=" $(awk -v d=$((wal1 - wal0)) -v n=$n 'BEGIN {printf "%.0f", d / n}')"
      blk[$cfg,$c]+=" $(awk -v d=$((blk1 - blk0)) -v n=$n 'BEGIN {printf "%.1f", d / n}')"
      tps[$cfg,$c]+=" $v"
    done
  done
done
setup queue
median() { echo "$1" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
line() {  # label, array name, client count
  local -n arr=$2
  local q b m
  q=$(median "${arr[queue,$3]}"); b=$(median "${arr[bare,$3]}"); m=$(median "${arr[main,$3]}")
  awk -v l="$1" -v q="$q" -v b="$b" -v m="$m" 'BEGIN {
    printf "     %-28s queue %8.1f   no trigger %8.1f   main schema %8.1f   queue/no trigger %.2f   queue/main %.2f\n", l, q, b, m, q / b, q / m }'
}
for c in 1 8; do
  echo "   $c client(s), median of $reps rounds, per transaction:"
  line "transactions/s" tps $c
  line "PostgreSQL CPU us" cpu $c
  line "WAL bytes" wal $c
  line "shared buffers touched" blk $c
done
echo "   every round (the medians' inputs):"
for k in tps cpu wal blk; do
  declare -n arr=$k
  for c in 1 8; do
    echo "     $k, $c client(s): queue${arr[queue,$c]} | no trigger${arr[bare,$c]} | main${arr[main,$c]}"
  done
done
