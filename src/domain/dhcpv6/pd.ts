// The requesting router's side of DHCPv6 prefix delegation (RFC 8415 §18.2, with RFC 3633's IA_PD): the messages it
// sends, what it accepts from a server, its retransmission timers and its lease arithmetic. PURE: the socket, the
// clock and the random numbers are the caller's (agent/pd-client.ts).
//
// One IA_PD per subnet, each with its own exchanges: a subnet joins or leaves a router on its own (add/remove
// router interface), and its prefix is renewed, re-delegated or released without touching the others'. The IAID is
// the subnet id's first 32 bits, so it is stable across agent restarts and the server sees the same binding.

import { IpPrefix } from '../ip.js';
import { MessageType, StatusCode, findOption, sameBytes, type Message, type Option } from './codec.js';

/** RFC 8415 §7.6 transmission and retransmission parameters, in seconds (MRC 0 = no limit). */
export interface RetransmitParams {
  irt: number;
  mrt: number;
  mrc: number;
}
export const SOLICIT: RetransmitParams = { irt: 1, mrt: 3600, mrc: 0 };
export const REQUEST: RetransmitParams = { irt: 1, mrt: 30, mrc: 10 };
export const RENEW: RetransmitParams = { irt: 10, mrt: 600, mrc: 0 };
export const REBIND: RetransmitParams = { irt: 10, mrt: 600, mrc: 0 };
export const RELEASE: RetransmitParams = { irt: 1, mrt: 0, mrc: 4 };
/** OPTION_SOL_MAX_RT and the DNS servers are what a PD client asks for (§21.7: the ORO of a Solicit includes 82). */
export const REQUESTED_OPTIONS = [82];

/**
 * §15: the next retransmission timeout in seconds. `prev` null for the first transmission; `rand` in [-0.1, 0.1]
 * (for the first Solicit it must be positive: the caller passes a positive one).
 */
export function nextTimeout(prev: number | null, p: RetransmitParams, rand: number): number {
  let rt = prev === null ? p.irt + rand * p.irt : 2 * prev + rand * prev;
  if (p.mrt > 0 && rt > p.mrt) rt = p.mrt + rand * p.mrt;
  return rt;
}

/** The IAID of a subnet's IA_PD: the first 32 bits of its UUID. */
export function iaidOf(subnetId: string): number {
  return parseInt(subnetId.replace(/-/g, '').slice(0, 8), 16) >>> 0;
}

export interface IaRequest {
  iaid: number;
  /** A prefix the client had, as a hint (§18.2.1 Solicit may carry IA Prefix options as hints). */
  hint?: string;
  /** The prefix length wanted (a hint of ::/64). */
  length?: number;
}

export interface Lease {
  iaid: number;
  /** The delegated prefix as the server gave it (may be shorter than /64). */
  prefix: string;
  preferred: number;
  valid: number;
  /** Effective T1/T2 in seconds (the server's, or §14.2's 0.5 / 0.8 of the preferred lifetime when it sent 0). */
  t1: number;
  t2: number;
  /** Hex of the server's DUID. */
  serverId: string;
  /** ms since the epoch. */
  obtainedAt: number;
}

const INFINITY = 0xffffffff;

function iaPd(ia: IaRequest, prefixOptions: Option[]): Option {
  return { kind: 'ia-pd', iaid: ia.iaid, t1: 0, t2: 0, options: prefixOptions };
}

function hintOf(ia: IaRequest): Option[] {
  if (ia.hint) return [{ kind: 'ia-prefix', preferred: 0, valid: 0, prefix: ia.hint, options: [] }];
  if (ia.length) return [{ kind: 'ia-prefix', preferred: 0, valid: 0, prefix: `::/${ia.length}`, options: [] }];
  return [];
}

export interface Exchange {
  duid: Uint8Array;
  transactionId: number;
  /** Hundredths of a second since the exchange's first message (§21.9). */
  elapsed: number;
}

function base(type: number, x: Exchange): Message {
  return { type, transactionId: x.transactionId, options: [{ kind: 'client-id', duid: x.duid }] };
}

/** §18.2.1 Solicit: client id, elapsed time, ORO, one IA_PD with an optional hint. */
export function solicit(x: Exchange, ia: IaRequest): Message {
  const m = base(MessageType.SOLICIT, x);
  m.options.push({ kind: 'elapsed-time', centiseconds: x.elapsed }, { kind: 'oro', codes: REQUESTED_OPTIONS }, iaPd(ia, hintOf(ia)));
  return m;
}

/** §18.2.2 Request to the chosen server, with the prefix it advertised. */
export function request(x: Exchange, serverId: Uint8Array, ia: IaRequest, advertised: string): Message {
  const m = base(MessageType.REQUEST, x);
  m.options.push({ kind: 'server-id', duid: serverId }, { kind: 'elapsed-time', centiseconds: x.elapsed }, { kind: 'oro', codes: REQUESTED_OPTIONS }, iaPd(ia, [{ kind: 'ia-prefix', preferred: 0, valid: 0, prefix: advertised, options: [] }]));
  return m;
}

