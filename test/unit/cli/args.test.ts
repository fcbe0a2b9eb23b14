// key=value option parsing with osc-lib's rules and messages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { collect, integer, isCleared, keyValueList, parseKeyValues, parsePortRange, toRoutes, valuesOf } from '../../../src/cli/args.js';
import { queryString, resolveEndpoint } from '../../../src/cli/http.js';

describe('parseKeyValues', () => {
  it('parses an allocation pool with IPv6 addresses (colons stay in values)', () => {
    assert.deepEqual(parseKeyValues('start=2001:db8:cafe:d::5,end=2001:db8:cafe:d:ffff:ffff:ffff:fffe', ['start', 'end']), {
      start: '2001:db8:cafe:d::5',
      end: '2001:db8:cafe:d:ffff:ffff:ffff:fffe',
    });
  });
  it('tolerates the blank after the comma the talk writes', () => {
    assert.deepEqual(parseKeyValues('start=172.16.12.5, end=172.16.12.254', ['start', 'end']), { start: '172.16.12.5', end: '172.16.12.254' });
  });
  it('keeps everything after the first = in the value', () => {
    assert.deepEqual(parseKeyValues('a=b=c'), { a: 'b=c' });
  });
  it('refuses missing and unknown keys with osc-lib wording', () => {
    assert.throws(() => parseKeyValues('start=1', ['start', 'end']), { message: 'Missing required keys end.\nRequired keys are: start, end' });
    assert.throws(() => parseKeyValues('subnet=a,ip=b', [], ['subnet', 'ip-address']), { message: 'Invalid keys ip specified.\nValid keys are: subnet, ip-address' });
    assert.throws(() => parseKeyValues('subnet'), { message: "Expected comma separated 'key=value' pairs, but got: subnet" });
    assert.throws(() => parseKeyValues('=x'), { message: 'Each property key must be specified: =x' });
  });
});

describe('repeatable options', () => {
  it('collects values and remembers a preceding --no-X', () => {
    const fixedIp = keyValueList([], ['subnet', 'ip-address']);
    let v = fixedIp('subnet=s1', undefined);
    v = fixedIp('subnet=s2,ip-address=2001:db8::5', v);
    assert.deepEqual(valuesOf(v), [{ subnet: 's1' }, { subnet: 's2', 'ip-address': '2001:db8::5' }]);
    assert.equal(isCleared(v), false);
    const cleared = collect('x', false);
    assert.deepEqual(valuesOf(cleared), ['x']);
    assert.equal(isCleared(cleared), true);
    assert.equal(isCleared(false), true);
    assert.deepEqual(valuesOf(false), []);
  });
  it('turns gateway= into the API nexthop', () => {
    assert.deepEqual(toRoutes([{ destination: '2001:db8:99::/64', gateway: '2001:db8::1' }]), [{ destination: '2001:db8:99::/64', nexthop: '2001:db8::1' }]);
  });
});

describe('scalars', () => {
  it('port ranges', () => {
    assert.deepEqual(parsePortRange('22'), [22, 22]);
    assert.deepEqual(parsePortRange('137:139'), [137, 139]);
    assert.throws(() => parsePortRange('9:1'), /9 is greater than 1/);
    assert.throws(() => parsePortRange('a'), /not a valid port range/);
  });
  it('integers', () => {
    assert.equal(integer('--mtu')('1450'), 1450);
    assert.throws(() => integer('--mtu')('x'), /argument --mtu: invalid int value: 'x'/);
  });
});

describe('endpoint and query', () => {
  it('flag, then OS_ENDPOINT, then V6STACK_URL, then [::1]:9696; /v2.0 and slashes dropped', () => {
    assert.equal(resolveEndpoint(undefined, {}), 'http://[::1]:9696');
    assert.equal(resolveEndpoint(undefined, { V6STACK_URL: 'http://[2001:db8::1]:9696/' }), 'http://[2001:db8::1]:9696');
    assert.equal(resolveEndpoint(undefined, { OS_ENDPOINT: 'http://a:1/v2.0', V6STACK_URL: 'http://b:2' }), 'http://a:1');
    assert.equal(resolveEndpoint('http://c:3', { OS_ENDPOINT: 'http://a:1' }), 'http://c:3');
  });
  it('repeats list values and skips undefined', () => {
    assert.equal(queryString({ name: 'a b', x: undefined, fixed_ips: ['subnet_id=s', 'ip_address=2001:db8::1'], shared: false }), '?name=a+b&fixed_ips=subnet_id%3Ds&fixed_ips=ip_address%3D2001%3Adb8%3A%3A1&shared=false');
  });
});
