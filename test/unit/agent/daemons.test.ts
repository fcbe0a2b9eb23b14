// The supervisor's pure helpers for dnsmasq leases: which addresses a hosts-file change releases, and the lease
// file without them (the stand-in for Neutron's dhcp_release6, see docs/dataplane.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAddresses, pruneLeases, removedHostAddresses } from '../../../src/agent/daemons.js';

const A = 'fa:16:3e:22:38:6b,tag:dhcpv6,host-2001-db8-cafe-1--4.openstacklocal,[2001:db8:cafe:1::4]';
const B = 'fa:16:3e:00:00:12,tag:dhcpv6,host-2001-db8-cafe-1--2.openstacklocal,[2001:db8:cafe:1::2]';
const A2 = 'fa:16:3e:99:99:99,tag:dhcpv6,host-2001-db8-cafe-1--4.openstacklocal,[2001:db8:cafe:1::4]';

test('hostAddresses: the bracketed address of each line', () => {
  assert.deepEqual([...hostAddresses(`${A}\n${B}\n`)], ['2001:db8:cafe:1::4', '2001:db8:cafe:1::2']);
  assert.deepEqual([...hostAddresses('')], []);
});

test('removedHostAddresses: a deleted port and a changed MAC release the address; an added port releases nothing', () => {
  assert.deepEqual(removedHostAddresses(`${B}\n`, `${B}\n${A}\n`), []);
  assert.deepEqual(removedHostAddresses(`${B}\n${A}\n`, `${B}\n`), ['2001:db8:cafe:1::4']);
  assert.deepEqual(removedHostAddresses(`${B}\n${A}\n`, `${B}\n${A2}\n`), ['2001:db8:cafe:1::4']);
  assert.deepEqual(removedHostAddresses('', `${A}\n`), []);
});

test('pruneLeases: drops the DHCPv6 lease lines of the given addresses, keeps the server duid line and the rest', () => {
  const text = [
    'duid 00:01:00:01:32:98:be:f7:fa:16:3e:11:6c:53',
    '1764110000 1042430059 2001:db8:cafe:1::4 host-2001-db8-cafe-1--4 00:01:00:01:32:98:be:f7:fa:16:3e:22:38:6b',
    '1764110001 12345 2001:db8:cafe:1::5 * 00:01:00:01:32:98:be:f7:fa:16:3e:22:38:6c',
    '',
  ].join('\n');
  const r = pruneLeases(text, (a) => a === '2001:db8:cafe:1::4');
  assert.deepEqual(r.dropped, ['2001:db8:cafe:1::4']);
  assert.equal(r.kept, 'duid 00:01:00:01:32:98:be:f7:fa:16:3e:11:6c:53\n1764110001 12345 2001:db8:cafe:1::5 * 00:01:00:01:32:98:be:f7:fa:16:3e:22:38:6c\n');
  assert.deepEqual(pruneLeases(text, () => false).dropped, []);
  assert.equal(pruneLeases('', () => true).kept, '');
});
