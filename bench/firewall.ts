// `node dist/bench/firewall.js` (root, with nft and python3): the firewall's two figures from issue 23.
//
//   1. Applying a security-group rule change to 1,000 ports: 1,000 instance ports in one group (20 rules, plus the
//      default group's "from members") are compiled and applied in a private namespace with domain/firewall.ts and
//      `nft -f`, as agent/nft.ts does; then a rule is added to (and removed from) the shared group, and a port joins
//      the group (its members' set changes). Each is timed from the documents to the kernel's commit (compile +
//      script + nft -f), median of N. For scale, a full rewrite of the same 1,000 ports (what a restart does).
//   2. Packets per second through an instance port: sender and receiver namespaces on one bridge in a third; UDP
//      datagrams (python3 sendto loop) counted by the receiver for a few seconds: no firewall at all; the firewall with
//      a group of one rule; with 100 rules that do not match before the one that does, stateful (conntrack takes the
//      established flow past the rules) and stateless (every packet walks them).
//
//   node dist/bench/firewall.js [--ports 1000] [--iterations 10] [--seconds 3]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateMarks, compileFirewall, firewallScript, objectKey, type AppliedFirewall, type FirewallPlan, type FwPort, type FwRule } from '../src/domain/firewall.js';
import { machine } from './lib.js';

const argv = process.argv.slice(2);
const opt = (k: string, d: string): string => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1]! : d;
};
const PORTS = Number(opt('ports', '1000'));
const ITER = Number(opt('iterations', '10'));
const SECONDS = Number(opt('seconds', '3'));
const tag = process.pid.toString(36);
const dir = mkdtempSync(join(tmpdir(), 'v6stack-fwbench-'));

function sh(cmd: string[], input?: string): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

function applyScript(ns: string, script: string): void {
  const f = join(dir, 'fw.nft');
  writeFileSync(f, script);
  sh(['ip', 'netns', 'exec', ns, 'nft', '-f', f]);
}

// ---- 1. a rule change to N ports

const NET = 'bench000-0000-4000-8000-000000000000';
const hex4 = (i: number): string => i.toString(16).padStart(4, '0');
function ports(n: number, groups: string[]): FwPort[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${hex4(i)}0000-0000-4000-8000-000000000000`,
    network_id: NET,
    mac_address: `fa:16:3e:00:${hex4(i).slice(0, 2)}:${hex4(i).slice(2)}`,
    device_owner: 'compute:nova',
    fixed_ips: [{ ip_address: `2001:db8:f::${hex4(i)}` }, { ip_address: `10.${(i >> 8) & 255}.${i & 255}.9` }],
    security_groups: groups,
  }));
}
const rule = (id: string, group: string, r: Partial<FwRule>): FwRule => ({
  id, security_group_id: group, direction: 'ingress', ethertype: 'IPv6', protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null, ...r,
});
const webRules = (extra: number): FwRule[] => [
  ...Array.from({ length: 20 + extra }, (_, i) => rule(`w${i}`, 'web', { protocol: 'tcp', port_range_min: 1000 + i, port_range_max: 1000 + i, remote_ip_prefix: '::/0' })),
  rule('d-in', 'default', { remote_group_id: 'default' }),
  rule('d-out', 'default', { direction: 'egress' }),
];

function timedApply(ns: string, input: Parameters<typeof compileFirewall>[0], applied: AppliedFirewall): { ms: number; lines: number; plan: FirewallPlan } {
  const t0 = process.hrtime.bigint();
  const plan = compileFirewall(input);
  const script = firewallScript(plan, applied);
  if (script) applyScript(ns, script);
  return { ms: ms(t0), lines: script ? script.split('\n').length - 1 : 0, plan };
}
const asApplied = (plan: FirewallPlan): AppliedFirewall => ({ objects: new Map(plan.objects.map((o) => [objectKey(o), o])) });

function ruleChangeBench(): Record<string, number> {
  const ns = `fwbench-${tag}`;
  sh(['ip', 'netns', 'add', ns]);
  try {
    const all = ports(PORTS, ['web', 'default']);
    const groups = [{ id: 'web', stateful: true }, { id: 'default', stateful: true }];
    const local = all.map((p) => ({ port: p, tap: `tap${p.id.slice(0, 11)}`, bridge: 'v6b-bench' }));
    const marks = allocateMarks(all.map((p) => p.id), new Map());
    const first = timedApply(ns, { ports: all, groups, rules: webRules(0), local, marks }, { objects: new Map() });
    let applied = asApplied(first.plan);
    const add: number[] = [];
    const remove: number[] = [];
    const join_: number[] = [];
    const full: number[] = [];
    let lines = 0;
    for (let i = 0; i < ITER; i++) {
      const a = timedApply(ns, { ports: all, groups, rules: webRules(1), local, marks }, applied);
      add.push(a.ms);
      lines = a.lines;
      applied = asApplied(a.plan);
      const r = timedApply(ns, { ports: all, groups, rules: webRules(0), local, marks }, applied);
      remove.push(r.ms);
      applied = asApplied(r.plan);
      // A port outside the firewall's hosts joins the default group: its address enters the members' set.
      const joined = [...all, { ...all[0]!, id: `j${i}`, fixed_ips: [{ ip_address: `2001:db8:e::${i + 1}` }], 'binding:host_id': 'elsewhere' }];
      const j = timedApply(ns, { ports: joined, groups, rules: webRules(0), local, marks }, applied);
      join_.push(j.ms);
      applied = asApplied(j.plan);
      // What a restart does: every chain and set rewritten (flush and refill), in one transaction.
      const sentinel: AppliedFirewall = { objects: new Map([...applied.objects].map(([k, o]) => [k, o.kind === 'map' ? o : { ...o, ...(o.kind === 'chain' ? { hook: '(kernel)' } : { decl: '(kernel)' }) } as typeof o])) };
      const f = timedApply(ns, { ports: joined, groups, rules: webRules(0), local, marks }, sentinel);
      full.push(f.ms);
      applied = asApplied(f.plan);
    }
    const rules = sh(['ip', 'netns', 'exec', ns, 'nft', '-a', 'list', 'ruleset']).split('\n').filter((l) => /# handle/.test(l) && !/^\s*(table|chain|set|map)/.test(l)).length;
    return { ports: PORTS, kernelRules: rules, firstApplyMs: first.ms, ruleAddMs: median(add), ruleAddLines: lines, ruleRemoveMs: median(remove), memberJoinMs: median(join_), fullRewriteMs: median(full) };
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

// ---- 2. packets per second through a port

const SENDER = `
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[2]); payload = b'x' * 64; dst = (sys.argv[1], 9999); n = 0
while time.time() < end:
    for _ in range(1000):
        try: s.sendto(payload, dst); n += 1
        except OSError: pass
