// DHCPv6 messages on the wire (RFC 8415 §8 client/server message format, §21 options) for what a prefix-delegation
// client speaks: Solicit, Advertise, Request, Confirm, Renew, Rebind, Reply, Release, Decline, Reconfigure and
// Information-Request headers; Client/Server Identifier (DUIDs, §11), IA_PD (§21.21) with IA Prefix (§21.22), Status
// Code (§21.13), Elapsed Time (§21.9), Option Request (§21.7), Preference (§21.8), Rapid Commit (§21.14). Any
// other option is kept as its raw bytes, so decode(encode(m)) and encode(decode(b)) are exact. PURE.

import { IpAddress } from '../ip.js';

export const MessageType = {
  SOLICIT: 1,
  ADVERTISE: 2,
  REQUEST: 3,
  CONFIRM: 4,
  RENEW: 5,
  REBIND: 6,
  REPLY: 7,
  RELEASE: 8,
  DECLINE: 9,
  RECONFIGURE: 10,
  INFORMATION_REQUEST: 11,
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

export const MESSAGE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k]));

export const OptionCode = {
  CLIENTID: 1,
  SERVERID: 2,
  ORO: 6,
  PREFERENCE: 7,
  ELAPSED_TIME: 8,
  STATUS_CODE: 13,
  RAPID_COMMIT: 14,
  IA_PD: 25,
  IAPREFIX: 26,
  SOL_MAX_RT: 82,
} as const;

/** RFC 8415 §21.13 status codes. */
export const StatusCode = {
  Success: 0,
  UnspecFail: 1,
  NoAddrsAvail: 2,
  NoBinding: 3,
  NotOnLink: 4,
  UseMulticast: 5,
  NoPrefixAvail: 6,
} as const;

export type Option =
  | { kind: 'client-id'; duid: Uint8Array }
  | { kind: 'server-id'; duid: Uint8Array }
  | { kind: 'oro'; codes: number[] }
  | { kind: 'preference'; value: number }
  /** Hundredths of a second since the client began the exchange (0xffff at most, §21.9). */
  | { kind: 'elapsed-time'; centiseconds: number }
  | { kind: 'status-code'; code: number; message: string }
  | { kind: 'rapid-commit' }
  | { kind: 'ia-pd'; iaid: number; t1: number; t2: number; options: Option[] }
  /** `prefix` is "address/length" (RFC 5952 text); lifetimes in seconds (0xffffffff = infinity). */
  | { kind: 'ia-prefix'; preferred: number; valid: number; prefix: string; options: Option[] }
  | { kind: 'raw'; code: number; data: Uint8Array };

export interface Message {
  type: number;
  /** 24 bits. */
  transactionId: number;
  options: Option[];
}

export class Dhcpv6DecodeError extends Error {}

const u16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

function encodeOption(o: Option): number[] {
  let code: number;
  let body: number[];
  switch (o.kind) {
    case 'client-id':
      code = OptionCode.CLIENTID;
      body = [...o.duid];
      break;
    case 'server-id':
      code = OptionCode.SERVERID;
      body = [...o.duid];
      break;
    case 'oro':
      code = OptionCode.ORO;
      body = o.codes.flatMap(u16);
      break;
    case 'preference':
      code = OptionCode.PREFERENCE;
      body = [o.value & 0xff];
      break;
    case 'elapsed-time':
      code = OptionCode.ELAPSED_TIME;
      body = u16(Math.min(0xffff, Math.max(0, Math.round(o.centiseconds))));
      break;
    case 'status-code':
      code = OptionCode.STATUS_CODE;
      body = [...u16(o.code), ...new TextEncoder().encode(o.message)];
      break;
    case 'rapid-commit':
      code = OptionCode.RAPID_COMMIT;
      body = [];
      break;
    case 'ia-pd':
      code = OptionCode.IA_PD;
      body = [...u32(o.iaid), ...u32(o.t1), ...u32(o.t2), ...o.options.flatMap(encodeOption)];
      break;
    case 'ia-prefix': {
      code = OptionCode.IAPREFIX;
      const [addr, len] = splitPrefix(o.prefix);
      body = [...u32(o.preferred), ...u32(o.valid), len, ...addressBytes(addr), ...o.options.flatMap(encodeOption)];
      break;
    }
    case 'raw':
      code = o.code;
      body = [...o.data];
      break;
  }
  if (body.length > 0xffff) throw new RangeError(`DHCPv6 option ${code} is longer than 65535 bytes`);
  return [...u16(code), ...u16(body.length), ...body];
}

export function encode(m: Message): Uint8Array {
  if (m.transactionId < 0 || m.transactionId > 0xffffff) throw new RangeError('transaction id is 24 bits');
  return Uint8Array.from([m.type & 0xff, (m.transactionId >>> 16) & 0xff, (m.transactionId >>> 8) & 0xff, m.transactionId & 0xff, ...m.options.flatMap(encodeOption)]);
}

function splitPrefix(prefix: string): [IpAddress, number] {
  const slash = prefix.indexOf('/');
  const addr = IpAddress.parse(prefix.slice(0, slash));
  const len = Number(prefix.slice(slash + 1));
  if (slash < 0 || !addr || addr.version !== 6 || !Number.isInteger(len) || len < 0 || len > 128) throw new RangeError(`not an IPv6 prefix: ${prefix}`);
  return [addr, len];
}

