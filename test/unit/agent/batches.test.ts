// How an action's commands are grouped into `ip -n NS -batch -` runs (pure): consecutive plain `ip -n NS` commands
// of one namespace together; deletes (whose "already gone" is tolerated one by one), commands with options after
// the namespace, other programs and anything with characters ip's batch parser would treat specially, alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batches } from '../../../src/agent/linux.js';

test('batches: a plug is two groups (bridge namespace, router namespace); deletes, -6 routes, sysctl and odd words stay alone', () => {
  const br = 'v6stack-br-h1';
  const ns = 'qrouter-1';
  const plug = [
    ['ip', '-n', br, 'link', 'del', 'tapabc'],
    ['ip', '-n', br, 'link', 'add', 'tapabc', 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'qr-abc', 'netns', ns, 'address', 'fa:16:3e:00:00:01', 'mtu', '1450'],
    ['ip', '-n', br, 'link', 'set', 'tapabc', 'master', 'v6b-x', 'up'],
    ['ip', '-n', ns, 'addr', 'add', '2001:db8::/64', 'dev', 'qr-abc', 'nodad'],
    ['ip', '-n', ns, 'link', 'set', 'qr-abc', 'up'],
    ['ip', '-n', ns, '-6', 'route', 'replace', 'default', 'via', 'fe80::1', 'dev', 'qg-abc'],
    ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.qg-abc.accept_ra=2'],
    ['ip', '-n', ns, 'link', 'set', 'qr abc', 'up'],
    ['ip', '-n', ns, 'link', 'set', 'qr-abc', 'mtu', '1400'],
  ];
  assert.deepEqual(batches(plug).map((g) => g.length), [1, 2, 2, 1, 1, 1, 1]);
  assert.deepEqual(batches(plug)[1]!.map((c) => c[4]), ['add', 'set']);
  assert.deepEqual(batches(plug)[2]!.map((c) => c[2]), [ns, ns]);
  assert.deepEqual(batches([]), []);
});
