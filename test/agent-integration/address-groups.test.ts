// Address groups, conntrack clean-up, the resync's kernel check and ARP spoofing protection on the wire (issue 23):
// real lab instances on one dual-stack network, the agent's nftables in the bridge namespace, real traffic.
// - A rule with remote_address_group_id admits an address of the group; removing the address refuses it again and
//   cuts its established TCP flow (conntrack -D, as Neutron's drivers do), while an unrelated flow goes on; adding an
//   address is one set element, not a rebuilt ruleset.
// - The periodic resync notices a table deleted and a chain flushed by hand and restores the same ruleset.
// - An instance cannot claim another IPv4 address in ARP (gratuitous ARP or a reply with a spoofed sender), while
//   its own ARP works.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { AgentProcess, ipJson, pingFrom, routedNetwork, sh, shAsync, skipReason, startEnv, until, type Env } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'ping', 'nft', 'conntrack', 'arping', 'tcpdump']);

const exec = (ns: string, argv: string[]) => shAsync(['ip', 'netns', 'exec', ns, ...argv]);

async function pingRefused(ns: string, target: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const r = await exec(ns, ['ping', '-6', '-n', '-c', '1', '-W', '1', target]);
    assert.notEqual(r.status, 0, `${ns} -> ${target} should be refused:\n${r.stdout}`);
  }
}

