// The supervisor's restart policy, pure (the clock is passed in): backoff doubling to a cap, the count starting
// again after a stable run, failing from the third quick exit, and the likely fix read from a daemon's last words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterExit, afterStart, backoffMs, freshHealth, isFailing, isStable, likelyFix, DEFAULT_RESTART_POLICY as P } from '../../../src/agent/restart-policy.js';

test('backoffMs: 1 s doubling, capped at 60 s', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => backoffMs(n)), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.equal(backoffMs(0), 0);
});

test('afterExit: quick exits in a row back off and become failing; a run longer than stableMs starts the count again', () => {
  let h = afterStart(freshHealth(), 1_000_000);
  const delays: number[] = [];
  let now = 1_000_000;
  for (let i = 0; i < 5; i++) {
    now += 100; // exits 100 ms after each start
    const r = afterExit(h, now);
    delays.push(r.delayMs);
    assert.equal(r.health.retryAt, now + r.delayMs);
    h = r.health;
    assert.equal(isFailing(h), i + 1 >= P.failingAfter, `after ${i + 1} exits`);
    now += r.delayMs;
    h = afterStart(h, now);
    assert.equal(h.retryAt, 0);
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000]);
  // Up for stableMs, then an exit: a first failure again, one second's wait, not failing.
  assert.equal(isStable(h, now + P.stableMs - 1), false);
  assert.equal(isStable(h, now + P.stableMs), true);
  const r = afterExit(h, now + P.stableMs);
  assert.equal(r.health.failures, 1);
  assert.equal(r.delayMs, 1000);
  assert.equal(isFailing(r.health), false);
});

test('afterExit honours another policy', () => {
  const policy = { initialMs: 10, maxMs: 25, stableMs: 1000, failingAfter: 2 };
  let h = afterStart(freshHealth(), 0);
  const a = afterExit(h, 5, policy);
  h = afterStart(a.health, 20);
  const b = afterExit(h, 30, policy);
  h = afterStart(b.health, 60);
  const c = afterExit(h, 70, policy);
  assert.deepEqual([a.delayMs, b.delayMs, c.delayMs], [10, 20, 25]);
  assert.equal(isFailing(a.health, policy), false);
  assert.equal(isFailing(b.health, policy), true);
});

test("likelyFix: the failures seen on real hosts, from the daemon's own words", () => {
  const ns = 'qdhcp-n1';
  assert.match(likelyFix('dnsmasq', ['dnsmasq: failed to open pidfile var/agent-vm/dhcp/n1/pid: No such file or directory'], ns), /absolute --state-dir/);
  assert.match(likelyFix('dnsmasq', ['dnsmasq: failed to create listening socket for 2001:db8::2: Address already in use'], ns), /ip netns exec qdhcp-n1 ss -lupn/);
  assert.match(likelyFix('dnsmasq', ['dnsmasq: cannot read /x/host: Permission denied'], ns), /searchable by others/);
  assert.match(likelyFix('radvd', ['radvd: interface qr-1234 does not exist'], 'qrouter-r'), /ip -n qrouter-r link/);
  assert.match(likelyFix('radvd', ['exec of "radvd" failed: No such file or directory'], 'qrouter-r'), /apt-get install radvd/);
  assert.match(likelyFix('radvd', ['radvd: syntax error in /x/radvd.conf, line 3'], 'qrouter-r'), /refused its configuration/);
  assert.match(likelyFix('dnsmasq', [], ns), /by hand .* in qdhcp-n1/);
});
