// The PD client's protocol rules: message contents, what it accepts, timers and lease arithmetic (RFC 8415).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, decode, duidLl, encode, findOption, fromHex, type Message } from '../../../../src/domain/dhcpv6/codec.js';
import { RELEASE, REQUEST, SOLICIT, iaidOf, interpret, leaseTimes, nextTimeout, rebind, release, renew, request, solicit, subnetPrefixOf, type Lease } from '../../../../src/domain/dhcpv6/pd.js';

const duid = duidLl('fa:16:3e:00:00:01');
const server = fromHex('000100012c7e1f3a0a0b0c0d0e0f');
const x = { duid, transactionId: 0xabcdef, elapsed: 0 };
const iaid = iaidOf('1234abcd-0000-4000-8000-000000000000');

function reply(type: number, iaOptions: Message['options'], t1 = 1800, t2 = 2880, extra: Message['options'] = []): Message {
  return { type, transactionId: 0xabcdef, options: [{ kind: 'client-id', duid }, { kind: 'server-id', duid: server }, ...extra, { kind: 'ia-pd', iaid, t1, t2, options: iaOptions }] };
}
const prefix = (p: string, preferred = 3600, valid = 7200) => ({ kind: 'ia-prefix' as const, preferred, valid, prefix: p, options: [] });

describe('DHCPv6-PD client rules', () => {
  it('derives a stable IAID from the subnet id', () => {
    assert.equal(iaid, 0x1234abcd);
  });

  it('sends a Solicit, then a Request naming the server and the advertised prefix', () => {
    const s = decode(encode(solicit(x, { iaid, length: 64 })));
    assert.equal(s.type, MessageType.SOLICIT);
    assert.equal(findOption(s.options, 'server-id'), undefined);
    assert.equal(findOption(findOption(s.options, 'ia-pd')!.options, 'ia-prefix')!.prefix, '::/64');
    const r = decode(encode(request(x, server, { iaid }, '2001:db8:face::/64')));
    assert.equal(r.type, MessageType.REQUEST);
    assert.deepEqual([...findOption(r.options, 'server-id')!.duid], [...server]);
    assert.equal(findOption(findOption(r.options, 'ia-pd')!.options, 'ia-prefix')!.prefix, '2001:db8:face::/64');
  });

  it('accepts a lease, and refuses or ignores what RFC 8415 says to', () => {
    const out = interpret(reply(MessageType.REPLY, [prefix('2001:db8:face:7::/64')]), x, iaid, 1000, 'reply');
    assert.equal(out.kind, 'lease');
    if (out.kind === 'lease') assert.deepEqual(out.lease, { iaid, prefix: '2001:db8:face:7::/64', preferred: 3600, valid: 7200, t1: 1800, t2: 2880, serverId: '000100012c7e1f3a0a0b0c0d0e0f', obtainedAt: 1000 });
    // T1/T2 0: the client picks 0.5 and 0.8 of the preferred lifetime (§14.2).
    const zero = interpret(reply(MessageType.REPLY, [prefix('2001:db8:face:7::/64')], 0, 0), x, iaid, 0, 'reply');
    assert.ok(zero.kind === 'lease' && zero.lease.t1 === 1800 && zero.lease.t2 === 2880);
    assert.equal(interpret(reply(MessageType.ADVERTISE, [prefix('2001:db8:face:7::/64')]), x, iaid, 0, 'reply').kind, 'ignore');
    assert.equal(interpret({ ...reply(MessageType.REPLY, []), transactionId: 1 }, x, iaid, 0, 'reply').kind, 'ignore');
    assert.equal(interpret(reply(MessageType.REPLY, [prefix('2001:db8:face:7::/64')], 3000, 1000), x, iaid, 0, 'reply').kind, 'ignore');
    const noPrefix = interpret(reply(MessageType.ADVERTISE, [{ kind: 'status-code', code: 6, message: 'no prefixes' }]), x, iaid, 0, 'advertise');
    assert.deepEqual(noPrefix, { kind: 'refused', status: 6, message: 'no prefixes' });
    // A preferred lifetime above the valid one, or a withdrawn (valid 0) prefix, is no lease.
    assert.equal(interpret(reply(MessageType.REPLY, [prefix('2001:db8:face:7::/64', 9000, 7200)]), x, iaid, 0, 'reply').kind, 'refused');
    assert.equal(interpret(reply(MessageType.REPLY, [prefix('2001:db8:face:7::/64', 0, 0)]), x, iaid, 0, 'reply').kind, 'refused');
    // A re-delegation: the old prefix withdrawn, a new one given.
    const moved = interpret(reply(MessageType.REPLY, [prefix('2001:db8:face:7::/64', 0, 0), prefix('2001:db8:face:9::/64')]), x, iaid, 0, 'reply');
    assert.ok(moved.kind === 'lease' && moved.lease.prefix === '2001:db8:face:9::/64');
  });

  it('renews with the server id, rebinds without, releases the prefix', () => {
    const lease: Lease = { iaid, prefix: '2001:db8:face:7::/64', preferred: 3600, valid: 7200, t1: 1800, t2: 2880, serverId: '00', obtainedAt: 0 };
    assert.ok(findOption(renew(x, lease, server).options, 'server-id'));
    assert.equal(findOption(rebind(x, lease).options, 'server-id'), undefined);
    const rel = release(x, lease, server);
    assert.equal(rel.type, MessageType.RELEASE);
    assert.equal(findOption(findOption(rel.options, 'ia-pd')!.options, 'ia-prefix')!.prefix, '2001:db8:face:7::/64');
    assert.deepEqual(leaseTimes(lease), { renewAt: 1_800_000, rebindAt: 2_880_000, expiresAt: 7_200_000 });
  });

  it('backs off as §15 says', () => {
    assert.equal(nextTimeout(null, SOLICIT, 0.1), 1.1);
    assert.equal(nextTimeout(1, REQUEST, 0), 2);
    assert.equal(nextTimeout(3000, SOLICIT, 0), 3600);
    assert.equal(nextTimeout(null, RELEASE, -0.1), 0.9);
  });

  it('takes the first /64 of a shorter delegation', () => {
    assert.equal(subnetPrefixOf('2001:db8:face:100::/56'), '2001:db8:face:100::/64');
    assert.equal(subnetPrefixOf('2001:db8:face:7::/64'), '2001:db8:face:7::/64');
    assert.equal(subnetPrefixOf('2001:db8:face:7::/80'), null);
  });
});
