// On the wire, compared with the talk: for each IPv6 mode a lab instance boots while `lab boot --capture` records
// its link from before it comes up; tshark decodes the RS/RA and the DHCPv6 exchange, and each field is compared
// with the talk's captures (seed/deploying-ipv6-in-openstack.txt) or, where today's Neutron renders something
// else, with today's value and the reason (docs/dataplane.md, "On the wire, beside the talk").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linkLocalFromMac } from '../../src/domain/eui64.js';
import { ipJson, routedNetwork, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'tcpdump', 'tshark']);

const FIELDS = [
  'ipv6.src', 'ipv6.dst', 'ipv6.hlim', 'icmpv6.type',
  'icmpv6.nd.ra.cur_hop_limit', 'icmpv6.nd.ra.flag.m', 'icmpv6.nd.ra.flag.o', 'icmpv6.nd.ra.router_lifetime', 'icmpv6.nd.ra.reachable_time', 'icmpv6.nd.ra.retrans_timer',
  'icmpv6.opt.type', 'icmpv6.opt.prefix', 'icmpv6.opt.prefix.flag.l', 'icmpv6.opt.prefix.flag.a', 'icmpv6.opt.prefix.valid_lifetime', 'icmpv6.opt.prefix.preferred_lifetime',
  'icmpv6.opt.mtu', 'icmpv6.opt.rdnss', 'icmpv6.opt.linkaddr',
  'dhcpv6.msgtype', 'dhcpv6.option.type', 'dhcpv6.requested_option_code', 'dhcpv6.iaaddr.ip', 'dhcpv6.iaaddr.pref_lifetime', 'dhcpv6.iaaddr.valid_lifetime',
  'dhcpv6.iaid.t1', 'dhcpv6.iaid.t2', 'dhcpv6.dns_server', 'dhcpv6.tld', 'dhcpv6.status_code', 'dhcpv6.option_preference', 'dhcpv6.duidll.link_layer_addr', 'dhcpv6.duidllt.link_layer_addr',
] as const;
type Packet = Record<(typeof FIELDS)[number], string>;

