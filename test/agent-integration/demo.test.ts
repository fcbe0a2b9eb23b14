// `v6stack demo` end to end: the talk's topology on a private server and agent, one instance per mode, and what
// each instance really got (kernel addresses and routes, the RA it hears, its DHCP clients' options) equals what
// the talk shows, where today's Neutron agrees with the talk.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shAsync, skipReason } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'rdisc6']);

test('v6stack demo: each instance gets the addresses, router, RA flags, DNS and search list of the talk', { skip, timeout: 240_000 }, async () => {
  const r = await shAsync([process.execPath, 'dist/src/cli/main.js', 'demo', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const views = JSON.parse(r.stdout) as any[];
  const by = new Map(views.map((v) => [v.mode, v]));
  const slaac = by.get('slaac');
  const stateless = by.get('dhcpv6-stateless');
  const stateful = by.get('dhcpv6-stateful');
  // The talk's EUI-64 addresses (the instances carry the talk's MACs) and its stateful lease.
  assert.deepEqual(slaac.ipv6, ['2001:db8:cafe:0:f816:3eff:fe79:5acc']);
  assert.deepEqual(stateless.ipv6, ['2001:db8:cafe:2:f816:3eff:fefe:d157']);
  assert.deepEqual(stateful.ipv6, ['2001:db8:cafe:1::4']);
  for (const v of views) {
    // Exactly the API's addresses, in both families; routes via the router port's link-local and the v4 gateway.
    assert.deepEqual([...v.ipv4, ...v.ipv6].sort(), [...v.api].sort(), v.instance);
    assert.equal(v.router6, v.expect.router6, v.instance);
    assert.equal(v.router4, v.expect.router4, v.instance);
    assert.ok(v.dns.includes('2001:db8:cafe:a::e'), `${v.instance} DNS ${v.dns}`);
    assert.equal(v.search, 'openstacklocal', v.instance);
    // Through the router to the talk's DNS host in the DC.
    assert.equal(v.dnsReachable, true, `${v.instance} pings 2001:db8:cafe:a::e`);
    // And each other instance, on another network, through the router.
    assert.deepEqual(v.peersReachable, Object.fromEntries(views.filter((o) => o !== v).map((o) => [o.instance, true])), v.instance);
  }
  // The RA flags of each mode, as the talk's captures show them (stateful: Neutron today also sends the prefix,
  // on-link only, where the talk's RA had no prefix option).
  assert.equal(slaac.ra, 'Flags [none]; prefix 2001:db8:cafe::/64 [onlink, auto]');
  assert.equal(stateless.ra, 'Flags [other stateful]; prefix 2001:db8:cafe:2::/64 [onlink, auto]');
  assert.equal(stateful.ra, 'Flags [managed]; prefix 2001:db8:cafe:1::/64 [onlink]');
  // The demo removed everything it made.
  const left = await shAsync(['ip', 'netns', 'list']);
  assert.doesNotMatch(left.stdout, /lab-demo-/);
  assert.doesNotMatch(left.stdout, /v6stack-br-demo/);
});
