// The guest's resolv.conf: what its resolvconf would write from what it received, in order, search domain first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guestResolvConf } from '../../../src/lab/lab-show.js';

describe('guestResolvConf', () => {
  it('names the search domain, then every DNS server in the order received', () => {
    assert.equal(
      guestResolvConf('vm1', { search: 'openstacklocal', dns: ['192.0.2.53', '2001:db8:cafe:a::e'] }),
      '# lab instance vm1: the DNS servers and search domain it received (DHCPv4, DHCPv6, or the RA\'s RDNSS)\n' +
        'search openstacklocal\nnameserver 192.0.2.53\nnameserver 2001:db8:cafe:a::e\n',
    );
  });
  it('is empty of servers when none came (the host\'s own resolv.conf must not show through)', () => {
    const text = guestResolvConf('vm2', { search: '', dns: [] });
    assert.doesNotMatch(text, /^(nameserver|search)/m);
  });
});
