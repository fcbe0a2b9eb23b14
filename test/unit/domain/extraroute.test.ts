import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { addExtraRoutes, removeExtraRoutes } from '../../../src/domain/extraroute.js';

describe('extraroute-atomic set operations', () => {
  const a = { destination: '2001:db8:1::/64', nexthop: '2001:db8::1' };
  const b = { destination: '2001:db8:1::/64', nexthop: '2001:db8::2' };
  const c = { destination: '2001:db8:2::/64', nexthop: '2001:db8::1' };
  it('adds without duplicates, keeping the old order first', () => {
    assert.deepEqual(addExtraRoutes([a, b], [c, a, c]), [a, b, c]);
    assert.deepEqual(addExtraRoutes([], []), []);
  });
  it('removes only exact (destination, next hop) pairs; a missing one is ignored', () => {
    assert.deepEqual(removeExtraRoutes([a, b, c], [b, { destination: '2001:db8:9::/64', nexthop: '2001:db8::1' }]), [a, c]);
  });
});
