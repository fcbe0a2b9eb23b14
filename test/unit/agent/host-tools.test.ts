// The one list of programs v6stack runs on a host: the start-up check and `v6stack install-deps` read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aptInstallLine, HOST_TOOLS, missingTools, packagesOf } from '../../../src/agent/host-tools.js';

test("the agent's tools are every program it runs, each with its Debian package", () => {
  const agent = missingTools(['agent'], () => false);
  assert.deepEqual(agent.map((t) => t.program), ['ip', 'bridge', 'sysctl', 'radvd', 'dnsmasq', 'nft', 'conntrack', 'arping', 'keepalived']);
  assert.equal(aptInstallLine(agent), 'apt-get install -y iproute2 procps radvd dnsmasq-base nftables conntrack iputils-arping keepalived');
});

test('missingTools: only what is missing, for the roles asked; packages once each', () => {
  assert.deepEqual(missingTools(['agent'], () => true), []);
  const missing = missingTools(['lab', 'tour'], (p) => p !== 'dhclient' && p !== 'rdisc6');
  assert.deepEqual(missing.map((t) => t.debianPackage), ['isc-dhcp-client', 'ndisc6']);
  assert.equal(new Set(packagesOf([...HOST_TOOLS])).size, packagesOf([...HOST_TOOLS]).length);
  assert.ok(packagesOf([...HOST_TOOLS]).includes('python3-openstackclient'));
});
