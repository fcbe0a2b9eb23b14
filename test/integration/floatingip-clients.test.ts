// Floating IPs through the command lines: Debian's `openstack floating ip create/set/unset/show/list/delete`
// (python3-openstackclient 6.0) and v6stack's own `floating ip ...` (the same words and flags) against a real
// v6stack server, with Neutron's errors reaching the user (exit status non-zero).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshStoreUrl, spawnServer, type ServerProcess } from '../helpers/v6stack.js';
import { freePort, run, type RunResult } from './util.js';
import { repoRoot } from './http-cases-compare.js';

const openstackBin = existsSync('/usr/bin/openstack') ? '/usr/bin/openstack' : undefined;
const CALL_TIMEOUT_MS = 120_000;

function clientEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^OS_/.test(k) && !/_proxy$/i.test(k)) env[k] = v;
  return { ...env, HOME: home, NO_PROXY: '::1,127.0.0.1,localhost', no_proxy: '::1,127.0.0.1,localhost' };
}

const show = (r: RunResult, args: string[]) => `${args.join(' ')} -> exit ${r.code}\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 1500)}`;

describe('floating IPs from the command line (openstack and v6stack)', () => {
  let server: ServerProcess;
  let dispose: () => Promise<void>;
  let home: string;
  before(async () => {
    const fresh = await freshStoreUrl('sqlite');
    dispose = fresh.dispose;
    home = mkdtempSync(join(tmpdir(), 'v6stack-fip-home-'));
    process.chdir(repoRoot);
    server = await spawnServer(fresh.url, await freePort('::1'));
  });
  after(async () => {
    await server?.stop();
    await dispose?.();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const os = (...args: string[]) => run(openstackBin!, ['--os-auth-type', 'none', '--os-endpoint', server.url, ...args], { env: clientEnv(home), timeoutMs: CALL_TIMEOUT_MS });
  const v6 = (...args: string[]) => run(process.execPath, ['dist/src/cli/main.js', '--os-endpoint', server.url, ...args], { timeoutMs: CALL_TIMEOUT_MS });
  const ok = async (p: Promise<RunResult>, args: string[]): Promise<string> => {
    const r = await p;
    assert.equal(r.code, 0, show(r, args));
    return r.stdout;
  };
  const okJson = async (tool: typeof os, ...args: string[]): Promise<any> => JSON.parse(await ok(tool(...args, '-f', 'json'), args));
  const okPlain = (tool: typeof os, ...args: string[]): Promise<string> => ok(tool(...args), args);

  it('builds the topology with v6stack: an external network, a router joining a private subnet to it, two ports', async () => {
    await okJson(v6, 'network', 'create', '--external', 'public');
    await okJson(v6, 'subnet', 'create', '--network', 'public', '--subnet-range', '192.0.2.0/24', '--allocation-pool', 'start=192.0.2.10,end=192.0.2.200', 'public-v4');
    await okJson(v6, 'network', 'create', 'private');
    await okJson(v6, 'subnet', 'create', '--network', 'private', '--subnet-range', '10.0.0.0/24', 'private-v4');
    await okJson(v6, 'router', 'create', '--external-gateway', 'public', 'r1');
    await okPlain(v6, 'router', 'add', 'subnet', 'r1', 'private-v4');
    for (const p of ['vm1', 'vm2']) await okJson(v6, 'port', 'create', '--network', 'private', p);
  });

  it('openstack floating ip create/set/unset/show/list/delete', { skip: openstackBin ? false : 'python3-openstackclient is not installed' }, async () => {
    const created = await okJson(os, 'floating', 'ip', 'create', '--floating-ip-address', '192.0.2.77', '--port', 'vm1', '--description', 'web', 'public');
    assert.equal(created.floating_ip_address, '192.0.2.77');
    assert.equal(created.name, '192.0.2.77');
    assert.match(created.fixed_ip_address, /^10\.0\.0\.\d+$/);
    assert.ok(created.router_id);
    assert.equal(created.description, 'web');
    const vm2 = await okJson(os, 'port', 'show', 'vm2');
    await okPlain(os, 'floating', 'ip', 'set', '--port', 'vm2', '192.0.2.77');
    const moved = await okJson(os, 'floating', 'ip', 'show', '192.0.2.77');
    assert.equal(moved.port_id, vm2.id);
    assert.equal(moved.fixed_ip_address, vm2.fixed_ips[0].ip_address);
    // OSC prints port_details as its DictColumn text, also in JSON output.
    assert.match(moved.port_details, new RegExp(`device_owner='', mac_address='${vm2.mac_address}', name='vm2'`));
    const listed = await okJson(os, 'floating', 'ip', 'list', '--port', 'vm2');
    assert.deepEqual(listed.map((f: any) => [f['Floating IP Address'], f.Port]), [['192.0.2.77', vm2.id]]);
    // Neutron's error through the client: the same fixed IP cannot take a second floating IP.
    const dup = await os('floating', 'ip', 'create', '--port', 'vm2', 'public');
    assert.notEqual(dup.code, 0, show(dup, ['floating ip create --port vm2 public']));
    assert.match(dup.stderr, /Cannot associate floating IP .* as that fixed IP already has a floating IP on external network/);
    await okPlain(os, 'floating', 'ip', 'unset', '--port', '192.0.2.77');
    const off = await okJson(os, 'floating', 'ip', 'show', created.id);
    assert.equal(off.port_id, null);
    assert.equal(off.status, 'DOWN');
    await okPlain(os, 'floating', 'ip', 'delete', '192.0.2.77');
    assert.deepEqual(await okJson(os, 'floating', 'ip', 'list'), []);
  });

  it('v6stack floating ip create/set/unset/show/list/delete, the same words', async () => {
    const created = await okJson(v6, 'floating', 'ip', 'create', '--port', 'vm1', '--tag', 'a', 'public');
    const F = created.floating_ip_address as string;
    assert.match(F, /^192\.0\.2\.\d+$/);
    assert.deepEqual(created.tags, ['a']);
    assert.equal(created.name, F);
    const table = await okPlain(v6, 'floating', 'ip', 'show', F);
    assert.match(table, /\| floating_ip_address +\| 192\.0\.2\.\d+ +\|/);
    assert.match(table, /\| port_details +\| .*device_owner='', .*name='vm1'/);
    const vm2 = await okJson(v6, 'port', 'show', 'vm2');
    await okPlain(v6, 'floating', 'ip', 'set', '--port', 'vm2', F);
    const listed = await okJson(v6, 'floating', 'ip', 'list', '--long', '--router', 'r1');
    assert.deepEqual(listed.map((f: any) => [f['Floating IP Address'], f.Port, f.Status]), [[F, vm2.id, 'DOWN']]);
    const wrong = await v6('floating', 'ip', 'set', '--port', 'vm1', '--fixed-ip-address', '10.9.9.9', F);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /does not have fixed ip 10\.9\.9\.9/);
    await okPlain(v6, 'floating', 'ip', 'unset', '--port', F);
    assert.equal((await okJson(v6, 'floating', 'ip', 'show', created.id)).port_id, null);
    await okPlain(v6, 'floating', 'ip', 'delete', F);
    const gone = await v6('floating', 'ip', 'show', F);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No FloatingIP found for/);
  });
});