print(n)
`;
const RECEIVER = `
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(('::', 9999)); s.settimeout(1.0); n = 0; first = None; last = None
print('ready', flush=True)
while True:
    try: s.recv(2048)
    except socket.timeout: break
    n += 1; last = time.time(); first = first or last
print(n, (last - first) if first else 0)
`;

function ppsBench(): Record<string, number> {
  const br = `fwb-br-${tag}`;
  const a = `fwb-a-${tag}`;
  const b = `fwb-b-${tag}`;
  const A: FwPort = { id: 'aaaaaaaa-0000-4000-8000-000000000000', network_id: NET, mac_address: 'fa:16:3e:aa:00:01', device_owner: 'compute:nova', fixed_ips: [{ ip_address: '2001:db8:ff::a' }], security_groups: ['g'] };
  const B: FwPort = { ...A, id: 'bbbbbbbb-0000-4000-8000-000000000000', mac_address: 'fa:16:3e:bb:00:01', fixed_ips: [{ ip_address: '2001:db8:ff::b' }] };
  const tapA = 'tapaaaa';
  const tapB = 'tapbbbb';
  try {
    for (const ns of [br, a, b]) sh(['ip', 'netns', 'add', ns]);
    sh(['ip', '-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', br, 'link', 'set', 'br0', 'up']);
    for (const [ns, tap, p] of [[a, tapA, A], [b, tapB, B]] as const) {
      sh(['ip', '-n', br, 'link', 'add', tap, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh(['ip', '-n', br, 'link', 'set', tap, 'master', 'br0', 'up']);
      sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
      sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'address', p.mac_address, 'up']);
      sh(['ip', '-n', ns, 'addr', 'add', `${p.fixed_ips[0]!.ip_address}/64`, 'dev', 'eth0', 'nodad']);
    }
    const measure = (): number => {
      const rx = spawnSync('sh', ['-c', `ip netns exec ${b} python3 -c "$1" & sleep 0.5; ip netns exec ${a} python3 -c "$2" 2001:db8:ff::b ${SECONDS} >/dev/null; wait`, 'pps', RECEIVER, SENDER], { encoding: 'utf8' });
      const [n, secs] = rx.stdout.trim().split('\n').pop()!.split(' ').map(Number);
      return secs ? Math.round(n! / secs) : 0;
    };
    const out: Record<string, number> = {};
    sh(['ip', 'netns', 'exec', a, 'ping', '-6', '-c', '1', '-W', '2', '2001:db8:ff::b']);
    out.noFirewallPps = median([measure(), measure(), measure()]);
    sh(['ip', 'netns', 'exec', br, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-ip6tables=1', 'net.bridge.bridge-nf-call-iptables=1']);
    let applied: AppliedFirewall = { objects: new Map() };
    const run = (rules: FwRule[], stateful: boolean): number => {
      const plan = compileFirewall({
        ports: [A, B], groups: [{ id: 'g', stateful }], rules, local: [{ port: A, tap: tapA, bridge: 'br0' }, { port: B, tap: tapB, bridge: 'br0' }], marks: new Map([[A.id, 1], [B.id, 2]]),
      });
      const script = firewallScript(plan, applied);
      if (script) applyScript(br, script);
      applied = asApplied(plan);
      return median([measure(), measure(), measure()]);
    };
    const allow = [rule('udp', 'g', { protocol: 'udp', port_range_min: 9999, port_range_max: 9999 }), rule('out', 'g', { direction: 'egress' })];
    const hundred = [...Array.from({ length: 99 }, (_, i) => rule(`n${String(i).padStart(3, '0')}`, 'g', { protocol: 'tcp', port_range_min: 1000 + i, port_range_max: 1000 + i, remote_ip_prefix: '2001:db8:1::/64' })), ...allow];
    out.oneRuleStatefulPps = run(allow, true);
    out.hundredRulesStatefulPps = run(hundred, true);
    out.oneRuleStatelessPps = run(allow, false);
    out.hundredRulesStatelessPps = run(hundred, false);
    return out;
  } finally {
    for (const ns of [a, b, br]) spawnSync('ip', ['netns', 'del', ns]);
  }
}

try {
  if (process.getuid?.() !== 0) throw new Error('the firewall bench needs root (network namespaces, nft)');
  const m = machine();
  console.log(JSON.stringify({ machine: m, loadAverage: (await import('node:os')).loadavg().map((x) => Math.round(x * 10) / 10) }));
  console.log(JSON.stringify({ ruleChange: ruleChangeBench() }));
  console.log(JSON.stringify({ pps: ppsBench(), loadAverage: (await import('node:os')).loadavg().map((x) => Math.round(x * 10) / 10) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
