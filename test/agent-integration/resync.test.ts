// The agent between full resyncs: a change is applied by an incremental pass that reads back only the namespaces
// whose plan changed; what someone changes behind the agent's back (a router's qr- link deleted by hand) is not
// seen by those passes but is repaired by the next full resync (here every 2 s instead of 60).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentProcess, ipJson, routedNetwork, sh, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd']);

test('incremental passes read back only changed namespaces; a full resync repairs a link deleted by hand', { skip, timeout: 120_000 }, async () => {
  const env = await startEnv();
  try {
    await env.agent.stop();
    env.agent = new AgentProcess(env.url, env.host, env.stateDir, ['--resync-interval', '2']);
    await env.agent.waitLine(/in sync:.*full resync/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const { router, rport } = await routedNetwork(env, { name: `it-${env.tag}`, cidr: `2001:db8:${third}:7::/64`, mode: 'slaac', dns: `2001:db8:${third}:53::1` });
    const qrouter = `qrouter-${router.id}`;
    const qr = `qr-${rport.id.slice(0, 11)}`;
    const plugged = (): boolean => ipJson(qrouter, ['addr', 'show']).some((l) => l.ifname === qr && l.addr_info.some((a: any) => a.local === rport.fixed_ips[0].ip_address));
    await until(`${qr} with its address`, plugged);
    // A rename changes no namespace's plan: its pass reads nothing back. (Passes for the interface add may still
    // be finishing when the rename lands, so look for the rename's pass among those that follow.)
    // On a loaded host the rename's pass can fall on a full resync (every 2 s here), which reads everything back:
    // then rename again, a few times, until a pass is an incremental one.
    const mark = env.agent.lines.length;
    let incremental = false;
    for (let i = 0; i < 5 && !incremental; i++) {
      const from = env.agent.lines.length;
      await env.api('PUT', `/v2.0/routers/${router.id}`, { router: { name: `renamed-${env.tag}-${i}` } });
      const pass = await env.agent.waitLine(/in sync: 0 kernel actions, 0 daemon actions \((0 namespaces read back|full resync)\)/, from);
      incremental = /0 namespaces read back/.test(pass.line) || env.agent.lines.slice(pass.index).some((l) => /in sync: 0 kernel actions, 0 daemon actions \(0 namespaces read back\)/.test(l));
    }
    assert.ok(incremental, `a rename's pass reads nothing back:\n${env.agent.lines.slice(mark).join('\n')}`);

    // Behind the agent's back: delete the qr- link. The next full resync puts it back, with its address.
    const del = sh(['ip', '-n', qrouter, 'link', 'del', qr]);
    assert.equal(del.status, 0, del.stderr);
    assert.equal(plugged(), false);
    const repair = await env.agent.waitLine(new RegExp(`plug ${qrouter} ${qr}`), mark, 30_000);
    assert.ok(repair);
    await until(`${qr} restored`, plugged);
    const resync = await env.agent.waitLine(/in sync: [1-9]\d* kernel actions.*full resync/, repair.index);
    assert.ok(resync);
  } finally {
    await env.cleanup();
  }
});
