// `v6stack doctor`: reads the live topology (the API's networks, subnets, ports, routers and agents, and on this host
// the lab instances' addresses) and reports each misconfiguration with its fix. Exit status 1 when anything was
// found, 0 when nothing. The checks are pure (`diagnose`, `labInstanceFindings`); only gathering is I/O.

import type { Command } from 'commander';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { IPV6_MIN_MTU, ROUTER_INTERFACE_OWNERS, dhcpv6Service, isAutoAddressSubnet, isExternalRouterSubnet } from '../../domain/ipv6/index.js';
import { V6STACK_AGENT_BINARY } from '../../domain/dhcp.js';
import { NETWORK, PORT, ROUTER, SUBNET } from '../http.js';
import { clientOf } from './common.js';

const run = promisify(execFile);

export interface DrSubnet {
  id: string;
  name?: string;
  network_id: string;
  ip_version: number;
  cidr: string;
  enable_dhcp: boolean;
  ipv6_ra_mode?: string | null;
  ipv6_address_mode?: string | null;
  dns_nameservers?: string[];
  subnetpool_id?: string | null;
}
export interface DrPort {
  id: string;
  network_id: string;
  device_owner: string;
  device_id: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}
export interface DrState {
  networks: { id: string; name?: string; mtu?: number }[];
  subnets: DrSubnet[];
  ports: DrPort[];
  routers: { id: string; name?: string; external_gateway_info?: unknown }[];
  agents: { host: string; binary: string; alive: boolean; configurations?: Record<string, unknown> }[];
  /** Each BGP speaker with v6stack's explanation of every subnet (GET /v2.0/bgp-speakers/{id}/route_explanations). */
  bgp?: { speaker: { id: string; name?: string }; explanations: { subnet_id: string; cidr: string; advertised: boolean; reasons: string[] }[] }[];
}

export interface Finding {
  /** A stable code for scripts and tests. */
  code: string;
  /** The resource it is about: "subnet <id>", "agent <host>/<binary>", "lab <name>". */
  subject: string;
  problem: string;
  fix: string;
}

const label = (x: { id: string; name?: string }): string => (x.name ? `${x.name} (${x.id})` : x.id);

export function diagnose(state: DrState): Finding[] {
  const out: Finding[] = [];
  const routersBySubnet = new Map<string, string>();
  for (const p of state.ports) if (ROUTER_INTERFACE_OWNERS.has(p.device_owner)) for (const ip of p.fixed_ips) routersBySubnet.set(ip.subnet_id, p.device_id);
  for (const s of state.subnets) {
    if (s.ip_version !== 6) continue;
    const service = dhcpv6Service(s);
    if (service && !(s.dns_nameservers ?? []).length) {
      out.push({ code: 'dhcpv6-without-dns', subject: `subnet ${label(s)}`, problem: `DHCPv6-${service} subnet with no dns_nameservers: its DHCPv6 server answers without DNS servers, so the guest has none`, fix: `v6stack subnet set --dns-nameserver <server> ${s.id}` });
    }
    if (isAutoAddressSubnet(s) && s.cidr.split('/')[1] !== '64') {
      out.push({ code: 'slaac-not-64', subject: `subnet ${label(s)}`, problem: `${s.ipv6_address_mode} on ${s.cidr}: SLAAC needs a /64 (RFC 4862 with EUI-64 identifiers); hosts will not form addresses`, fix: 'recreate the subnet with a /64, or use dhcpv6-stateful for other prefix lengths' });
    }
    const router = routersBySubnet.get(s.id);
    if (router && isExternalRouterSubnet(s)) {
      out.push({ code: 'external-router-subnet-on-router', subject: `subnet ${label(s)}`, problem: `ipv6_address_mode ${s.ipv6_address_mode} without ipv6_ra_mode means an upstream router outside v6stack sends the RAs, yet the subnet is an interface of router ${router}: two routers would answer`, fix: `v6stack router remove subnet ${router} ${s.id}, or set ipv6_ra_mode to ${s.ipv6_address_mode} (recreate the subnet)` });
    }
    if (s.subnetpool_id === 'prefix_delegation') {
      const r = router ? state.routers.find((x) => x.id === router) : undefined;
      if (!r || !r.external_gateway_info) {
        out.push({ code: 'pd-without-gateway', subject: `subnet ${label(s)}`, problem: `prefix-delegation subnet ${r ? `on router ${label(r)}, which has no external gateway` : 'on no router'}: nothing requests its prefix`, fix: r ? `v6stack router set --external-gateway <external network> ${r.id}` : 'v6stack router add subnet <router with an external gateway> ' + s.id });
      }
    }
  }
  for (const n of state.networks) {
    const v6 = state.subnets.some((s) => s.network_id === n.id && s.ip_version === 6);
    if (v6 && n.mtu !== undefined && n.mtu < IPV6_MIN_MTU) {
      out.push({ code: 'mtu-below-1280', subject: `network ${label(n)}`, problem: `MTU ${n.mtu} is below IPv6's minimum link MTU of ${IPV6_MIN_MTU} (RFC 8200 §5): IPv6 on it will not work`, fix: `v6stack network set --mtu ${IPV6_MIN_MTU} ${n.id} (or more; the physical network must carry it)` });
    }
  }
  // The API alone builds nothing: a newcomer who ran `v6stack server` (or `npm start` without root) sees networks in
  // the API and nothing on the wire.
  if (state.networks.length && !state.agents.some((a) => a.alive && a.binary === V6STACK_AGENT_BINARY)) {
    out.push({ code: 'no-agent', subject: 'agents', problem: 'no live v6stack agent: the networks in the API are built nowhere (no bridges, routers, RAs or DHCP servers on any host)', fix: 'start one as root: `npm start` (the API and this host\'s agent) or `v6stack agent` on each host' });
  }
  // A tenant subnet that only its address scope keeps from being announced (it is behind a router on the speaker's
  // network, of the speaker's family): Neutron stays silent there and the subnet is unreachable from outside.
  for (const { speaker, explanations } of state.bgp ?? []) {
    for (const e of explanations) {
      if (e.advertised || !e.reasons.length || !e.reasons.every((r) => /address scope/.test(r))) continue;
      out.push({ code: 'bgp-scope-mismatch', subject: `subnet ${e.cidr} (${e.subnet_id})`, problem: `BGP speaker ${label(speaker)} does not advertise it: ${e.reasons.join('; ')}`, fix: "allocate the subnet from a subnet pool in the gateway network's address scope (or put its pool in that scope: v6stack subnet pool set --address-scope <scope> <pool>)" });
    }
  }
  const v6stackHosts = new Set(state.agents.filter((a) => a.binary === V6STACK_AGENT_BINARY).map((a) => a.host));
  for (const a of state.agents) {
    // A host's "DHCP agent" row is its v6stack agent's DHCP role (api/dhcp-agent-scheduler.ts): one finding per host.
    if (a.binary === 'neutron-dhcp-agent' && v6stackHosts.has(a.host)) continue;
    if (!a.alive) out.push({ code: 'agent-down', subject: `agent ${a.host}/${a.binary}`, problem: 'no heartbeat within agent_down_time: its bridges, routers and DHCP servers are not kept in sync', fix: `start it again on ${a.host} (\`v6stack agent\`, or \`npm start\`), or remove the host` });
    for (const d of (a.configurations?.failing_daemons ?? []) as { id: string; namespace: string; exits_in_a_row: number; last_words?: string[]; fix: string }[]) {
      out.push({ code: 'daemon-failing', subject: `agent ${a.host}/${a.binary}`, problem: `${d.id} in ${d.namespace} keeps failing (${d.exits_in_a_row} exits in a row)${d.last_words?.length ? `: ${d.last_words[d.last_words.length - 1]}` : ''}`, fix: d.fix });
    }
  }
  return out;
}