function addressBytes(a: IpAddress): number[] {
  const out: number[] = [];
  for (let i = 15; i >= 0; i--) out.push(Number((a.value >> BigInt(i * 8)) & 0xffn));
  return out;
}

function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}
function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

function decodeOptions(b: Uint8Array, start: number, end: number, where: string): Option[] {
  const out: Option[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 4) throw new Dhcpv6DecodeError(`${where}: ${end - at} stray bytes where an option header (4 bytes) was expected`);
    const code = readU16(b, at);
    const len = readU16(b, at + 2);
    const s = at + 4;
    const e = s + len;
    if (e > end) throw new Dhcpv6DecodeError(`${where}: option ${code} says ${len} bytes, only ${end - s} left`);
    out.push(decodeOption(b, code, s, e));
    at = e;
  }
  return out;
}

function need(code: number, len: number, min: number, exact = false): void {
  if (exact ? len !== min : len < min) throw new Dhcpv6DecodeError(`option ${code}: ${len} bytes, ${exact ? '' : 'at least '}${min} expected`);
}

function decodeOption(b: Uint8Array, code: number, s: number, e: number): Option {
  const len = e - s;
  switch (code) {
    case OptionCode.CLIENTID:
    case OptionCode.SERVERID:
      // §11.1: a DUID is 2 bytes of type and at most 128 bytes of identifier.
      need(code, len, 3);
      return { kind: code === OptionCode.CLIENTID ? 'client-id' : 'server-id', duid: b.slice(s, e) };
    case OptionCode.ORO: {
      if (len % 2) throw new Dhcpv6DecodeError(`option 6: odd length ${len}`);
      const codes: number[] = [];
      for (let i = s; i < e; i += 2) codes.push(readU16(b, i));
      return { kind: 'oro', codes };
    }
    case OptionCode.PREFERENCE:
      need(code, len, 1, true);
      return { kind: 'preference', value: b[s]! };
    case OptionCode.ELAPSED_TIME:
      need(code, len, 2, true);
      return { kind: 'elapsed-time', centiseconds: readU16(b, s) };
    case OptionCode.STATUS_CODE:
      need(code, len, 2);
      return { kind: 'status-code', code: readU16(b, s), message: new TextDecoder().decode(b.slice(s + 2, e)) };
    case OptionCode.RAPID_COMMIT:
      need(code, len, 0, true);
      return { kind: 'rapid-commit' };
    case OptionCode.IA_PD:
      need(code, len, 12);
      return { kind: 'ia-pd', iaid: readU32(b, s), t1: readU32(b, s + 4), t2: readU32(b, s + 8), options: decodeOptions(b, s + 12, e, 'IA_PD') };
    case OptionCode.IAPREFIX: {
      need(code, len, 25);
      const plen = b[s + 8]!;
      if (plen > 128) throw new Dhcpv6DecodeError(`IAPREFIX: prefix length ${plen}`);
      let v = 0n;
      for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(b[s + 9 + i]!);
      return { kind: 'ia-prefix', preferred: readU32(b, s), valid: readU32(b, s + 4), prefix: `${IpAddress.of(6, v).toString()}/${plen}`, options: decodeOptions(b, s + 25, e, 'IAPREFIX') };
    }
    default:
      return { kind: 'raw', code, data: b.slice(s, e) };
  }
}

export function decode(b: Uint8Array): Message {
  if (b.length < 4) throw new Dhcpv6DecodeError(`${b.length} bytes is shorter than a DHCPv6 header`);
  const type = b[0]!;
  // Relay-forward / relay-reply (12, 13) have another header; a client never receives them.
  if (type === 12 || type === 13) throw new Dhcpv6DecodeError('relay messages are not client messages');
  return { type, transactionId: (b[1]! << 16) | (b[2]! << 8) | b[3]!, options: decodeOptions(b, 4, b.length, MESSAGE_NAMES[type] ?? `type ${type}`) };
}

// ---- DUIDs (§11). Compared as opaque bytes, as servers do.

/** DUID-LL (type 3) of an Ethernet MAC (hardware type 1). */
export function duidLl(mac: string): Uint8Array {
  const bytes = mac.split(':').map((h) => parseInt(h, 16));
  if (bytes.length !== 6 || bytes.some((x) => !(x >= 0 && x <= 255))) throw new RangeError(`not a MAC: ${mac}`);
  return Uint8Array.from([0, 3, 0, 1, ...bytes]);
}

/** DUID-EN (type 2): enterprise number and identifier (Neutron's PD used 8888 and the subnet id's bytes). */
export function duidEn(enterprise: number, identifier: Uint8Array): Uint8Array {
  return Uint8Array.from([0, 2, ...u32(enterprise), ...identifier]);
}

export const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2) throw new RangeError('odd number of hex digits');
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The first option of a kind at the top level of a message (or an option list). */
export function findOption<K extends Option['kind']>(options: readonly Option[], kind: K): Extract<Option, { kind: K }> | undefined {
  return options.find((o) => o.kind === kind) as Extract<Option, { kind: K }> | undefined;
}
