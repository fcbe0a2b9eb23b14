#!/usr/bin/env bash
# OpenStack's own API tests (Tempest 33 and neutron-tempest-plugin 2.0, Debian's packages) against a v6stack this
# script starts from the repository's build, with Debian's Keystone (SQLite, fernet tokens, uwsgi) serving Tempest's
# own identity needs (dynamic credentials). v6stack itself stays noauth (it ignores the tokens, as the review did)
# unless --auth keystone: then it validates them with that Keystone, so Tempest's projects are real.
#
#   bash scripts/tempest.sh [--ipv6] [--network] [--plugin] [--regex RE] [--check] [--concurrency N] [--auth keystone]
#
#   --ipv6     the IPv6 classes: tempest's test_dhcp_ipv6, NetworksIpV6Test(Attrs), PortsIpV6TestJSON,
#              RoutersIpV6Test, test_subnetpools_extensions, and the plugin's subnet-pool and address-scope classes
#   --network  the whole tempest.api.network
#   --plugin   neutron_tempest_plugin.api tests matching ipv6|IPv6|subnetpool|address_scope
#   --auth     noauth (default) or keystone: v6stack runs with --auth-strategy keystone against the same Keystone,
#              with a service user `v6stack` made in it (its password in STATE/keystone/v6stack-password)
#   --dhcp-agent  also run a real v6stack agent (host tempest-dhcp, role network, namespaces suffixed @tempest-dhcp)
#              so that Tempest finds a live "DHCP agent" (the dhcp_agent_scheduler classes need one, the plugin's
#              test_dhcp_port_status_active a DHCP port it plugs); on by default when the selection names
#              dhcp_agent_scheduler or agent_management, or holds tempest.api.network (--network: its admin
#              DHCPAgentSchedulersTestJSON runs there). --no-dhcp-agent: never. Its namespaces are removed on exit.
#   --check    compare failures with test/tempest/expected-failures.txt: exit 1 on a NEW failure, report fixed ones
#              (without --check the exit status is 0 whatever the tests did, once the harness itself worked)
# Several selections run together in one Tempest run. Default: --ipv6.
#
# Needs root on Debian (it installs keystone, tempest, neutron-tempest-plugin, uwsgi with apt-get when missing) and
# `npm run build` done. Everything it starts (uwsgi's Keystone, v6stack) is stopped on exit, whatever happens.
# Environment: V6STACK_TEMPEST_KEYSTONE_PORT (default 15357), V6STACK_TEMPEST_PORT (v6stack, default 19696),
# V6STACK_TEMPEST_STATE (Keystone's database and keys, kept between runs; default /var/lib/v6stack-tempest),
# V6STACK_TEMPEST_OUT (the workspace: tempest.conf, logs, results.tsv; default a new temporary directory, kept).
# Tempest's subnet client sleeps 10 s in every subnet delete (Debian's package): wall time says nothing of v6stack.
# The whole script is one function, called on the last line: bash reads a script as it runs, so editing it during a
# 40-minute run would otherwise make bash execute the new text from the old offset.
main() {
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
# Debian's python3 (tempest, subunit and keystone live there), not whatever python3 comes first on PATH.
PY=/usr/bin/python3
export DEBIAN_FRONTEND=noninteractive

KS_PORT=${V6STACK_TEMPEST_KEYSTONE_PORT:-15357}
NET_PORT=${V6STACK_TEMPEST_PORT:-19696}
STATE=${V6STACK_TEMPEST_STATE:-/var/lib/v6stack-tempest}
EXPECTED=$REPO/test/tempest/expected-failures.txt
CONCURRENCY=2
CHECK=0
AUTH=noauth
DHCP_AGENT=auto
regexes=()

RE_IPV6='^(tempest\.api\.network\.(test_dhcp_ipv6\.|test_networks\.NetworksIpV6Test|test_ports\.PortsIpV6TestJSON\.|test_routers\.RoutersIpV6Test\.|test_subnetpools_extensions\.)|neutron_tempest_plugin\.api\.(test_subnetpools\.|test_subnetpool_prefix_ops\.|test_address_scopes\.|admin\.test_address_scopes_negative\.|test_address_scopes_negative\.))'
RE_NETWORK='^tempest\.api\.network\.'
RE_PLUGIN='^neutron_tempest_plugin\.api\..*(ipv6|IPv6|subnetpool|address_scope)'

while [ $# -gt 0 ]; do
  case "$1" in
    --ipv6) regexes+=("$RE_IPV6") ;;
    --network) regexes+=("$RE_NETWORK") ;;
    --plugin) regexes+=("$RE_PLUGIN") ;;
    --regex) regexes+=("$2"); shift ;;
    --check) CHECK=1 ;;
    --dhcp-agent) DHCP_AGENT=1 ;;
    --no-dhcp-agent) DHCP_AGENT=0 ;;
    --concurrency) CONCURRENCY=$2; shift ;;
    --auth) AUTH=$2; shift; [ "$AUTH" = noauth ] || [ "$AUTH" = keystone ] || { echo "tempest.sh: --auth noauth|keystone, not $AUTH" >&2; exit 2; } ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "tempest.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#regexes[@]} -gt 0 ] || regexes=("$RE_IPV6")
