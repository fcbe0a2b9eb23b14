// Prefix delegation end to end, against real delegating servers (Kea and dibbler-server from Debian) in the DC
// beyond the external network: a PD subnet (use_default_subnetpool on a server with --ipv6-pd-enabled) attached to a
// router with a gateway gets a prefix through the agent's native DHCPv6-PD client; a lab instance on it ends with its
// EUI-64 address in the delegated prefix and pings the DC through the router (the DC routes the prefix back); the
// server's lease file shows the delegation; an agent restart keeps the prefix; removing the interface releases it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eui64Address } from '../../src/domain/eui64.js';
import { IpPrefix } from '../../src/domain/ip.js';
import { pdLeaseFile } from '../../src/lab/dc-pd.js';
import { AgentProcess, globalAddrs, pingFrom, skipReason, startEnv, until } from './lab-harness.js';

for (const server of ['kea', 'dibbler'] as const) {
  const skip = skipReason(['ip', 'radvd', 'ping', server === 'kea' ? 'kea-dhcp6' : 'dibbler-server', 'unshare']);
  test(`prefix delegation from ${server}: delegated, advertised, routed, kept across an agent restart, released`, { skip, timeout: 300_000 }, async () => {
    const env = await startEnv({ serverArgs: ['--ipv6-pd-enabled'] });
    const dcName = `${env.tag}dc`;
    try {
      await env.agent.waitLine(/in sync:/);
      const third = (parseInt(env.tag, 36) % 0xffff).toString(16);
      const pool = `fd00:${third}::/48`;
      const pub = (await env.api('POST', '/v2.0/networks', { network: { name: `pub-${env.tag}`, 'router:external': true } })).network;
      const p6 = (
        await env.api('POST', '/v2.0/subnets', {
          subnet: { network_id: pub.id, ip_version: 6, cidr: `2001:db8:${third}:d::/64`, gateway_ip: `2001:db8:${third}:d::1`, enable_dhcp: false, allocation_pools: [{ start: `2001:db8:${third}:d::5`, end: `2001:db8:${third}:d::ff` }] },
        })
      ).subnet;
      const net = (await env.api('POST', '/v2.0/networks', { network: { name: `priv-${env.tag}` } })).network;
      const subnet = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, use_default_subnetpool: true, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
      assert.equal(subnet.cidr, '::/64');
      assert.equal(subnet.subnetpool_id, 'prefix_delegation');
      const router = (await env.api('POST', '/v2.0/routers', { router: { name: `it-${env.tag}`, external_gateway_info: { network_id: pub.id } } })).router;
      env.extraNs.push(`qrouter-${router.id}`, `qdhcp-${net.id}`);
      const gw = (await env.api('GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_gateway`)).ports[0];
      const gw6 = gw.fixed_ips.find((f: any) => f.subnet_id === p6.id).ip_address;

      // Short timers from Kea, so that a Renew at T1 happens within the test (RFC 8415 allows any T1 the server sets).
      const timers = server === 'kea' ? ['--pd-timers', '8,12,30,60'] : [];
      const dc = await env.lab(['dc', '--network', pub.id, '--name', dcName, '--pd-pool', pool, '--pd-length', '64', '--pd-server', server, ...timers]);
      assert.equal(dc.status, 0, dc.stderr);
      const dcDir = join(env.labDir, dcName);

      // An instance on the PD network before the router serves it: no global address yet (nothing is advertised).
      const vm = `${env.tag}g`;
      const boot = await env.lab(['boot', '--network', net.id, '--name', vm]);
      assert.equal(boot.status, 0, boot.stderr);
      const port = (await env.api('GET', `/v2.0/ports?device_id=lab-${vm}`)).ports[0];
      assert.deepEqual(globalAddrs(`lab-${vm}`), []);

      const t0 = Date.now();
      await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
      const delegated = await until('the subnet takes a delegated prefix', async () => {
        const s = (await env.api('GET', `/v2.0/subnets/${subnet.id}`)).subnet;
        return s.cidr !== '::/64' ? s : false;
      }, 60_000);
      const prefix = IpPrefix.parse(delegated.cidr)!;
      assert.ok(IpPrefix.parse(pool)!.covers(prefix), `${delegated.cidr} is from ${pool}`);
      assert.equal(delegated.gateway_ip, prefix.network.add(1n).toString());
      const want = eui64Address(prefix, port.mac_address).toString();
      assert.equal((await env.api('GET', `/v2.0/ports/${port.id}`)).port.fixed_ips[0].ip_address, want);
      await until(`the instance configures ${want}/64 from the router's RA`, () => globalAddrs(`lab-${vm}`).includes(`${want}/64`), 90_000);
      const ms = Date.now() - t0;
      console.log(`# bench: ${server}: add_router_interface -> instance address in the delegated prefix: ${ms} ms`);

      // The server's lease file shows the delegation.
      const leases = (): string => readFileSync(pdLeaseFile(dcDir, server), 'utf8');
      await until('the lease file names the prefix', () => leases().includes(prefix.network.toString()), 20_000);

      // The DC routes the prefix back via the router's gateway address; the instance reaches the DC through the router.
      const again = await env.lab(['dc', '--network', pub.id, '--name', dcName, '--pd-pool', pool, '--pd-length', '64', '--pd-server', server, ...timers]);
      assert.equal(again.status, 0, again.stderr);
      assert.ok(JSON.parse(again.stdout).routes.some((r: any) => r.dst === delegated.cidr && r.via === gw6), again.stdout);
      await pingFrom(`lab-${vm}`, p6.gateway_ip, 60_000);

      // Kea's T1 is 8 s: the client renews the same prefix with it (a Renew, not a new Solicit).
      if (server === 'kea') {
        const renewed = await env.agent.waitLine(/\] renewed: subnet .* prefix /, 0, 60_000);
        assert.ok(renewed.line.includes(delegated.cidr), renewed.line);
      }

      // An agent restart keeps the prefix: the new client resumes the lease; the subnet does not move.
      await env.agent.stop();
      env.agent = new AgentProcess(env.url, env.host, env.stateDir);
      await env.agent.waitLine(/in sync:/, 0, 60_000);
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal((await env.api('GET', `/v2.0/subnets/${subnet.id}`)).subnet.cidr, delegated.cidr);
      const kept = JSON.parse(readFileSync(join(env.stateDir, 'pd', router.id, 'leases.json'), 'utf8'));
      assert.equal(kept[subnet.id].prefix, delegated.cidr);

      // Removing the interface: the subnet goes back to ::/64 at once and the client releases the prefix upstream.
      await env.api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id });
      assert.equal((await env.api('GET', `/v2.0/subnets/${subnet.id}`)).subnet.cidr, '::/64');
      await env.agent.waitLine(/released .* for subnet/, 0, 30_000);
      if (server === 'kea') await until('Kea logs the release', () => /DHCP6_RELEASE_PD|RELEASE_PD/.test(readFileSync(join(dcDir, 'pd-server.log'), 'utf8')), 20_000);
    } finally {
      await env.lab(['delete', dcName]).catch(() => {});
      await env.cleanup();
    }
  });
}
