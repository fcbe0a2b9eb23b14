import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAutoAddressSubnet, isExternalRouterSubnet, raFlags, IPV6_MODES } from '../../../src/domain/ipv6-modes.js';

const MODES = [undefined, null, 'slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;

test('isAutoAddressSubnet over every ra_mode x address_mode (ipv6_utils.is_auto_address_subnet)', () => {
  for (const ra of MODES) {
    for (const am of MODES) {
      const want = ['slaac', 'dhcpv6-stateless'].includes(ra ?? '') || ['slaac', 'dhcpv6-stateless'].includes(am ?? '');
      assert.equal(isAutoAddressSubnet({ ipv6_ra_mode: ra, ipv6_address_mode: am }), want, `${ra} x ${am}`);
    }
  }
  assert.equal(isAutoAddressSubnet({}), false);
});

test('raFlags as Neutron radvd renders them, keyed on the RA mode only', () => {
  for (const am of MODES) {
    assert.deepEqual(raFlags({ ipv6_ra_mode: 'slaac', ipv6_address_mode: am }), { managed: false, other: false, autonomous: true, onLink: true });
    assert.deepEqual(raFlags({ ipv6_ra_mode: 'dhcpv6-stateless', ipv6_address_mode: am }), { managed: false, other: true, autonomous: true, onLink: true });
    // Stateful: M on, O off ("the O flag can be ignored when the M flag is set"), prefix not autonomous.
    assert.deepEqual(raFlags({ ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: am }), { managed: true, other: false, autonomous: false, onLink: true });
    assert.equal(raFlags({ ipv6_ra_mode: null, ipv6_address_mode: am }), null);
    assert.equal(raFlags({ ipv6_address_mode: am }), null);
  }
});

test('isExternalRouterSubnet: an address mode without an RA mode', () => {
  for (const ra of MODES) {
    for (const am of MODES) {
      assert.equal(isExternalRouterSubnet({ ipv6_ra_mode: ra, ipv6_address_mode: am }), !ra && !!am, `${ra} x ${am}`);
    }
  }
});

test('the three modes are Neutron constants.IPV6_MODES', () => {
  assert.deepEqual([...IPV6_MODES].sort(), ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac']);
});