REGEX=$(IFS='|'; echo "${regexes[*]}")
[ ${#regexes[@]} -eq 1 ] || REGEX="(${REGEX})"
if [ "$DHCP_AGENT" = auto ]; then
  case "$REGEX" in *dhcp_agent_scheduler*|*agent_management*|*'tempest\.api\.network\.'*) DHCP_AGENT=1 ;; *) DHCP_AGENT=0 ;; esac
fi
# The agent's names: its host (the bridge namespace v6stack-br-HOST) and the suffix of its qdhcp-/qrouter- namespaces.
AGENT_HOST=tempest-dhcp
AGENT_SUFFIX=@$AGENT_HOST

log() { echo "tempest.sh: $*"; }
die() { echo "tempest.sh: ERROR $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs Debian packages and runs Keystone as the keystone user)"
[ -f dist/src/cli/main.js ] || die "dist/src/cli/main.js missing: run npm run build first"
for port in "$KS_PORT" "$NET_PORT"; do
  [ "$port" != 9696 ] || die "port 9696 is reserved for the real server; choose another"
  if ss -Htln "sport = :$port" | grep -q .; then die "port $port is already in use (set V6STACK_TEMPEST_KEYSTONE_PORT / V6STACK_TEMPEST_PORT)"; fi
done

# --- packages (idempotent) ---------------------------------------------------------------------------------------
need=()
for p in keystone tempest neutron-tempest-plugin uwsgi uwsgi-plugin-python3 python3-subunit curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq || die "apt-get update failed (no network?): Tempest cannot run"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed"
fi

OUT=${V6STACK_TEMPEST_OUT:-$(mktemp -d /tmp/v6stack-tempest.XXXXXX)}
mkdir -p "$OUT"
KS_DIR=$STATE/keystone
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [ ${#pids[@]} -eq 0 ] || log "stopped Keystone and v6stack; workspace kept in $OUT"
  if [ "$DHCP_AGENT" = 1 ]; then
    # The agent stops its daemons on SIGTERM and leaves its namespaces: they are all named after it, and go here.
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^(q(dhcp|router)-.*${AGENT_SUFFIX}|v6stack-br-${AGENT_HOST})\$" || true); do
      ip netns del "$ns" 2>/dev/null || true
    done
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Keystone: own config dir, SQLite, fernet keys; bootstrapped once, kept between runs (scripts/keystone.sh) -----
bash "$REPO/scripts/keystone.sh" setup --dir "$KS_DIR" --port "$KS_PORT" --log "$OUT" || die "Keystone setup failed (log: $OUT/keystone-manage.log)"
ADMIN_PASSWORD=$(cat "$KS_DIR/admin-password")
KS_URL=http://127.0.0.1:$KS_PORT/v3
# serve execs uwsgi: this pid is uwsgi's master, which SIGTERM stops (die-on-term).
bash "$REPO/scripts/keystone.sh" serve --dir "$KS_DIR" --port "$KS_PORT" --log "$OUT" >"$OUT/keystone-uwsgi.log" 2>&1 &
pids+=($!)
log "Keystone (uwsgi pid ${pids[-1]}) at $KS_URL"

# --- v6stack from this repository, API only, on a throwaway store ------------------------------------------------
wait_for() { # URL what pid log
  for _ in $(seq 1 240); do
    curl -sf -o /dev/null "$1" && return 0
    kill -0 "$3" 2>/dev/null || { tail -n 20 "$4" >&2; die "$2 exited before answering at $1 (log: $4)"; }
    sleep 0.5
  done
  tail -n 20 "$4" >&2
  die "$2 did not answer at $1 within 120 s (log: $4)"
}
# Quotas as the Neutron peer's neutron.conf sets them (unlimited): noauth folds every Tempest project into one,
# whose creates would otherwise meet Zed's defaults. rbac_policy stays finite (test_rbac_policy_quota creates one
# past it) but above the 10 that the RBAC classes' entries, all in that one project, outgrow.
QUOTAS=(--quota-rbac-policy 100)
for r in network subnet port router floatingip security-group security-group-rule; do QUOTAS+=(--quota-$r -1); done
auth_opts=()
if [ "$AUTH" = keystone ] && [ "$DHCP_AGENT" = 1 ]; then
  # The agent presents the server's agent secret (the server reads it from the environment too).
  export V6STACK_AGENT_SECRET; V6STACK_AGENT_SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
fi
if [ "$AUTH" = keystone ]; then
  [ -f "$KS_DIR/v6stack-password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$KS_DIR/v6stack-password")
  wait_for "$KS_URL" Keystone "${pids[0]}" "$OUT/keystone-uwsgi.log"
  bash "$REPO/scripts/keystone.sh" service-user --dir "$KS_DIR" --port "$KS_PORT" v6stack "$(cat "$KS_DIR/v6stack-password")"
  auth_opts=(--auth-strategy keystone --auth-url "$KS_URL" --keystone-username v6stack --keystone-project-name service)
  export V6STACK_KEYSTONE_PASSWORD; V6STACK_KEYSTONE_PASSWORD=$(cat "$KS_DIR/v6stack-password")
fi
node dist/src/cli/main.js server --host ::1 --port "$NET_PORT" --db "sqlite:$OUT/v6stack.db" --log-requests "${QUOTAS[@]}" "${auth_opts[@]}" \
  >"$OUT/v6stack.log" 2>&1 &
pids+=($!)
NET_URL="http://[::1]:$NET_PORT"
log "v6stack (pid ${pids[-1]}) at $NET_URL"

wait_for "$KS_URL" Keystone "${pids[0]}" "$OUT/keystone-uwsgi.log"
# Version discovery answers without a token under either strategy; /v2.0/extensions needs one under keystone.
[ "$AUTH" = keystone ] && READY=$NET_URL/ || READY=$NET_URL/v2.0/extensions
wait_for "$READY" v6stack "${pids[1]}" "$OUT/v6stack.log"
$PY "$REPO/test/tempest/tempest_helper.py" catalog "$KS_URL" "$ADMIN_PASSWORD" RegionOne "$NET_URL"

# --- the external network Tempest's router tests use (IPv4 and IPv6 subnets) --------------------------------------
auth_header=()
if [ "$AUTH" = keystone ]; then
  # The admin's token: the public network belongs to the admin project, as in a real cloud.
  ADMIN_TOKEN=$(curl -sf -D - -o /dev/null -H 'Content-Type: application/json' "$KS_URL/auth/tokens" -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"name\":\"Default\"},\"password\":\"$ADMIN_PASSWORD\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"name\":\"Default\"}}}}}" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
  [ -n "$ADMIN_TOKEN" ] || die "no admin token from $KS_URL"
  auth_header=(-H "X-Auth-Token: $ADMIN_TOKEN")
fi
api() { curl -sf -X "$1" -H 'Content-Type: application/json' "${auth_header[@]}" "$NET_URL$2" ${3:+-d "$3"}; }
jq_py() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
PUBLIC_ID=$(api POST /v2.0/networks '{"network":{"name":"public","router:external":true}}' | jq_py "d['network']['id']")
api POST /v2.0/subnets "{\"subnet\":{\"network_id\":\"$PUBLIC_ID\",\"name\":\"public-v4\",\"ip_version\":4,\"cidr\":\"192.0.2.0/24\"}}" >/dev/null
api POST /v2.0/subnets "{\"subnet\":{\"network_id\":\"$PUBLIC_ID\",\"name\":\"public-v6\",\"ip_version\":6,\"cidr\":\"2001:db8:ffff::/64\"}}" >/dev/null
EXTENSIONS=$(api GET /v2.0/extensions | jq_py "','.join(sorted(e['alias'] for e in d['extensions']))")

# --- a real agent, when asked: its heartbeat is what makes the "DHCP agent" row (never a row written by hand) ------
if [ "$DHCP_AGENT" = 1 ]; then
  node dist/src/cli/main.js agent --server "$NET_URL" --host "$AGENT_HOST" --role network --namespace-suffix "$AGENT_SUFFIX" \
    --state-dir "$OUT/agent" --report-interval 5 >"$OUT/agent.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    [ "$(api GET "/v2.0/agents?agent_type=DHCP%20agent&host=$AGENT_HOST" | jq_py "len(d['agents'])")" = 1 ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { tail -n 20 "$OUT/agent.log" >&2; die "the v6stack agent exited (log: $OUT/agent.log)"; }
    sleep 0.5
  done
  [ "$(api GET "/v2.0/agents?agent_type=DHCP%20agent&host=$AGENT_HOST" | jq_py "len(d['agents'])")" = 1 ] || die "no DHCP agent reported within 60 s (log: $OUT/agent.log)"
  log "v6stack agent (pid ${pids[-1]}) for host $AGENT_HOST: a live DHCP agent"
fi

# --- tempest workspace and configuration -------------------------------------------------------------------------
# Written by hand rather than `tempest init`, which registers every workspace by name in ~/.tempest and refuses a
# second one called the same.
WS=$OUT/ws
mkdir -p "$WS/etc" "$WS/locks"
cat > "$WS/.stestr.conf" <<'EOF'
[DEFAULT]
test_path=/usr/lib/python3/dist-packages/tempest/test_discover
top_dir=/usr/lib/python3/dist-packages/tempest
group_regex=([^\.]*\.)*
EOF
export TEMPEST_CONFIG_DIR=$WS/etc TEMPEST_CONFIG=tempest.conf
cat > "$WS/etc/tempest.conf" <<EOF
[DEFAULT]
log_dir = $WS
log_file = tempest.log
[oslo_concurrency]
lock_path = $WS/locks
[auth]
admin_username = admin
admin_password = $ADMIN_PASSWORD
admin_project_name = admin
admin_domain_name = Default
use_dynamic_credentials = true
create_isolated_networks = false
[identity]
uri_v3 = $KS_URL
auth_version = v3
region = RegionOne
[identity-feature-enabled]
api_v2 = false
api_v3 = true
[service_available]
neutron = true
nova = false
glance = false
cinder = false
swift = false
horizon = false
[validation]
run_validation = false
[network]
project_network_cidr = 10.100.0.0/16
project_network_mask_bits = 28
project_network_v6_cidr = 2001:db8::/48
project_network_v6_mask_bits = 64
public_network_id = $PUBLIC_ID
floating_network_name = public
[network-feature-enabled]
ipv6 = true
ipv6_subnet_attributes = true
api_extensions = $EXTENSIONS
EOF
log "extensions advertised: $EXTENSIONS"
log "running tempest --concurrency $CONCURRENCY --regex '$REGEX'"

start=$(date +%s)
set +e
(cd "$WS" && tempest run --concurrency "$CONCURRENCY" --regex "$REGEX") >"$OUT/tempest-run.log" 2>&1
run_rc=$?
set -e
log "tempest run exited $run_rc after $(( $(date +%s) - start )) s (log: $OUT/tempest-run.log)"
(cd "$WS" && stestr last --subunit) >"$OUT/results.subunit" 2>/dev/null || die "no Tempest results (see $OUT/tempest-run.log)"
$PY "$REPO/test/tempest/tempest_helper.py" summarize "$OUT/results.subunit" >"$OUT/results.tsv"
[ -s "$OUT/results.tsv" ] || { tail -n 40 "$OUT/tempest-run.log"; die "Tempest ran no test (see $OUT/tempest-run.log)"; }
log "results: $OUT/results.tsv (status, test id, reason)"
set +e
$PY "$REPO/test/tempest/tempest_helper.py" compare "$OUT/results.tsv" "$EXPECTED"
cmp_rc=$?
set -e
if [ "$CHECK" = 1 ]; then exit $cmp_rc; fi
exit 0
}
main "$@"
