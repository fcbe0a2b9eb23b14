// Debian's real clients drive v6stack's BGP dynamic routing: `openstack bgp ...` (python3-neutronclient's OSC plugin)
// and the legacy `neutron bgp-...` commands, through the talk's scenario (speaker AS 65001 on `public`, peer AS 65000,
// 2001:db8:bad:face::/64 advertised via 2001:db8:cafe:17::7), the dragent scheduler, and md5 peers whose password is
// never shown. Each suite gets its own v6stack process on a fresh store; without the clients it skips.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { backends, freshStoreUrl, spawnServer, type ServerProcess } from '../helpers/v6stack.js';
import { freePort, run, type RunResult } from './util.js';
import { repoRoot } from './http-cases-compare.js';

const CALL_TIMEOUT_MS = 120_000;
const openstackBin = existsSync('/usr/bin/openstack') ? '/usr/bin/openstack' : undefined;
const neutronBin = existsSync('/usr/bin/neutron') ? '/usr/bin/neutron' : undefined;
const skip = openstackBin && neutronBin ? false : 'the openstack and neutron CLIs are not installed (python3-openstackclient, python3-neutronclient)';

function clientEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^OS_/.test(k) && !/_proxy$/i.test(k)) env[k] = v;
  return { ...env, HOME: home, NO_PROXY: '::1,127.0.0.1,localhost', no_proxy: '::1,127.0.0.1,localhost', ...extra };
}

const show = (r: RunResult, args: string[]) => `${args.join(' ')} -> exit ${r.code}\nstdout: ${r.stdout.slice(0, 1500)}\nstderr: ${r.stderr.slice(0, 1500)}`;
function ok(r: RunResult, args: string[]): string {
  assert.equal(r.timedOut, false, show(r, args));
  assert.equal(r.code, 0, show(r, args));
  return r.stdout;
}

