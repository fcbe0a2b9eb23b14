// End to end, the rest of a DHCPv6 stateful lease's life, between ISC dhclient in a lab instance and the dnsmasq the
// agent runs: Confirm after a restart, Renew at T1, Rebind at T2, Release, and Decline of an address another host
// already holds. Renew and Rebind are reached without waiting an hour: dhclient is stopped without releasing (-x), its
// lease file is moved back in time past T1 (then past T2), and a new dhclient confirms the lease and at once renews
// (rebinds) it, as a guest that was suspended would. The Decline comes from real duplicate address detection: a
// squatter on the same bridge holds the address, the instance's interface does DAD, the dhclient script sees
// `dadfailed` and exits 3, and dhclient declines. Every exchange is read back from a capture with tshark. A DNS
// server changed through the API reaches the instance at its renewal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dhcpDiagnostics, globalAddrs, ipJson, sh, shAsync, skipReason, startEnv, until, routedNetwork } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'tcpdump', 'tshark']);

const SOLICIT = 1, ADVERTISE = 2, REQUEST = 3, CONFIRM = 4, RENEW = 5, REBIND = 6, REPLY = 7, RELEASE = 8, DECLINE = 9;
const NO_ADDRS_AVAIL = '2';

interface Dhcp6 { frame: number; src: string; type: number; xid: string; addrs: string[]; status: string[] }

