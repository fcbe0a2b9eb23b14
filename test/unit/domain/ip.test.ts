// RFC 5952 text form and parsing of src/domain/ip.ts. Expected strings are what netaddr 0.8 (Neutron's library,
// printing through glibc inet_ntop) gives for the same input, so v6stack prints addresses as Neutron does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpAddress, IpPrefix, IpRange, canonicalIp } from '../../../src/domain/ip.js';

const NETADDR: [string, string][] = [
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 4.2.3: the first of two equal runs
  ['2001:0db8::0001', '2001:db8::1'], // 4.1: no leading zeros
  ['2001:db8::aaaa:0:0:1', '2001:db8::aaaa:0:0:1'],
  ['2001:db8:0:0:aaaa::1', '2001:db8::aaaa:0:0:1'], // 4.2.3: the longest run
  ['2001:DB8::1', '2001:db8::1'], // 4.3: lowercase
  ['0:0:0:0:0:0:0:0', '::'],
  ['0:0:0:0:0:0:0:1', '::1'],
  ['1:0:0:0:0:0:0:0', '1::'],
  ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
  ['0:1:0:0:0:0:0:0', '0:1::'],
  ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2: a single 0 group is not compressed
  ['fe80::1:0:0:0', 'fe80::1:0:0:0'],
  ['2001:db8::ffff:0:0', '2001:db8::ffff:0:0'],
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
  ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // 5: IPv4-mapped keeps the dotted tail
  ['::ffff:c000:201', '::ffff:192.0.2.1'],
  ['::ffff:0.0.0.0', '::ffff:0.0.0.0'],
  ['::192.0.2.1', '::192.0.2.1'], // IPv4-compatible, as glibc prints it
  ['::0.1.0.0', '::0.1.0.0'],
  ['::ffff', '::ffff'], // seven zero groups: hex, not ::0.0.255.255
  ['::1:0:0', '::1:0:0'],
  ['::ffff:0:c000:201', '::ffff:0:c000:201'], // SIIT form: hex
  ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'], // NAT64 well-known prefix: hex (glibc)
];

test('IPv6 text form matches netaddr/glibc (RFC 5952)', () => {
  for (const [input, want] of NETADDR) {
    const a = IpAddress.parse(input);
    assert.ok(a, input);
    assert.equal(a.toString(), want, input);
    assert.equal(IpAddress.parse(want)!.value, a.value, `round trip of ${want}`);
  }
});

test('IPv6 parsing refuses malformed text', () => {
  for (const bad of [
    '', ':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '::ffff:1.2.3',
    '::ffff:1.2.3.256', '1:2:3:4:5:6:7::8:9', 'fe80::1%eth0', ' ::1', '::1 ', '1:2:3:4:5:6:7:8::',
  ]) {
    assert.equal(IpAddress.parse(bad), null, JSON.stringify(bad));
  }
  assert.equal(IpAddress.parse('1:2:3:4:5:6:7::')!.toString(), '1:2:3:4:5:6:7:0');
  assert.equal(IpAddress.parse('::2:3:4:5:6:7:8')!.toString(), '0:2:3:4:5:6:7:8');
  assert.equal(IpAddress.parse('1:2:3:4:5:6:1.2.3.4')!.toString(), '1:2:3:4:5:6:102:304');
});

test('IPv4 parsing is strict (no leading zeros, four octets) and non-strings are not addresses', () => {
  assert.equal(IpAddress.parse('192.0.2.1')!.toString(), '192.0.2.1');
  for (const bad of ['010.0.0.1', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.-1', '+1.2.3.4', '1.2.3.4 ', '0x1.2.3.4']) {
    assert.equal(IpAddress.parse(bad), null, bad);
  }
  for (const v of [null, undefined, 5, {}, ['::1']]) assert.equal(IpAddress.parse(v), null);
  assert.equal(canonicalIp('2001:DB8::0:1'), '2001:db8::1');
  assert.equal(canonicalIp('nope'), null);
});

test('prefixes: host bits, strictness, bounds, containment', () => {
  assert.equal(IpPrefix.parse('2001:db8::1/64')!.toString(), '2001:db8::/64');
  assert.equal(IpPrefix.parse('2001:db8::1/64', true), null);
  assert.equal(IpPrefix.parse('2001:db8::/129'), null);
  assert.equal(IpPrefix.parse('10.0.0.0/33'), null);
  assert.equal(IpPrefix.parse('10.0.0.0'), null);
  assert.equal(IpPrefix.parse('10.0.0.0/08'), null);
  const p = IpPrefix.parse('2001:db8:cafe::/64')!;
  assert.equal(p.size, 1n << 64n);
  assert.equal(p.last.toString(), '2001:db8:cafe:0:ffff:ffff:ffff:ffff');
  assert.ok(p.contains(IpAddress.parse('2001:db8:cafe::1')!));
  assert.ok(!p.contains(IpAddress.parse('2001:db8:caff::1')!));
  assert.ok(!p.contains(IpAddress.parse('10.0.0.1')!));
  assert.ok(IpPrefix.parse('2001:db8::/32')!.covers(p));
  assert.ok(!p.covers(IpPrefix.parse('2001:db8::/32')!));
  assert.ok(p.overlaps(IpPrefix.parse('2001:db8::/32')!));
  assert.ok(!p.overlaps(IpPrefix.parse('10.0.0.0/8')!));
  assert.equal(IpPrefix.parse('::/0')!.size, 1n << 128n);
});

test('ranges: size, containment, overlap, text', () => {
  const r = new IpRange(IpAddress.parse('2001:db8::10')!, IpAddress.parse('2001:db8::20')!);
  assert.equal(r.size, 17n);
  assert.equal(r.toString(), '2001:db8::10-2001:db8::20');
  assert.ok(r.contains(IpAddress.parse('2001:db8::20')!));
  assert.ok(!r.contains(IpAddress.parse('2001:db8::21')!));
  assert.ok(r.overlaps(new IpRange(IpAddress.parse('2001:db8::20')!, IpAddress.parse('2001:db8::30')!)));
  assert.ok(!r.overlaps(new IpRange(IpAddress.parse('2001:db8::21')!, IpAddress.parse('2001:db8::30')!)));
  assert.throws(() => new IpRange(IpAddress.parse('10.0.0.1')!, IpAddress.parse('::1')!), RangeError);
});
