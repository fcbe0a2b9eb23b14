// One agent per host: a second agent for the same host refuses with a clear message (it would share the bridge
// namespace), whatever its state dir. `v6stack down` stops the running agent and removes its daemons and
// namespaces, says what it removed, and finds nothing the second time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentProcess, routedNetwork, sh, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq']);

test('a second agent for the host refuses; v6stack down stops the agent and removes its namespaces and daemons, twice safely', { skip, timeout: 180_000 }, async () => {
  const env = await startEnv();
  const other = mkdtempSync(join(tmpdir(), 'v6stack-agent-2-'));
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 13) % 0xffff).toString(16);
    const { net, router } = await routedNetwork(env, { name: `it-${env.tag}`, cidr: `2001:db8:${third}::/64`, mode: 'dhcpv6-stateless', dns: `2001:db8:${third}:53::1` });
    await env.agent.waitLine(new RegExp(`start dnsmasq-${net.id}`));
    await env.agent.waitLine(new RegExp(`start radvd-${router.id}`));

    const second = new AgentProcess(env.url, env.host, join(other, 'agent'));
    await until('the second agent to exit', () => second.child.exitCode !== null, 30_000);
    assert.notEqual(second.child.exitCode, 0);
    assert.match(second.lines.join('\n'), new RegExp(`another v6stack agent for host ${env.host} is running \\(pid ${env.agent.child.pid}`));

    const down = await shAsync([process.execPath, 'dist/src/cli/main.js', 'down', '--host', env.host, '--state-dir', env.stateDir, '--lab-state-dir', env.labDir]);
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`removed agent process ${env.agent.child.pid}`));
    assert.match(down.stdout, new RegExp(`removed namespace qrouter-${router.id}`));
    assert.match(down.stdout, new RegExp(`removed namespace qdhcp-${net.id}`));
    assert.match(down.stdout, new RegExp(`removed namespace v6stack-br-${env.host}`));
    await until('the agent to exit', () => env.agent.child.exitCode !== null || env.agent.child.signalCode !== null, 20_000);
    const names = sh(['ip', 'netns', 'list']).stdout;
    for (const ns of [`qrouter-${router.id}`, `qdhcp-${net.id}`, `v6stack-br-${env.host}`]) assert.ok(!names.includes(ns), `${ns} is gone`);
    assert.equal(sh(['pgrep', '-f', env.stateDir]).stdout.trim(), '', 'no daemon of its state dir runs');

    const again = await shAsync([process.execPath, 'dist/src/cli/main.js', 'down', '--host', env.host, '--state-dir', env.stateDir, '--lab-state-dir', env.labDir]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /nothing of v6stack's/);
  } finally {
    rmSync(other, { recursive: true, force: true });
    await env.cleanup();
  }
});
