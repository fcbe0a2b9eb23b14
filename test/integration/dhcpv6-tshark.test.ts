// tshark decodes every DHCPv6 message v6stack's PD client sends (Solicit, Request, Renew, Rebind, Release), built by
// the same functions the client uses, without a malformed field or an expert warning; the fields it reads back are
// the ones we encoded. The messages go into a pcap (raw IPv6 link type) on disk; nothing is sent anywhere.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duidLl, encode, fromHex } from '../../src/domain/dhcpv6/codec.js';
import { iaidOf, rebind, release, renew, request, solicit, type Lease } from '../../src/domain/dhcpv6/pd.js';
import { IpAddress } from '../../src/domain/ip.js';

const haveTshark = spawnSync('tshark', ['-v'], { encoding: 'utf8' }).status === 0;

function addr16(a: string): number[] {
  const v = IpAddress.parse(a)!.value;
  return Array.from({ length: 16 }, (_, i) => Number((v >> BigInt((15 - i) * 8)) & 0xffn));
}

/** An IPv6/UDP packet from fe80::f816:3eff:fe00:1 port 546 to ff02::1:2 port 547, with a correct UDP checksum. */
function packet(payload: Uint8Array): Buffer {
  const src = addr16('fe80::f816:3eff:fe00:1');
  const dst = addr16('ff02::1:2');
  const udpLen = 8 + payload.length;
  const udp = [0x02, 0x22, 0x02, 0x23, udpLen >> 8, udpLen & 0xff, 0, 0, ...payload];
  // RFC 8200 §8.1 pseudo-header checksum.
  const pseudo = [...src, ...dst, 0, 0, udpLen >> 8, udpLen & 0xff, 0, 0, 0, 17, ...udp];
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += (pseudo[i]! << 8) | (pseudo[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  const ck = ~sum & 0xffff || 0xffff;
  udp[6] = ck >> 8;
  udp[7] = ck & 0xff;
  const ip = [0x60, 0, 0, 0, udpLen >> 8, udpLen & 0xff, 17, 1, ...src, ...dst];
  return Buffer.from([...ip, ...udp]);
}

function pcap(packets: Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(229, 20); // LINKTYPE_IPV6
  const recs = packets.map((p, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(p.length, 8);
    r.writeUInt32LE(p.length, 12);
    return Buffer.concat([r, p]);
  });
  return Buffer.concat([head, ...recs]);
}

test('tshark decodes every message the PD client sends, with no malformed field', { skip: haveTshark ? false : 'tshark not installed (Debian: tshark)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'v6stack-dhcpv6-'));
  try {
    const x = { duid: duidLl('fa:16:3e:00:00:01'), transactionId: 0x0a0b0c, elapsed: 150 };
    const server = fromHex('000100012c7e1f3a0a0b0c0d0e0f');
    const iaid = iaidOf('1234abcd-0000-4000-8000-000000000000');
    const lease: Lease = { iaid, prefix: '2001:db8:face:7::/64', preferred: 3600, valid: 7200, t1: 1800, t2: 2880, serverId: '000100012c7e1f3a0a0b0c0d0e0f', obtainedAt: 0 };
    const messages = [solicit(x, { iaid, length: 64 }), solicit(x, { iaid, hint: '2001:db8:face:7::/64' }), request(x, server, { iaid }, '2001:db8:face:7::/64'), renew(x, lease, server), rebind(x, lease), release(x, lease, server)];
    const file = join(dir, 'pd.pcap');
    writeFileSync(file, pcap(messages.map((m) => packet(encode(m)))));
    const bad = spawnSync('tshark', ['-r', file, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'], { encoding: 'utf8' });
    assert.equal(bad.status, 0, bad.stderr);
    assert.equal(bad.stdout.trim(), '', `tshark flags:\n${bad.stdout}`);
    const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=;', '-e', 'dhcpv6.msgtype', '-e', 'dhcpv6.xid', '-e', 'dhcpv6.iaid', '-e', 'dhcpv6.iaprefix.pref_addr', '-e', 'dhcpv6.iaprefix.pref_len', '-e', 'dhcpv6.elapsed_time', '-e', 'dhcpv6.duidll.link_layer_addr'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => l.split(';'));
    assert.deepEqual(rows.map((f) => f[0]), ['1', '1', '3', '5', '6', '8']);
    for (const f of rows) {
      assert.equal(f[1], '0x0a0b0c');
      assert.equal(f[2], '1234abcd');
      assert.equal(f[5], '1500', 'elapsed time 150 centiseconds is 1500 ms');
      assert.equal(f[6], 'fa:16:3e:00:00:01');
    }
    assert.deepEqual(rows.map((f) => `${f[3]}/${f[4]}`), ['::/64', '2001:db8:face:7::/64', '2001:db8:face:7::/64', '2001:db8:face:7::/64', '2001:db8:face:7::/64', '2001:db8:face:7::/64']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
