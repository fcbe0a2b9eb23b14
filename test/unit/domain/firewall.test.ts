// The security-group compiler: what each port may send and receive, as nft objects, and the incremental script.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocateMarks,
  compileFirewall,
  conntrackCuts,
  describePort,
  firewallMemory,
  firewallScript,
  isFiltered,
  objectKey,
  ruleText,
  sourcePairs,
  zoneOf,
  type FirewallPlan,
  type FwPort,
  type FwRule,
  type NftChain,
  type NftMap,
  type NftSet,
} from '../../../src/domain/firewall.js';

const NET = '11111111-1111-4111-8111-111111111111';
const port = (id: string, mac: string, ips: string[], extra: Partial<FwPort> = {}): FwPort => ({
  id, network_id: NET, mac_address: mac, device_owner: 'compute:nova', fixed_ips: ips.map((ip_address) => ({ ip_address })), security_groups: ['web'], ...extra,
});
const rule = (id: string, r: Partial<FwRule>): FwRule => ({
  id, security_group_id: 'web', direction: 'ingress', ethertype: 'IPv6', protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null, ...r,
});

const a = port('aaaa', 'fa:16:3e:00:00:0a', ['2001:db8::f816:3eff:fe00:a', '192.0.2.10'], { allowed_address_pairs: [{ ip_address: '2001:db8:1::/64' }, { ip_address: '2001:db8:1::5' }, { ip_address: '2001:db8:2::7', mac_address: 'fa:16:3e:00:00:99' }] });
const b = port('bbbb', 'fa:16:3e:00:00:0b', ['2001:db8::f816:3eff:fe00:b'], { security_groups: ['web', 'db'] });
const routerPort = port('rrrr', 'fa:16:3e:00:00:01', ['2001:db8::1'], { device_owner: 'network:router_interface', security_groups: [] });
const dhcpPort = port('dddd', 'fa:16:3e:00:00:02', ['2001:db8::2', '192.0.2.2'], { device_owner: 'network:dhcp', security_groups: [] });
// The talk's rules: SSH, ICMPv6 and HTTP from ::/0, plus the default group's "from members" and all egress.
const talkRules = [
  rule('r-ssh', { protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '::/0' }),
  rule('r-icmp', { protocol: 'ipv6-icmp' }),
  rule('r-http', { protocol: '6', port_range_min: 80, port_range_max: 80, remote_ip_prefix: '::/0' }),
  rule('r-members', { remote_group_id: 'web' }),
  rule('r-out', { direction: 'egress' }),
  rule('r-db', { security_group_id: 'db', ethertype: 'IPv4', protocol: 'udp', port_range_min: 1000, port_range_max: 2000, remote_ip_prefix: '192.0.2.0/24' }),
];

function compile(ports = [a, b, routerPort, dhcpPort], rules = talkRules, local = [a, b]): FirewallPlan {
  return compileFirewall({
    ports,
    groups: [{ id: 'web', stateful: true }, { id: 'db', stateful: true }],
    rules,
    local: local.map((p) => ({ port: p, tap: `tap${p.id}`, bridge: 'v6b-net' })),
    marks: allocateMarks(local.map((p) => p.id), new Map()),
  });
}
const find = <T>(plan: FirewallPlan, key: string): T => plan.objects.find((o) => objectKey(o) === key) as T;

test('only instance ports with port security are filtered (Neutron trusts network:* ports)', () => {
  assert.equal(isFiltered(a), true);
  assert.equal(isFiltered({ ...a, port_security_enabled: false }), false);
  assert.equal(isFiltered(routerPort), false);
  assert.equal(isFiltered(dhcpPort), false);
});

