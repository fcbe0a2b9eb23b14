#!/usr/bin/env bash
# Debian's Keystone (22, Zed) for tests and for scripts/tempest.sh: one procedure, used by both
# (test/helpers/keystone.ts runs it for the integration tests). SQLite, fernet tokens, served by uwsgi.
#
#   bash scripts/keystone.sh setup --dir DIR --port PORT [--log DIR]
#       keystone.conf in DIR, the database and keys made once (db_sync, WAL, fernet_setup, credential_setup), then
#       `keystone-manage bootstrap` (idempotent: it points the identity endpoints at this PORT). The admin user's
#       password is DIR/admin-password (made once). Bootstrap creates the roles admin, member and reader.
#   bash scripts/keystone.sh serve --dir DIR --port PORT [--log DIR]
#       becomes (exec) uwsgi's master serving http://127.0.0.1:PORT/v3 in the foreground; SIGTERM stops it
#       (die-on-term). Run it in the background and keep its pid.
#   bash scripts/keystone.sh service-user --port PORT --dir DIR NAME PASSWORD
#       a service user for a Neutron-like server (Neutron's install guide: user NAME in project `service`, role admin),
#       made or updated (its password reset) through Keystone's API; Keystone must be serving.
#
# Needs root (uwsgi and keystone-manage run as the keystone user), the Debian packages keystone, uwsgi and
# uwsgi-plugin-python3. keystone-manage's output goes to
# LOG/keystone-manage.log (default DIR), shown only on failure.
# Measured on these machines: one uwsgi process with one thread, or SQLite answers "database is locked" (HTTP 500).
set -euo pipefail

die() { echo "keystone.sh: ERROR $*" >&2; exit 1; }

cmd=${1:-}
[ $# -gt 0 ] && shift
KS_DIR='' PORT='' LOG=''
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) KS_DIR=$2; shift ;;
    --port) PORT=$2; shift ;;
    --log) LOG=$2; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
[ -n "$KS_DIR" ] || die "--dir is required"
[ -n "$PORT" ] || die "--port is required"
[ "$PORT" != 9696 ] || die "port 9696 is reserved for the real server"
LOG=${LOG:-$KS_DIR}
KS_URL=http://127.0.0.1:$PORT/v3

ks_manage() {
  su -s /bin/sh keystone -c "keystone-manage --config-file $KS_DIR/keystone.conf $*" >>"$LOG/keystone-manage.log" 2>&1 \
    || { tail -n 30 "$LOG/keystone-manage.log" >&2; die "keystone-manage $1 failed"; }
}

setup() {
  [ "$(id -u)" = 0 ] || die "run as root (keystone-manage and uwsgi run as the keystone user)"
  command -v keystone-manage >/dev/null || die "keystone-manage missing: apt-get install keystone"
  mkdir -p "$KS_DIR/fernet-keys" "$KS_DIR/credential-keys" "$KS_DIR/log" "$LOG"
  if [ ! -f "$KS_DIR/admin-password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$KS_DIR/admin-password")
  fi
  cat > "$KS_DIR/keystone.conf" <<EOF
[DEFAULT]
log_dir = $KS_DIR/log
log_file = keystone.log
[database]
connection = sqlite:///$KS_DIR/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = $KS_DIR/fernet-keys
[credential]
key_repository = $KS_DIR/credential-keys
EOF
  chown -R keystone:keystone "$KS_DIR"
  chmod 700 "$KS_DIR/fernet-keys" "$KS_DIR/credential-keys"
  if [ ! -f "$KS_DIR/bootstrapped" ]; then
    ks_manage db_sync
    # One uwsgi worker and WAL: SQLite otherwise answers "database is locked" under Tempest's parallel clients.
    su -s /bin/sh keystone -c "/usr/bin/python3 -c \"import sqlite3; sqlite3.connect('$KS_DIR/keystone.db').execute('PRAGMA journal_mode=WAL')\""
    ks_manage fernet_setup --keystone-user keystone --keystone-group keystone
    ks_manage credential_setup --keystone-user keystone --keystone-group keystone
    touch "$KS_DIR/bootstrapped"
  fi
  # Re-run each time: idempotent, and it points the identity endpoints at this run's port.
  ks_manage bootstrap --bootstrap-password "$(cat "$KS_DIR/admin-password")" --bootstrap-admin-url "$KS_URL/" \
    --bootstrap-internal-url "$KS_URL/" --bootstrap-public-url "$KS_URL/" --bootstrap-region-id RegionOne
}

