#!/usr/bin/env bash
# Creates the PostgreSQL role and database the benchmark runs v6stack against (idempotent; needs root or the
# postgres user). Touches nothing else: in particular not the Neutron peer's database `neutron`.
#   role v6bench (password v6bench, login only), database v6stack_bench owned by it.
set -euo pipefail
ROLE=${V6BENCH_PG_ROLE:-v6bench}
PASS=${V6BENCH_PG_PASSWORD:-v6bench}
DB=${V6BENCH_PG_DB:-v6stack_bench}
psql_as_postgres() {
  if [ "$(id -un)" = postgres ]; then psql -v ON_ERROR_STOP=1 -qtA "$@"; else su postgres -c "psql -v ON_ERROR_STOP=1 -qtA $(printf '%q ' "$@")"; fi
}
if [ "$(psql_as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  psql_as_postgres -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASS'"
fi
if [ "$(psql_as_postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  psql_as_postgres -c "CREATE DATABASE $DB OWNER $ROLE"
fi
echo "postgres://$ROLE:$PASS@127.0.0.1:5432/$DB"