test("a port sends from its MAC with its fixed IPs and link-local address, and from its allowed address pairs", () => {
  const pairs = sourcePairs(a).map((p) => `${p.mac} ${p.text}`);
  assert.deepEqual(pairs, [
    'fa:16:3e:00:00:0a 2001:db8::f816:3eff:fe00:a',
    'fa:16:3e:00:00:0a fe80::f816:3eff:fe00:a',
    'fa:16:3e:00:00:0a 192.0.2.10',
    'fa:16:3e:00:00:0a 2001:db8:1::/64',
    // 2001:db8:1::5 with the port's MAC is inside the /64 pair: nft refuses overlapping intervals, so it goes.
    'fa:16:3e:00:00:99 2001:db8:2::7',
    'fa:16:3e:00:00:99 fe80::f816:3eff:fe00:99',
  ]);
  const plan = compile();
  assert.deepEqual(find<NftSet>(plan, 'bridge set m4-aaaa').elements, ['fa:16:3e:00:00:0a . 192.0.2.10']);
  assert.deepEqual(find<NftSet>(plan, 'bridge set mc-aaaa').elements, ['fa:16:3e:00:00:0a', 'fa:16:3e:00:00:99']);
});

test('the bridge chain marks the port and drops rogue RAs, redirects, DHCP server messages and spoofed sources', () => {
  const plan = compile();
  const spoof = find<NftChain>(plan, 'bridge chain sp-aaaa').rules;
  assert.equal(spoof[0], 'meta mark set 0x00000001');
  const ra = spoof.findIndex((r) => r.includes('nd-router-advert') && r.includes('nd-redirect') && r.includes('drop'));
  const dhcp6 = spoof.findIndex((r) => r.startsWith('udp sport 547 udp dport 546 drop'));
  const dhcp4 = spoof.findIndex((r) => r.startsWith('udp sport 67 udp dport 68 drop'));
  const allowed = spoof.findIndex((r) => r === 'ether saddr . ip6 saddr @m6-aaaa accept');
  assert.ok(ra > 0 && dhcp6 > 0 && dhcp4 > 0, spoof.join('\n'));
  assert.ok(ra < allowed && dhcp6 < allowed && dhcp4 < allowed, 'the drops come before the source is accepted');
  assert.ok(spoof.indexOf('ether type ip6 drop comment "spoofed IPv6 source or MAC"') > allowed);
  assert.match(spoof[spoof.length - 1]!, /^drop /);
  // Marks: source in the low half, destination in the high half.
  assert.deepEqual(find<NftChain>(plan, 'bridge chain dm-bbbb').rules, ['meta mark set meta mark | 0x00020000']);
  assert.equal(find<NftMap>(plan, 'inet map egress-ports').elements.get('0x00000002'), 'jump eg-bbbb');
  assert.equal(find<NftMap>(plan, 'inet map ingress-ports').elements.get('0x00020000'), 'jump in-bbbb');
  assert.equal(find<NftMap>(plan, 'bridge map spoof-ports').elements.get('"tapaaaa"'), 'jump sp-aaaa');
});

test("ingress: ND and MLD from anyone, RAs only from the network's routers, DHCP replies only from its DHCP ports", () => {
  const plan = compile();
  const ingress = find<NftChain>(plan, 'inet chain in-aaaa').rules;
  assert.equal(ingress[0], 'icmpv6 type { mld-listener-query, nd-neighbor-solicit, nd-neighbor-advert } accept');
  assert.ok(ingress.some((r) => r.startsWith(`ip6 saddr @ra-${NET} icmpv6 type nd-router-advert accept`)));
  assert.deepEqual(find<NftSet>(plan, `inet set ra-${NET}`).elements, ['fe80::f816:3eff:fe00:1']);
  assert.deepEqual(find<NftSet>(plan, `inet set d6-${NET}`).elements, ['2001:db8::2', 'fe80::f816:3eff:fe00:2']);
  assert.deepEqual(find<NftSet>(plan, `inet set d4-${NET}`).elements, ['192.0.2.2']);
  // A provider network (no router port of ours): RAs from the outside router, whoever it is.
  assert.deepEqual(find<NftSet>(compile([a, b, dhcpPort]), `inet set ra-${NET}`).elements, ['::/0']);
  assert.deepEqual(ingress.slice(-3), ['ct state invalid drop', 'jump gi-web', 'drop']);
  assert.deepEqual(find<NftChain>(plan, 'inet chain in-bbbb').rules.slice(-3), ['jump gi-web', 'jump gi-db', 'drop']);
});

