// Availability zones on real agents: two network-node agents (lab hosts a and b) started with --availability-zone az1
// and az2. The zones they report are listed; a router hinted to az2 gets its qrouter- namespace on b only (a keeps
// planning and never makes it), shows availability_zones [az2], and l3-agents names b alone; an unhinted router runs
// on both. The agents share this machine's namespaces, so each names its router namespaces with a suffix (@a, @b), as
// ha.test.ts does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AgentProcess, sh, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'bridge', 'nsenter', 'radvd', 'nft']);

const nsExists = (name: string): boolean => sh(['ip', 'netns', 'list']).stdout.split('\n').some((l) => l.split(' ')[0] === name);

test('a router hinted to az2 runs on the az2 host only, and shows az2; an unhinted one runs in both zones', { skip, timeout: 300_000 }, async () => {
  const env = await startEnv();
  const agents: AgentProcess[] = [];
  const routers: string[] = [];
  const names = { a: `${env.tag}a`, b: `${env.tag}b` };
  try {
    await env.agent.stop();
    const start = (k: 'a' | 'b', zone: string): AgentProcess => {
      const p = new AgentProcess(env.url, names[k], join(env.dir, `agent-${k}`), ['--role', 'network', '--availability-zone', zone, '--namespace-suffix', `@${k}`, '--report-interval', '1', '--resync-interval', '5']);
      agents.push(p);
      env.extraNs.push(`v6stack-br-${names[k]}`);
      return p;
    };
    const a = start('a', 'az1');
    const b = start('b', 'az2');
    await a.waitLine(/in sync:/);
    await b.waitLine(/in sync:/);
    const zones = await until('both zones listed', async () => {
      const z = (await env.api('GET', '/v2.0/availability_zones?resource=router')).availability_zones as { name: string; state: string }[];
      return z.length >= 2 ? z : undefined;
    });
    assert.deepEqual(zones.map((z) => [z.name, z.state]).sort(), [['az1', 'available'], ['az2', 'available']]);
    // Each host's v6stack agent row, and its DHCP agent row (dhcp_agent_scheduler) in the same zone.
    const agentRows = (await env.api('GET', '/v2.0/agents')).agents as { host: string; availability_zone: string; agent_type: string }[];
    const ours = agentRows.filter((x) => x.host === names.a || x.host === names.b);
    assert.deepEqual(ours.filter((x) => x.agent_type === 'v6stack agent').map((x) => [x.host, x.availability_zone]).sort(), [[names.a, 'az1'], [names.b, 'az2']]);
    assert.deepEqual(ours.filter((x) => x.agent_type === 'DHCP agent').map((x) => [x.host, x.availability_zone]).sort(), [[names.a, 'az1'], [names.b, 'az2']]);

    const hinted = (await env.api('POST', '/v2.0/routers', { router: { name: `az2-${env.tag}`, ha: false, availability_zone_hints: ['az2'] } })).router;
    routers.push(hinted.id);
    for (const k of ['a', 'b']) env.extraNs.push(`qrouter-${hinted.id}@${k}`);
    await until(`qrouter-${hinted.id}@b on the az2 host`, () => nsExists(`qrouter-${hinted.id}@b`), 60_000);
    // a has seen the router (the change feed) and finished a pass after it: it still made no namespace for it.
    const seen = a.lines.length;
    await a.waitLine(/in sync:/, seen, 60_000);
    assert.equal(nsExists(`qrouter-${hinted.id}@a`), false, 'the az1 host runs no router hinted to az2');
    const shown = (await env.api('GET', `/v2.0/routers/${hinted.id}`)).router;
    assert.deepEqual(shown.availability_zone_hints, ['az2']);
    assert.deepEqual(shown.availability_zones, ['az2']);
    assert.deepEqual(((await env.api('GET', `/v2.0/routers/${hinted.id}/l3-agents`)).agents as { host: string }[]).map((x) => x.host), [names.b]);

    // A hint no agent reports is refused before anything is made.
    const res = await fetch(`${env.url}/v2.0/routers`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ router: { availability_zone_hints: ['az9'] } }) });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as any).NeutronError.type, 'AvailabilityZoneNotFound');

    const anywhere = (await env.api('POST', '/v2.0/routers', { router: { name: `any-${env.tag}`, ha: false } })).router;
    routers.push(anywhere.id);
    for (const k of ['a', 'b']) env.extraNs.push(`qrouter-${anywhere.id}@${k}`);
    await until('the unhinted router on both hosts', () => nsExists(`qrouter-${anywhere.id}@a`) && nsExists(`qrouter-${anywhere.id}@b`), 60_000);
    assert.deepEqual((await env.api('GET', `/v2.0/routers/${anywhere.id}`)).router.availability_zones, ['az1', 'az2']);

    // Deleted: the namespace goes from b.
    await env.api('DELETE', `/v2.0/routers/${hinted.id}`);
    await until(`qrouter-${hinted.id}@b removed`, () => !nsExists(`qrouter-${hinted.id}@b`), 60_000);
  } finally {
    for (const x of agents) await x.stop().catch(() => {});
    for (const id of routers) for (const k of ['a', 'b']) if (nsExists(`qrouter-${id}@${k}`)) sh(['ip', 'netns', 'del', `qrouter-${id}@${k}`]);
    await env.cleanup();
  }
});