serve() {
  [ -f "$KS_DIR/bootstrapped" ] || die "$KS_DIR is not set up: run keystone.sh setup first"
  command -v uwsgi >/dev/null || die "uwsgi missing: apt-get install uwsgi uwsgi-plugin-python3"
  cat > "$LOG/keystone-uwsgi.ini" <<EOF
[uwsgi]
http-socket = 127.0.0.1:$PORT
plugins = python3
wsgi-file = /usr/bin/keystone-wsgi-public
uid = keystone
gid = keystone
chdir = $KS_DIR
env = OS_KEYSTONE_CONFIG_DIR=$KS_DIR
processes = 1
threads = 1
master = true
lazy-apps = true
buffer-size = 65535
die-on-term = true
; uwsgi's http-socket closes the connection after each answer without saying so: clients that keep connections
; alive (python-requests, Node's fetch) then send their next request into a closed socket ("Connection reset by
; peer", "Remote end closed connection"). Saying it makes them open a new connection each time.
add-header = Connection: close
EOF
  exec uwsgi --ini "$LOG/keystone-uwsgi.ini"
}

service_user() {
  [ ${#args[@]} -eq 2 ] || die "service-user NAME PASSWORD"
  # Keystone's REST API from Python's standard library: one process, where four `openstack` calls took minutes on a
  # loaded machine. The password travels in the environment, not in argv.
  KS_URL=$KS_URL KS_ADMIN_PASSWORD=$(cat "$KS_DIR/admin-password") SVC_NAME=${args[0]} SVC_PASSWORD=${args[1]} \
    /usr/bin/python3 - <<'PY' || die "could not make the service user ${args[0]}"
import json, os, time, urllib.error, urllib.request
url = os.environ['KS_URL']
def call(method, path, body=None, token=None, ok=(200, 201, 204)):
    for attempt in range(5):
        req = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else None, method=method)
        req.add_header('Content-Type', 'application/json')
        if token:
            req.add_header('X-Auth-Token', token)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                return r.status, r.headers, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            if e.code in ok or e.code == 409:
                return e.code, e.headers, None
            raise
        except (ConnectionError, urllib.error.URLError):
            time.sleep(1)
    raise SystemExit(f'{method} {path}: Keystone did not answer')
def dom(name):
    return {'name': name}
_, h, _ = call('POST', '/auth/tokens', {'auth': {'identity': {'methods': ['password'], 'password': {'user': {'name': 'admin', 'domain': dom('Default'), 'password': os.environ['KS_ADMIN_PASSWORD']}}}, 'scope': {'project': {'name': 'admin', 'domain': dom('Default')}}}})
tok = h['X-Subject-Token']
def find(coll, key, name):
    _, _, d = call('GET', f'/{coll}?name={name}', token=tok)
    return d[key][0]['id'] if d[key] else None
project = find('projects', 'projects', 'service') or call('POST', '/projects', {'project': {'name': 'service', 'domain_id': 'default'}}, tok)[2]['project']['id']
name, password = os.environ['SVC_NAME'], os.environ['SVC_PASSWORD']
user = find('users', 'users', name)
if user:
    call('PATCH', f'/users/{user}', {'user': {'password': password}}, tok)
else:
    user = call('POST', '/users', {'user': {'name': name, 'password': password, 'domain_id': 'default'}}, tok)[2]['user']['id']
role = find('roles', 'roles', 'admin')
call('PUT', f'/projects/{project}/users/{user}/roles/{role}', token=tok)
PY
}

case "$cmd" in
  setup) setup ;;
  serve) serve ;;
  service-user) service_user ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