/** Echo servers on the given TCP ports inside an instance. */
function echoServers(ns: string, ports: number[]): ChildProcess {
  const code = `const net=require('net');for(const p of [${ports.join(',')}])net.createServer(s=>{s.on('error',()=>{});s.pipe(s)}).listen(p,'::',()=>console.log('listening '+p))`;
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A long-lived TCP client: each line written to it goes to the server; what comes back is printed as echo:… */
class LongFlow {
  child: ChildProcess;
  out = '';
  constructor(ns: string, host: string, port: number) {
    const code = `const s=require('net').connect({host:'${host}',port:${port}},()=>console.log('connected'));s.on('error',e=>console.log('error '+e.code));s.on('data',d=>process.stdout.write('echo:'+d));s.on('close',()=>{console.log('closed');process.exit(0)});process.stdin.on('data',d=>s.write(d))`;
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
  }
  async connected(): Promise<void> {
    await until(`the flow connected (${JSON.stringify(this.out)})`, () => this.out.includes('connected'), 15_000);
  }
  async roundTrip(word: string): Promise<void> {
    this.child.stdin!.write(`${word}\n`);
    await until(`echo of ${word} on the established flow (got ${JSON.stringify(this.out)})`, () => this.out.includes(`echo:${word}`), 15_000);
  }
  /** The word is sent and no echo comes back within `ms` (TCP retransmits meanwhile). */
  async noEcho(word: string, ms: number): Promise<void> {
    this.child.stdin!.write(`${word}\n`);
    await new Promise((r) => setTimeout(r, ms));
    assert.ok(!this.out.includes(`echo:${word}`), `the flow should be cut, but ${word} came back`);
  }
}

async function firewallApplied(env: Env, from: number): Promise<{ line: string; index: number }> {
  return env.agent.waitLine(/firewall: \d+ filtered ports, \d+ nft lines applied/, from, 60_000);
}

/** ARP frames seen on an instance's eth0, as tcpdump prints them (-e: with the MACs). */
function arpCapture(ns: string): { child: ChildProcess; text: () => string } {
  let seen = '';
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-n', '-e', '-l', '-i', 'eth0', 'arp'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
  return { child, text: () => seen };
}

test('address groups, conntrack clean-up, the resync kernel check and ARP spoofing protection on the wire', { skip, timeout: 600_000 }, async () => {
  const env = await startEnv();
  const children: ChildProcess[] = [];
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const { net } = await routedNetwork(env, { name: `ag-${env.tag}`, cidr: `2001:db8:${third}:1::/64`, mode: 'slaac', dns: '2001:db8::53' });
    const s4 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '192.0.2.0/26' } })).subnet;
    const ag = (await env.api('POST', '/v2.0/address-groups', { address_group: { name: `ag-${env.tag}`, addresses: [] } })).address_group;
    const sg = (await env.api('POST', '/v2.0/security-groups', { security_group: { name: `agsg-${env.tag}` } })).security_group;
    const rules: Record<string, string> = {};
    for (const [name, r] of Object.entries({
      icmp: { protocol: 'ipv6-icmp', remote_address_group_id: ag.id },
      tcp2222: { protocol: 'tcp', port_range_min: 2222, port_range_max: 2222, remote_address_group_id: ag.id },
      http: { protocol: 'tcp', port_range_min: 80, port_range_max: 80, remote_ip_prefix: '::/0' },
    })) {
      rules[name] = (await env.api('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv6', ...r } })).security_group_rule.id;
    }
    const aPort = (await env.api('POST', '/v2.0/ports', { port: { network_id: net.id, name: `${env.tag}agA`, security_groups: [sg.id] } })).port;
    const boot = async (args: string[], name: string) => {
      const r = await env.lab(['boot', ...args, '--name', name]);
      assert.equal(r.status, 0, r.stderr);
      const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${name}`)).ports[0];
      const v6 = port.fixed_ips.find((f: any) => f.ip_address.includes(':')).ip_address as string;
      const v4 = port.fixed_ips.find((f: any) => f.subnet_id === s4.id).ip_address as string;
      const ns = `lab-${name}`;
      await until(`${ns} has ${v6} and ${v4}`, () => {
        const info = ipJson(ns, ['addr', 'show', 'dev', 'eth0'])[0]?.addr_info ?? [];
        return info.some((a: any) => a.local === v6 && !a.tentative) && info.some((a: any) => a.local === v4);
      }, 60_000);
      return { port, v6, v4, ns };
    };
    const A = await boot(['--port', aPort.id], `${env.tag}gA`);
    const B = await boot(['--network', net.id], `${env.tag}gB`);
    const C = await boot(['--network', net.id], `${env.tag}gC`);
    const brNs = `v6stack-br-${env.host}`;
    const servers = echoServers(A.ns, [80, 2222]);
    children.push(servers);
    await until('echo servers listening', () => new Promise<boolean>((r) => servers.stdout!.once('data', () => r(true))), 10_000);

    // An empty address group admits no one.
    await pingRefused(B.ns, A.v6);

    // B's address joins the group: B is admitted (ICMPv6 and TCP 2222), C is not. One set element, not a rebuild.
    let mark = env.agent.lines.length;
    await env.api('PUT', `/v2.0/address-groups/${ag.id}/add_addresses`, { addresses: [`${B.v6}/128`] });
    const added = await firewallApplied(env, mark);
    assert.ok(Number(/(\d+) nft lines/.exec(added.line)![1]) <= 4, `adding an address is one element: ${added.line}`);
    assert.match(sh(['ip', 'netns', 'exec', brNs, 'nft', 'list', 'set', 'inet', 'v6stack-fw', `a6-${ag.id}`]).stdout, new RegExp(B.v6.replaceAll(':', ':')));
    await pingFrom(B.ns, A.v6);
    await pingRefused(C.ns, A.v6);

    // Established flows: B -> A:2222 (allowed by the address group) and C -> A:80 (from ::/0, unrelated).
    const viaGroup = new LongFlow(B.ns, A.v6, 2222);
    const unrelated = new LongFlow(C.ns, A.v6, 80);
    children.push(viaGroup.child, unrelated.child);
    await viaGroup.connected();
    await unrelated.connected();
    await viaGroup.roundTrip('one');
    await unrelated.roundTrip('one');

    // B's address is removed: new traffic is refused and B's established flow is cut; C's flow goes on.
    mark = env.agent.lines.length;
    await env.api('PUT', `/v2.0/address-groups/${ag.id}/remove_addresses`, { addresses: [B.v6] });
    await firewallApplied(env, mark);
    const cleanup = await env.agent.waitLine(/firewall: conntrack clean-up: \d+ commands, \d+ flow entries deleted/, mark, 30_000);
    assert.ok(!/ 0 flow entries deleted/.test(cleanup.line), cleanup.line);
    await pingRefused(B.ns, A.v6);
    await viaGroup.noEcho('after-removal', 5000);
    await unrelated.roundTrip('after-removal');

    // A rule removed: the HTTP rule goes, C's flow it allowed is cut (Neutron deletes the rule's conntrack entries).
    mark = env.agent.lines.length;
    await env.api('DELETE', `/v2.0/security-group-rules/${rules.http}`);
    await firewallApplied(env, mark);
    await env.agent.waitLine(/firewall: conntrack clean-up/, mark, 30_000);
    await unrelated.noEcho('after-rule-removal', 5000);

    // The resync checks the kernel: an agent with a 2 s resync leaves an untouched ruleset alone, and restores a
    // table deleted by hand, a chain flushed by hand and a rule replaced by hand, to the same ruleset.
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir, ['--resync-interval', '2']);
    await env.agent.waitLine(/in sync:/, 0, 60_000);
    // The ruleset as objects (without handles, in a stable order): a re-created table lists its objects in the
    // order they were written, which is not the order they were first made in.
    const ruleset = () => {
      const items = (JSON.parse(sh(['ip', 'netns', 'exec', brNs, 'nft', '-j', 'list', 'ruleset']).stdout).nftables as Record<string, any>[])
        .filter((i) => !i.metainfo)
        .map((i) => JSON.stringify(i, (k, v) => (k === 'handle' ? undefined : v)));
      return items.sort().join('\n');
    };
    const fullPasses = async (n: number, from: number) => {
      let at = from;
      for (let i = 0; i < n; i++) at = (await env.agent.waitLine(/in sync: .*full resync/, at, 30_000)).index + 1;
      return at;
    };
    let at = await fullPasses(2, env.agent.lines.length);
    const before = ruleset();
    await fullPasses(2, at);
    assert.ok(!env.agent.lines.some((l) => /differ from what was applied/.test(l)), 'an untouched ruleset is not rewritten');
    assert.equal(ruleset(), before);

    mark = env.agent.lines.length;
    assert.equal(sh(['ip', 'netns', 'exec', brNs, 'nft', 'delete', 'table', 'inet', 'v6stack-fw']).status, 0);
    const noticed = await env.agent.waitLine(/differ from what was applied \(inet .* is missing\): restoring/, mark, 30_000);
    at = await fullPasses(1, noticed.index);
    assert.equal(ruleset(), before, 'the deleted table is back as it was');
    await pingRefused(B.ns, A.v6);
    await pingRefused(C.ns, A.v6);

    mark = env.agent.lines.length;
    assert.equal(sh(['ip', 'netns', 'exec', brNs, 'nft', 'flush', 'chain', 'bridge', 'v6stack-fw', `sp-${B.port.id}`]).status, 0);
    await env.agent.waitLine(new RegExp(`differ from what was applied \\(bridge chain sp-${B.port.id} holds 0 rules`), mark, 30_000);
    await until('the flushed chain restored', () => ruleset() === before, 30_000);

    // A rule edited in place (same number of rules, other text): B's ingress chain ends in accept instead of drop.
    const inB = (JSON.parse(sh(['ip', 'netns', 'exec', brNs, 'nft', '-j', '-a', 'list', 'chain', 'inet', 'v6stack-fw', `in-${B.port.id}`]).stdout).nftables as Record<string, any>[]).filter((i) => i.rule);
    const last = inB.at(-1)!.rule;
    assert.deepEqual(last.expr, [{ drop: null }], 'the ingress chain ends in drop');
    mark = env.agent.lines.length;
    const edit = sh(['ip', 'netns', 'exec', brNs, 'nft', 'replace', 'rule', 'inet', 'v6stack-fw', `in-${B.port.id}`, 'handle', String(last.handle), 'accept']);
    assert.equal(edit.status, 0, edit.stderr);
    assert.notEqual(ruleset(), before);
    await env.agent.waitLine(new RegExp(`differ from what was applied \\(inet chain in-${B.port.id}: rule ${inB.length} of ${inB.length} differs`), mark, 30_000);
    await until('the edited rule restored', () => ruleset() === before, 30_000);
    await pingRefused(A.ns, B.v6);

    // ARP: B cannot claim C's IPv4 address (gratuitous ARP, or an unsolicited reply), nor an address nobody has;
    // its own ARP works (A answers it). Captured on A's link, where the frames would arrive.
    const cap = arpCapture(A.ns);
    children.push(cap.child);
    await new Promise((r) => setTimeout(r, 1500)); // tcpdump attaches
    const spoofGarp = await exec(B.ns, ['arping', '-U', '-c', '2', '-I', 'eth0', '-s', C.v4, C.v4]);
    const spoofReply = await exec(B.ns, ['arping', '-A', '-c', '2', '-I', 'eth0', '-s', '192.0.2.50', A.v4]);
    const own = await exec(B.ns, ['arping', '-c', '2', '-w', '5', '-I', 'eth0', A.v4]);
    assert.equal(own.status, 0, `B's own ARP request is answered: ${own.stdout}${own.stderr}`);
    assert.notEqual(spoofGarp.stdout + spoofGarp.stderr, '', 'arping ran');
    assert.notEqual(spoofReply.stdout + spoofReply.stderr, '', 'arping ran');
    await until(`B's own request on A's link (${cap.text()})`, () => cap.text().includes(`tell ${B.v4}`), 10_000);
    cap.child.kill('SIGTERM');
    const seen = cap.text();
    assert.ok(!new RegExp(`${B.port.mac_address}.*(tell|is-at).*${C.v4.replaceAll('.', '\\.')}\\b|${B.port.mac_address}.*${C.v4.replaceAll('.', '\\.')} is-at`, 'i').test(seen), `A heard B claim C's address:\n${seen}`);
    assert.ok(!seen.includes('192.0.2.50'), `A heard B claim 192.0.2.50:\n${seen}`);
    for (const line of seen.split('\n').filter((l) => l.toLowerCase().startsWith(B.port.mac_address) || l.toLowerCase().includes(`${B.port.mac_address} >`))) {
      assert.match(line, new RegExp(`tell ${B.v4.replaceAll('.', '\\.')}|${B.v4.replaceAll('.', '\\.')} is-at`), `an ARP frame from B's MAC that is not about B's address: ${line}`);
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await env.cleanup();
  }
});