for (const backend of backends()) {
  describe(`openstack bgp and neutron bgp-* commands against v6stack (${backend})`, { skip }, () => {
    let server: ServerProcess | undefined;
    let dispose: (() => Promise<void>) | undefined;
    let home = '';
    before(async () => {
      const fresh = await freshStoreUrl(backend);
      dispose = fresh.dispose;
      home = mkdtempSync(join(tmpdir(), 'v6stack-bgp-clients-'));
      process.chdir(repoRoot);
      server = await spawnServer(fresh.url, await freePort('::1'));
    });
    after(async () => {
      await server?.stop();
      await dispose?.();
      if (home) rmSync(home, { recursive: true, force: true });
    });
    const os = (...args: string[]) => run(openstackBin!, ['--os-auth-type', 'none', '--os-endpoint', server!.url, ...args], { env: clientEnv(home), timeoutMs: CALL_TIMEOUT_MS });
    const oj = async (...args: string[]) => JSON.parse(ok(await os(...args, '-f', 'json'), args));
    const oc = async (...args: string[]) => ok(await os(...args), args);
    const nj = async (...args: string[]) =>
      JSON.parse(ok(await run(neutronBin!, [...args, '-f', 'json'], { env: clientEnv(home, { OS_AUTH_TYPE: 'none', OS_ENDPOINT: server!.url }), timeoutMs: CALL_TIMEOUT_MS }), args));

    /** v6stack's own CLI: `bgp routes`, `bgp why`. */
    const v6stack = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['dist/src/cli/main.js', '--os-endpoint', server!.url, ...args], { encoding: 'utf8', timeout: CALL_TIMEOUT_MS });
      assert.equal(r.status, 0, `v6stack ${args.join(' ')}: ${r.stdout} ${r.stderr}`);
      return JSON.parse(r.stdout);
    };

    it("builds the talk's scope, networks and router with the openstack CLI", async () => {
      await oj('address', 'scope', 'create', '--ip-version', '6', 'bgp-v6');
      await oj('subnet', 'pool', 'create', '--pool-prefix', '2001:db8:cafe:17::/64', '--address-scope', 'bgp-v6', 'public-v6-pool');
      await oj('subnet', 'pool', 'create', '--pool-prefix', '2001:db8:bad::/48', '--default-prefix-length', '64', '--address-scope', 'bgp-v6', 'tenant-pool');
      await oj('network', 'create', '--external', 'public');
      await oj('subnet', 'create', '--network', 'public', '--ip-version', '6', '--subnet-pool', 'public-v6-pool', '--subnet-range', '2001:db8:cafe:17::/64', '--no-dhcp', 'public-v6');
      await oj('network', 'create', 'private');
      await oj('subnet', 'create', '--network', 'private', '--ip-version', '6', '--subnet-pool', 'tenant-pool', '--subnet-range', '2001:db8:bad:face::/64',
        '--ipv6-ra-mode', 'slaac', '--ipv6-address-mode', 'slaac', 'face');
      await oj('router', 'create', 'r1');
      await oc('router', 'set', '--external-gateway', 'public', '--fixed-ip', 'subnet=public-v6,ip-address=2001:db8:cafe:17::7', 'r1');
      await oc('router', 'add', 'subnet', 'r1', 'face');
    });

    it('bgp speaker create/show/list, bgp peer create, bgp speaker add network/peer, list advertised routes', async () => {
      const sp = await oj('bgp', 'speaker', 'create', '--local-as', '65001', '--ip-version', '6', 'speaker1');
      assert.equal(sp.local_as, 65001);
      assert.equal(sp.ip_version, 6);
      const peer = await oj('bgp', 'peer', 'create', '--peer-ip', '2001:db8:cafe:17::1', '--remote-as', '65000', 'peer1');
      assert.deepEqual([peer.peer_ip, peer.remote_as, peer.auth_type], ['2001:db8:cafe:17::1', 65000, 'none']);
      assert.deepEqual(await oj('bgp', 'speaker', 'list', 'advertised', 'routes', 'speaker1'), []);
      await oc('bgp', 'speaker', 'add', 'network', 'speaker1', 'public');
      await oc('bgp', 'speaker', 'add', 'peer', 'speaker1', 'peer1');
      const shown = await oj('bgp', 'speaker', 'show', 'speaker1');
      assert.equal(shown.peers.length, 1);
      assert.equal(shown.networks.length, 1);
      assert.deepEqual((await oj('bgp', 'speaker', 'list')).map((s: Record<string, unknown>) => [s.Name, s['Local AS'], s['IP Version']]), [['speaker1', 65001, 6]]);
      assert.deepEqual(await oj('bgp', 'speaker', 'list', 'advertised', 'routes', 'speaker1'), [{ Destination: '2001:db8:bad:face::/64', Nexthop: '2001:db8:cafe:17::7' }]);
      const legacy = await nj('bgp-speaker-advertiseroute-list', 'speaker1');
      assert.deepEqual(legacy, [{ destination: '2001:db8:bad:face::/64', next_hop: '2001:db8:cafe:17::7' }]);
      assert.deepEqual(v6stack('bgp', 'routes', 'speaker1', '-f', 'json'), [{ Destination: '2001:db8:bad:face::/64', Nexthop: '2001:db8:cafe:17::7' }]);
      assert.deepEqual(v6stack('bgp', 'why', 'face', '-f', 'json'), [{ Speaker: 'speaker1', Subnet: '2001:db8:bad:face::/64', Advertised: true, 'Next hops': ['2001:db8:cafe:17::7'], 'Why not': '' }]);
      await oc('router', 'remove', 'subnet', 'r1', 'face');
      assert.deepEqual(await oj('bgp', 'speaker', 'list', 'advertised', 'routes', 'speaker1'), [], 'withdrawn with the interface');
      const why = v6stack('bgp', 'why', 'face', '--speaker', 'speaker1', '-f', 'json');
      assert.deepEqual([why[0].Advertised, why[0]['Why not']], [false, 'the subnet is on no router interface']);
      await oc('bgp', 'speaker', 'remove', 'peer', 'speaker1', 'peer1');
      await oc('bgp', 'speaker', 'remove', 'network', 'speaker1', 'public');
      assert.deepEqual((await oj('bgp', 'speaker', 'show', 'speaker1')).networks, []);
    });

    it('a 4-byte ASN, and an md5 peer whose password is never shown', async () => {
      assert.equal((await oj('bgp', 'speaker', 'create', '--local-as', '4200000000', '--ip-version', '6', 'speaker4b')).local_as, 4200000000);
      const p = await oj('bgp', 'peer', 'create', '--peer-ip', '2001:db8:cafe:17::2', '--remote-as', '4200000001', '--auth-type', 'md5', '--password', 'talk-secret', 'peer-md5');
      assert.equal(p.remote_as, 4200000001);
      const out = await oc('bgp', 'peer', 'show', 'peer-md5', '-f', 'json');
      assert.equal(out.includes('talk-secret'), false, out);
      const bad = ['bgp', 'speaker', 'create', '--local-as', '0', '--ip-version', '6', 'bad'];
      const r = await os(...bad);
      assert.notEqual(r.code, 0, show(r, bad));
      assert.ok(r.stderr.includes("Invalid input for local_as. Reason: '0' is too small - must be at least '1'."), r.stderr);
    });

    it('bgp dragent add speaker / list; bgp speaker list --agent; neutron bgp-dragent-list-hosting-speaker', async () => {
      const res = await fetch(`${server!.url}/v6stack/v1/agents/bgp-host/neutron-bgp-dragent`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ agent: { agent_type: 'BGP dynamic routing agent' } }),
      });
      const agent = ((await res.json()) as { agent: { id: string } }).agent;
      const listed = await oj('bgp', 'dragent', 'list');
      assert.deepEqual(listed.map((a: Record<string, unknown>) => a.ID), [agent.id]);
      // The speakers were created before any BGP agent: the agent's first heartbeat took one of them
      // (schedule_unscheduled_bgp_speakers; which one is the id order's). Free the agent, then schedule speaker1 by hand.
      const taken = (await oj('bgp', 'speaker', 'list', '--agent', agent.id)).map((s: Record<string, unknown>) => s.Name as string);
      assert.equal(taken.length, 1, JSON.stringify(taken));
      await oc('bgp', 'dragent', 'remove', 'speaker', agent.id, taken[0]!);
      await oc('bgp', 'dragent', 'add', 'speaker', agent.id, 'speaker1');
      assert.deepEqual((await oj('bgp', 'dragent', 'list', '--bgp-speaker', 'speaker1')).map((a: Record<string, unknown>) => [a.ID, a.Host]), [[agent.id, 'bgp-host']]);
      assert.deepEqual((await oj('bgp', 'speaker', 'list', '--agent', agent.id)).map((s: Record<string, unknown>) => s.Name), ['speaker1']);
      assert.deepEqual((await nj('bgp-dragent-list-hosting-speaker', 'speaker1')).map((a: Record<string, unknown>) => a.id), [agent.id]);
      await oc('bgp', 'dragent', 'remove', 'speaker', agent.id, 'speaker1');
      assert.deepEqual(await oj('bgp', 'speaker', 'list', '--agent', agent.id), []);
    });
  });
}