test("the talk's rules: SSH, ICMPv6 and HTTP from ::/0, members of the group, all egress", () => {
  const plan = compile();
  const gi = find<NftChain>(plan, 'inet chain gi-web').rules;
  assert.ok(gi.includes('meta nfproto ipv6 meta l4proto 6 th dport 22 accept comment "rule r-ssh"'));
  assert.ok(gi.includes('meta nfproto ipv6 meta l4proto 6 th dport 80 accept comment "rule r-http"'));
  assert.ok(gi.includes('meta nfproto ipv6 meta l4proto ipv6-icmp accept comment "rule r-icmp"'));
  assert.ok(gi.includes('meta nfproto ipv6 ip6 saddr @r6-web accept comment "rule r-members"'));
  assert.deepEqual(find<NftChain>(plan, 'inet chain ge-web').rules, ['meta nfproto ipv6 accept comment "rule r-out"']);
  // Members' fixed IPs and allowed address pairs (the /64 pair covers ::5).
  assert.deepEqual(find<NftSet>(plan, 'inet set r6-web').elements, ['2001:db8:1::/64', '2001:db8:2::7', '2001:db8::f816:3eff:fe00:a', '2001:db8::f816:3eff:fe00:b']);
  assert.deepEqual(find<NftChain>(plan, 'inet chain gi-db').rules, ['meta nfproto ipv4 ip saddr 192.0.2.0/24 meta l4proto 17 th dport 1000-2000 accept comment "rule r-db"']);
});

test('rule texts: ICMP type and code from the port range fields, protocols by number, egress remotes as destinations', () => {
  assert.equal(ruleText(rule('x', { protocol: 'ipv6-icmp', port_range_min: 128, port_range_max: 0 })), 'meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type 128 icmpv6 code 0 accept comment "rule x"');
  assert.equal(ruleText(rule('x', { ethertype: 'IPv4', protocol: 'icmp', port_range_min: 8 })), 'meta nfproto ipv4 meta l4proto icmp icmp type 8 accept comment "rule x"');
  assert.equal(ruleText(rule('x', { protocol: '41' })), 'meta nfproto ipv6 meta l4proto 41 accept comment "rule x"');
  assert.equal(ruleText(rule('x', { direction: 'egress', remote_ip_prefix: '2001:db8::/32', protocol: 'udp' })), 'meta nfproto ipv6 ip6 daddr 2001:db8::/32 meta l4proto 17 accept comment "rule x"');
  assert.equal(ruleText(rule('x', { remote_ip_prefix: '2001:db8::5/128' })), 'meta nfproto ipv6 ip6 saddr 2001:db8::5 accept comment "rule x"');
  assert.equal(ruleText(rule('x', { remote_address_group_id: 'ag' })), 'meta nfproto ipv6 ip6 saddr @a6-ag accept comment "rule x"');
  assert.equal(ruleText(rule('x', { direction: 'egress', ethertype: 'IPv4', remote_address_group_id: 'ag' })), 'meta nfproto ipv4 ip daddr @a4-ag accept comment "rule x"');
});

test('a stateless group: no conntrack lines, and the port is not tracked', () => {
  const plan = compileFirewall({
    ports: [a], groups: [{ id: 'web', stateful: false }], rules: talkRules, local: [{ port: a, tap: 'tapaaaa', bridge: 'v6b-net' }], marks: new Map([['aaaa', 7]]),
  });
  assert.ok(!find<NftChain>(plan, 'inet chain in-aaaa').rules.some((r) => r.startsWith('ct state')));
  assert.deepEqual(find<NftSet>(plan, 'inet set notrack-ports').elements, ['0x00000007']);
});

