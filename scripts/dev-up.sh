#!/usr/bin/env bash
# Runs the app locally: `spin build --up` with the runtime config. When
# DATABASE_URL is not set it starts a PostgreSQL of its own in .pgdata/ (on
# 127.0.0.1:54329, kept between runs) and migrates it; extra arguments go
# to `spin up` (e.g. --listen 127.0.0.1:3000).
set -euo pipefail
cd "$(dirname "$0")/.."

as_pg_owner() {
  # initdb refuses to run as root; run the server as the postgres user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -z "${DATABASE_URL:-}" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$bindir" ] || bindir=$(dirname "$(command -v initdb)")
  port=${DEV_PG_PORT:-54329}
  data="$PWD/.pgdata"
  if [ ! -d "$data" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres: "$data"
    as_pg_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust >/dev/null
  fi
  opts="-p $port -k /tmp -c listen_addresses=127.0.0.1"
  as_pg_owner "$bindir/pg_ctl" -D "$data" -o "$opts" status >/dev/null 2>&1 \
    || as_pg_owner "$bindir/pg_ctl" -D "$data" -o "$opts" -l "$data/server.log" -w start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  export SPIN_VARIABLE_DATABASE_HOST="127.0.0.1:$port"
  echo "local PostgreSQL: $DATABASE_URL (stop: pg_ctl -D .pgdata stop)"
  PSQL="$bindir/psql" sh migrations/migrate.sh
else
  sh migrations/migrate.sh
fi

export SPIN_VARIABLE_DATABASE_URL="$DATABASE_URL"
exec spin build --up --runtime-config-file runtime-config.toml "$@"
