// End to end, as a user starts v6stack: the README's main command, `npm start`, from the repository root with no
// flags (port 9696, the default store var/v6stack.db, the agent's default state dir var/agent-<hostname>), then
// the README tour's CLI (`./bin/v6stack ...` with OS_ENDPOINT=http://[::1]:9696) builds one router with four
// networks behind it: SLAAC (dual-stack), DHCPv6-stateless, DHCPv6-stateful and DHCPv4. An instance is booted on
// each (`lab boot --port` on the SLAAC one, as the README does it); each must hold exactly its port's addresses,
// its IPv6 default route via the router's link-local address, its DNS servers where its mode delivers them, and
// reach the others across the router. Then everything is deleted and `v6stack down` must leave no namespace or
// daemon behind. Every other agent test starts the agent with an absolute temporary state dir: this one is the
// path users take (a relative state dir once left dnsmasq restarting for ever and no DHCP answering).
//
// It refuses to run (fails, with the reason) when port 9696 is taken or an agent for this host is running: it
// must not touch a developer's own v6stack. CI is a clean clone, so it runs there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { linkLocalFromMac } from '../../src/domain/eui64.js';
import { liveAgent } from '../../src/agent/host-state.js';
import { skipReason, until } from '../agent-integration/lab-harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const ENDPOINT = 'http://[::1]:9696';
const HOST = hostname();
const STATE_DIR = join(ROOT, 'var', `agent-${HOST}`);
const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'rdisc6', 'ping', 'npm']);

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen({ port, host: '::', ipv6Only: false }, () => s.close(() => res(true)));
  });
}

/** `./bin/v6stack ARGS` as the tour runs it. */
function v6(args: string[], timeoutMs = 120_000): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(join(ROOT, 'bin', 'v6stack'), args, { cwd: ROOT, env: { ...process.env, OS_ENDPOINT: ENDPOINT }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout!.on('data', (d) => (stdout += d));
    c.stderr!.on('data', (d) => (stderr += d));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.once('close', (code) => {
      clearTimeout(t);
      res({ status: code ?? -1, stdout, stderr });
    });
  });
}

