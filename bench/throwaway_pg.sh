# Sourced by the SQL benchmarks (scheduler_tick.sh, metrics_scrape.sh):
# starts a throwaway PostgreSQL (PG_BIN, default /usr/lib/postgresql/15/bin;
# as the `postgres` user when run as root) on a Unix socket in a temporary
# folder, migrates it with migrations/migrate.sh, and removes it on exit.
# Defines `url`, `port`, `pg_bin` and `psql`; reads `root` and the folder
# prefix `$1`, and PG_LISTEN (default empty: the Unix socket only; a
# benchmark under `spin up` sets 127.0.0.1, since Spin connects over TCP).
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
port=$((20000 + RANDOM % 20000))
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses='${PG_LISTEN:-}' -c shared_buffers=256MB -c fsync=off -c synchronous_commit=off" start >/dev/null
url="postgresql://postgres@/postgres?host=$dir&port=$port"
psql() { "$pg_bin/psql" "$url" -X -q -v ON_ERROR_STOP=1 "$@"; }
DATABASE_URL="$url" PSQL="$pg_bin/psql" sh "$root/migrations/migrate.sh" >/dev/null
