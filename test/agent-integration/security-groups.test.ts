// Security groups and port security on the wire (issue 23): real lab instances on one SLAAC network behind a router,
// the agent's nftables in the bridge namespace, real traffic. The talk's group (SSH, ICMPv6 and HTTP from ::/0)
// lets TCP 22/80 and echo in and nothing else; the default group lets in only its members, and follows a port
// that joins; an instance's rogue RA and DHCPv6 "server" never reach a neighbour; spoofed sources and MACs are
// dropped; an allowed address pair passes; removing a rule cuts the flows it allowed while an unrelated TCP flow
// survives the change and an agent restart, which rebuilds the same ruleset; a rule removed while the agent is down
// cuts its flows when the agent is back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { linkLocalFromMac } from '../../src/domain/eui64.js';
import { AgentProcess, ipJson, pingFrom, routedNetwork, sh, shAsync, skipReason, startEnv, until, type Env } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'ping', 'nft', 'python3']);

const exec = (ns: string, argv: string[]) => shAsync(['ip', 'netns', 'exec', ns, ...argv]);

/** One ping -6 that must go unanswered (twice, to be sure it is not a lost first packet). */
async function pingRefused(ns: string, target: string, from?: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const r = await exec(ns, ['ping', '-6', '-n', '-c', '1', '-W', '1', ...(from ? ['-I', from] : []), target]);
    assert.notEqual(r.status, 0, `${ns} -> ${target} should be refused:\n${r.stdout}`);
  }
}

/** A TCP connect from an instance: 'connected', or 'timeout' when the SYN is dropped. */
async function tcpConnect(ns: string, host: string, port: number): Promise<string> {
  const code = `const s=require('net').connect({host:'${host}',port:${port}});s.setTimeout(3000);s.on('connect',()=>{console.log('connected');process.exit(0)});s.on('timeout',()=>{console.log('timeout');process.exit(2)});s.on('error',(e)=>{console.log(e.code);process.exit(3)})`;
  const r = await exec(ns, [process.execPath, '-e', code]);
  return r.stdout.trim();
}

