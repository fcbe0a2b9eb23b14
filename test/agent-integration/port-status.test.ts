// End to end, port status and admin state as an agent reports and enforces them (Neutron's update_device_up/down and
// the Linux bridge agent's admin state): the router's and the DHCP port become ACTIVE once plugged, an instance's
// port once its tap is on the bridge; admin_state_up false sets the bridge end down (the instance loses the router)
// and the status DOWN, true brings both back; a tap unplugged behind the API's back turns its port DOWN without
// waiting for a full resync (the agent watches the bridge namespace's links).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipJson, pingFrom, sh, skipReason, startEnv, until, routedNetwork } from './lab-harness.js';

const skip = skipReason(['ip', 'radvd', 'dnsmasq', 'dhclient', 'ping']);

test('port status: ACTIVE when plugged, DOWN with admin_state_up false (bridge end down, no traffic) and when unplugged', { skip, timeout: 240_000 }, async () => {
  const env = await startEnv();
  const name = `${env.tag}p`;
  const ns = `lab-${name}`;
  try {
    await env.agent.waitLine(/in sync:/);
    const third = ((parseInt(env.tag, 36) + 11) % 0xffff).toString(16);
    const { net, subnet, rport } = await routedNetwork(env, { name: `it-${env.tag}`, cidr: `2001:db8:${third}:6::/64`, mode: 'dhcpv6-stateful', dns: `2001:db8:${third}:53::1` });
    const status = async (id: string): Promise<string> => (await env.api('GET', `/v2.0/ports/${id}`)).port.status;
    const brNs = `v6stack-br-${env.host}`;
    const tapUp = (portId: string): boolean | undefined => {
      const l = ipJson(brNs, ['link', 'show'])?.find((x: any) => x.ifname === `tap${portId.slice(0, 11)}`);
      return l ? (l.flags as string[]).includes('UP') : undefined;
    };

    // The ports the agent plugs itself.
    await until('the router interface port ACTIVE', async () => (await status(rport.id)) === 'ACTIVE');
    const dhcpPort = await until('the DHCP port', async () => (await env.api('GET', `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`)).ports[0]);
    await until('the DHCP port ACTIVE', async () => (await status(dhcpPort.id)) === 'ACTIVE');

    // An instance's port: ACTIVE once lab boot (the hypervisor) has put its tap on the bridge.
    const boot = await env.lab(['boot', '--network', net.id, '--name', name]);
    assert.equal(boot.status, 0, boot.stderr);
    const port = (await env.api('GET', `/v2.0/ports?device_id=${ns}`)).ports[0];
    await until('the instance port ACTIVE', async () => (await status(port.id)) === 'ACTIVE');
    await pingFrom(ns, subnet.gateway_ip);

    // Admin down: the tap goes down, the status DOWN, and the router is out of reach; admin up brings all back.
    await env.api('PUT', `/v2.0/ports/${port.id}`, { port: { admin_state_up: false } });
    await until('the instance port DOWN', async () => (await status(port.id)) === 'DOWN');
    assert.equal(tapUp(port.id), false, 'the tap is down');
    const cut = sh(['ip', 'netns', 'exec', ns, 'ping', '-6', '-n', '-c', '2', '-W', '1', subnet.gateway_ip]);
    assert.notEqual(cut.status, 0, `no traffic with admin_state_up false: ${cut.stdout}`);
    await env.api('PUT', `/v2.0/ports/${port.id}`, { port: { admin_state_up: true } });
    await until('the instance port ACTIVE again', async () => (await status(port.id)) === 'ACTIVE');
    assert.equal(tapUp(port.id), true);
    await pingFrom(ns, subnet.gateway_ip);

    // The same for the router's side of the link.
    await env.api('PUT', `/v2.0/ports/${rport.id}`, { port: { admin_state_up: false } });
    await until('the router port DOWN', async () => (await status(rport.id)) === 'DOWN');
    assert.equal(tapUp(rport.id), false);
    const cut2 = sh(['ip', 'netns', 'exec', ns, 'ping', '-6', '-n', '-c', '2', '-W', '1', subnet.gateway_ip]);
    assert.notEqual(cut2.status, 0, `the router's port is down: ${cut2.stdout}`);
    await env.api('PUT', `/v2.0/ports/${rport.id}`, { port: { admin_state_up: true } });
    await until('the router port ACTIVE again', async () => (await status(rport.id)) === 'ACTIVE');
    await pingFrom(ns, subnet.gateway_ip);

    // Unplugged behind the API's back (the tap deleted, as a hypervisor does when an instance stops): DOWN, from
    // the agent's watch on the bridge namespace (the next full resync is a minute away).
    const del = sh(['ip', '-n', brNs, 'link', 'del', `tap${port.id.slice(0, 11)}`]);
    assert.equal(del.status, 0, del.stderr);
    await until('the unplugged instance port DOWN', async () => (await status(port.id)) === 'DOWN');
    assert.ok(env.agent.lines.some((l) => l.includes(`port status: DOWN ${port.id}`)), env.agent.lines.slice(-20).join('\n'));
  } finally {
    await env.cleanup();
  }
});
