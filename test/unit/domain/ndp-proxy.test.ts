// domain/ndp-proxy.ts's API rules: which address a proxy publishes (NDPProxyPlugin._check_port) and what a router
// create or update makes of enable_ndp_proxy, with Neutron's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NeutronError } from '../../../src/domain/errors.js';
import { chooseProxyAddress, ndpStateOnCreate, ndpStateOnUpdate } from '../../../src/domain/ndp-proxy.js';

const port = { id: 'p', fixed_ips: [{ subnet_id: 'v4', ip_address: '192.0.2.7' }, { subnet_id: 'a', ip_address: '2001:db8:a::7' }, { subnet_id: 'b', ip_address: '2001:db8:b::7' }] };
const fails = (fn: () => unknown, status: number, type: string) =>
  assert.throws(fn, (e: unknown) => e instanceof NeutronError && e.status === status && e.type === type);

test('chooseProxyAddress: the first IPv6 address on a router subnet, or the requested one if it is the port\'s there', () => {
  assert.equal(chooseProxyAddress(port, 'r', [{ subnet_id: 'b', ip_address: '2001:db8:b::1' }], null), '2001:db8:b::7');
  assert.equal(chooseProxyAddress(port, 'r', [{ subnet_id: 'a', ip_address: '2001:db8:a::1' }, { subnet_id: 'b', ip_address: '2001:db8:b::1' }], '2001:db8:b:0::7'), '2001:db8:b::7');
  fails(() => chooseProxyAddress(port, 'r', [{ subnet_id: 'v4', ip_address: '192.0.2.1' }], null), 409, 'PortUnreachableRouter');
  fails(() => chooseProxyAddress(port, 'r', [{ subnet_id: 'a', ip_address: '2001:db8:a::1' }], '2001:db8:a::8'), 400, 'InvalidAddress');
  fails(() => chooseProxyAddress(port, 'r', [{ subnet_id: 'a', ip_address: '2001:db8:a::1' }], '2001:db8:b::7'), 400, 'InvalidAddress');
  fails(() => chooseProxyAddress({ id: 'p', fixed_ips: [port.fixed_ips[0]!] }, 'r', [], null), 400, 'BadRequest');
});

test('ndpStateOnCreate: true needs a supporting gateway; unspecified follows enable_ndp_proxy_by_default', () => {
  const base = { routerId: 'r', hasGateway: true, gatewaySupports: true, byDefault: false, networkId: 'n' };
  assert.equal(ndpStateOnCreate({ ...base, requested: undefined }), false);
  assert.equal(ndpStateOnCreate({ ...base, requested: undefined, byDefault: true }), true);
  assert.equal(ndpStateOnCreate({ ...base, requested: undefined, byDefault: true, gatewaySupports: false }), false);
  assert.equal(ndpStateOnCreate({ ...base, requested: true }), true);
  assert.equal(ndpStateOnCreate({ ...base, requested: false, byDefault: true }), false);
  fails(() => ndpStateOnCreate({ ...base, requested: true, gatewaySupports: false }), 409, 'RouterGatewayNotValid');
  fails(() => ndpStateOnCreate({ ...base, requested: true, hasGateway: false }), 409, 'RouterGatewayNotValid');
});

test('ndpStateOnUpdate: true needs a supporting gateway; a silent update keeps the value while the gateway allows it', () => {
  const base = { routerId: 'r', hasGateway: true, gatewaySupports: true, byDefault: false, current: true, gatewayChanged: false };
  assert.equal(ndpStateOnUpdate({ ...base, requested: undefined }), true);
  assert.equal(ndpStateOnUpdate({ ...base, requested: undefined, current: false }), false);
  assert.equal(ndpStateOnUpdate({ ...base, requested: undefined, gatewaySupports: false }), false);
  assert.equal(ndpStateOnUpdate({ ...base, requested: undefined, current: false, gatewayChanged: true, byDefault: true }), true);
  assert.equal(ndpStateOnUpdate({ ...base, requested: false }), false);
  fails(() => ndpStateOnUpdate({ ...base, requested: true, gatewaySupports: false }), 409, 'RouterGatewayNotValid');
});
