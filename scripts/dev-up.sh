#!/usr/bin/env bash
# Runs the app locally: `spin build --up` with the runtime config. When
# DATABASE_URL is not set it starts a throwaway PostgreSQL in .pgdata/ (on
# 127.0.0.1:54329) and migrates it; extra arguments go to `spin up`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DATABASE_URL:-}" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$bindir" ] || bindir=$(dirname "$(command -v initdb)")
  port=54329
  if [ ! -d .pgdata ]; then
    "$bindir/initdb" -D .pgdata -U postgres --auth=trust >/dev/null
  fi
  "$bindir/pg_ctl" -D .pgdata -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -l .pgdata/server.log status >/dev/null 2>&1 \
    || "$bindir/pg_ctl" -D .pgdata -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -l .pgdata/server.log -w start
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  export SPIN_VARIABLE_DATABASE_HOST="127.0.0.1:$port"
  PSQL="$bindir/psql" sh migrations/migrate.sh
else
  sh migrations/migrate.sh
fi

export SPIN_VARIABLE_DATABASE_URL="$DATABASE_URL"
exec spin build --up --runtime-config-file runtime-config.toml "$@"
