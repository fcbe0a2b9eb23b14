// The DC's delegating server configurations (lab facts §3), pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPdOptions, dibblerPdConf, keaPdConf } from '../../../src/lab/dc-pd.js';

const c = { server: 'kea' as const, pool: '2001:db8:face::/48', length: 64, iface: 'eth0', linkSubnet: '2001:db8:cafe:d::/64', dir: '/s/dc' };

test('Kea delegates /64s from the pool on the external subnet, leases in the DC directory', () => {
  const k = JSON.parse(keaPdConf(c)).Dhcp6;
  assert.deepEqual(k['interfaces-config'].interfaces, ['eth0']);
  assert.equal(k['lease-database'].name, '/s/dc/leases6.csv');
  assert.deepEqual(k.subnet6[0]['pd-pools'], [{ prefix: '2001:db8:face::', 'prefix-len': 48, 'delegated-len': 64 }]);
  assert.equal(k.subnet6[0].subnet, '2001:db8:cafe:d::/64');
});

test('dibbler-server: a pd-class with the pool and length', () => {
  assert.match(dibblerPdConf({ ...c, server: 'dibbler' }), /iface "eth0" \{[\s\S]*pd-pool 2001:db8:face::\/48\n\s*pd-length 64/);
});

test('options are checked', () => {
  assert.throws(() => checkPdOptions({ server: 'kea', pool: '2001:db8:face::1/48', length: 64 }), /--pd-pool/);
  assert.throws(() => checkPdOptions({ server: 'kea', pool: '2001:db8:face::/48', length: 40 }), /--pd-length/);
  assert.throws(() => checkPdOptions({ server: 'isc' as 'kea', pool: '2001:db8:face::/48', length: 64 }), /--pd-server/);
  checkPdOptions({ server: 'dibbler', pool: '2001:db8:face::/48', length: 56 });
});
