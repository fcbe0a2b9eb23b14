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
         radvd dnsmasq-base isc-dhcp-client ndisc6 tcpdump tshark iputils-ping python3 curl \
         nftables conntrack iputils-arping keepalived bird2 gobgpd frr kea-dhcp6-server dibbler-server \
         xorriso cloud-init \
         keystone tempest neutron-tempest-plugin uwsgi uwsgi-plugin-python3 python3-subunit; do
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
# OpenStack's own network API tests (Tempest's tempest.api.network and neutron-tempest-plugin's API tests for IPv6,
# subnet pools and address scopes, with Debian's Keystone; the review's selections, ~394 tests, 17-27 min; a real DHCP agent runs beside it): fails on a failure that is
# not in test/tempest/expected-failures.txt, reports the ones fixed since. V6STACK_TEMPEST=0 skips it, and says so.
# Concurrency 4 on 2 cores: the workers mostly sleep (Debian tempest waits 10 s in every subnet delete).
# v6stack validates Tempest's tokens with that Keystone (--auth keystone), so its projects are real and the policy,
# rbac-policies and cross-project tests run as they do against Neutron with Keystone.
if [ "${V6STACK_TEMPEST:-1}" = 0 ]; then
  echo "test-all: V6STACK_TEMPEST=0: Tempest NOT run"
else
  bash scripts/tempest.sh --network --plugin --check --concurrency 4 --auth keystone
fi
