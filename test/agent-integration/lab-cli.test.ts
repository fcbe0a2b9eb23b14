// `v6stack lab` as a person uses it: boot --port plugs the port made before (its EUI-64 address); a name in use,
// an unknown name on delete and an unreachable API are clear errors with a non-zero exit; a boot that cannot plug
// removes what it made; a boot that gets no DHCPv6 reply gives up in its time limit, says what was missing and
// where to look, and keeps the instance for `lab show`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globalAddrs, ipJson, sh, shAsync, skipReason, startEnv, until } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient']);
const nsExists = (ns: string): boolean => sh(['ip', 'netns', 'exec', ns, 'true']).status === 0;

test('lab boot --port, name in use, unknown delete, unreachable API, a failed boot leaves nothing, a bounded give-up says what was missing', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  const cli = (args: string[]) => shAsync([process.execPath, 'dist/src/cli/main.js', ...args]);
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 11) % 0xffff).toString(16);
    const net = (await env.api('POST', '/v2.0/networks', { network: { name: `it-${env.tag}` } })).network;
    env.extraNs.push(`qdhcp-${net.id}`);
    const subnet = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 6, cidr: `2001:db8:${third}::/64`, ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `it-${env.tag}` } })).router;
    env.extraNs.push(`qrouter-${router.id}`);
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });

    // The README's way: a port with a MAC, then lab boot --port NAME: the same port, its EUI-64 address.
    const name = `${env.tag}p`;
    const made = (await env.api('POST', '/v2.0/ports', { port: { network_id: net.id, name, mac_address: 'fa:16:3e:79:5a:cc' } })).port;
    const boot = await env.lab(['boot', '--port', name]);
    assert.equal(boot.status, 0, boot.stderr);
    assert.equal(JSON.parse(boot.stdout).port_id, made.id);
    const eui64 = `2001:db8:${third}:0:f816:3eff:fe79:5acc`;
    assert.equal(made.fixed_ips[0].ip_address, eui64);
    assert.deepEqual(globalAddrs(`lab-${name}`), [`${eui64}/64`]);
    assert.equal(ipJson(`lab-${name}`, ['link', 'show', 'eth0'])[0].address, 'fa:16:3e:79:5a:cc');
    const ports = async (): Promise<any[]> => (await env.api('GET', `/v2.0/ports?network_id=${net.id}`)).ports;
    const before = (await ports()).length;
    assert.equal((await env.api('GET', `/v2.0/ports/${made.id}`)).port.device_id, `lab-${name}`);

    // A name in use: a clear error, nothing made.
    const dup = await env.lab(['boot', '--network', net.id, '--name', name]);
    assert.notEqual(dup.status, 0);
    assert.match(dup.stderr, new RegExp(`lab instance ${name} already exists`));
    assert.equal((await ports()).length, before, 'no orphan port');

    // Deleting a --port instance unplugs the user's port and keeps it (as Nova does); an unknown name is an error.
    const del = await env.lab(['delete', name]);
    assert.equal(del.status, 0, del.stderr);
    assert.ok(!nsExists(`lab-${name}`));
    const kept = (await env.api('GET', `/v2.0/ports/${made.id}`)).port;
    assert.equal(kept.device_id, '');
    const unknown = await env.lab(['delete', name]);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, new RegExp(`no lab instance ${name}`));

    // An unreachable API: which URL, and how to start v6stack.
    const away = await cli(['lab', 'boot', '--network', net.id, '--name', `${env.tag}u`, '--server', 'http://[::1]:1', '--state-dir', env.labDir]);
    assert.notEqual(away.status, 0);
    assert.match(away.stderr, /cannot reach the v6stack API at http:\/\/\[::1\]:1 .*npm start/);

    // No agent for that host: the bridge never comes; the boot gives up in its time and removes its port and namespace.
    const t0 = Date.now();
    const orphan = await cli(['lab', 'boot', '--network', net.id, '--name', `${env.tag}o`, '--server', env.url, '--host', `none${env.tag}`, '--state-dir', env.labDir, '--timeout', '3']);
    assert.notEqual(orphan.status, 0);
    assert.match(orphan.stderr, new RegExp(`is the agent for host none${env.tag} running`));
    assert.ok(Date.now() - t0 < 20_000, 'bounded');
    assert.ok(!nsExists(`lab-${env.tag}o`));
    assert.equal((await env.api('GET', `/v2.0/ports?device_id=lab-${env.tag}o`)).ports.length, 0, 'its port was deleted');

    // DHCPv6 that never answers (the network's DHCP port administratively down): a bounded give-up that says so.
    const net6 = (await env.api('POST', '/v2.0/networks', { network: { name: `it-${env.tag}-f` } })).network;
    env.extraNs.push(`qdhcp-${net6.id}`);
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: net6.id, ip_version: 6, cidr: `2001:db8:${third}:1::/64`, ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' } });
    const dhcp = await until('the DHCP port', async () => (await env.api('GET', `/v2.0/ports?network_id=${net6.id}&device_owner=network:dhcp`)).ports[0]);
    await env.api('PUT', `/v2.0/ports/${dhcp.id}`, { port: { admin_state_up: false } });
    await until('the DHCP port DOWN', async () => (await env.api('GET', `/v2.0/ports/${dhcp.id}`)).port.status === 'DOWN');
    const t1 = Date.now();
    const silent = await env.lab(['boot', '--network', net6.id, '--name', `${env.tag}s`, '--timeout', '6']);
    const took = Date.now() - t1;
    assert.notEqual(silent.status, 0);
    assert.match(silent.stderr, /gave up after \d+ s: no DHCPv6 reply/);
    assert.match(silent.stderr, new RegExp(`lab show ${env.tag}s`));
    assert.match(silent.stderr, /lab capture/);
    assert.match(silent.stderr, /DHCPv6: waiting for a reply/, 'progress shown');
    assert.ok(took < 20_000, `gave up in ${took} ms`);
    assert.ok(nsExists(`lab-${env.tag}s`), 'kept to look at');
    const gone = await env.lab(['delete', `${env.tag}s`]);
    assert.equal(gone.status, 0, gone.stderr);
  } finally {
    await env.cleanup();
  }
});
