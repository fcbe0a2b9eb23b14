// The DHCPv6 codec against byte strings laid out by hand from RFC 8415 §8/§21 and against messages Kea 2.2 and
// dibbler-server 1.0 sent to our client in the lab (test/fixtures/dhcpv6/*.hex: the UDP payload tshark showed, then
// what tshark decoded from it: message type, prefix, preferred and valid lifetimes).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Dhcpv6DecodeError, MessageType, decode, duidEn, duidLl, encode, fromHex, hex, findOption, type Message } from '../../../../src/domain/dhcpv6/codec.js';

const SOLICIT_HEX =
  '015aab14' + // Solicit, transaction id 0x5aab14
  '0001000a00030001fa163e795acc' + // client id: DUID-LL, Ethernet, fa:16:3e:79:5a:cc
  '000800020000' + // elapsed time 0
  '000600020052' + // ORO: SOL_MAX_RT (82)
  '00190029' + '1234abcd' + '00000000' + '00000000' + // IA_PD, 41 bytes: IAID, T1 0, T2 0
  '001a0019' + '00000000' + '00000000' + '40' + '00000000000000000000000000000000'; // IA Prefix ::/64 hint

describe('DHCPv6 codec', () => {
  it('encodes a Solicit with an IA_PD hint byte for byte', () => {
    const m: Message = {
      type: MessageType.SOLICIT,
      transactionId: 0x5aab14,
      options: [
        { kind: 'client-id', duid: duidLl('fa:16:3e:79:5a:cc') },
        { kind: 'elapsed-time', centiseconds: 0 },
        { kind: 'oro', codes: [82] },
        { kind: 'ia-pd', iaid: 0x1234abcd, t1: 0, t2: 0, options: [{ kind: 'ia-prefix', preferred: 0, valid: 0, prefix: '::/64', options: [] }] },
      ],
    };
    assert.equal(hex(encode(m)), SOLICIT_HEX);
    assert.deepEqual(decode(fromHex(SOLICIT_HEX)), m);
  });

  it('decodes a Reply with a delegated prefix and status, and re-encodes it exactly', () => {
    const reply =
      '07' + '5aab14' +
      '0001000a00030001fa163e795acc' +
      '0002000e000100012c7e1f3a0a0b0c0d0e0f' + // server id: DUID-LLT
      '0019' + '0037' + '1234abcd' + '00000708' + '00000bb8' + // IA_PD 55 bytes: T1 1800, T2 3000
      '001a0019' + '00000e10' + '00001c20' + '40' + '20010db8face00070000000000000000' + // 2001:db8:face:7::/64, 3600/7200
      '000d000a' + '0000' + '616c6c20676f6f64'; // status Success "all good"
    const m = decode(fromHex(reply));
    assert.equal(m.type, MessageType.REPLY);
    const ia = findOption(m.options, 'ia-pd')!;
    assert.deepEqual([ia.iaid, ia.t1, ia.t2], [0x1234abcd, 1800, 3000]);
    const p = findOption(ia.options, 'ia-prefix')!;
    assert.deepEqual([p.prefix, p.preferred, p.valid], ['2001:db8:face:7::/64', 3600, 7200]);
    assert.deepEqual(findOption(ia.options, 'status-code'), { kind: 'status-code', code: 0, message: 'all good' });
    assert.equal(hex(encode(m)), reply);
  });

  it('keeps unknown options as raw bytes', () => {
    const b = '0700000100170010' + '20010db8000000000000000000000001' + '00520004' + '00000e10';
    const m = decode(fromHex(b));
    assert.deepEqual(m.options.map((o) => o.kind), ['raw', 'raw']);
    assert.equal(hex(encode(m)), b);
  });

  it('refuses truncated and inconsistent messages', () => {
    for (const bad of ['0100', '01000001000100', '010000010001000a0003', '0700000100080003000000', '070000010019000400000000', '070000010019000c00000001000000020000000300']) {
      assert.throws(() => decode(fromHex(bad)), Dhcpv6DecodeError, bad);
    }
  });

  it('makes DUID-EN as Neutron did (enterprise 8888)', () => {
    assert.equal(hex(duidEn(8888, fromHex('1234abcd'))), '0002000022b81234abcd');
  });

  it('decodes the servers\' Replies to a Release: status codes in the IA_PD (Kea) or at the top (dibbler)', () => {
    const read = (name: string): string => readFileSync(join(process.cwd(), 'test/fixtures/dhcpv6', `${name}.hex`), 'utf8').trim();
    const kea = decode(fromHex(read('kea-release-reply')));
    assert.equal(hex(encode(kea)), read('kea-release-reply'));
    assert.deepEqual(findOption(findOption(kea.options, 'ia-pd')!.options, 'status-code'), { kind: 'status-code', code: 0, message: 'Lease released. Thank you, please come again.' });
    const dibbler = decode(fromHex(read('dibbler-release-reply')));
    assert.equal(hex(encode(dibbler)), read('dibbler-release-reply'));
    assert.equal(findOption(dibbler.options, 'status-code')!.code, 0);
  });

  for (const name of ['kea-advertise', 'kea-reply', 'dibbler-advertise', 'dibbler-reply']) {
    it(`decodes and re-encodes ${name} as captured`, (t) => {
      let text: string;
      try {
        text = readFileSync(join(process.cwd(), 'test/fixtures/dhcpv6', `${name}.hex`), 'utf8');
      } catch {
        t.skip('capture not recorded');
        return;
      }
      const [bytes, expected] = text.trim().split('\n');
      const m = decode(fromHex(bytes!));
      assert.equal(hex(encode(m)), bytes);
      // The capture's tshark decode: "msgtype prefix/len preferred valid"
      const ia = findOption(m.options, 'ia-pd')!;
      const p = findOption(ia.options, 'ia-prefix')!;
      assert.equal(`${m.type} ${p.prefix} ${p.preferred} ${p.valid}`, expected);
    });
  }
});
