#!/bin/sh
# Applies migrations/NNNN_*.sql in order, each exactly once, even when several
# replicas or Jobs run this at the same time: every file runs in one
# transaction that first takes an advisory lock, then skips the
# file if schema_migrations already records it. (The lock is per database,
# like schema_migrations.)
#
# Usage: DATABASE_URL=postgres://user:pass@host:5432/db sh migrations/migrate.sh
# POSIX sh + psql only, so it runs in the stock postgres image (k8s Job).
set -eu
: "${DATABASE_URL:?set DATABASE_URL to a libpq URL or key=value string}"
dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
PSQL=${PSQL:-psql}

for file in "$dir"/[0-9][0-9][0-9][0-9]_*.sql; do
  [ -e "$file" ] || continue
  version=$(basename "$file" .sql)
  "$PSQL" "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -v version="$version" <<SQL
SET client_min_messages = warning;
BEGIN;
SELECT pg_advisory_xact_lock(7253911417790466) AS locked \gset
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
SELECT NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = :'version') AS pending \gset
\if :pending
\i $file
INSERT INTO schema_migrations (version) VALUES (:'version');
\echo applied :version
\endif
COMMIT;
SQL
done
