import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exactJson, networkIpAvailability } from '../../../src/domain/ip-availability.js';

describe('network IP availability', () => {
  it('sums pools exactly past 2^53 and counts allocations per subnet', () => {
    const a = networkIpAvailability(
      { id: 'n', name: 'net', project_id: 'p' },
      [
        { id: 's6', name: 'v6', cidr: '2001:db8::/48', ip_version: 6, network_id: 'n', allocation_pools: [{ start: '2001:db8::2', end: '2001:db8:0:ffff:ffff:ffff:ffff:ffff' }] },
        { id: 's4', name: 'v4', cidr: '192.0.2.0/24', ip_version: 4, network_id: 'n', allocation_pools: [{ start: '192.0.2.2', end: '192.0.2.254' }] },
        { id: 'pd', name: 'nopool', cidr: '2001:db8:1::/64', ip_version: 6, network_id: 'n', allocation_pools: [] },
      ],
      new Map([['s6', 3], ['s4', 1]]),
    );
    assert.equal(a.subnet_ip_availability[0]!.total_ips, 2n ** 80n - 2n);
    assert.equal(a.subnet_ip_availability[1]!.total_ips, 253n);
    assert.equal(a.subnet_ip_availability[2]!.total_ips, 0n);
    assert.equal(a.total_ips, 2n ** 80n - 2n + 253n);
    assert.equal(a.used_ips, 4n);
    assert.equal(a.subnet_ip_availability[2]!.used_ips, 0n);
  });

  it('writes BigInts as exact JSON integers and everything else as JSON.stringify does', () => {
    const v = { big: 2n ** 64n - 2n, s: 'a"\u0000', n: 1.5, b: false, z: null, u: undefined, l: [1n, 'x', null, undefined] };
    assert.equal(exactJson(v), '{"big":18446744073709551614,"s":"a\\"\\u0000","n":1.5,"b":false,"z":null,"l":[1,"x",null,null]}');
    assert.deepEqual(JSON.parse(exactJson({ a: [{ b: 'c' }] })), { a: [{ b: 'c' }] });
  });
});
