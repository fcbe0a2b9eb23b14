// An HA router's services across a failover (issue 20): prefix delegation, extra routes and floating IPs. Two network
// nodes (a, b) and a compute node (c) on an IPv6 underlay, as ha.test.ts builds them; the DC on c runs Kea as the
// delegating server (`lab dc --pd-pool ... --pd-server kea`). The HA router has a PD subnet and an IPv4 subnet, an
// extra route, and a floating IP for the instance.
//
// Before the failover: only the master's PD client holds a lease (the backup's is on standby); the extra route is on
// the master only. Then the master's HA link goes down (its keepalived goes FAULT; the node stays up, so its PD client
// could still send): the instance keeps its address in the delegated prefix and its pings to the DC flow again; the
// subnet's cidr never changes in the API; the new master reclaims the same prefix with a Rebind (no Solicit), the old
// one sends no Release (tshark on the DC's side of the external network); Kea's lease file holds one prefix for the
// router before and after; the extra route moves; the floating IP answers from the DC again, the DC's neighbour entry
// for it is the router's gateway MAC, and the instance's IPv4 leaves as its floating IP, then (disassociated) as the
// gateway address (SNAT). Last, the new
// master's agent restarts while its client renews: the lease resumes, no failover, no Solicit or Release.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eui64Address } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { pdLeaseFile } from '../../src/lab/dc-pd.js';
import { AgentProcess, globalAddrs, ipJson, pingFrom, sh, shAsync, skipReason, startEnv, until, LAB_HOSTS, must, PingStream, pingUntil as pingWithin, Underlay, capturePackets, type LabHost } from './lab-harness.js';

const skip = skipReason(['ip', 'bridge', 'nsenter', 'radvd', 'keepalived', 'nft', 'ping', 'tshark', 'tcpdump', 'kea-dhcp6', 'conntrack']);

type Host = LabHost;
const HOSTS = LAB_HOSTS;
const ROLE: Record<Host, string> = { a: 'network', b: 'network', c: 'compute' };

/** tshark on a namespace's link for DHCPv6: each message's type (RFC 8415 §7.3) and source, as they come. */
class Dhcpv6Capture {
  messages: { type: number; src: string }[] = [];
  err = '';
  private child: ChildProcess;
  constructor(ns: string, dev: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, 'tshark', '-l', '-n', '-i', dev, '-f', 'udp port 546 or udp port 547', '-T', 'fields', '-e', 'dhcpv6.msgtype', '-e', 'ipv6.src'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const [type, src] = l.split('\t');
        // A relayed message carries several types; the first is the outer one.
        if (type) this.messages.push({ type: Number(type.split(',')[0]), src: src ?? '' });
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
  }
  async started(): Promise<void> {
    // tshark loads its dissectors first: slow on a loaded machine.
    await until('tshark capturing', () => /Capturing on/.test(this.err), 120_000);
  }
  stop(): void {
    this.child.kill('SIGTERM');
  }
}

/** Kea's memfile rows (leases6.csv) of IA_PD leases (lease_type 2) for a DUID: address, prefix length, valid lifetime. */
function keaPdRows(file: string, duid: string): { prefix: string; valid: number }[] {
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const col = (name: string): number => header!.split(',').indexOf(name);
  const [a, d, v, t, l] = ['address', 'duid', 'valid_lifetime', 'lease_type', 'prefix_len'].map(col) as [number, number, number, number, number];
  return rows
    .map((r) => r.split(','))
    .filter((f) => f[t] === '2' && f[d]!.replaceAll(':', '').toLowerCase() === duid)
    .map((f) => ({ prefix: `${f[a]}/${f[l]}`, valid: Number(f[v]) }));
}

/** Pings until one is answered; 60 s by default here (a failover, a PD renewal may be under way). */
const pingUntil = (ns: string, target: string, family: 4 | 6, deadlineMs = 60_000): Promise<void> => pingWithin(ns, target, family, deadlineMs);

