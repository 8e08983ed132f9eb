#!/usr/bin/env bash
# The throughput benchmark (not part of the test command):
#
#   bench/run.sh [--quick] [--no-build] [bench.py options: --conc 1,8 --routes task,readyz ...]
#
# Installs what is missing from Debian (wrk, nginx, postgresql-contrib for
# pg_stat_statements), builds the release components unless --no-build,
# then runs bench/bench.py: a throwaway PostgreSQL 15, nginx as the Dapr
# sidecar / Resend / FCM / OAuth, the app under `spin up`, wrk per point.
# Prints a markdown table; writes bench/results/<UTC timestamp>.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_lib=${PG_LIB:-/usr/lib/postgresql/15/lib}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -e "$pg_lib/pg_stat_statements.so" ] || missing+=(postgresql-contrib)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

args=()
build=1
for a in "$@"; do
  if [ "$a" = --no-build ]; then build=0; else args+=("$a"); fi
done
if [ "$build" = 1 ]; then
  # every component the manifest runs (notification, recurrence, ...)
  pkgs=$(sed -n 's|^source = "target/wasm32-wasip2/release/\(.*\)\.wasm"|-p \1|p' "$root/spin.toml")
  (cd "$root" && cargo build -q --target wasm32-wasip2 --release $pkgs)
fi
exec python3 "$root/bench/bench.py" "${args[@]}"
