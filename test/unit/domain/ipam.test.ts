import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IpAddress } from '../../../src/domain/ip.js';
import { isBehindCursor, nextCandidate, poolRanges, poolSize } from '../../../src/domain/ipam.js';

const a = (t: string) => IpAddress.parse(t)!;

describe('next-fit walk over allocation pools', () => {
  const ranges = poolRanges([
    { start: '2001:db8::100', end: '2001:db8::101' },
    { start: '2001:db8::10', end: '2001:db8::11' },
  ]);

  it('orders pools by address and starts at the first', () => {
    assert.equal(nextCandidate(ranges, null)!.toString(), '2001:db8::10');
  });

  it('steps inside a pool, jumps to the next pool, and ends after the last', () => {
    assert.equal(nextCandidate(ranges, a('2001:db8::10'))!.toString(), '2001:db8::11');
    assert.equal(nextCandidate(ranges, a('2001:db8::11'))!.toString(), '2001:db8::100');
    assert.equal(nextCandidate(ranges, a('2001:db8::101')), null);
  });

  it('resumes from a cursor between pools (after a pool update)', () => {
    assert.equal(nextCandidate(ranges, a('2001:db8::50'))!.toString(), '2001:db8::100');
  });

  it('does not overflow at the top of the address space', () => {
    const top = poolRanges([{ start: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe', end: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' }]);
    assert.equal(nextCandidate(top, a('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')), null);
  });

  it('counts pool sizes exactly, beyond 2^53', () => {
    const big = poolRanges([{ start: '2001:db8::1', end: '2001:db8::ffff:ffff:ffff:ffff' }]);
    assert.equal(poolSize(big), (1n << 64n) - 1n);
  });

  it('knows which freed addresses the walk will not meet again', () => {
    assert.equal(isBehindCursor(ranges, a('2001:db8::10'), a('2001:db8::11')), true);
    assert.equal(isBehindCursor(ranges, a('2001:db8::100'), a('2001:db8::11')), false);
    assert.equal(isBehindCursor(ranges, a('2001:db8::10'), null), false);
    assert.equal(isBehindCursor(ranges, a('2001:db8::50'), a('2001:db8::101')), false, 'outside the pools');
  });

  it('walks IPv4 pools too', () => {
    const v4 = poolRanges([{ start: '192.0.2.2', end: '192.0.2.3' }]);
    assert.equal(nextCandidate(v4, a('192.0.2.2'))!.toString(), '192.0.2.3');
    assert.equal(nextCandidate(v4, a('192.0.2.3')), null);
  });
});
