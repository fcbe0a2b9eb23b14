// HA routers through Debian's real clients, against v6stack started with --l3-ha: `openstack router create` makes
// an HA router, `openstack router show` says so, `neutron l3-agent-list-hosting-router` and
// `openstack network agent list --router --long` list the hosting agents with their HA state as the agents report
// it, and converting to legacy needs the router disabled first (Neutron's error through the client otherwise).
// Two agents heartbeat through v6stack's agent API (no data plane here: test/agent-integration/ha.test.ts).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { freshStoreUrl, spawnServer, type ServerProcess } from '../helpers/v6stack.js';
import { freePort, run, type RunResult } from './util.js';
import { repoRoot } from './http-cases-compare.js';

const which = (cmd: string): string | undefined => ['/usr/bin', ...(process.env.PATH ?? '').split(delimiter)].map((d) => join(d, cmd)).find((p) => existsSync(p));
const neutronBin = which('neutron');
const openstackBin = which('openstack');
const skip = neutronBin && openstackBin ? false : 'the neutron and openstack CLIs are not installed (python3-neutronclient, python3-openstackclient)';

function clientEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^OS_/.test(k) && !/_proxy$/i.test(k)) env[k] = v;
  return { ...env, HOME: home, NO_PROXY: '::1,127.0.0.1,localhost', no_proxy: '::1,127.0.0.1,localhost', ...extra };
}
const show = (r: RunResult, args: string[]) => `${args.join(' ')} -> exit ${r.code}\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 1500)}`;

describe('HA routers through the openstack and neutron clients (--l3-ha)', { skip }, () => {
  let server: ServerProcess | undefined;
  let dispose: (() => Promise<void>) | undefined;
  let home = '';
  before(async () => {
    const fresh = await freshStoreUrl('sqlite');
    dispose = fresh.dispose;
    home = mkdtempSync(join(tmpdir(), 'v6stack-ha-clients-'));
    process.chdir(repoRoot);
    server = await spawnServer(fresh.url, await freePort('::1'), ['--l3-ha', '--max-l3-agents-per-router', '2']);
  });
  after(async () => {
    await server?.stop();
    await dispose?.();
    if (home) rmSync(home, { recursive: true, force: true });
  });
  const beat = async (host: string, haRouters: Record<string, string> = {}) => {
    const res = await fetch(`${server!.url}/v6stack/v1/agents/${host}/v6stack-agent`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ agent: { agent_type: 'v6stack agent', configurations: { role: 'network', ha_routers: haRouters } } }),
    });
    assert.equal(res.status, 200);
  };
  const os = (...args: string[]) => run(openstackBin!, ['--os-auth-type', 'none', '--os-endpoint', server!.url, ...args], { env: clientEnv(home), timeoutMs: 120_000 });
  const oj = async (...args: string[]) => {
    const r = await os(...args, '-f', 'json');
    assert.equal(r.code, 0, show(r, args));
    return JSON.parse(r.stdout);
  };
  const neutron = (...args: string[]) => run(neutronBin!, args, { env: clientEnv(home, { OS_AUTH_TYPE: 'none', OS_ENDPOINT: server!.url }), timeoutMs: 120_000 });

  it('creates an HA router by default, lists its agents with their HA state, and converts it only when disabled', async () => {
    await beat('net-1');
    await beat('net-2');
    const router = await oj('router', 'create', 'r1');
    assert.equal(router.ha, true, '--l3-ha makes routers HA by default');
    assert.equal((await oj('router', 'show', 'r1')).ha, true);
    const nets = await oj('network', 'list', '--long');
    assert.ok(nets.some((n: any) => n.Name === 'HA network tenant default'), JSON.stringify(nets));

    const hosting = async () => {
      const r = await neutron('l3-agent-list-hosting-router', 'r1', '-f', 'json');
      assert.equal(r.code, 0, show(r, ['l3-agent-list-hosting-router']));
      return (JSON.parse(r.stdout) as any[]).map((a) => [a.host, a.ha_state]).sort();
    };
    assert.deepEqual(await hosting(), [['net-1', 'standby'], ['net-2', 'standby']]);
    await beat('net-1', { [router.id]: 'active' });
    await beat('net-2', { [router.id]: 'standby' });
    assert.deepEqual(await hosting(), [['net-1', 'active'], ['net-2', 'standby']]);
    const agents = await oj('network', 'agent', 'list', '--router', 'r1', '--long');
    assert.deepEqual(agents.map((a: any) => [a.Host, a['HA State']]).sort(), [['net-1', 'active'], ['net-2', 'standby']]);

    const refused = await os('router', 'set', '--no-ha', 'r1');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Cannot change HA attribute of active routers\. Please set router admin_state_up to False prior to upgrade/);
    const done = await os('router', 'set', '--disable', '--no-ha', 'r1');
    assert.equal(done.code, 0, show(done, ['router set --disable --no-ha']));
    assert.equal((await oj('router', 'show', 'r1')).ha, false);
    assert.ok(!(await oj('network', 'list')).some((n: any) => n.Name === 'HA network tenant default'), 'the HA network went with the last HA router');
  });
});