function exchanges(pcap: string): Dhcp6[] {
  const fields = ['frame.number', 'ipv6.src', 'dhcpv6.msgtype', 'dhcpv6.xid', 'dhcpv6.iaaddr.ip', 'dhcpv6.status_code'];
  const r = spawnSync('tshark', ['-r', pcap, '-n', '-Y', 'dhcpv6', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  // A capture still being written may end in a cut-short packet: tshark says so and exits 2, the rest is good.
  assert.ok(r.status === 0 || /cut short/.test(r.stderr), r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((line) => {
    const [frame, src, type, xid, addrs, status] = line.split('|');
    return { frame: Number(frame), src: src!, type: Number(type), xid: xid!, addrs: addrs ? addrs.split(',') : [], status: status ? status.split(',') : [] };
  });
}

/** The server's answer to the client message of that type sent after frame `after`. */
function answered(pcap: string, type: number, after: number): { ask: Dhcp6; answer: Dhcp6 } | undefined {
  const all = exchanges(pcap);
  const ask = all.find((p) => p.type === type && p.frame > after);
  const answer = ask && all.find((p) => p.frame > ask.frame && p.xid === ask.xid && (p.type === REPLY || p.type === ADVERTISE));
  return ask && answer ? { ask, answer } : undefined;
}

/** The newest lease in a dhclient6 lease file: its text, where it starts, and its T1 and T2 (seconds). */
function newestLease(file: string): { text: string; at: number; renew: number; rebind: number } {
  const text = readFileSync(file, 'utf8');
  const at = text.lastIndexOf('lease6 {');
  assert.ok(at >= 0, text);
  const lease = text.slice(at);
  return { text, at, renew: Number(/renew (\d+);/.exec(lease)?.[1]), rebind: Number(/rebind (\d+);/.exec(lease)?.[1]) };
}

/** Moves the newest lease in a dhclient6 lease file `back` seconds into the past (the IA's and address's starts). */
function ageLease(file: string, back: number): void {
  const { text, at } = newestLease(file);
  const starts = Math.floor(Date.now() / 1000) - back;
  // Only the newest lease is kept: older ones in the file would be read first and then replaced by it anyway.
  writeFileSync(file, text.slice(0, text.indexOf('lease6 {')) + text.slice(at).replace(/starts \d+;/g, `starts ${starts};`));
}

test('DHCPv6 lease life: Confirm, Renew at T1, Rebind at T2, Release, and Decline of a duplicate, between ISC dhclient and the agent\'s dnsmasq', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  const name = `${env.tag}l`;
  const ns = `lab-${name}`;
  const squatter = `lab-${env.tag}sq`;
  let netId = '';
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 7) % 0xffff).toString(16);
    const { net, subnet } = await routedNetwork(env, { name: `it-${env.tag}`, cidr: `2001:db8:${third}:4::/64`, mode: 'dhcpv6-stateful', dns: `2001:db8:${third}:53::1` });
    netId = net.id;
    await env.agent.waitLine(new RegExp(`start dnsmasq-${net.id}`));
    const boot = await env.lab(['boot', '--network', net.id, '--name', name, '--capture']);
    assert.equal(boot.status, 0, `${boot.stderr}\n${dhcpDiagnostics(env, net.id, name)}`);
    const port = (await env.api('GET', `/v2.0/ports?device_id=${ns}`)).ports[0];
    const addr = port.fixed_ips[0].ip_address as string;
    await until(`leased ${addr}`, () => globalAddrs(ns).length > 0);
    assert.deepEqual(globalAddrs(ns), [`${addr}/128`]);

    const dir = join(env.labDir, name);
    const pcap = join(dir, 'capture.pcap');
    const leaseFile = join(dir, 'dhclient6.leases');
    const dnsmasqLeases = join(env.stateDir, 'dhcp', net.id, 'leases');
    const client = (...flags: string[]): string[] => ['ip', 'netns', 'exec', ns, 'dhclient', '-6', ...flags, '-pf', join(dir, 'dhclient.pid'), '-lf', leaseFile, '-v', '-sf', join(dir, 'dhclient-script'), 'eth0'];
    const run = async (argv: string[]): Promise<void> => {
      const r = await shAsync(['timeout', '60', ...argv]);
      assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stdout}${r.stderr}\n${dhcpDiagnostics(env, net.id, name)}`);
    };
    const reason = (): string => /^reason=(\S+)$/m.exec(readFileSync(join(dir, 'dhclient.env'), 'utf8'))?.[1] ?? '';
    const last = (): number => exchanges(pcap).at(-1)?.frame ?? 0;

    // Renew: the lease aged past T1 (not T2). The restarted client confirms it, then renews at once; the server's
    // Reply keeps the same address (the port's), and the instance keeps it. The subnet's DNS server changed through
    // the API meanwhile (dnsmasq re-read its opts file on a SIGHUP): the renewal brings the new one.
    const dns2 = `2001:db8:${third}:53::2`;
    const reloads = env.agent.lines.length;
    await env.api('PUT', `/v2.0/subnets/${subnet.id}`, { subnet: { dns_nameservers: [dns2] } });
    await env.agent.waitLine(new RegExp(`reload dnsmasq-${net.id} \\(SIGHUP`), reloads);
    assert.match(readFileSync(join(env.stateDir, 'dhcp', net.id, 'opts'), 'utf8'), new RegExp(`\\[${dns2}\\]`));
    await run(client('-x'));
    let mark = last();
    const { renew, rebind } = newestLease(leaseFile);
    assert.ok(renew > 0 && rebind > renew, `T1 ${renew}, T2 ${rebind}`);
    ageLease(leaseFile, renew + 30);
    await run(client('-1'));
    const confirm = await until('Confirm answered', () => answered(pcap, CONFIRM, mark));
    assert.deepEqual(confirm.ask.addrs, [addr]);
    assert.equal(confirm.answer.type, REPLY);
    const renewed = await until('Renew answered', () => answered(pcap, RENEW, confirm.answer.frame));
    assert.deepEqual(renewed.ask.addrs, [addr]);
    assert.equal(renewed.answer.type, REPLY);
    assert.deepEqual(renewed.answer.addrs, [addr]);
    await until('dhclient ran its script for RENEW6', () => reason() === 'RENEW6');
    assert.deepEqual(globalAddrs(ns), [`${addr}/128`]);
    assert.match(readFileSync(join(dir, 'dhclient.env'), 'utf8'), new RegExp(`^new_dhcp6_name_servers=${dns2}$`, 'm'), 'the renewal brought the new DNS server');

    // Rebind: aged past T2, the client asks any server (Rebind); the same address comes back.
    await run(client('-x'));
    mark = last();
    ageLease(leaseFile, rebind + 30);
    await run(client('-1'));
    const rebound = await until('Rebind answered', () => answered(pcap, REBIND, mark));
    assert.deepEqual(rebound.ask.addrs, [addr]);
    assert.equal(rebound.answer.type, REPLY);
    assert.deepEqual(rebound.answer.addrs, [addr]);
    assert.equal(exchanges(pcap).filter((p) => p.frame > mark && p.type === RENEW).length, 0, 'past T2 there is no Renew');
    await until('dhclient ran its script for REBIND6', () => reason() === 'REBIND6');
    assert.deepEqual(globalAddrs(ns), [`${addr}/128`]);
    assert.match(readFileSync(dnsmasqLeases, 'utf8'), new RegExp(` ${addr} `));

    // Release: the server answers Success and forgets the lease; the instance drops the address. Soliciting again
    // gets the same address back: it is the port's, not the lease's.
    mark = last();
    await run(client('-r'));
    const released = await until('Release answered', () => answered(pcap, RELEASE, mark));
    assert.deepEqual(released.ask.addrs, [addr]);
    assert.equal(released.answer.type, REPLY);
    assert.deepEqual(released.answer.status, ['0']);
    assert.equal(reason(), 'RELEASE6');
    assert.deepEqual(globalAddrs(ns), []);
    await until('dnsmasq forgot the lease', () => !readFileSync(dnsmasqLeases, 'utf8').includes(` ${addr} `));
    mark = last();
    await run(client('-1'));
    const again = await until('Request answered', () => answered(pcap, REQUEST, mark));
    assert.deepEqual(again.answer.addrs, [addr]);
    await until(`${addr} again`, () => globalAddrs(ns).length > 0);
    assert.deepEqual(globalAddrs(ns), [`${addr}/128`]);

    // Decline: a squatter on the same network holds the address. The instance, now doing duplicate address
    // detection, finds it taken and declines it; the server answers, drops the lease and, asked again, offers no
    // address (dnsmasq holds a declined address back for ten minutes) rather than the duplicate.
    await run(client('-x'));
    const brNs = `v6stack-br-${env.host}`;
    const tap = `tap${port.id.slice(0, 11)}`;
    const bridge = ipJson(brNs, ['link', 'show', 'dev', tap])[0]?.master as string;
    assert.ok(bridge, `the bridge of ${tap}`);
    env.extraNs.push(squatter);
    const veth = `sq${env.tag}`.slice(0, 15);
    for (const argv of [
      ['ip', 'netns', 'add', squatter],
      ['ip', '-n', brNs, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', squatter],
      ['ip', '-n', brNs, 'link', 'set', veth, 'master', bridge, 'up'],
      ['ip', '-n', squatter, 'link', 'set', 'eth0', 'up'],
      ['ip', '-n', squatter, 'addr', 'add', `${addr}/64`, 'dev', 'eth0', 'nodad'],
      ['ip', '-n', ns, '-6', 'addr', 'flush', 'dev', 'eth0', 'scope', 'global'],
      ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=1'],
    ]) {
      const r = sh(argv);
      assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
    }
    mark = last();
    // dhclient -nw: after declining it goes on soliciting (no address is offered), so it never returns bound.
    await run(client('-nw'));
    const declined = await until('Decline answered', () => answered(pcap, DECLINE, mark), 60_000);
    assert.deepEqual(declined.ask.addrs, [addr]);
    assert.equal(declined.answer.type, REPLY);
    await until('dnsmasq dropped the declined lease', () => !readFileSync(dnsmasqLeases, 'utf8').includes(` ${addr} `));
    const after = await until('Solicit after the Decline answered', () => answered(pcap, SOLICIT, declined.answer.frame));
    assert.equal(after.answer.type, ADVERTISE);
    assert.deepEqual(after.answer.addrs, [], 'the declined address is not offered again');
    assert.deepEqual(after.answer.status, [NO_ADDRS_AVAIL]);
    assert.ok(!globalAddrs(ns).includes(`${addr}/128`) && !ipJson(ns, ['-6', 'addr', 'show', 'dev', 'eth0'])[0].addr_info.some((a: any) => a.local === addr), 'the instance holds no duplicate');
    // The port, and so the address, still belongs to the instance: Neutron's API knows nothing of a Decline.
    assert.deepEqual((await env.api('GET', `/v2.0/ports/${port.id}`)).port.fixed_ips.map((f: any) => f.ip_address), [addr]);

    const del = await env.lab(['delete', name]);
    assert.equal(del.status, 0, del.stderr);
  } catch (e) {
    if (netId) console.error(dhcpDiagnostics(env, netId, name));
    throw e;
  } finally {
    await env.cleanup();
  }
});
