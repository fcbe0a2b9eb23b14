// BIRD 2 configuration for one BGP speaker (Debian's bird2). PURE: the speaker's whole desired state is this one text
// (the advertised routes as a static protocol, one BGP protocol per peer), so the supervisor's "write it, SIGHUP"
// is the whole engine: BIRD's reconfiguration diffs the static routes and sends only the updates and withdrawals,
// and keeps every session whose protocol did not change (BIRD 2 User's Guide, "Reconfiguration").
//
// Why BIRD and not GoBGP (the issue's expected choice): gobgpd's configuration file holds peers but no routes, so
// every prefix would be an imperative `gobgp global rib add/del` (or gRPC) call the agent must keep in step with
// the plan, outside the supervisor's declarative model; BIRD takes the same state as a file and applies the
// difference itself. GoBGP and FRR remain the test peers (test/agent-integration/bgp.test.ts).

import { IpAddress } from '../domain/ip.js';

export interface BirdPeer {
  /** The bgp-peer's id: names its protocol, so a peer's session survives other peers coming and going. */
  id: string;
  peerIp: string;
  remoteAs: number;
  /** TCP MD5 (RFC 2385) password; null for auth_type none. */
  password: string | null;
  /** Our address for this session: the router gateway address of the peer's IP version. */
  localIp: string;
}

export interface BirdSpeaker {
  speakerId: string;
  localAs: number;
  ipVersion: 4 | 6;
  /** The BGP identifier (32 bits, dotted quad). */
  routerId: string;
  peers: BirdPeer[];
  routes: { destination: string; next_hop: string }[];
  /** Seconds a peer keeps our routes while we restart (RFC 4724 Restart Time). */
  gracefulRestartTime?: number;
}

/** A BIRD string literal: BIRD's lexer has no escapes, so a string may not hold a double quote or a newline. */
const quoted = (s: string): string => `"${s}"`;
const birdStringSafe = (s: string): boolean => !/["\n\r\\]/.test(s);

/**
 * The BGP identifier: the IPv4 gateway address if the router has one, else 32 bits of the speaker's id (an
 * IPv6-only namespace has no IPv4 address BIRD could pick; the identifier only has to be unique in the AS).
 */
export function bgpRouterId(speakerId: string, ipv4Gateway: string | null): string {
  if (ipv4Gateway && IpAddress.parse(ipv4Gateway)?.version === 4) return ipv4Gateway;
  const hex = speakerId.replace(/[^0-9a-f]/gi, '').slice(0, 8).padEnd(8, '0');
  let n = parseInt(hex, 16) >>> 0;
  if (n === 0) n = 1;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function renderBirdConf(s: BirdSpeaker): string {
  const family = s.ipVersion === 6 ? 'ipv6' : 'ipv4';
  const lines = [
    `# v6stack BGP speaker ${s.speakerId} (AS ${s.localAs}); rewritten by the agent, reloaded with SIGHUP`,
    `router id ${s.routerId};`,
    'log stderr all;',
    // Interfaces and their addresses (the sessions' local addresses).
    'protocol device { }',
    '',
    `protocol static advertised {`,
    `  ${family};`,
  ];
  // Blackhole routes with the next hop as an attribute: they are never installed (no kernel protocol), and a next
  // hop that is our own gateway address would not resolve as a `via` neighbour in BIRD.
  for (const r of s.routes) lines.push(`  route ${r.destination} blackhole { bgp_next_hop = ${r.next_hop}; };`);
  lines.push('}', '');
  for (const p of s.peers) {
    if (p.password !== null && !birdStringSafe(p.password)) {
      // Skipped rather than sent without authentication; the peer's session stays down until the password changes.
      lines.push(`# peer ${p.peerIp} skipped: its MD5 password holds a character a BIRD string cannot (a double quote, backslash or newline)`);
      continue;
    }
    lines.push(`protocol bgp peer_${p.id.replace(/[^0-9A-Za-z]/g, '_')} {`);
    lines.push(`  description ${quoted(`peer ${p.peerIp} AS ${p.remoteAs}`)};`);
    lines.push(`  local ${p.localIp} as ${s.localAs};`);
    lines.push(`  neighbor ${p.peerIp} as ${p.remoteAs};`);
    if (p.password !== null) lines.push(`  password ${quoted(p.password)};`);
    lines.push('  graceful restart on;');
    lines.push(`  graceful restart time ${s.gracefulRestartTime ?? 120};`);
    // The routers' gateway addresses are the next hops (third party on the shared gateway network), never ours.
    lines.push(`  ${family} { import none; export where proto = "advertised"; next hop keep; };`);
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}
