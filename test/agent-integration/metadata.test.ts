// End to end, the metadata service: a real server and agent, lab instances that fetch their documents with curl.
// IPv6-only (SLAAC, routed): http://[fe80::a9fe:a9fe%eth0]/ answers each instance its own meta_data.json,
// network_data.json and user_data, whatever the request claims (X-Forwarded-For); an isolated DHCPv6-stateful
// network is served from its qdhcp- namespace; an IPv4-only routed network answers at 169.254.169.254.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipJson, shAsync, skipReason, startEnv, until, routedNetwork, type Env } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'curl']);
const MD = 'fe80::a9fe:a9fe';

async function curl(labNs: string, url: string, headers: string[] = []): Promise<{ status: number; body: string }> {
  const r = await shAsync(['ip', 'netns', 'exec', labNs, 'curl', '-sS', '-g', '--max-time', '10', '-o', '-', '-w', '\n%{http_code}', ...headers.flatMap((h) => ['-H', h]), url]);
  const at = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) + (r.status ? r.stderr : '') };
}

/** The metadata link of a network is up in `ns` with the metadata address (the agent's kernel pass is done). */
async function metadataLinkUp(env: Env, ns: string, networkId: string, address: string): Promise<void> {
  await until(`qm-${networkId.slice(0, 11)} with ${address} in ${ns}`, () =>
    ipJson(ns, ['addr', 'show']).some((l) => l.ifname === `qm-${networkId.slice(0, 11)}` && l.addr_info.some((a: any) => a.local === address)), 60_000);
}

/** On failure: what the agent said about metadata, and the last answer. */
function diag(env: Env, last: unknown): string {
  return [`last: ${JSON.stringify(last)}`, ...env.agent.lines.filter((l) => /metadata|qm-|ERROR/.test(l)).slice(-30)].join('\n');
}

async function fetchJson(env: Env, labNs: string, url: string, what: string): Promise<any> {
  let last: unknown;
  try {
    return await until(what, async () => {
      const r = await curl(labNs, url);
      last = r;
      return r.status === 200 ? JSON.parse(r.body) : false;
    }, 60_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${diag(env, last)}`);
  }
}

async function bootPort(env: Env, port: any, name: string): Promise<void> {
  const boot = await env.lab(['boot', '--port', port.id, '--name', name]);
  assert.equal(boot.status, 0, boot.stderr);
}

test('metadata over IPv6 link-local: each instance reads its own documents; a claimed address changes nothing', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  const [a, b] = [`${env.tag}a`, `${env.tag}b`];
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 7) % 0xffff).toString(16);
    const { net, subnet, router } = await routedNetwork(env, { name: `it-${env.tag}-md`, cidr: `2001:db8:${third}:7::/64`, mode: 'slaac', dns: `2001:db8:${third}:53::1` });
    const userData = '#cloud-config\nfqdn: vm-a.example.com\nusers:\n  - name: cloud\n';
    const portA = (await env.api('POST', '/v2.0/ports', { port: { network_id: net.id, name: a, 'instance:user_data': userData, 'instance:metadata': { name: 'vm-a', meta: { role: 'web' }, public_keys: { k: 'ssh-ed25519 AAAAC3Nza a@example' } } } })).port;
    const portB = (await env.api('POST', '/v2.0/ports', { port: { network_id: net.id, name: b } })).port;
    assert.equal(portA['instance:user_data'], userData, 'the API shows the user data it stored');
    assert.equal('instance:user_data' in portB, false, 'shown only when set');
    await metadataLinkUp(env, `qrouter-${router.id}`, net.id, MD);
    await bootPort(env, portA, a);
    await bootPort(env, portB, b);

    const base = `http://[${MD}%eth0]`;
    const mdA = await fetchJson(env, `lab-${a}`, `${base}/openstack/latest/meta_data.json`, 'meta_data.json for A');
    assert.equal(mdA.uuid, portA.id);
    assert.equal(mdA.name, 'vm-a');
    assert.equal(mdA.hostname, 'vm-a');
    assert.deepEqual(mdA.meta, { role: 'web' });
    assert.deepEqual(mdA.public_keys, { k: 'ssh-ed25519 AAAAC3Nza a@example' });
    const nd = JSON.parse((await curl(`lab-${a}`, `${base}/openstack/latest/network_data.json`)).body);
    assert.equal(nd.links[0].ethernet_mac_address, portA.mac_address);
    assert.deepEqual(nd.networks.map((n: any) => [n.type, n.network_id]), [['ipv6_slaac', net.id]]);
    assert.deepEqual(nd.services, [{ type: 'dns', address: subnet.dns_nameservers[0] }]);
    assert.deepEqual(await curl(`lab-${a}`, `${base}/openstack/latest/user_data`), { status: 200, body: userData });
    assert.equal((await curl(`lab-${a}`, `${base}/latest/meta-data/instance-id`)).body, portA.id, 'the EC2 tree');
    assert.ok((await curl(`lab-${a}`, `${base}/openstack`)).body.split('\n').includes('latest'));

    // B gets its own documents, never A's, even when it claims A's addresses.
    const mdB = JSON.parse((await curl(`lab-${b}`, `${base}/openstack/latest/meta_data.json`, [`X-Forwarded-For: ${portA.fixed_ips[0].ip_address}`, `X-Instance-ID: ${portA.id}`])).body);
    assert.equal(mdB.uuid, portB.id);
    assert.equal((await curl(`lab-${b}`, `${base}/openstack/latest/user_data`)).status, 404, "B has no user data and never reads A's");
    // New user data through the API reaches the running service (SIGHUP, no restart).
    await env.api('PUT', `/v2.0/ports/${portB.id}`, { port: { 'instance:user_data': '#!/bin/sh\necho b\n' } });
    await until("B's new user data", async () => (await curl(`lab-${b}`, `${base}/openstack/latest/user_data`)).body === '#!/bin/sh\necho b\n', 30_000);
    assert.deepEqual(env.agent.lines.filter((l) => /ERROR/.test(l)), []);
  } finally {
    await env.lab(['delete', a]).catch(() => {});
    await env.lab(['delete', b]).catch(() => {});
    await env.cleanup();
  }
});