test('marks are kept across plans and restarts; a new port takes the lowest free one', () => {
  const m = allocateMarks(['c', 'a', 'b'], new Map([['b', 1], ['z', 2]]));
  assert.deepEqual([...m].sort(), [['a', 2], ['b', 1], ['c', 3]]);
  assert.equal(zoneOf(NET), zoneOf(NET));
  assert.ok(zoneOf(NET) >= 1 && zoneOf(NET) <= 0xffff);
});

test('the script: everything at first, nothing when unchanged, one group chain when a rule changes', () => {
  const first = compile();
  const script = firewallScript(first, { objects: new Map() })!;
  assert.match(script, /^add table bridge v6stack-fw\nadd table inet v6stack-fw\n/);
  assert.ok(!/flush (table|ruleset)/.test(script), 'never a flush of a whole table or ruleset');
  const applied = { objects: new Map(first.objects.map((o) => [objectKey(o), o])) };
  assert.equal(firewallScript(compile(), applied), null);

  const changed = firewallScript(compile(undefined, talkRules.filter((r) => r.id !== 'r-http')), applied)!;
  assert.deepEqual(changed.split('\n').filter((l) => /^(flush|delete)/.test(l)), ['flush chain inet v6stack-fw gi-web']);
  assert.ok(!changed.includes('in-aaaa') && !changed.includes('sp-aaaa'), 'port chains are untouched');
});

test('the script: a port that goes leaves the dispatch maps before its chains are deleted', () => {
  const first = compile();
  const applied = { objects: new Map(first.objects.map((o) => [objectKey(o), o])) };
  const lines = firewallScript(compile([a, routerPort, dhcpPort], talkRules, [a]), applied)!.split('\n');
  const unmap = lines.findIndex((l) => l === 'delete element inet v6stack-fw egress-ports { 0x00000002 }');
  const del = lines.findIndex((l) => l === 'delete chain inet v6stack-fw eg-bbbb');
  assert.ok(unmap >= 0 && del > unmap, lines.join('\n'));
  assert.ok(lines.indexOf('flush chain inet v6stack-fw eg-bbbb') < del);
  assert.ok(lines.includes('delete set bridge v6stack-fw m6-bbbb'));
  // b's address leaves the members set (that element only, the set is not rewritten); the db group's chains go with
  // their last port.
  assert.ok(lines.includes('delete element inet v6stack-fw r6-web { 2001:db8::f816:3eff:fe00:b }'), lines.join('\n'));
  assert.ok(!lines.includes('flush set inet v6stack-fw r6-web'));
  assert.ok(lines.includes('delete chain inet v6stack-fw gi-db'));
});