function withLease(type: number, x: Exchange, lease: Lease, serverId: Uint8Array | null): Message {
  const m = base(type, x);
  if (serverId) m.options.push({ kind: 'server-id', duid: serverId });
  m.options.push({ kind: 'elapsed-time', centiseconds: x.elapsed });
  if (type !== MessageType.RELEASE) m.options.push({ kind: 'oro', codes: REQUESTED_OPTIONS });
  m.options.push(iaPd({ iaid: lease.iaid }, [{ kind: 'ia-prefix', preferred: 0, valid: 0, prefix: lease.prefix, options: [] }]));
  return m;
}

/** §18.2.4 Renew (to the server that delegated), §18.2.5 Rebind (to any server: no server id), §18.2.7 Release. */
export const renew = (x: Exchange, lease: Lease, serverId: Uint8Array): Message => withLease(MessageType.RENEW, x, lease, serverId);
export const rebind = (x: Exchange, lease: Lease): Message => withLease(MessageType.REBIND, x, lease, null);
export const release = (x: Exchange, lease: Lease, serverId: Uint8Array): Message => withLease(MessageType.RELEASE, x, lease, serverId);

export type Outcome =
  | { kind: 'lease'; lease: Lease; serverPreference: number }
  /** The server has no prefix for this IA (NoPrefixAvail), or no binding (NoBinding, on Renew/Rebind). */
  | { kind: 'refused'; status: number; message: string }
  /** Not for us, or malformed: drop it (§16). */
  | { kind: 'ignore'; why: string };

/**
 * What an Advertise or Reply says about one IA (§16 validation, §18.2.9/§18.2.10): it must answer our transaction,
 * carry our client id and a server id. An IA_PD with T1 > T2, or a prefix whose preferred lifetime exceeds its valid
 * lifetime, is discarded (§21.21, §21.22). Prefixes with valid lifetime 0 are the server withdrawing them.
 */
export function interpret(m: Message, x: Pick<Exchange, 'duid' | 'transactionId'>, iaid: number, now: number, expect: 'advertise' | 'reply'): Outcome {
  const want = expect === 'advertise' ? MessageType.ADVERTISE : MessageType.REPLY;
  if (m.type !== want) return { kind: 'ignore', why: `message type ${m.type}, expected ${want}` };
  if (m.transactionId !== x.transactionId) return { kind: 'ignore', why: 'another transaction' };
  const client = findOption(m.options, 'client-id');
  if (!client || !sameBytes(client.duid, x.duid)) return { kind: 'ignore', why: 'not our client id' };
  const server = findOption(m.options, 'server-id');
  if (!server) return { kind: 'ignore', why: 'no server id' };
  const top = findOption(m.options, 'status-code');
  if (top && top.code !== StatusCode.Success) return { kind: 'refused', status: top.code, message: top.message };
  const ia = m.options.find((o): o is Extract<Option, { kind: 'ia-pd' }> => o.kind === 'ia-pd' && o.iaid === iaid);
  if (!ia) return { kind: 'refused', status: StatusCode.NoPrefixAvail, message: 'no IA_PD for this IAID in the answer' };
  const st = findOption(ia.options, 'status-code');
  if (st && st.code !== StatusCode.Success) return { kind: 'refused', status: st.code, message: st.message };
  if (ia.t1 > ia.t2 && ia.t2 > 0) return { kind: 'ignore', why: `IA_PD with T1 ${ia.t1} > T2 ${ia.t2}` };
  const prefixes = ia.options.filter((o): o is Extract<Option, { kind: 'ia-prefix' }> => o.kind === 'ia-prefix' && o.preferred <= o.valid && o.valid > 0);
  if (!prefixes.length) return { kind: 'refused', status: StatusCode.NoPrefixAvail, message: 'no usable prefix in the IA_PD' };
  const p = prefixes[0]!;
  const preferred = p.preferred;
  const t1 = ia.t1 > 0 ? ia.t1 : preferred === INFINITY ? INFINITY : Math.floor(preferred * 0.5);
  const t2 = ia.t2 > 0 ? ia.t2 : preferred === INFINITY ? INFINITY : Math.floor(preferred * 0.8);
  const pref = findOption(m.options, 'preference')?.value ?? 0;
  const hexId = [...server.duid].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { kind: 'lease', lease: { iaid, prefix: p.prefix, preferred, valid: p.valid, t1, t2, serverId: hexId, obtainedAt: now }, serverPreference: pref };
}

/** When, in ms since the epoch, a lease is due for Renew (T1), Rebind (T2), and when it expires (valid lifetime). */
export function leaseTimes(l: Lease): { renewAt: number; rebindAt: number; expiresAt: number } {
  const at = (s: number): number => (s === INFINITY ? Number.MAX_SAFE_INTEGER : l.obtainedAt + s * 1000);
  return { renewAt: at(l.t1), rebindAt: at(l.t2), expiresAt: at(l.valid) };
}

/** The /64 a subnet takes from a delegated prefix: the prefix itself, or the first /64 of a shorter one. */
export function subnetPrefixOf(delegated: string): string | null {
  const p = IpPrefix.parse(delegated);
  if (!p || p.version !== 6 || p.length > 64) return null;
  return IpPrefix.of(p.network, 64).toString();
}