test('metadata on an isolated IPv6 network (qdhcp-) and over IPv4 at 169.254.169.254 through the router', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  const [c, d] = [`${env.tag}c`, `${env.tag}d`];
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 9) % 0xffff).toString(16);
    // Isolated: DHCPv6-stateful, no router (the guest keeps its link-local address; metadata needs no more).
    const iso = (await env.api('POST', '/v2.0/networks', { network: { name: `it-${env.tag}-iso` } })).network;
    env.extraNs.push(`qdhcp-${iso.id}`);
    await env.api('POST', '/v2.0/subnets', { subnet: { network_id: iso.id, ip_version: 6, cidr: `2001:db8:${third}:9::/64`, ipv6_address_mode: 'dhcpv6-stateful' } });
    const portC = (await env.api('POST', '/v2.0/ports', { port: { network_id: iso.id, name: c, 'instance:user_data': 'c-data' } })).port;
    await metadataLinkUp(env, `qdhcp-${iso.id}`, iso.id, MD);
    // The lab's boot waits for an RA this network never sends: plug it and read metadata over link-local only.
    await env.lab(['boot', '--port', portC.id, '--name', c, '--timeout', '5']);
    await until(`lab-${c} eth0 up`, () => ipJson(`lab-${c}`, ['-6', 'addr', 'show', 'dev', 'eth0']).some((l: any) => l.addr_info.some((x: any) => x.scope === 'link' && !x.tentative)), 30_000);
    const mdC = await fetchJson(env, `lab-${c}`, `http://[${MD}%eth0]/openstack/latest/meta_data.json`, 'meta_data.json for C');
    assert.equal(mdC.uuid, portC.id);
    assert.equal(JSON.parse((await curl(`lab-${c}`, `http://[${MD}%eth0]/openstack/latest/network_data.json`)).body).networks[0].type, 'ipv6_dhcpv6-stateful');

    // IPv4-only, routed: 169.254.169.254 through the default router.
    const v4net = (await env.api('POST', '/v2.0/networks', { network: { name: `it-${env.tag}-v4` } })).network;
    env.extraNs.push(`qdhcp-${v4net.id}`);
    const octet = 1 + (parseInt(env.tag, 36) % 250);
    const s4 = (await env.api('POST', '/v2.0/subnets', { subnet: { network_id: v4net.id, ip_version: 4, cidr: `192.0.2.0/24`, gateway_ip: '192.0.2.1', allocation_pools: [{ start: `192.0.2.${Math.max(octet, 2)}`, end: '192.0.2.254' }] } })).subnet;
    const router = (await env.api('POST', '/v2.0/routers', { router: { name: `it-${env.tag}-v4` } })).router;
    env.extraNs.push(`qrouter-${router.id}`);
    await env.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s4.id });
    const portD = (await env.api('POST', '/v2.0/ports', { port: { network_id: v4net.id, name: d } })).port;
    await metadataLinkUp(env, `qrouter-${router.id}`, v4net.id, '169.254.169.254');
    await bootPort(env, portD, d);
    const mdD = await fetchJson(env, `lab-${d}`, 'http://169.254.169.254/openstack/latest/meta_data.json', 'meta_data.json for D over IPv4');
    assert.equal(mdD.uuid, portD.id);
    assert.equal((await curl(`lab-${d}`, 'http://169.254.169.254/latest/meta-data/local-ipv4')).body, portD.fixed_ips[0].ip_address);
    assert.equal(JSON.parse((await curl(`lab-${d}`, 'http://169.254.169.254/openstack/latest/network_data.json')).body).networks[0].type, 'ipv4_dhcp');
  } finally {
    await env.lab(['delete', c]).catch(() => {});
    await env.lab(['delete', d]).catch(() => {});
    await env.cleanup();
  }
});
