// `v6stack demo`: the talk's topology with an instance per IPv6 mode, and what each instance got beside what the
// talk shows (src/lab/demo.ts). By default on a private server and agent of its own (a temporary SQLite store, a
// host name of its own), removed when it ends; `--keep` leaves it running for exploration until Ctrl-C.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { aptInstallLine, missingTools } from '../agent/host-tools.js';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../agent/agent.js';
import { bootInstances, buildTopology, DEMO_DNS4, DEMO_DNS6, DEMO_NETWORKS, observeInstance, renderReport, type InstanceView } from '../lab/demo.js';
import { labDc } from '../lab/dc.js';
import { labDelete, labNsName, type LabOptions } from '../lab/lab.js';
import { bridgeNsName } from '../agent/plan.js';
import { linkLocalFromMac } from '../domain/eui64.js';
import { ApiServer } from '../api/server.js';
import { openStore } from '../store/index.js';
import type { Port } from '../schema/index.js';

interface DemoCliOptions {
  keep?: boolean;
  json?: boolean;
  verbose?: boolean;
}

const say = (l: string): void => console.error(`demo: ${l}`);

function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('v6stack demo needs root (it builds network namespaces and runs radvd and dnsmasq)');
  // Every program the agent and the lab run, and rdisc6 (what each instance's RA is read with).
  const missing = missingTools(['agent', 'lab', 'tour']).filter((t) => t.neededBy !== 'tour' || t.program === 'rdisc6');
  if (missing.length) throw new Error(`${missing.map((t) => t.program).join(', ')} not installed (Debian: ${aptInstallLine(missing)}, or \`v6stack install-deps\`)`);
  for (const spec of [...DEMO_NETWORKS, { instance: 'demo-dc' }]) {
    if (spawnSync('ip', ['netns', 'pids', labNsName(spec.instance)], { stdio: 'ignore' }).status === 0) {
      throw new Error(`lab instance ${spec.instance} already exists (another demo running? \`ip netns del ${labNsName(spec.instance)}\` if not)`);
    }
  }
}

async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description("build the talk's topology (public, SLAAC, DHCPv6-stateless and -stateful networks, a router) with an instance on each, and show what each got beside the talk")
    .option('--keep', 'leave the demo running (API, agent, namespaces) until Ctrl-C')
    .option('--json', 'print what each instance got as JSON')
    .option('--verbose', "show the agent's log")
    .action(async (o: DemoCliOptions) => {
      preflight();
      const dir = mkdtempSync(join(tmpdir(), 'v6stack-demo-'));
      chmodSync(dir, 0o755); // dnsmasq reads its files below it as nobody
      const host = `demo${process.pid.toString(36)}`;
      const store = await openStore(`sqlite:${join(dir, 'demo.db')}`);
      const api = new ApiServer({ store, defaultProjectId: 'demo', logRequests: false });
      const { port } = await api.listen(0, '::1');
      const server = `http://[::1]:${port}`;
      const agent = new Agent({ server, host, stateDir: join(dir, 'agent'), log: o.verbose ? (l) => console.error(`agent: ${l}`) : () => {} });
      const lab: LabOptions = { server, host, stateDir: join(dir, 'lab'), log: () => {} };
      const call = async (method: string, path: string, body?: unknown): Promise<any> => {
        const res = await fetch(server + path, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        const text = await res.text();
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        return text ? JSON.parse(text) : null;
      };
      let cleaned = false;
      const cleanup = async (): Promise<void> => {
        if (cleaned) return;
        cleaned = true;
        for (const spec of DEMO_NETWORKS) await labDelete(lab, spec.instance).catch(() => {});
        await labDelete(lab, 'demo-dc').catch(() => {});
        await agent.stop().catch(() => {});
        let owned: string[] = [];
        try {
          owned = JSON.parse(readFileSync(join(dir, 'agent', 'owned.json'), 'utf8')).namespaces;
        } catch {
          /* none */
        }
        for (const ns of [...owned, bridgeNsName(host)]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
        await api.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      };
      process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
      try {
        say(`API on ${server} (SQLite in ${dir}), agent for host ${host}`);
        await agent.start();
        const topo = await buildTopology(call, say);
        // The talk's DC: the upstream router owning public's gateways (.1, ::1) and the DNS host behind it.
        const dc = await labDc(lab, topo.publicNet.id, 'demo-dc', [DEMO_DNS6, DEMO_DNS4]);
        say(`DC (lab-demo-dc): upstream router ${dc.addresses.join(' ')}, DNS host ${DEMO_DNS6} ${DEMO_DNS4}, ${dc.routes.length} routes back to the tenants`);
        const ports = await bootInstances(lab, topo, say);
        const views: InstanceView[] = [];
        // SLAAC and stateless addresses come with the RA; wait (bounded) for every instance's address and default
        // route first, since each instance also pings the others' IPv6 addresses (another network each, through the
        // router).
        for (const { spec } of topo.networks) {
          const ns = labNsName(spec.instance);
          await until(`${spec.instance}'s IPv6 address and default route`, 30_000, () => {
            const a = spawnSync('ip', ['-n', ns, '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'], { encoding: 'utf8' }).stdout;
            const r = spawnSync('ip', ['-n', ns, '-6', 'route', 'show', 'default'], { encoding: 'utf8' }).stdout;
            return a.includes('inet6') && !a.includes('tentative') && r.includes('via');
          }).catch((e: Error) => say(e.message));
        }
        const peers = topo.networks.map(({ spec }, i) => ({ instance: spec.instance, address: ports[i]!.fixed_ips.find((f) => f.ip_address.includes(':'))?.ip_address as string }));
        for (const [i, { spec, v4 }] of topo.networks.entries()) {
          const rport = ((await call('GET', `/v2.0/ports?device_id=${topo.router.id}&network_id=${topo.networks[i]!.net.id}`)).ports as Port[]).find((p) => p.fixed_ips.some((f) => f.ip_address.includes(':')))!;
          views.push(observeInstance(lab.stateDir, spec, ports[i]!, { router6: linkLocalFromMac(rport.mac_address).toString(), router4: v4.gateway_ip as string }, DEMO_DNS6, peers));
        }
        if (o.json) console.log(JSON.stringify(views, null, 2));
        else console.log(`\n${renderReport(views)}`);
        if (o.keep) {
          say(`running; explore with: v6stack lab exec ${DEMO_NETWORKS[0]!.instance} -- ip -6 addr   (or openstack --os-auth-type none --os-endpoint ${server} network list)`);
          say('Ctrl-C removes everything');
          await new Promise(() => {});
        }
      } finally {
        if (!o.keep) await cleanup();
      }
    });
}
