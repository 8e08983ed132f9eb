#!/usr/bin/env bash
# Smoke test of scripts/dev-up.sh as a new user runs it: from a clean clone
# of this repository (HEAD), with no DATABASE_URL, it builds the components,
# starts and migrates its own PostgreSQL, serves both readiness routes with
# 200 under `spin up`, answers the README's quick start as the README shows
# (tests/quickstart.py), and stops cleanly on Ctrl+C (SIGINT).
#
# Needs `spin` on PATH (scripts/test.sh checks). The clone builds into
# target/dev-up-smoke/ of this checkout, so later runs are incremental.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
app="$tmp/app"
pid=""

as_pg_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fail() { echo "dev-up smoke: FAIL: $*" >&2; tail -n 40 "$tmp/dev-up.log" >&2 || true; exit 1; }
cleanup() {
  [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null || true
  if [ -d "$app/.pgdata" ]; then
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
    [ -n "$bindir" ] || bindir=$(dirname "$(command -v pg_ctl)")
    as_pg_owner "$bindir/pg_ctl" -D "$app/.pgdata" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

git clone -q "$root" "$app"
mkdir -p "$root/target/dev-up-smoke"
ln -s "$root/target/dev-up-smoke" "$app/target"
[ "$(id -u)" = 0 ] && chmod 755 "$tmp"

pg_port=$(free_port)
http_port=$(free_port)
# Its own process group (setsid), so Ctrl+C reaches Spin as in a terminal.
env -u DATABASE_URL DEV_PG_PORT="$pg_port" setsid bash -c 'cd "$1" && exec scripts/dev-up.sh --listen "$2"' \
  _ "$app" "127.0.0.1:$http_port" >"$tmp/dev-up.log" 2>&1 &
pid=$!

ready() { curl -fs -o /dev/null "http://127.0.0.1:$http_port/$1"; }
for _ in $(seq 1 600); do
  kill -0 "$pid" 2>/dev/null || fail "dev-up.sh exited before serving"
  if ready notifications/readyz && ready recurrence/readyz; then break; fi
  sleep 1
done
ready notifications/readyz || fail "notifications/readyz is not 200"
ready recurrence/readyz || fail "recurrence/readyz is not 200"
grep -q "applied 0001_tasks" "$tmp/dev-up.log" || fail "migrations were not applied"
echo "dev-up smoke: both readiness routes answer 200"
# The README's quick start, run as a reader would, every answer compared.
python3 "$app/tests/quickstart.py" "http://127.0.0.1:$http_port" "$app/README.md" \
  || fail "the README's quick start does not answer as shown"

kill -INT -- "-$pid"
for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
kill -0 "$pid" 2>/dev/null && fail "spin did not stop within 30 s of SIGINT"
status=0; wait "$pid" || status=$?
pid=""
[ "$status" = 0 ] || [ "$status" = 130 ] || fail "dev-up.sh exited with status $status"
curl -fsS -o /dev/null "http://127.0.0.1:$http_port/recurrence/readyz" 2>/dev/null \
  && fail "the app still answers after stopping"
echo "dev-up smoke: stopped cleanly (exit status $status)"