async function v6ok(args: string[], timeoutMs?: number): Promise<string> {
  const r = await v6(args, timeoutMs);
  assert.equal(r.status, 0, `v6stack ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function api(path: string): Promise<any> {
  const res = await fetch(ENDPOINT + path);
  assert.ok(res.ok, `GET ${path}: ${res.status}`);
  return res.json();
}

/** Our host's namespaces and daemons: what `v6stack down` must leave none of. */
function leftovers(names: string[]): string[] {
  const out = spawnSync('ip', ['-json', 'netns', 'list'], { encoding: 'utf8' }).stdout.trim();
  const ns = (out ? (JSON.parse(out) as { name: string }[]) : []).map((n) => n.name).filter((n) => n === `v6stack-br-${HOST}` || names.some((x) => n.includes(x)));
  const procs = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return /radvd|dnsmasq|dhclient/.test(cmd) && (cmd.includes(STATE_DIR) || names.some((x) => cmd.includes(x))) ? [`${p}: ${cmd}`] : [];
      } catch {
        return [];
      }
    });
  // A lab instance's /etc/netns/lab-NAME (its resolv.conf) goes with it.
  const etc = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => names.some((x) => n === `lab-${x}`)) : [];
  return [...ns.map((n) => `namespace ${n}`), ...procs, ...etc.map((n) => `/etc/netns/${n}`)];
}

test("README's main command: `npm start` from the repository root, then the tour's CLI, four networks behind one router, an instance on each, and `v6stack down`", { skip, timeout: 600_000 }, async (t) => {
  assert.ok(await portFree(9696), 'port 9696 is in use: a v6stack (or something else) is running on this host. This test starts v6stack exactly as the README does, on its default port and store; stop yours first (Ctrl-C it, then `v6stack down`)');
  const other = liveAgent(STATE_DIR, HOST);
  assert.equal(other, null, `a v6stack agent for host ${HOST} is running (pid ${other?.pid}): stop it first (\`v6stack down\`); this test must not share its state`);
  const dbPath = join(ROOT, 'var', 'v6stack.db');
  const hadVar = existsSync(join(ROOT, 'var'));
  const hadDb = existsSync(dbPath);
  const tag = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 2).toString(36)}`;
  const name = (x: string): string => `e2e${tag}${x}`;
  const phases: string[] = [];
  const t0 = Date.now();
  const mark = (what: string): void => {
    phases.push(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };

  const lines: string[] = [];
  // Its own process group: the test stops npm and the `up` below it together if `down` could not.
  const up: ChildProcess = spawn('npm', ['start'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((res) => up.once('exit', () => res()));
  for (const s of [up.stdout!, up.stderr!]) s.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  const log = (): string => lines.slice(-40).join('\n');
  const instances = ['s', 'l', 'f', 'v'].map(name);
  const nets = ['slaac', 'stateless', 'stateful', 'v4'].map((n) => name(n));
  let routerId = '';
  const netIds: string[] = [];
  let failed = false;
  try {
    await until(`the API on ${ENDPOINT} (npm start's log:\n${log()})`, async () => (await fetch(`${ENDPOINT}/v2.0/networks`)).ok, 180_000);
    mark('API up');
    await until(`this host's agent (${HOST}) in GET /v2.0/agents (log:\n${log()})`, async () => ((await api('/v2.0/agents')).agents as any[]).some((a) => a.host === HOST && a.alive), 60_000);
    mark('agent up');
    assert.ok(lines.some((l) => l.includes(`state in ${STATE_DIR}`)), `the agent's state dir is absolute:\n${log()}`);

    // The tour's commands: one router, four networks.
    await v6ok(['router', 'create', name('r')]);
    routerId = JSON.parse(await v6ok(['router', 'show', name('r'), '-f', 'json'])).id;
    const specs = [
      { net: nets[0]!, v6: { cidr: '2001:db8:e2e0::/64', mode: 'slaac', dns: '2001:db8:e2e0:53::1' }, v4: { cidr: '192.0.2.0/26', dns: '192.0.2.53' } },
      { net: nets[1]!, v6: { cidr: '2001:db8:e2e1::/64', mode: 'dhcpv6-stateless', dns: '2001:db8:e2e1:53::1' } },
      { net: nets[2]!, v6: { cidr: '2001:db8:e2e2::/64', mode: 'dhcpv6-stateful', dns: '2001:db8:e2e2:53::1' } },
      { net: nets[3]!, v4: { cidr: '192.0.2.64/26', dns: '192.0.2.54' } },
    ];
    for (const s of specs) {
      netIds.push(JSON.parse(await v6ok(['network', 'create', s.net, '-f', 'json'])).id);
      if (s.v6) {
        await v6ok(['subnet', 'create', '--network', s.net, '--ip-version', '6', '--ipv6-ra-mode', s.v6.mode, '--ipv6-address-mode', s.v6.mode, '--subnet-range', s.v6.cidr, '--dns-nameserver', s.v6.dns, `${s.net}-v6`]);
        await v6ok(['router', 'add', 'subnet', name('r'), `${s.net}-v6`]);
      }
      if (s.v4) {
        await v6ok(['subnet', 'create', '--network', s.net, '--subnet-range', s.v4.cidr, '--dns-nameserver', s.v4.dns, `${s.net}-v4`]);
        await v6ok(['router', 'add', 'subnet', name('r'), `${s.net}-v4`]);
      }
    }
    mark('topology built');

    // The README's way for the SLAAC instance: a port first (its EUI-64 address shown), then `lab boot --port`.
    const made = JSON.parse(await v6ok(['port', 'create', '--network', nets[0]!, '--mac-address', 'fa:16:3e:e2:e0:01', instances[0]!, '-f', 'json']));
    assert.ok(made.fixed_ips.some((f: any) => f.ip_address === '2001:db8:e2e0:0:f816:3eff:fee2:e001'), JSON.stringify(made.fixed_ips));
    const boots: Record<string, number> = {};
    for (const [i, inst] of instances.entries()) {
      const b0 = Date.now();
      const args = i === 0 ? ['lab', 'boot', '--port', inst] : ['lab', 'boot', '--network', nets[i]!, '--name', inst];
      const r = await v6(args);
      boots[inst] = Date.now() - b0;
      assert.equal(r.status, 0, `v6stack ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}\n--- npm start:\n${log()}`);
    }
    mark('instances booted');

    // Each instance, through `lab show -f json` as a user looks: the API's port beside what the kernel got.
    const seen = [];
    for (const [i, inst] of instances.entries()) {
      const view = JSON.parse(await v6ok(['lab', 'show', inst, '-f', 'json']));
      const spec = specs[i]!;
      const apiAddrs = (view.port.fixed_ips as any[]).map((f) => f.ip_address).sort();
      const have = await until(`${inst} holding exactly ${apiAddrs.join(' ')}`, async () => {
        const v = JSON.parse(await v6ok(['lab', 'show', inst, '-f', 'json']));
        const got = [...v.ipv4, ...v.ipv6].sort();
        return JSON.stringify(got) === JSON.stringify(apiAddrs) ? v : false;
      }, 20_000).catch((e: Error) => assert.fail(`${e.message}; it has ${[...view.ipv4, ...view.ipv6].join(' ')}\n${log()}`));
      if (i === 0) assert.equal(view.port.id, made.id, 'lab boot --port plugged the port made before');
      const rport = ((await api(`/v2.0/ports?device_id=${routerId}&network_id=${view.port.network_id}`)).ports as any[])[0];
      if (spec.v6) {
        assert.equal(have.router6, linkLocalFromMac(rport.mac_address).toString(), `${inst}: IPv6 default route via the router's link-local address`);
        assert.ok(have.dns.includes(spec.v6.dns), `${inst} (${spec.v6.mode}): DNS server ${spec.v6.dns} (${have.dns.join(' ')})`);
      }
      if (spec.v4) {
        const gw = ((await api(`/v2.0/subnets?network_id=${view.port.network_id}&ip_version=4`)).subnets as any[])[0].gateway_ip;
        assert.equal(have.router4, gw, `${inst}: IPv4 default route via the subnet's gateway`);
        assert.ok(have.dns.includes(spec.v4.dns), `${inst}: DHCPv4 DNS server ${spec.v4.dns} (${have.dns.join(' ')})`);
      }
      // As the guest sees it: `lab exec NAME -- cat /etc/resolv.conf` names what it received, not the host's servers.
      const resolv = await v6ok(['lab', 'exec', inst, '--', 'cat', '/etc/resolv.conf']);
      const nameservers = [...resolv.matchAll(/^nameserver (\S+)$/gm)].map((m) => m[1]);
      assert.deepEqual(nameservers, have.dns, `${inst}: /etc/resolv.conf as the guest sees it\n${resolv}`);
      for (const dns of [spec.v6?.dns, spec.v4?.dns]) if (dns) assert.ok(nameservers.includes(dns), `${inst}: resolv.conf names ${dns}\n${resolv}`);
      if (i === 0) {
        // SLAAC: the DNS server can only have come in the RA (RDNSS): no DHCPv6 client ran.
        assert.ok(!existsSync(`/run/v6stack/lab/${inst}/dhclient.env`), 'no DHCPv6 on a SLAAC network');
      }
      seen.push(have);
    }
    mark('addresses, routes and DNS checked');

    // Across the router: every IPv6 instance to the other IPv6 ones; IPv4 between the DHCPv4 and the dual-stack one.
    const pings: [number, string][] = [];
    for (const a of [0, 1, 2]) for (const b of [0, 1, 2]) if (a !== b) pings.push([a, seen[b]!.ipv6[0]]);
    pings.push([3, seen[0]!.ipv4[0]], [0, seen[3]!.ipv4[0]]);
    for (const [from, to] of pings) {
      await until(`ping from ${instances[from]} to ${to}`, async () => (await v6(['lab', 'exec', instances[from]!, '--', 'ping', '-n', '-c', '1', '-W', '1', to])).status === 0, 20_000);
    }
    mark(`${pings.length} pings across the router`);
    t.diagnostic(`boot times: ${Object.entries(boots).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
    assert.deepEqual(lines.filter((l) => /ERROR|exited \(|will restart|restart in/.test(l)), [], 'no daemon failed or restarted');
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    // The user's way out: delete what was made, then `v6stack down` (which also stops the running `up`).
    for (const inst of instances) await v6(['lab', 'delete', inst]);
    for (const s of nets) for (const v of ['v6', 'v4']) await v6(['router', 'remove', 'subnet', name('r'), `${s}-${v}`]);
    await v6(['router', 'delete', name('r')]);
    for (const s of nets) await v6(['network', 'delete', s]);
    const down = await v6(['down']);
    mark('down');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (up.exitCode === null && up.signalCode === null) {
      try {
        process.kill(-up.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (!hadDb) rmSync(dbPath, { force: true });
    if (!hadDb) for (const f of ['-wal', '-shm']) rmSync(dbPath + f, { force: true });
    if (!hadVar) rmSync(join(ROOT, 'var'), { recursive: true, force: true });
    t.diagnostic(`wall time ${((Date.now() - t0) / 1000).toFixed(1)} s: ${phases.join('; ')}`);
    const left = leftovers([routerId, ...netIds, ...instances].filter(Boolean));
    const again = await v6(['down']);
    if (failed) {
      // The test's own failure is the one to see (a throw here would replace it); cleanup's findings are diagnostics.
      t.diagnostic(`down: ${down.stdout} ${down.stderr}; left: ${left.join(', ') || 'nothing'}`);
    } else {
      assert.equal(down.status, 0, `v6stack down: ${down.stdout}\n${down.stderr}`);
      assert.match(down.stdout, /removed namespace v6stack-br-/, down.stdout);
      assert.deepEqual(left, [], 'v6stack down left nothing behind');
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /nothing of v6stack's/, 'a second down finds nothing');
    }
  }
});