/** A lab instance's port addresses against what its eth0 holds (global IPv6, IPv4 from DHCP). */
export function labInstanceFindings(name: string, port: DrPort, subnets: ReadonlyMap<string, DrSubnet>, held: readonly string[]): Finding[] {
  const have = new Set(held.map((a) => a.toLowerCase()));
  const missing = port.fixed_ips.filter((ip) => {
    const s = subnets.get(ip.subnet_id);
    // An address the guest is not asked to configure (static IPv6, IPv4 without DHCP) is not expected on the wire.
    if (!s || (s.ip_version === 4 && !s.enable_dhcp) || (s.ip_version === 6 && !s.ipv6_address_mode)) return false;
    return !have.has(ip.ip_address.toLowerCase());
  });
  if (!missing.length) return [];
  return [{ code: 'instance-missing-address', subject: `lab ${name}`, problem: `eth0 does not hold ${missing.map((m) => m.ip_address).join(', ')} of port ${port.id} (it holds ${held.join(', ') || 'no global address'})`, fix: `v6stack explain port ${port.id} (who should deliver it), then v6stack lab show ${name} and v6stack lab capture ${name} --decode` }];
}

async function labAddresses(ns: string): Promise<string[] | null> {
  try {
    const { stdout } = await run('ip', ['-n', ns, '-json', 'addr', 'show', 'dev', 'eth0']);
    const links = JSON.parse(stdout || '[]') as { addr_info?: { local: string; scope: string }[] }[];
    return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => a.local));
  } catch {
    return null; // no such namespace on this host
  }
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('inspect the live topology and report each misconfiguration with its fix (exit 1 when anything is found)')
    .option('-f, --format <format>', 'text or json', 'text')
    .action(async (o: { format: string }, cmd: Command) => {
      const client = clientOf(cmd);
      const [networks, subnets, ports, routers, agents] = await Promise.all([
        client.list(NETWORK),
        client.list(SUBNET),
        client.list(PORT),
        client.list(ROUTER),
        client.request('GET', 'agents').then((r) => (r?.agents ?? []) as DrState['agents']),
      ]);
      // BGP (neutron-dynamic-routing's API): each speaker's explanation of what it does not advertise, and why.
      const speakers = ((await client.request('GET', 'bgp-speakers').catch(() => null))?.bgp_speakers ?? []) as { id: string; name?: string }[];
      const bgp = await Promise.all(
        speakers.map(async (speaker) => ({ speaker, explanations: ((await client.request('GET', `bgp-speakers/${speaker.id}/route_explanations`))?.route_explanations ?? []) as NonNullable<DrState['bgp']>[number]['explanations'] })),
      );
      const state = { networks, subnets, ports, routers, agents, bgp } as unknown as DrState;
      const findings = diagnose(state);
      const bySubnet = new Map(state.subnets.map((s) => [s.id, s]));
      for (const p of state.ports.filter((x) => x.device_id.startsWith('lab-'))) {
        const held = await labAddresses(p.device_id);
        if (held !== null) findings.push(...labInstanceFindings(p.device_id.slice(4), p, bySubnet, held));
      }
      if (o.format === 'json') process.stdout.write(JSON.stringify({ findings }, null, 2) + '\n');
      else if (!findings.length) process.stdout.write('no problems found\n');
      else for (const f of findings) process.stdout.write(`${f.subject}: ${f.problem}\n  fix: ${f.fix}\n`);
      process.exitCode = findings.length ? 1 : 0;
    });
}