/** Echo servers on the given TCP ports inside an instance. */
function echoServers(ns: string, ports: number[]): ChildProcess {
  const code = `const net=require('net');for(const p of [${ports.join(',')}])net.createServer(s=>s.pipe(s)).listen(p,'::',()=>console.log('listening '+p))`;
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A long-lived TCP client: each line written to it goes to the server; what comes back is printed as echo:… */
class LongFlow {
  child: ChildProcess;
  out = '';
  constructor(ns: string, host: string, port: number) {
    const code = `const s=require('net').connect({host:'${host}',port:${port}},()=>console.log('connected'));s.on('data',d=>process.stdout.write('echo:'+d));s.on('close',()=>{console.log('closed');process.exit(0)});process.stdin.on('data',d=>s.write(d))`;
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
  }
  async roundTrip(word: string): Promise<void> {
    this.child.stdin!.write(`${word}\n`);
    await until(`echo of ${word} on the established flow (got ${JSON.stringify(this.out)})`, () => this.out.includes(`echo:${word}`), 10_000);
  }
}

const RA_SENDER = `
import socket, struct, sys, time
idx = socket.if_nametoindex('eth0')
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
ra = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0)
pio = struct.pack('!BBBBIII', 3, 4, 64, 0xC0, 86400, 14400, 0) + socket.inet_pton(socket.AF_INET6, sys.argv[1])
for i in range(int(sys.argv[2])):
    s.sendto(ra + pio, ('ff02::1', 0, 0, idx))
    time.sleep(0.2)
`;
const UDP_SENDER = `
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('::', int(sys.argv[1])))
idx = socket.if_nametoindex('eth0')
for i in range(5):
    s.sendto(b'\\x02' + b'\\x00' * 3, (sys.argv[2], 546, 0, idx))
`;

async function firewallApplied(env: Env, from: number): Promise<number> {
  return (await env.agent.waitLine(/firewall: \d+ filtered ports, \d+ nft lines applied/, from, 60_000)).index;
}

test('security groups on the wire: the talk\'s rules, remote groups, rogue RA and DHCPv6, anti-spoofing, address pairs, flows cut by a rule removal, others kept across it and an agent restart', { skip, timeout: 600_000 }, async () => {
  const env = await startEnv();
  const children: ChildProcess[] = [];
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const { net, routerLla } = await routedNetwork(env, { name: `sg-${env.tag}`, cidr: `2001:db8:${third}:1::/64`, mode: 'slaac', dns: '2001:db8::53' });
    const talk = (await env.api('POST', '/v2.0/security-groups', { security_group: { name: `talk-${env.tag}` } })).security_group;
    const ruleIds: Record<string, string> = {};
    for (const [name, r] of Object.entries({
      ssh: { protocol: 'tcp', port_range_min: 22, port_range_max: 22 },
      icmp: { protocol: 'ipv6-icmp' },
      http: { protocol: 'tcp', port_range_min: 80, port_range_max: 80 },
    })) {
      ruleIds[name] = (await env.api('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: talk.id, direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '::/0', ...r } })).security_group_rule.id;
    }
    const web = (await env.api('POST', '/v2.0/ports', { port: { network_id: net.id, name: `${env.tag}web`, security_groups: [talk.id] } })).port;
    const boot = async (args: string[], name: string) => {
      const r = await env.lab(['boot', ...args, '--name', name]);
      assert.equal(r.status, 0, r.stderr);
      const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${name}`)).ports[0];
      const v6 = port.fixed_ips[0].ip_address as string;
      const ns = `lab-${name}`;
      await until(`${ns} has ${v6}`, () => ipJson(ns, ['-6', 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info.some((a: any) => a.local === v6 && !a.tentative), 60_000);
      return { port, v6, ns, lla: linkLocalFromMac(port.mac_address).toString() };
    };
    const A = await boot(['--port', web.id], `${env.tag}a`); // the talk's group only
    const B = await boot(['--network', net.id], `${env.tag}b`); // default group
    const C = await boot(['--network', net.id], `${env.tag}c`); // default group
    const brNs = `v6stack-br-${env.host}`;
    assert.match(sh(['ip', 'netns', 'exec', brNs, 'nft', 'list', 'chain', 'bridge', 'v6stack-fw', `sp-${A.port.id}`]).stdout, /rogue RA/);

    // `v6stack firewall show` lists what A gets, compiled and in the kernel.
    const show = await shAsync([process.execPath, 'dist/src/cli/main.js', 'firewall', 'show', A.port.id, '--server', env.url, '--kernel']);
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`meta l4proto 6 th dport 80 accept comment "rule ${ruleIds.http}"`));
    assert.match(show.stdout, new RegExp(`# in the kernel \\(${brNs}\\)[\\s\\S]*chain in-${A.port.id} \\{[\\s\\S]*jump gi-${talk.id}`));

    // The talk's rules: ICMPv6 echo, SSH and HTTP from anywhere reach A; another port does not.
    const servers = echoServers(A.ns, [22, 80, 2323]);
    children.push(servers);
    await until('echo servers listening', () => new Promise<boolean>((r) => servers.stdout!.once('data', () => r(true))), 10_000);
    await pingFrom(C.ns, A.v6);
    assert.equal(await tcpConnect(C.ns, A.v6, 22), 'connected');
    assert.equal(await tcpConnect(C.ns, A.v6, 80), 'connected');
    assert.equal(await tcpConnect(C.ns, A.v6, 2323), 'timeout', 'a port the group does not open is dropped');
    // The default group: members (C) in, others (A) not; A may still send (all egress) and gets no answer.
    await pingFrom(C.ns, B.v6);
    await pingRefused(A.ns, B.v6);

    // remote_group_id follows a port joining the group: A joins default, B's ingress admits it.
    let mark = env.agent.lines.length;
    const defaultGroup = B.port.security_groups[0];
    await env.api('PUT', `/v2.0/ports/${A.port.id}`, { port: { security_groups: [talk.id, defaultGroup] } });
    await firewallApplied(env, mark);
    await pingFrom(A.ns, B.v6);
    // ...and leaving it: A is out of the members' set again.
    mark = env.agent.lines.length;
    await env.api('PUT', `/v2.0/ports/${A.port.id}`, { port: { security_groups: [talk.id] } });
    await firewallApplied(env, mark);
    await pingRefused(A.ns, B.v6);

    // A rogue RA from C never reaches B: the capture on B sees only the router's RAs, B's routes and addresses
    // stay. The capture on C's own eth0 shows it was sent (so the test can fail).
    const routesBefore = ipJson(B.ns, ['-6', 'route', 'show']).map((r) => `${r.dst} ${r.gateway ?? ''}`).sort();
    const capB = spawn('ip', ['netns', 'exec', B.ns, 'tcpdump', '-n', '-l', '-i', 'eth0', 'icmp6 and ip6[40] == 134'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const capC = spawn('ip', ['netns', 'exec', C.ns, 'tcpdump', '-n', '-l', '-i', 'eth0', 'icmp6 and ip6[40] == 134'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(capB, capC);
    let seenB = '';
    let seenC = '';
    capB.stdout!.on('data', (d: Buffer) => (seenB += d.toString()));
    capC.stdout!.on('data', (d: Buffer) => (seenC += d.toString()));
    await new Promise((r) => setTimeout(r, 1500)); // tcpdump attaches
    const rogue = await exec(C.ns, ['python3', '-c', RA_SENDER, `2001:db8:${third}:bad::`, '10']);
    assert.equal(rogue.status, 0, rogue.stderr);
    await until('the rogue RA on C\'s own link', () => seenC.includes(C.lla), 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    capB.kill('SIGTERM');
    capC.kill('SIGTERM');
    assert.ok(!seenB.includes(C.lla), `B heard C's RA:\n${seenB}`);
    for (const line of seenB.split('\n').filter((l) => l.includes(' > '))) assert.ok(line.includes(routerLla), `an RA not from the router: ${line}`);
    assert.deepEqual(ipJson(B.ns, ['-6', 'route', 'show']).map((r) => `${r.dst} ${r.gateway ?? ''}`).sort(), routesBefore);
    assert.ok(!ipJson(B.ns, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.some((a: any) => a.local.startsWith(`2001:db8:${third}:bad:`)), 'no address from the rogue prefix');

    // A DHCPv6 "server" on C is not heard by B; the same datagram from another source port is (both in default,
    // whose members' addresses are fixed IPs: so to B's global address).
    // Captured on B's link (a socket on 546 could lose the datagram to a DHCPv6 client bound there).
    const capUdp = spawn('ip', ['netns', 'exec', B.ns, 'tcpdump', '-n', '-l', '-i', 'eth0', `udp and src host ${C.v6}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(capUdp);
    let heard = '';
    capUdp.stdout!.on('data', (d: Buffer) => (heard += d.toString()));
    await new Promise((r) => setTimeout(r, 1500)); // tcpdump attaches
    assert.equal((await exec(C.ns, ['python3', '-c', UDP_SENDER, '547', B.v6])).status, 0);
    assert.equal((await exec(C.ns, ['python3', '-c', UDP_SENDER, '5470', B.v6])).status, 0);
    await until('the control datagram from port 5470 on B', () => heard.includes('.5470 >'), 10_000);
    capUdp.kill('SIGTERM');
    assert.ok(!heard.includes('.547 >'), `B heard a DHCPv6 server message from C:\n${heard}`);

    // Spoofed source: an address C does not own is dropped at the bridge; once it is an allowed address pair, it passes.
    const extra = `2001:db8:${third}:1::99`;
    assert.equal(sh(['ip', 'netns', 'exec', C.ns, 'ip', '-6', 'addr', 'add', `${extra}/128`, 'dev', 'eth0', 'nodad']).status, 0);
    await pingRefused(C.ns, B.v6, extra);
    mark = env.agent.lines.length;
    await env.api('PUT', `/v2.0/ports/${C.port.id}`, { port: { allowed_address_pairs: [{ ip_address: extra }] } });
    await firewallApplied(env, mark);
    const viaPair = await exec(C.ns, ['ping', '-6', '-n', '-c', '1', '-W', '2', '-I', extra, B.v6]);
    assert.equal(viaPair.status, 0, `the allowed address pair should pass: ${viaPair.stdout}`);

    // Spoofed MAC: C's own address from another MAC is dropped; back to its MAC, it passes (ND works again).
    const realMac = C.port.mac_address;
    sh(['ip', 'netns', 'exec', C.ns, 'ip', 'link', 'set', 'eth0', 'address', 'fa:16:3e:de:ad:01']);
    await pingRefused(C.ns, B.v6);
    sh(['ip', 'netns', 'exec', C.ns, 'ip', 'link', 'set', 'eth0', 'address', realMac]);
    for (const a of ipJson(C.ns, ['-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'])[0]?.addr_info ?? []) {
      if (a.local !== C.v6 && a.local !== extra) sh(['ip', 'netns', 'exec', C.ns, 'ip', '-6', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', 'eth0']);
    }
    // From C's own address: an RA heard meanwhile may have given eth0 a SLAAC address of the other MAC, which
    // source selection could prefer and port security rightly drops.
    await until(`ping from ${C.ns} (${C.v6}) to ${B.v6} with its MAC back`, async () => (await exec(C.ns, ['ping', '-6', '-n', '-c', '1', '-W', '1', '-I', C.v6, B.v6])).status === 0, 20_000);

    // A rule change cuts only the flows it stops allowing (Neutron's conntrack clean-up): the SSH rule is removed,
    // the open SSH connection stops and a new one is refused; an HTTP connection goes on.
    const flow = new LongFlow(C.ns, A.v6, 80);
    const sshFlow = new LongFlow(C.ns, A.v6, 22);
    children.push(flow.child, sshFlow.child);
    await until('the long flows connected', () => flow.out.includes('connected') && sshFlow.out.includes('connected'), 10_000);
    await flow.roundTrip('before');
    await sshFlow.roundTrip('before');
    mark = env.agent.lines.length;
    await env.api('DELETE', `/v2.0/security-group-rules/${ruleIds.ssh}`);
    await firewallApplied(env, mark);
    await env.agent.waitLine(/firewall: conntrack clean-up/, mark, 30_000);
    assert.equal(await tcpConnect(C.ns, A.v6, 22), 'timeout', 'a new SSH connection after the rule is gone');
    await flow.roundTrip('after-rule-change');
    sshFlow.child.stdin!.write('after-rule-change\n');
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(!sshFlow.out.includes('echo:after-rule-change'), 'the SSH flow the removed rule allowed is cut');
    assert.equal(await tcpConnect(C.ns, A.v6, 80), 'connected', 'HTTP is still open');

    // ...and an agent restart: the same ruleset is rebuilt, the flow goes on, the removed rule stays removed.
    const ruleset = () => sh(['ip', 'netns', 'exec', brNs, 'nft', 'list', 'ruleset']).stdout;
    const before = ruleset();
    await env.agent.stop();
    await flow.roundTrip('agent-stopped');
    env.agent = new AgentProcess(env.url, env.host, env.stateDir);
    await env.agent.waitLine(/in sync:/, 0, 60_000);
    assert.equal(ruleset(), before, 'the restarted agent rebuilt the same ruleset');
    await flow.roundTrip('after-restart');
    assert.equal(await tcpConnect(C.ns, A.v6, 22), 'timeout');
    await pingFrom(C.ns, A.v6);

    // A rule removed WHILE THE AGENT IS DOWN: the restarted agent cuts the flows it allowed (it kept the applied
    // input in its state dir; the kernel's ruleset cannot say which rule allowed a flow), an unrelated flow goes on.
    mark = env.agent.lines.length;
    const telnet = (await env.api('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: talk.id, direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '::/0', protocol: 'tcp', port_range_min: 2323, port_range_max: 2323 } })).security_group_rule;
    await firewallApplied(env, mark);
    const kept = new LongFlow(C.ns, A.v6, 2323);
    children.push(kept.child);
    await until('the flow to 2323 connected', () => kept.out.includes('connected'), 10_000);
    await kept.roundTrip('before-offline-change');
    await flow.roundTrip('before-offline-change');
    await env.agent.stop();
    await env.api('DELETE', `/v2.0/security-group-rules/${ruleIds.http}`);
    await flow.roundTrip('rule-gone-agent-down'); // nothing enforces the change yet
    env.agent = new AgentProcess(env.url, env.host, env.stateDir);
    await env.agent.waitLine(/in sync:/, 0, 60_000);
    await env.agent.waitLine(/firewall: conntrack clean-up: \d+ commands, [1-9]\d* flow entries deleted/, 0, 30_000);
    await kept.roundTrip('after-offline-change');
    flow.child.stdin!.write('after-offline-change\n');
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(!flow.out.includes('echo:after-offline-change'), 'the HTTP flow the rule removed while the agent was down allowed is cut');
    assert.equal(await tcpConnect(C.ns, A.v6, 80), 'timeout', 'a new HTTP connection is refused');
    assert.equal(await tcpConnect(C.ns, A.v6, telnet.port_range_min), 'connected');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await env.cleanup();
  }
});
