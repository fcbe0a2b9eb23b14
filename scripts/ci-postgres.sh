#!/usr/bin/env bash
# Brings up a PostgreSQL for v6stack's tests, as root, idempotently: installs Debian's `postgresql` when it is missing,
# starts the cluster that listens on 5432 (no systemd: pg_ctlcluster), waits until it answers, makes the role
# `v6stack` and the databases `v6stack` and `v6stack_test` when they are missing, and prints the test URL as the
# last line of stdout (progress goes to stderr). It touches nothing else: other databases on the same cluster (a
# Neutron peer's `neutron`, say) are left alone.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

ROLE=v6stack
PASSWORD=v6stack
DATABASES=(v6stack v6stack_test)
PORT=5432

log() { echo "ci-postgres: $*" >&2; }
as_postgres() { runuser -u postgres -- "$@"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "ci-postgres: must run as root" >&2
  exit 1
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
if ! installed postgresql || ! command -v pg_lsclusters >/dev/null; then
  log "installing postgresql"
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
fi

# The cluster on our port, or a new "main" cluster of the newest installed version when there is none.
cluster=$(pg_lsclusters -h | awk -v port="$PORT" '$3 == port && !found { print $1 " " $2; found = 1 }')
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
    echo "ci-postgres: cluster $version/main exists but does not use port $PORT; not touching it" >&2
    exit 1
  fi
  log "creating cluster $version/main on port $PORT"
  pg_createcluster --port "$PORT" "$version" main >&2
  cluster="$version main"
fi
read -r version name <<<"$cluster"

if ! pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n && $4 ~ /^online/ { found = 1 } END { exit !found }'; then
  log "starting cluster $version/$name"
  pg_ctlcluster "$version" "$name" start >&2
fi

for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "$PORT"; then break; fi
  sleep 1
done
if ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
  echo "ci-postgres: PostgreSQL $version/$name is not answering on 127.0.0.1:$PORT" >&2
  exit 1
fi

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"; }

if [ "$(psql_admin -Atc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  log "creating role $ROLE"
  psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
fi
for db in "${DATABASES[@]}"; do
  if [ "$(psql_admin -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    log "creating database $db"
    psql_admin -c "CREATE DATABASE $db OWNER $ROLE"
  fi
done

# Prove the URL works over TCP with the password (pg_hba's scram-sha-256 for 127.0.0.1) before handing it out.
URL="postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/v6stack_test"
if ! PGPASSWORD="$PASSWORD" psql -X -q -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d v6stack_test -Atc 'SELECT 1' >/dev/null; then
  echo "ci-postgres: cannot log in as $ROLE over TCP" >&2
  exit 1
fi
echo "$URL"
