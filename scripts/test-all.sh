#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine, as root: installs what the tests use (npm packages, Debian's
# PostgreSQL, the real Neutron clients, and the data plane's radvd, dnsmasq, dhclient and rdisc6), starts
# PostgreSQL, then runs every test; API suites run against both stores.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

need=()
# The real peers the tests drive: Neutron's clients, PostgreSQL, and the data plane's daemons and guest clients.
for p in python3-neutronclient python3-openstackclient python3-openstacksdk postgresql iproute2 \
         radvd dnsmasq-base isc-dhcp-client ndisc6 tcpdump tshark iputils-ping \
         curl xorriso cloud-init; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "test-all: installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi

V6STACK_TEST_PG_URL=$(bash scripts/ci-postgres.sh | tail -n 1)
export V6STACK_TEST_PG_URL
echo "test-all: PostgreSQL at ${V6STACK_TEST_PG_URL%%@*}@…"
npm test