function decode(pcap: string): Packet[] {
  const r = spawnSync('tshark', ['-r', pcap, '-n', '-Y', 'icmpv6.type == 133 or icmpv6.type == 134 or dhcpv6', '-T', 'fields', '-E', 'separator=|', '-E', 'aggregator=,', ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((line) => Object.fromEntries(line.split('|').map((v, i) => [FIELDS[i], v])) as Packet);
}

const ras = (p: Packet[]): Packet[] => p.filter((x) => x['icmpv6.type'] === '134');
const dhcp = (p: Packet[], type: number): Packet[] => p.filter((x) => x['dhcpv6.msgtype'] === String(type));
// Option type numbers (RFC 4861 / 8106 for ND, RFC 8415 / 3646 / 4704 for DHCPv6).
const ND = { slla: '1', prefix: '3', mtu: '5', rdnss: '25' };
const D6 = { clientId: '1', serverId: '2', iaNa: '3', iaAddr: '5', oro: '6', preference: '7', elapsed: '8', status: '13', dns: '23', domainList: '24', fqdn: '39', refresh: '32' };
const opts = (x: Packet, key: 'icmpv6.opt.type' | 'dhcpv6.option.type'): Set<string> => new Set(x[key].split(',').filter(Boolean));

test('RA and DHCPv6 on the wire, field by field against the talk, for slaac, dhcpv6-stateless and dhcpv6-stateful', { skip, timeout: 300_000 }, async () => {
  const env = await startEnv();
  try {
    await env.agent.waitLine(/in sync:/);
    const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
    const dns = '2001:db8:cafe:a::e'; // the talk's DNS server
    const seen: Record<string, { pkts: Packet[]; port: any; rport: any; cidr: string; dhcpMac?: string }> = {};
    for (const [i, mode] of (['slaac', 'dhcpv6-stateless', 'dhcpv6-stateful'] as const).entries()) {
      const cidr = `2001:db8:${third}:${i}::/64`;
      const r = await routedNetwork(env, { name: `cap-${env.tag}-${i}`, cidr, mode, dns });
      await env.agent.waitLine(new RegExp(`start radvd-${r.router.id}`));
      if (mode !== 'slaac') await env.agent.waitLine(new RegExp(`start dnsmasq-${r.net.id}`));
      const name = `${env.tag}k${i}`;
      const boot = await env.lab(['boot', '--network', r.net.id, '--name', name, '--capture']);
      assert.equal(boot.status, 0, boot.stderr);
      await until(`${name} default route`, () => ipJson(`lab-${name}`, ['-6', 'route', 'show', 'default']).length === 1);
      await new Promise((res) => setTimeout(res, 1000)); // the last reply's frames reach the file (tcpdump -U)
      const cap = await env.lab(['capture', name]);
      assert.equal(cap.status, 0, cap.stderr);
      const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${name}`)).ports[0];
      const dhcpPort = (await env.api('GET', `/v2.0/ports?network_id=${r.net.id}&device_owner=network:dhcp`)).ports[0];
      seen[mode] = { pkts: decode(cap.stdout.trim().split('\n')[0]!), port, rport: r.rport, cidr: r.subnet.cidr, ...(dhcpPort ? { dhcpMac: dhcpPort.mac_address } : {}) };
    }

    for (const [mode, { pkts, port, rport, cidr }] of Object.entries(seen)) {
      const instanceLla = linkLocalFromMac(port.mac_address).toString();
      const routerLla = linkLocalFromMac(rport.mac_address).toString();
      // The instance solicits (talk: "router solicitation ... source link-address option ... fa:16:3e:79:5a:cc").
      const rs = pkts.find((x) => x['icmpv6.type'] === '133');
      assert.ok(rs, `${mode}: a router solicitation`);
      assert.equal(rs['ipv6.src'], instanceLla);
      assert.equal(rs['ipv6.dst'], 'ff02::2');
      assert.equal(rs['icmpv6.opt.linkaddr'], port.mac_address);
      // The router answers. Talk (all three modes): hlim 255, hop limit 64, pref medium, reachable 0, retrans 0,
      // source link-address option, prefix valid 86400 s / preferred 14400 s.
      const ra = ras(pkts).find((x) => x['ipv6.src'] === routerLla);
      assert.ok(ra, `${mode}: an RA from the router's link-local ${routerLla}`);
      assert.equal(ra['ipv6.hlim'], '255');
      assert.equal(ra['icmpv6.nd.ra.cur_hop_limit'], '64');
      assert.equal(ra['icmpv6.nd.ra.reachable_time'], '0');
      assert.equal(ra['icmpv6.nd.ra.retrans_timer'], '0');
      assert.equal(ra['icmpv6.opt.linkaddr'], rport.mac_address);
      // Differs from the talk (router lifetime 30 s): Neutron's radvd intervals are now 30/100 s, so radvd's default
      // router lifetime (3 x MaxRtrAdvInterval) is 300 s.
      assert.equal(ra['icmpv6.nd.ra.router_lifetime'], '300');
      // Differs: the talk's RA went to ff02::1; radvd >= 2.? answers a solicitation by unicast (RFC 7772).
      assert.ok([instanceLla, 'ff02::1'].includes(ra['ipv6.dst']), ra['ipv6.dst']);
      const o = opts(ra, 'icmpv6.opt.type');
      assert.ok(o.has(ND.slla));
      // Differs: today's Neutron sets AdvLinkMTU, so the RA carries the network's MTU (the talk's had no MTU option).
      assert.ok(o.has(ND.mtu));
      const net = (await env.api('GET', `/v2.0/networks/${port.network_id}`)).network;
      assert.equal(ra['icmpv6.opt.mtu'], String(net.mtu));
      const flags = { m: ra['icmpv6.nd.ra.flag.m'], o: ra['icmpv6.nd.ra.flag.o'] };
      if (mode === 'slaac') {
        // Talk: "Flags [none] ... prefix info option ... 2001:db8:cafe::/64, Flags [onlink, auto]".
        assert.deepEqual(flags, { m: '0', o: '0' });
        assert.equal(ra['icmpv6.opt.prefix'], cidr.split('/')[0]);
        assert.deepEqual([ra['icmpv6.opt.prefix.flag.l'], ra['icmpv6.opt.prefix.flag.a']], ['1', '1']);
        assert.deepEqual([ra['icmpv6.opt.prefix.valid_lifetime'], ra['icmpv6.opt.prefix.preferred_lifetime']], ['86400', '14400']);
        // Differs: today's Neutron sends the SLAAC subnet's DNS servers as RDNSS (the talk's subnet had none).
        assert.equal(ra['icmpv6.opt.rdnss'], dns);
        assert.equal(pkts.filter((x) => x['dhcpv6.msgtype']).length, 0, 'SLAAC: no DHCPv6 at all');
      }
      if (mode === 'dhcpv6-stateless') {
        // Talk: "Flags [other stateful] ... 2001:db8:cafe:2::/64, Flags [onlink, auto], valid time 86400s, pref. time 14400s".
        assert.deepEqual(flags, { m: '0', o: '1' });
        assert.equal(ra['icmpv6.opt.prefix'], cidr.split('/')[0]);
        assert.deepEqual([ra['icmpv6.opt.prefix.flag.l'], ra['icmpv6.opt.prefix.flag.a']], ['1', '1']);
        assert.deepEqual([ra['icmpv6.opt.prefix.valid_lifetime'], ra['icmpv6.opt.prefix.preferred_lifetime']], ['86400', '14400']);
        assert.ok(!o.has(ND.rdnss), 'DNS comes from DHCPv6, not RDNSS');
        // Talk: "dhcp6 inf-req (client-ID hwaddr type 1 ...) (option-request DNS-server DNS-search-list Client-FQDN SNTP-servers) (elapsed-time)"
        // from the instance's link-local to ff02::1:2, then "dhcp6 reply (client-ID) (server-ID) (DNS-search-list openstacklocal.)
        // (DNS-server 2001:db8:cafe:a::e) (lifetime 86400)" from the DHCP port's link-local to the instance.
        const [req] = dhcp(pkts, 11);
        assert.ok(req, 'an Information-request');
        assert.equal(req['ipv6.src'], instanceLla);
        assert.equal(req['ipv6.dst'], 'ff02::1:2');
        for (const k of [D6.clientId, D6.oro, D6.elapsed]) assert.ok(opts(req, 'dhcpv6.option.type').has(k), `inf-req option ${k}`);
        for (const k of [D6.dns, D6.domainList]) assert.ok(req['dhcpv6.requested_option_code'].split(',').includes(k), `inf-req asks for ${k}`);
        const [rep] = dhcp(pkts, 7);
        assert.ok(rep, 'a Reply');
        assert.equal(rep['ipv6.src'], linkLocalFromMac(seen[mode]!.dhcpMac!).toString(), "from the DHCP port's link-local");
        assert.equal(rep['ipv6.dst'], instanceLla);
        for (const k of [D6.clientId, D6.serverId, D6.dns, D6.domainList]) assert.ok(opts(rep, 'dhcpv6.option.type').has(k), `reply option ${k}`);
        assert.equal(rep['dhcpv6.dns_server'], dns);
        assert.equal(rep['dhcpv6.tld'], 'openstacklocal.');
        assert.equal(dhcp(pkts, 1).length, 0, 'stateless: no Solicit');
      }
      if (mode === 'dhcpv6-stateful') {
        // Talk: "Flags [managed]" and no prefix option. Differs: today's Neutron also sends the prefix, on-link only
        // (L=1, A=0), so hosts learn the on-link prefix without autoconfiguring from it.
        assert.deepEqual(flags, { m: '1', o: '0' });
        assert.equal(ra['icmpv6.opt.prefix'], cidr.split('/')[0]);
        assert.deepEqual([ra['icmpv6.opt.prefix.flag.l'], ra['icmpv6.opt.prefix.flag.a']], ['1', '0']);
        // Talk: solicit -> advertise -> request -> reply, in that order.
        const seq = pkts.filter((x) => x['dhcpv6.msgtype']).map((x) => Number(x['dhcpv6.msgtype']));
        assert.deepEqual(seq, [1, 2, 3, 7]);
        const [sol, adv, req, rep] = [dhcp(pkts, 1)[0]!, dhcp(pkts, 2)[0]!, dhcp(pkts, 3)[0]!, dhcp(pkts, 7)[0]!];
        const fixed = port.fixed_ips[0].ip_address;
        const server = linkLocalFromMac(seen[mode]!.dhcpMac!).toString();
        // Talk, solicit: "(client-ID hwaddr/time ...) (option-request ...) (elapsed-time) (IA_NA IAID T1:3600 T2:5400)".
        for (const k of [D6.clientId, D6.oro, D6.elapsed, D6.iaNa]) assert.ok(opts(sol, 'dhcpv6.option.type').has(k), `solicit option ${k}`);
        assert.deepEqual([sol['dhcpv6.iaid.t1'], sol['dhcpv6.iaid.t2']], ['3600', '5400']);
        assert.equal(sol['ipv6.dst'], 'ff02::1:2');
        // Talk, advertise: "(IA_NA T1:43200 T2:75600 (IA_ADDR 2001:db8:cafe:1::4 pltime:86400 vltime:86400)) (status-code success)
        // (preference 255) (DNS-search-list ...": the address is the port's fixed IP.
        assert.equal(adv['ipv6.src'], server);
        assert.equal(adv['dhcpv6.iaaddr.ip'], fixed);
        assert.deepEqual([adv['dhcpv6.iaid.t1'], adv['dhcpv6.iaid.t2'], adv['dhcpv6.iaaddr.pref_lifetime'], adv['dhcpv6.iaaddr.valid_lifetime']], ['43200', '75600', '86400', '86400']);
        assert.equal(adv['dhcpv6.status_code'], '0');
        for (const k of [D6.clientId, D6.serverId, D6.iaNa, D6.status, D6.preference, D6.domainList, D6.dns]) assert.ok(opts(adv, 'dhcpv6.option.type').has(k), `advertise option ${k}`);
        // Differs: preference 0, where the talk's dnsmasq said 255 (Neutron's dnsmasq command line has no
        // --dhcp-authoritative; the lab facts record 0 for Neutron's line too).
        assert.equal(adv['dhcpv6.option_preference'], '0');
        // Talk, request: "(server-ID ...) (IA_NA ... (IA_ADDR 2001:db8:cafe:1::4 pltime:7200 vltime:7500))".
        assert.equal(req['dhcpv6.iaaddr.ip'], fixed);
        assert.deepEqual([req['dhcpv6.iaaddr.pref_lifetime'], req['dhcpv6.iaaddr.valid_lifetime']], ['7200', '7500']);
        assert.ok(opts(req, 'dhcpv6.option.type').has(D6.serverId));
        // Talk, reply: "(IA_NA T1:3600 T2:6300 (IA_ADDR 2001:db8:cafe:1::4 pltime:7200 vltime:7500)) (status-code success)
        // (DNS-search-list openstacklocal.) (DNS-server 2001:db8:cafe:a::e)": dnsmasq honours the lifetimes asked for.
        assert.equal(rep['ipv6.src'], server);
        assert.equal(rep['ipv6.dst'], instanceLla);
        assert.equal(rep['dhcpv6.iaaddr.ip'], fixed);
        assert.deepEqual([rep['dhcpv6.iaid.t1'], rep['dhcpv6.iaid.t2'], rep['dhcpv6.iaaddr.pref_lifetime'], rep['dhcpv6.iaaddr.valid_lifetime']], ['3600', '6300', '7200', '7500']);
        assert.equal(rep['dhcpv6.status_code'], '0');
        assert.equal(rep['dhcpv6.dns_server'], dns);
        assert.equal(rep['dhcpv6.tld'], 'openstacklocal.');
        for (const k of [D6.clientId, D6.serverId, D6.iaNa, D6.status, D6.domainList, D6.dns]) assert.ok(opts(rep, 'dhcpv6.option.type').has(k), `reply option ${k}`);
      }
    }
  } finally {
    await env.cleanup();
  }
});
