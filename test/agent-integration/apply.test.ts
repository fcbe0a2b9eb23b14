// applyActions against the kernel: commands batched through `ip -n NS -batch -` take effect in order, and a batch
// that fails names the command that failed (not only "Command failed -:2").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyActions } from '../../src/agent/linux.js';
import { ipJson, sh, skipReason } from './lab-harness.js';

const skip = skipReason(['ip']);

test('apply: a batched plug works; a failing batch reports the failing command', { skip }, async () => {
  const ns = `apply-${process.pid.toString(36)}`;
  try {
    assert.equal(sh(['ip', 'netns', 'add', ns]).status, 0);
    const log: string[] = [];
    await applyActions([{ desc: 'bridge and veth', cmds: [
      ['ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge'],
      ['ip', '-n', ns, 'link', 'add', 'ta', 'type', 'veth', 'peer', 'name', 'tb'],
      ['ip', '-n', ns, 'link', 'set', 'ta', 'master', 'br0', 'up'],
      ['ip', '-n', ns, 'addr', 'add', '2001:db8::1/64', 'dev', 'tb', 'nodad'],
    ] }], (l) => log.push(l));
    assert.deepEqual(log, ['bridge and veth']);
    const ta = ipJson(ns, ['link', 'show', 'dev', 'ta'])[0];
    assert.equal(ta.master, 'br0');
    assert.ok(ta.flags.includes('UP'));
    assert.equal(ipJson(ns, ['-6', 'addr', 'show', 'dev', 'tb'])[0].addr_info.find((a: any) => a.scope === 'global').local, '2001:db8::1');

    await assert.rejects(
      applyActions([{ desc: 'second fails', cmds: [['ip', '-n', ns, 'link', 'set', 'tb', 'up'], ['ip', '-n', ns, 'link', 'set', 'tb', 'master', 'nosuchbridge']] }], () => {}),
      (e: Error) => /-batch: .*link set tb master nosuchbridge.*: .*(Cannot find|does not exist)/s.test(e.message) || assert.fail(e.message),
    );
    // A failure ip reports by line: exactly that command is named.
    await assert.rejects(
      applyActions([{ desc: 'second fails', cmds: [['ip', '-n', ns, 'link', 'set', 'tb', 'up'], ['ip', '-n', ns, 'addr', 'add', '2001:db8::1/64', 'dev', 'tb']] }], () => {}),
      (e: Error) => /-batch: ip -n \S+ addr add 2001:db8::1\/64 dev tb: .*(exists|already assigned)/s.test(e.message) || assert.fail(e.message),
    );
    assert.ok(ipJson(ns, ['link', 'show', 'dev', 'tb'])[0].flags.includes('UP'), 'the line before the failing one ran');
  } finally {
    sh(['ip', 'netns', 'del', ns]);
  }
});
