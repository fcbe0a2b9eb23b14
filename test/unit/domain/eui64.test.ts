import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpAddress, IpPrefix } from '../../../src/domain/ip.js';
import { eui64Address, isEui64, linkLocalFromMac } from '../../../src/domain/eui64.js';
import { normalizeMac, randomMac } from '../../../src/domain/mac.js';

const p = (s: string) => IpPrefix.parse(s)!;

test('EUI-64 addresses as oslo get_ipv6_addr_by_EUI64 computes them', () => {
  // Measured on the Neutron peer (RESULTS.md) and in the facts notes (A.4).
  assert.equal(eui64Address(p('2001:db8:cafe::/64'), 'fa:16:3e:79:5a:cc').toString(), '2001:db8:cafe:0:f816:3eff:fe79:5acc');
  assert.equal(eui64Address(p('2001:db8:cafe:2::/64'), 'fa:16:3e:79:5a:cc').toString(), '2001:db8:cafe:2:f816:3eff:fe79:5acc');
  assert.equal(eui64Address(p('2001:db8::/64'), '00:01:02:03:04:05').toString(), '2001:db8::201:2ff:fe03:405');
  assert.equal(eui64Address(p('2001:db8::/64'), 'fa:16:3e:be:3d:62').toString(), '2001:db8::f816:3eff:febe:3d62');
  // The PD placeholder: Neutron gave ::f816:3eff:fe79:5acc.
  assert.equal(eui64Address(p('::/64'), 'fa:16:3e:79:5a:cc').toString(), '::f816:3eff:fe79:5acc');
  // A locally administered MAC gets its U/L bit cleared; MAC spelling does not matter.
  assert.equal(eui64Address(p('2001:db8::/64'), '02:00:00:00:00:01').toString(), '2001:db8::ff:fe00:1');
  assert.equal(eui64Address(p('2001:db8::/64'), 'FA-16-3E-79-5A-CC').toString(), '2001:db8::f816:3eff:fe79:5acc');
  // Python's (first + eui64) ^ bit on a longer prefix (values from oslo on the same input).
  assert.equal(eui64Address(p('2001:db8::/80'), '00:01:02:03:04:05').toString(), '2001:db8::201:2ff:fe03:405');
  assert.equal(IpPrefix.parse('2001:db8::1:0:0:0/80')!.toString(), '2001:db8:0:0:1::/80'); // the longer zero run wins
  assert.equal(eui64Address(p('2001:db8::1:0:0:0/80'), '00:01:02:03:04:05').toString(), '2001:db8::202:2ff:fe03:405');
});

test('EUI-64 refuses IPv4 prefixes and bad MACs', () => {
  assert.throws(() => eui64Address(p('10.0.0.0/24'), 'fa:16:3e:79:5a:cc'), TypeError);
  assert.throws(() => eui64Address(p('2001:db8::/64'), 'not-a-mac'), TypeError);
});

test('isEui64 looks for ff:fe in the middle of the identifier', () => {
  assert.ok(isEui64(IpAddress.parse('2001:db8:cafe:0:f816:3eff:fe79:5acc')!));
  assert.ok(!isEui64(IpAddress.parse('2001:db8:cafe::219')!));
  assert.ok(!isEui64(IpAddress.parse('2001:db8:cafe:0:f816:3eff:fd79:5acc')!));
  assert.ok(!isEui64(IpAddress.parse('10.0.0.1')!));
});

test('link-local addresses from MACs', () => {
  assert.equal(linkLocalFromMac('fa:16:3e:79:5a:cc').toString(), 'fe80::f816:3eff:fe79:5acc');
  assert.equal(linkLocalFromMac('00:00:5e:00:01:01').toString(), 'fe80::200:5eff:fe00:101');
});

test('normalizeMac accepts what netaddr.valid_mac accepts and prints mac_unix_expanded', () => {
  // Checked against neutron-lib validate_mac_address + convert_to_sanitized_mac_address (netaddr 0.8).
  const ok: [string, string][] = [
    ['fa:16:3e:79:5a:cc', 'fa:16:3e:79:5a:cc'],
    ['FA:16:3E:79:5A:CC', 'fa:16:3e:79:5a:cc'],
    ['fa-16-3e-79-5a-cc', 'fa:16:3e:79:5a:cc'],
    ['fa16.3e79.5acc', 'fa:16:3e:79:5a:cc'],
    ['FA16.3E79.5ACC', 'fa:16:3e:79:5a:cc'],
    ['fa163e795acc', 'fa:16:3e:79:5a:cc'],
    ['a:b:c:d:e:f', '0a:0b:0c:0d:0e:0f'],
    ['1:2:3:4:5:6', '01:02:03:04:05:06'],
    ['fa:16:3e:79:5a:c', 'fa:16:3e:79:5a:0c'],
    ['fa16:3e79:5acc', 'fa:16:3e:79:5a:cc'],
    ['fa163e-795acc', 'fa:16:3e:79:5a:cc'],
    ['fa163e:795acc', 'fa:16:3e:79:5a:cc'],
    ['01:00:5e:00:00:01', '01:00:5e:00:00:01'], // multicast is not refused by Neutron
  ];
  for (const [input, want] of ok) assert.equal(normalizeMac(input), want, input);
  for (const bad of [
    'fa:16:3e:79:5a', 'fa:16:3e:79:5a:cc:00', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', 'FF-FF-FF-FF-FF-FF',
    'fa:16:3e:79:5a:cc ', ' fa:16:3e:79:5a:cc', 'fa 16 3e 79 5a cc', 'fa:16:3e:79:5a:gg', '0xfa163e795acc',
    'fa:16:3e-79:5a:cc', '', null, 42,
  ]) {
    assert.equal(normalizeMac(bad), null, String(bad));
  }
});

test('randomMac keeps the base OUI (and a non-zero fourth octet) and randomises the rest', () => {
  const seq = [0, 0.5, 0.999999];
  let i = 0;
  const rand = () => seq[i++ % seq.length]!;
  assert.equal(randomMac(undefined, rand), 'fa:16:3e:00:80:ff');
  i = 0;
  assert.equal(randomMac('aa:bb:cc:dd:00:00', rand), 'aa:bb:cc:dd:00:80');
  for (let n = 0; n < 200; n++) {
    const m = randomMac();
    assert.match(m, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(normalizeMac(m), m);
  }
});