test("describePort lists a port's chains, the group chains it jumps to and the sets they use", () => {
  const text = describePort(compile(), 'aaaa');
  assert.match(text, /^bridge chain sp-aaaa\n  meta mark set 0x00000001\n/);
  assert.match(text, /inet chain gi-web\n/);
  assert.match(text, /inet set r6-web = \{ 2001:db8:1::\/64, /);
  assert.doesNotMatch(text, /in-bbbb/);
});

test("an address group's CIDRs are a set per family that its rules match, changed element by element", () => {
  const agRules = [...talkRules, rule('r-ag6', { protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_address_group_id: 'ag' }), rule('r-ag4', { ethertype: 'IPv4', remote_address_group_id: 'ag' })];
  const plan = (addresses: string[]) => compileFirewall({
    ports: [a, b], groups: [{ id: 'web', stateful: true }, { id: 'db', stateful: true }], rules: agRules,
    addressGroups: [{ id: 'ag', addresses }, { id: 'unused', addresses: ['2001:db8:dead::/48'] }],
    local: [a, b].map((p) => ({ port: p, tap: `tap${p.id}`, bridge: 'v6b-net' })), marks: allocateMarks(['aaaa', 'bbbb'], new Map()),
  });
  const first = plan(['2001:db8:77::/64', '2001:db8:77::5/128', '198.51.100.0/24', '2001:db8:99::1/128']);
  // The host inside the /64 is covered (nft refuses overlapping intervals); a group no rule names has no set.
  assert.deepEqual(find<NftSet>(first, 'inet set a6-ag').elements, ['2001:db8:77::/64', '2001:db8:99::1']);
  assert.deepEqual(find<NftSet>(first, 'inet set a4-ag').elements, ['198.51.100.0/24']);
  assert.equal(find<NftSet>(first, 'inet set a6-unused'), undefined);
  assert.ok(find<NftChain>(first, 'inet chain gi-web').rules.some((r) => r.includes('ip6 saddr @a6-ag meta l4proto 6 th dport 22 accept')));
  // Empty of a family: the set exists and matches nothing (Neutron: the rule allows no one).
  assert.deepEqual(find<NftSet>(plan(['2001:db8:77::/64']), 'inet set a4-ag').elements, []);

  const applied = { objects: new Map(first.objects.map((o) => [objectKey(o), o])) };
  const script = firewallScript(plan(['2001:db8:77::/64', '198.51.100.0/24', '2001:db8:99::2/128']), applied)!;
  assert.deepEqual(script.split('\n').filter((l) => l.includes('a6-ag')), [
    'delete element inet v6stack-fw a6-ag { 2001:db8:99::1 }',
    'add element inet v6stack-fw a6-ag { 2001:db8:99::2 }',
  ]);
  assert.ok(!/flush|add rule|add chain/.test(script), `only the set's elements change:\n${script}`);
  // A set read back from the kernel (contents unknown) is rewritten whole.
  const kernel = { objects: new Map([...applied.objects].map(([k, o]) => [k, o.kind === 'set' ? { ...o, decl: '(kernel)', elements: [] } : o])) };
  assert.match(firewallScript(first, kernel)!, /flush set inet v6stack-fw a6-ag\nadd element inet v6stack-fw a6-ag \{ 2001:db8:77::\/64, 2001:db8:99::1 \}/);
});

test('conntrack clean-up: a removed rule and a member or address that leaves cut their flows, nothing else', () => {
  const zone = String(zoneOf(NET));
  const input = (ports: FwPort[], rules: FwRule[], addresses: string[], local = [a, b]) => ({
    ports, groups: [{ id: 'web', stateful: true }, { id: 'db', stateful: true }], rules, addressGroups: [{ id: 'ag', addresses }],
    local: local.map((p) => ({ port: p, tap: `tap${p.id}`, bridge: 'v6b-net' })),
  });
  const agRule = rule('r-ag', { protocol: 'tcp', port_range_min: 2222, port_range_max: 2222, remote_address_group_id: 'ag' });
  const rules = [...talkRules, agRule];
  const base = input([a, b, routerPort], rules, ['2001:db8:77::5/128', '2001:db8:88::/64']);
  assert.deepEqual(conntrackCuts(base, base), [], 'no change, no cut');
  // The SSH rule goes: SSH flows to the ports of its group (a and b, each of its addresses), on port 22 only.
  const ssh = conntrackCuts(base, input([a, b, routerPort], rules.filter((r) => r.id !== 'r-ssh'), ['2001:db8:77::5/128', '2001:db8:88::/64']));
  assert.ok(ssh.every((c) => c.join(' ').startsWith(`conntrack -D -w ${zone} -f ipv6 -p tcp --dport 22 -d `)), JSON.stringify(ssh));
  assert.ok(ssh.some((c) => c.at(-1) === '2001:db8::f816:3eff:fe00:b') && ssh.some((c) => c.at(-1) === '2001:db8::f816:3eff:fe00:a'));
  assert.ok(ssh.some((c) => c.at(-1)!.startsWith('fe80:')), 'a rule from ::/0 admitted flows to the link-local address too');
  // A host address leaves the address group: only flows from it; a prefix leaves: every such flow is re-judged.
  const hostGone = conntrackCuts(base, input([a, b, routerPort], rules, ['2001:db8:88::/64']));
  assert.ok(hostGone.length > 0 && hostGone.every((c) => c.join(' ').includes('-p tcp --dport 2222') && c.at(-2) === '-s' && c.at(-1) === '2001:db8:77::5'), JSON.stringify(hostGone));
  const prefixGone = conntrackCuts(base, input([a, b, routerPort], rules, ['2001:db8:77::5/128']));
  assert.ok(prefixGone.length > 0 && prefixGone.every((c) => c.at(-2) === '-d'), JSON.stringify(prefixGone));
  // b leaves the web group: a's members rule no longer admits b's address; b loses every web rule.
  const bOut = { ...b, security_groups: ['db'] };
  const left = conntrackCuts(base, input([a, bOut, routerPort], rules, ['2001:db8:77::5/128', '2001:db8:88::/64'], [a, bOut])).map((c) => c.join(' '));
  assert.ok(left.includes(`conntrack -D -w ${zone} -f ipv6 -d 2001:db8::f816:3eff:fe00:a -s 2001:db8::f816:3eff:fe00:b`), left.join('\n'));
  assert.ok(left.includes(`conntrack -D -w ${zone} -f ipv6 -p tcp --dport 80 -d 2001:db8::f816:3eff:fe00:b`), left.join('\n'));
  // A port that goes has nothing to cut.
  assert.ok(!conntrackCuts(base, input([a, routerPort], rules, ['2001:db8:77::5/128', '2001:db8:88::/64'], [a])).some((c) => c.includes('2001:db8::f816:3eff:fe00:b') && c.indexOf('2001:db8::f816:3eff:fe00:b') === c.length - 1 && c.at(-2) === '-d'));
});

test('firewall memory: what a restarted agent keeps of the last input cuts the same flows, and holds no unrelated port', () => {
  const input = (ports: FwPort[], rules: FwRule[], addresses: string[], local = [a, b]) => ({
    ports, groups: [{ id: 'web', stateful: true }, { id: 'db', stateful: true }, { id: 'other' }], rules, addressGroups: [{ id: 'ag', addresses }, { id: 'unused', addresses: ['2001:db8:5::/64'] }],
    local: local.map((p) => ({ port: p, tap: `tap${p.id}`, bridge: 'v6b-net' })),
  });
  const stranger = port('stranger', 'fa:16:3e:00:00:99', ['2001:db8::99'], { security_groups: ['other'] });
  const agRule = rule('r-ag', { protocol: 'tcp', port_range_min: 2222, port_range_max: 2222, remote_address_group_id: 'ag' });
  const otherRule = rule('r-other', { security_group_id: 'other', protocol: 'tcp' });
  const rules = [...talkRules, agRule, otherRule];
  const base = input([a, b, routerPort, stranger], rules, ['2001:db8:77::5/128', '2001:db8:88::/64']);
  // Through JSON, as the state file keeps it.
  const memory = JSON.parse(JSON.stringify(firewallMemory(base)));
  assert.deepEqual(memory.ports.map((p: FwPort) => p.id).sort(), ['aaaa', 'bbbb'], 'only members of a remote group');
  assert.ok(!memory.rules.some((r: FwRule) => r.id === 'r-other') && !memory.groups.some((g: { id: string }) => g.id === 'other'));
  assert.deepEqual(memory.addressGroups.map((g: { id: string }) => g.id), ['ag']);
  const bOut = { ...b, security_groups: ['db'] };
  for (const after of [
    base,
    input([a, b, routerPort, stranger], rules.filter((r) => r.id !== 'r-ssh'), ['2001:db8:77::5/128', '2001:db8:88::/64']),
    input([a, b, routerPort, stranger], rules, ['2001:db8:88::/64']),
    input([a, bOut, routerPort, stranger], rules, ['2001:db8:77::5/128', '2001:db8:88::/64'], [a, bOut]),
    input([a, routerPort], rules, [], [a]),
  ]) {
    assert.deepEqual(conntrackCuts(memory, after), conntrackCuts(base, after));
  }
  assert.ok(conntrackCuts(memory, input([a, bOut, routerPort], rules, [], [a, bOut])).length > 0, 'the comparison can find cuts');
});
