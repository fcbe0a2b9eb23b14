// A daemon that keeps failing, for real: the network's dnsmasq is killed and its pid file made a directory, so every
// restart fails as dnsmasq itself says (`failed to open pidfile ...`). The agent must restart it with backoff (not
// once a second), log an ERROR line with dnsmasq's own last words and the likely fix, report it in GET /v2.0/agents
// (configurations.failing_daemons) and show the network's DHCP port in ERROR; once the obstacle is gone, dnsmasq
// runs again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { routedNetwork, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq']);

test('a dnsmasq that cannot start: restarted with backoff, an ERROR line with its last words and fix, failing_daemons in GET /v2.0/agents, its DHCP port ERROR; it runs again once fixed', { skip, timeout: 180_000 }, async () => {
  const env = await startEnv();
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 7) % 0xffff).toString(16);
    const { net } = await routedNetwork(env, { name: `it-${env.tag}`, cidr: `2001:db8:${third}:5::/64`, mode: 'dhcpv6-stateful', dns: `2001:db8:${third}:53::1` });
    const id = `dnsmasq-${net.id}`;
    await env.agent.waitLine(new RegExp(`start ${id}`));
    const dhcpPort = await until('the DHCP port ACTIVE', async () => (await env.api('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`)).ports.find((p: any) => p.status === 'ACTIVE'));
    const pidFile = join(env.stateDir, 'dhcp', net.id, 'pid');
    const pid = Number(await until('dnsmasq pid file', () => readFileSync(pidFile, 'utf8').trim()));

    const mark = env.agent.lines.length;
    rmSync(pidFile);
    mkdirSync(pidFile);
    process.kill(pid, 'SIGKILL');

    const error = await env.agent.waitLine(new RegExp(`ERROR ${id} exited \\(\\d+\\), 3 times in a row; next try in 4 s\\. It said: .*pidfile.*Likely fix: `), mark, 30_000);
    // Backoff: the exits are 1 s then 2 s apart (at least), not a restart loop.
    const exits = env.agent.lines.slice(mark, error.index + 1).filter((l) => l.includes(`${id} exited`));
    assert.equal(exits.length, 3, exits.join('\n'));
    assert.match(exits[0]!, /restart in 1 s/);
    assert.match(exits[1]!, /restart in 2 s/);
    const stamps = exits.map((l) => Date.parse(l.slice(0, 24)));
    assert.ok(stamps[1]! - stamps[0]! >= 900 && stamps[2]! - stamps[1]! >= 1900, `exits at ${exits.join('\n')}`);

    const report = await until('failing_daemons in GET /v2.0/agents', async () => {
      const a = (await env.api('GET', `/v2.0/agents?host=${env.host}`)).agents[0];
      return a?.configurations?.failing_daemons?.find((d: any) => d.id === id);
    });
    assert.equal(report.kind, 'dnsmasq');
    assert.equal(report.namespace, `qdhcp-${net.id}`);
    assert.ok(report.exits_in_a_row >= 3);
    assert.ok(report.last_words.some((l: string) => /pidfile/.test(l)), JSON.stringify(report));
    assert.equal(typeof report.fix, 'string');
    await until('the DHCP port in ERROR', async () => (await env.api('GET', `/v2.0/ports/${dhcpPort.id}`)).port.status === 'ERROR');

    // Fixed: the next try (after its backoff) starts it, and it stays.
    rmSync(pidFile, { recursive: true });
    const again = env.agent.lines.length;
    await env.agent.waitLine(new RegExp(`start ${id}`), again, 40_000);
    const newPid = Number(await until('a new dnsmasq pid', () => readFileSync(pidFile, 'utf8').trim(), 10_000));
    assert.notEqual(newPid, pid);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(readFileSync(`/proc/${newPid}/cmdline`, 'utf8').includes(net.id), true, 'dnsmasq stays up');
  } finally {
    await env.cleanup();
  }
});