/** tcpdump in `ns` on `dev`: the first line matching `filter` while `traffic` runs (bounded: 30 s). */
const firstPacket = async (ns: string, dev: string, filter: string, traffic: () => Promise<unknown>): Promise<string> => (await capturePackets(ns, dev, filter, traffic)).join('\n');

test('HA router services across a failover: the delegated prefix reclaimed by the new master (no Release, no new prefix), extra routes and floating IPs move with it', { skip, timeout: 900_000 }, async () => {
  const env = await startEnv({ listen: '::', serverArgs: ['--overlay-ip-version', '6', '--agent-down-time', '3', '--ipv6-pd-enabled'] });
  const u = new Underlay(env);
  const { t, hostNs, names } = u;
  const state = { a: join(env.dir, 'agent-a'), b: join(env.dir, 'agent-b'), c: join(env.dir, 'agent-c') };
  const tunnel = (k: Host): string => u.tunnel(k);
  const brNs = (k: Host): string => u.brNs(k);
  const suffix = (k: Host): string => `@${k}`;
  const dcName = `${env.tag}dc`;
  const dcNs = `lab-${dcName}`;
  let stream: PingStream | undefined;
  let capture: Dhcpv6Capture | undefined;
  let routerId = '';
  let sampling = false;
  try {
    await u.build();
    await env.agent.stop();
    const start = (k: Host): AgentProcess =>
      u.start(k, state[k], ['--role', ROLE[k], '--report-interval', '1', '--resync-interval', '5', ...(ROLE[k] === 'network' ? ['--namespace-suffix', suffix(k)] : [])]);
    const agent: Record<Host, AgentProcess> = { a: start('a'), b: start('b'), c: start('c') };
    for (const k of HOSTS) await agent[k].waitLine(/in sync:/);

    // The external network (dual-stack; its DC on c), a tenant network with a PD subnet and an IPv4 subnet, and an
    // HA router between them with an extra route.
    const dns6 = `2001:db8:${t}:a::e`;
    const dns4 = '192.0.2.253';
    const pool = `fd00:${t}::/48`;
    const pub = (await env.api('POST', '/v2.0/networks', { network: { name: `spub-${env.tag}`, 'router:external': true } })).network;
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: pub.id, ip_version: 6, cidr: `2001:db8:${t}:d::/64`, gateway_ip: `2001:db8:${t}:d::1`, enable_dhcp: false, allocation_pools: [{ start: `2001:db8:${t}:d::5`, end: `2001:db8:${t}:d::ff` }] } });
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: pub.id, ip_version: 4, cidr: '192.0.2.0/26', gateway_ip: '192.0.2.1', enable_dhcp: false, allocation_pools: [{ start: '192.0.2.5', end: '192.0.2.62' }] } });
    await env.api('POST', '/v2.0/ports', { port: { network_id: pub.id, name: 'dc anchor', device_id: `dc-${env.tag}`, device_owner: 'compute:lab', 'binding:host_id': names.c } });
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `sten-${env.tag}` } })).network;
    const pd = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, use_default_subnetpool: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    assert.equal(pd.subnetpool_id, 'prefix_delegation');
    // No DHCP: both network nodes would serve it from one qdhcp- namespace name (legacy services are not scheduled
    // over several network nodes, docs/dataplane.md); the instance takes its IPv4 address from its port.
    const t4 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.64/26', enable_dhcp: false } })).subnet;
    const extra = { destination: `2001:db8:${t}:99::/64`, nexthop: `2001:db8:${t}:d::1` };
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `has-${env.tag}`, ha: true, external_gateway_info: { network_id: pub.id } } })).router;
    routerId = router.id;
    for (const k of ['a', 'b'] as const) env.extraNs.push(`qrouter-${router.id}${suffix(k)}`);
    for (const s of [pd, t4]) await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s.id });
    await env.api('PUT', `/v2.0/routers/${router.id}`, { router: { routes: [extra] } });
    const haPorts = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_ha_interface`)).ports as any[];
    assert.deepEqual(haPorts.map((p) => p['binding:host_id']).sort(), [names.a, names.b], 'scheduled on both network nodes');
    const qg = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_gateway`)).ports[0];
    const gw6 = qg.fixed_ips.find((f: any) => f.ip_address.includes(':')).ip_address as string;
    const gw4 = qg.fixed_ips.find((f: any) => !f.ip_address.includes(':')).ip_address as string;
    const haLink = (k: 'a' | 'b'): string => `ha-${haPorts.find((p) => p['binding:host_id'] === names[k]).id.slice(0, 11)}`;
    const rns = (k: 'a' | 'b'): string => `qrouter-${router.id}${suffix(k)}`;
    const other = (k: 'a' | 'b'): 'a' | 'b' => (k === 'a' ? 'b' : 'a');
    const active = async (): Promise<'a' | 'b' | undefined> => {
      const list = (await env.api('GET', `/v2.0/routers/${router.id}/l3-agents`)).agents as any[];
      const act = list.filter((x) => x.ha_state === 'active');
      if (act.length !== 1) return undefined;
      return act[0].host === names.a ? 'a' : act[0].host === names.b ? 'b' : undefined;
    };
    const stateFile = (k: 'a' | 'b'): string => readFileSync(join(state[k], 'keepalived', router.id, 'state'), 'utf8').trim();
    const master = await until('one node active in the API', active, 60_000);
    const backup = other(master);
    await until(`standby ${backup} BACKUP`, () => stateFile(backup) === 'BACKUP');
    const logs = (): string => (['a', 'b'] as const).map((k) => `--- agent ${k}\n${agent[k].lines.filter((l) => /pd-client|prefix|subnet|HA router|ERROR|keepalived/.test(l)).slice(-30).join('\n')}`).join('\n');

    // The DC with Kea delegating from the pool (short timers: renewals happen during the test).
    const labOn = (args: string[]) => shAsync([process.execPath, 'dist/src/cli/main.js', 'lab', ...args, '--server', env.url, '--host', names.c, '--state-dir', env.labDir]);
    const dcArgs = ['dc', '--network', pub.id, '--name', dcName, '--behind', dns6, dns4, '--pd-pool', pool, '--pd-length', '64', '--pd-server', 'kea', '--pd-timers', '10,16,60,120'];
    const dc = await labOn(dcArgs);
    assert.equal(dc.status, 0, dc.stderr);
    const dcDir = join(env.labDir, dcName);

    // The master's client gets the prefix; the API renumbers the subnet.
    const delegated = await until('the subnet takes a delegated prefix', async () => {
      const s = (await env.api('GET', `/v2.0/subnets/${pd.id}`)).subnet;
      return s.cidr !== '::/64' ? (s.cidr as string) : false;
    }, 90_000).catch((e: Error) => assert.fail(`${e.message}\n${logs()}`));
    assert.ok(IpPrefix.parse(pool)!.covers(IpPrefix.parse(delegated)!), `${delegated} is from ${pool}`);
    const pdDir = (k: 'a' | 'b'): string => join(state[k], 'pd', router.id);
    // A client that never held a lease has written no leases.json.
    const leases = (k: 'a' | 'b'): Record<string, { prefix: string }> => (existsSync(join(pdDir(k), 'leases.json')) ? JSON.parse(readFileSync(join(pdDir(k), 'leases.json'), 'utf8')) : {});
    const pdJson = (k: 'a' | 'b'): { standby?: boolean; duid: string } => JSON.parse(readFileSync(join(pdDir(k), 'pd.json'), 'utf8'));
    assert.equal(leases(master)[pd.id]?.prefix, delegated);
    await until(`the backup ${backup}'s client on standby, without a lease`, () => pdJson(backup).standby === true && Object.keys(leases(backup)).length === 0, 30_000);
    assert.equal(pdJson(backup).duid, pdJson(master).duid, 'one DUID for the router on both nodes');
    const duid = pdJson(master).duid;
    await until('Kea has the lease', () => keaPdRows(pdLeaseFile(dcDir, 'kea'), duid).length > 0, 20_000);

    // The DC routes the prefix back (via the gateway's address, a VIP that moves with the master).
    const again = await labOn(dcArgs);
    assert.equal(again.status, 0, again.stderr);
    assert.ok(JSON.parse(again.stdout).routes.some((r: any) => r.dst === delegated && r.via === gw6), again.stdout);

    // The instance: SLAAC in the delegated prefix, IPv4 by DHCP; ICMP in from anywhere (the default group admits only
    // its members), so the floating IP answers the DC.
    const inst = `${env.tag}i`;
    const boot = await labOn(['boot', '--network', net.id, '--name', inst]);
    assert.equal(boot.status, 0, `${boot.stderr}\n${logs()}`);
    const ns = `lab-${inst}`;
    const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${inst}`)).ports[0];
    const addr4 = port.fixed_ips.find((f: any) => f.subnet_id === t4.id).ip_address as string;
    must(['ip', '-n', ns, 'addr', 'add', `${addr4}/26`, 'dev', 'eth0']);
    must(['ip', '-n', ns, 'route', 'replace', 'default', 'via', t4.gateway_ip, 'dev', 'eth0']);
    const addr6 = eui64Address(IpPrefix.parse(delegated)!, port.mac_address).toString();
    await until(`the instance configures ${addr6}/64`, () => globalAddrs(ns).includes(`${addr6}/64`), 90_000);
    for (const ethertype of ['IPv4', 'IPv6']) await env.api('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: port.security_groups[0], direction: 'ingress', ethertype, protocol: ethertype === 'IPv4' ? 'icmp' : 'ipv6-icmp' } });
    const fip = (await env.api('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: pub.id, port_id: port.id } })).floatingip;
    const F = fip.floating_ip_address as string;
    await pingFrom(ns, dns6, 60_000);
    await pingUntil(ns, dns4, 4);
    const fipDiag = (k: 'a' | 'b'): string => {
      const dir = join(state[k], 'keepalived', router.id);
      return [`--- ${k} (${stateFile(k)}) qg:`, sh(['ip', '-n', rns(k), 'addr']).stdout, sh(['ip', 'netns', 'exec', rns(k), 'nft', 'list', 'ruleset']).stdout, readFileSync(join(dir, 'keepalived.conf'), 'utf8'), readFileSync(join(dir, 'keepalived.log'), 'utf8').split('\n').slice(-15).join('\n'), agent[k].lines.filter((l) => /NAT|ARP|keepalived|ERROR/.test(l)).slice(-15).join('\n')].join('\n');
    };
    await pingUntil(dcNs, F, 4).catch((e: Error) => assert.fail(`${e.message}\n${fipDiag(master)}\n${fipDiag(backup)}\n${sh(['ip', '-n', dcNs, 'neigh']).stdout}`));
    const neighF = (): string => String(ipJson(dcNs, ['-4', 'neigh', 'show', F])[0]?.lladdr ?? '');
    assert.equal(neighF(), qg.mac_address, "the DC's neighbour entry for the floating IP: the router's gateway MAC");
    // Where c's bridge sends that MAC: the VXLAN tunnel to the master (learnt; keepalived's gratuitous ARPs move it).
    const fdbDst = (): string[] => (JSON.parse(sh(['ip', 'netns', 'exec', brNs('c'), 'bridge', '-j', 'fdb', 'show']).stdout || '[]') as any[]).filter((e) => e.mac === qg.mac_address && e.dst).map((e) => String(e.dst));
    await until(`c's bridge sends ${qg.mac_address} to ${tunnel(master)}`, () => fdbDst().length > 0 && fdbDst().every((d) => d === tunnel(master)), 30_000).catch((e: Error) => assert.fail(`${e.message}: ${fdbDst()}`));

    // Extra route: the master's, not the backup's.
    const hasRoute = (k: 'a' | 'b'): boolean => ipJson(rns(k), ['-6', 'route', 'show', extra.destination]).some((r: any) => r.gateway === extra.nexthop);
    await until(`the extra route on the master ${master}`, () => hasRoute(master), 30_000);
    assert.equal(hasRoute(backup), false, 'no extra route on the backup');

    // The failover: the master's HA link goes down; keepalived there goes FAULT, the other node takes over.
    capture = new Dhcpv6Capture(dcNs, 'eth0');
    await capture.started();
    stream = new PingStream(ns, dns6);
    await until('the ping stream flows', () => stream!.replies.length > 10);
    const rowsBefore = keaPdRows(pdLeaseFile(dcDir, 'kea'), duid);
    assert.deepEqual([...new Set(rowsBefore.map((r) => r.prefix))], [delegated], `one prefix for the router in Kea:\n${JSON.stringify(rowsBefore)}`);
    let cidrChanged = '';
    sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const c = (await env.api('GET', `/v2.0/subnets/${pd.id}`)).subnet.cidr;
        if (c !== delegated) cidrChanged ||= c;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const at = Date.now();
    const markA = agent.a.lines.length;
    const markB = agent.b.lines.length;
    must(['ip', '-n', rns(master), 'link', 'set', haLink(master), 'down']);
    const next = await until(`the API shows ${backup} active`, async () => ((await active()) === backup ? backup : undefined), 60_000);
    await until('traffic flows again', () => stream!.lastReply() > Date.now() - 200 && stream!.lastReply() > at, 30_000);
    const nextAgent = agent[next];
    const reclaimed = await nextAgent.waitLine(/\] reclaimed: subnet .* prefix /, next === 'a' ? markA : markB, 60_000).catch((e: Error) => assert.fail(`${e.message}\n${logs()}`));
    assert.ok(reclaimed.line.includes(delegated), reclaimed.line);
    assert.equal(leases(next)[pd.id]?.prefix, delegated);
    await until(`the old master ${master}'s client on standby, its leases forgotten`, () => pdJson(master).standby === true && Object.keys(leases(master)).length === 0, 30_000);
    // A renewal by the new master (Kea's T1 is 10 s), still the same prefix.
    const renewed = await nextAgent.waitLine(/\] renewed: subnet .* prefix /, reclaimed.index, 60_000);
    assert.ok(renewed.line.includes(delegated), renewed.line);
    sampling = false;
    await sampler;
    assert.equal(cidrChanged, '', `the subnet's cidr changed during the failover to ${cidrChanged}`);
    capture.stop();
    const types = capture.messages.map((m) => m.type);
    // RFC 8415 §7.3: 1 Solicit, 5 Renew, 6 Rebind, 7 Reply, 8 Release.
    assert.ok(!types.includes(8), `no Release on the wire: ${JSON.stringify(capture.messages)}`);
    assert.ok(!types.includes(1), `no Solicit: the prefix is reclaimed, not asked for: ${JSON.stringify(capture.messages)}`);
    assert.ok(types.includes(6) && types.includes(7), `a Rebind and its Reply: ${JSON.stringify(capture.messages)}`);
    assert.ok(!/RELEASE/.test(readFileSync(join(dcDir, 'pd-server.log'), 'utf8')), 'Kea logged no Release');
    const rowsAfter = keaPdRows(pdLeaseFile(dcDir, 'kea'), duid);
    assert.deepEqual([...new Set(rowsAfter.map((r) => r.prefix))], [delegated], `one prefix for the router in Kea after:\n${JSON.stringify(rowsAfter)}`);
    assert.ok(rowsAfter.length > rowsBefore.length && rowsAfter.every((r) => r.valid > 0), `extended, never released:\n${JSON.stringify(rowsAfter)}`);

    // The instance keeps its address in the prefix and reaches the DC; the extra route moved.
    assert.ok(globalAddrs(ns).includes(`${addr6}/64`));
    await pingFrom(ns, dns6, 30_000);
    await until(`the extra route on the new master ${next}`, () => hasRoute(next), 30_000);
    assert.equal(hasRoute(master), false, 'the extra route left the old master');

    // The floating IP through the new master: the DC reaches it, its neighbour entry is the gateway MAC (the new
    // master's gratuitous ARP), and the instance's own IPv4 traffic leaves as the gateway address (SNAT).
    await pingUntil(dcNs, F, 4, 30_000);
    assert.equal(neighF(), qg.mac_address);
    await until(`c's bridge sends ${qg.mac_address} to ${tunnel(next)}`, () => fdbDst().length > 0 && fdbDst().every((d) => d === tunnel(next)), 30_000).catch((e: Error) => assert.fail(`${e.message}: ${fdbDst()}`));
    const leaving = (): Promise<string> => firstPacket(dcNs, 'eth0', `icmp and icmp[icmptype] == icmp-echo and dst host ${dns4}`, () => pingUntil(ns, dns4, 4, 30_000));
    const dots = (a: string): string => a.replaceAll('.', '\\.');
    let seen = await leaving();
    assert.match(seen, new RegExp(`IP ${dots(F)} > ${dots(dns4)}: ICMP echo request`), `the instance's own traffic leaves as its floating IP:\n${seen}`);
    // Without the floating IP, the new master's SNAT: the gateway's address.
    await env.api('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } });
    await until('the floating IP left the new master', () => !sh(['ip', 'netns', 'exec', rns(next), 'nft', 'list', 'map', 'ip', 'v6stack_nat', 'fixed_to_floating']).stdout.includes(F), 30_000);
    seen = await leaving();
    assert.match(seen, new RegExp(`IP ${dots(gw4)} > ${dots(dns4)}: ICMP echo request`), `SNAT to the gateway address:\n${seen}`);
    // The old master comes back as a backup, silent: no gratuitous ARP or PD message from it.
    must(['ip', '-n', rns(master), 'link', 'set', haLink(master), 'up']);
    await until(`the old master ${master} back to BACKUP`, () => stateFile(master) === 'BACKUP', 30_000);
    const oldAgent = agent[master];
    assert.ok(!oldAgent.lines.slice(master === 'a' ? markA : markB).some((l) => /gratuitous ARP|\] released |\] releasing/.test(l)), oldAgent.lines.slice(master === 'a' ? markA : markB).join('\n'));

    // A failure mode: the master's agent restarts while its client renews (Kea's T1 is 10 s). Not a failover
    // (keepalived stays); the killed client's successor resumes its lease from leases.json and renews the same prefix,
    // without a Solicit or a Release, and the subnet does not move.
    capture = new Dhcpv6Capture(dcNs, 'eth0');
    await capture.started();
    await agent[next].waitLine(/\] renewed: subnet .* prefix /, agent[next].lines.length, 60_000);
    await agent[next].stop();
    agent[next] = start(next);
    await agent[next].waitLine(/in sync:/, 0, 60_000);
    assert.equal(stateFile(next), 'MASTER', `no failover:\n${agent[next].lines.slice(-60).join('\n')}`);
    const resumed = await agent[next].waitLine(/\] renewed: subnet .* prefix /, 0, 60_000);
    assert.ok(resumed.line.includes(delegated), resumed.line);
    const kaLog = (k: 'a' | 'b'): string => readFileSync(join(state[k], 'keepalived', router.id, 'keepalived.log'), 'utf8').split('\n').slice(-25).join('\n');
    assert.ok(!agent[next].lines.some((l) => /reclaiming|delegated:|HA router .* -> (BACKUP|FAULT)/.test(l)), `${agent[next].lines.join('\n')}\n--- keepalived ${next}\n${kaLog(next)}\n--- keepalived ${master}\n${kaLog(master)}`);
    assert.equal((await env.api('GET', `/v2.0/subnets/${pd.id}`)).subnet.cidr, delegated);
    capture.stop();
    const types2 = capture.messages.map((m) => m.type);
    assert.ok(types2.includes(5) && !types2.includes(1) && !types2.includes(8), `Renews only across the restart: ${JSON.stringify(capture.messages)}`);
    assert.deepEqual([...new Set(keaPdRows(pdLeaseFile(dcDir, 'kea'), duid).map((r) => r.prefix))], [delegated]);
    await pingFrom(ns, dns6, 30_000);
  } finally {
    sampling = false;
    stream?.stop();
    capture?.stop();
    for (const x of u.agents) await x.stop().catch(() => {});
    await env.lab(['delete', dcName]).catch(() => {});
    await u.teardown([dcNs, ...(routerId ? ['a', 'b'].map((k) => `qrouter-${routerId}@${k}`) : [])]);
    await env.cleanup();
  }
});
