// NDP proxy on the wire: a router with enable_ndp_proxy publishes a tenant's IPv6 address on the external network,
// so an upstream router with NO route to the tenant prefix reaches it. As in neutron-tempest-plugin's setup, the
// external and tenant subnets are /112s of one pool (one address scope), and the DC (a namespace on the external
// network's bridge, built here by hand so that it gets no tenant route) has the whole /64 on-link: to reach the
// instance it sends a Neighbor Solicitation on the external link, which only the router's proxy entry answers (with
// qg-'s MAC). With the proxy: the DC resolves the address to qg-'s MAC (the NA captured) and ping6 works; after its delete: no answer, and
// even a DC that still points the address at the router is dropped by the router's filter (Neutron's NDP chain).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'nft', 'tcpdump', 'ping']);

test('NDP proxy: the DC reaches a tenant address it has no route to through the proxy only; filtered once deleted', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  const dcNs = `lab-${env.tag}x`;
  const vmNs = `lab-${env.tag}i`;
  const brNs = `v6stack-br-${env.host}`;
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 7) % 0xffff).toString(16);
    const p64 = `2001:db8:${third}:d::`;
    const scope = (await env.api('POST', '/v2.0/address-scopes', { address_scope: { name: `as-${env.tag}`, ip_version: 6 } })).address_scope;
    const pool = (await env.api('POST', '/v2.0/subnetpools', { subnetpool: { name: `sp-${env.tag}`, prefixes: [`${p64}/64`], default_prefixlen: 112, address_scope_id: scope.id } })).subnetpool;
    const pub = (await env.api('POST', '/v2.0/networks', { network: { name: `pub-${env.tag}`, 'router:external': true } })).network;
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: pub.id, ip_version: 6, subnetpool_id: pool.id, cidr: `${p64}1:0/112`, gateway_ip: `${p64}1:1`, enable_dhcp: false } });
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `ten-${env.tag}` } })).network;
    const tenant = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, subnetpool_id: pool.id, cidr: `${p64}2:0/112`, enable_dhcp: false } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `ndp-${env.tag}`, external_gateway_info: { network_id: pub.id }, enable_ndp_proxy: true } })).router;
    assert.equal(router.enable_ndp_proxy, true);
    const qrouter = `qrouter-${router.id}`;
    env.extraNs.push(qrouter);
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: tenant.id });
    const gw = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_gateway`)).ports[0];
    const qg = `qg-${gw.id.slice(0, 11)}`;
    // The instance: a port without port security, plugged by hand as the lab plugs one (tap<port> on the bridge).
    const port = (await env.api('POST', '/v2.0/ports', { port: { network_id: net.id, port_security_enabled: false } })).port;
    const vmIp = port.fixed_ips[0].ip_address;
    const bridgeOf = (id: string): string => `v6b-${id.slice(0, 11)}`;
    await until('both bridges', () => sh(['ip', '-n', brNs, 'link', 'show', bridgeOf(net.id)]).status === 0 && sh(['ip', '-n', brNs, 'link', 'show', bridgeOf(pub.id)]).status === 0);
    const plug = (ns: string, end: string, bridge: string, mac: string | null, addr: string, via: string | null): void => {
      for (const argv of [
        ['ip', 'netns', 'add', ns],
        ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.accept_ra=0'],
        ['ip', '-n', brNs, 'link', 'add', end, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns, ...(mac ? ['address', mac] : [])],
        ['ip', '-n', brNs, 'link', 'set', end, 'master', bridge, 'up'],
        ['ip', '-n', ns, 'link', 'set', 'lo', 'up'],
        ['ip', '-n', ns, 'link', 'set', 'eth0', 'up'],
        ['ip', '-n', ns, 'addr', 'add', addr, 'dev', 'eth0', 'nodad'],
        ...(via ? [['ip', '-n', ns, '-6', 'route', 'add', 'default', 'via', via, 'dev', 'eth0']] : []),
      ]) {
        const r = sh(argv);
        assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
      }
    };
    plug(vmNs, `tap${port.id.slice(0, 11)}`, bridgeOf(net.id), port.mac_address, `${vmIp}/112`, tenant.gateway_ip);
    // The DC: the external gateway address with the whole /64 on-link, and no route to the tenant /112.
    plug(dcNs, `${env.tag}u`.slice(0, 15), bridgeOf(pub.id), null, `${p64}1:1/64`, null);

    const ping = (ns: string, target: string) => shAsync(['ip', 'netns', 'exec', ns, 'ping', '-6', '-n', '-c', '1', '-W', '2', target]);
    // The router is up: the instance reaches its gateway, the router reaches the DC.
    await until('instance reaches its router', async () => (await ping(vmNs, tenant.gateway_ip)).status === 0, 60_000);
    await until('the NDP filter in the router', () => sh(['ip', 'netns', 'exec', qrouter, 'nft', 'list', 'table', 'ip6', 'v6stack_ndp']).status === 0, 60_000);
    assert.equal(sh(['ip', 'netns', 'exec', qrouter, 'sysctl', '-n', `net.ipv6.conf.${qg}.proxy_ndp`]).stdout.trim(), '1');
    // Without a proxy nobody answers for the tenant address on the external link.
    assert.notEqual((await ping(dcNs, vmIp)).status, 0, 'no proxy yet: unreachable');

    const np = (await env.api('POST', '/v2.0/ndp_proxies', { ndp_proxy: { name: `np-${env.tag}`, router_id: router.id, port_id: port.id } })).ndp_proxy;
    assert.equal(np.ip_address, vmIp);
    await until('the proxy entry on qg-', () => sh(['ip', '-n', qrouter, '-6', 'neigh', 'show', 'proxy', 'dev', qg]).stdout.includes(vmIp));
    // The DC's solicitation is answered with the router's gateway MAC: seen on the wire (tcpdump on the DC's link:
    // a Neighbor Advertisement for the tenant address from qg-'s MAC) and in the DC's neighbour table. (ndisc6 sends
    // the solicitation but ignores a proxy's answer, which comes from qg-'s link-local, not from the target.)
    const capture = shAsync(['ip', 'netns', 'exec', dcNs, 'timeout', '60', 'tcpdump', '-l', '-n', '-e', '-c', '1', '-i', 'eth0', `icmp6 and ip6[40] == 136 and ether src ${gw.mac_address}`]);
    await until('ping6 DC -> instance through the proxy', async () => {
      sh(['ip', '-n', dcNs, '-6', 'neigh', 'flush', 'dev', 'eth0']);
      return (await ping(dcNs, vmIp)).status === 0;
    });
    const na = await capture;
    assert.match(na.stdout, new RegExp(`neighbor advertisement, tgt is ${vmIp.replaceAll('.', '\\.')}`), na.stdout + na.stderr);
    const neigh = sh(['ip', '-n', dcNs, '-6', 'neigh', 'show', vmIp, 'dev', 'eth0']).stdout;
    assert.match(neigh, new RegExp(`lladdr ${gw.mac_address}`), neigh);
    // Nothing changes on a pass in sync: the entry is there once.
    assert.equal(sh(['ip', '-n', qrouter, '-6', 'neigh', 'show', 'proxy']).stdout.trim().split('\n').filter((l) => l.includes(vmIp)).length, 1);

    await env.api('DELETE', `/v2.0/ndp_proxies/${np.id}`);
    await until('the proxy entry gone', () => !sh(['ip', '-n', qrouter, '-6', 'neigh', 'show', 'proxy']).stdout.includes(vmIp));
    sh(['ip', '-n', dcNs, '-6', 'neigh', 'flush', 'dev', 'eth0']);
    assert.notEqual((await ping(dcNs, vmIp)).status, 0, 'deleted: unreachable');
    assert.doesNotMatch(sh(['ip', '-n', dcNs, '-6', 'neigh', 'show', vmIp, 'dev', 'eth0']).stdout, /lladdr/, 'deleted: nobody answers for the address');
    // A DC that still sends the address to the router (a stale or static neighbour entry) is dropped by the filter.
    assert.equal(sh(['ip', '-n', dcNs, '-6', 'neigh', 'replace', vmIp, 'lladdr', gw.mac_address, 'dev', 'eth0', 'nud', 'permanent']).status, 0);
    assert.notEqual((await ping(dcNs, vmIp)).status, 0, 'deleted: filtered by the router');
  } finally {
    await shAsync(['ip', 'netns', 'del', dcNs]);
    await shAsync(['ip', 'netns', 'del', vmNs]);
    await env.cleanup();
  }
});
