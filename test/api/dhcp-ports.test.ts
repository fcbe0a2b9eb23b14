// The server makes each network's DHCP port (device_owner network:dhcp) in the transaction of the change that needs
// it: a subnet created, updated or deleted, a DHCP-capable agent's heartbeat, an agent deleted, and at start (which
// adopts the ports agents made before). Agents here are real heartbeats on the agent API, as `v6stack agent` sends.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiServer } from '../../src/api/server.js';
import { openStore } from '../../src/store/index.js';
import { backends, freshStoreUrl, startApi, type Api } from '../helpers/v6stack.js';

const DHCP = 'network:dhcp';

async function heartbeat(api: Api, host: string, role = 'all'): Promise<void> {
  const r = await api.request('PUT', `/v6stack/v1/agents/${host}/v6stack-agent`, { agent: { agent_type: 'v6stack agent', configurations: { role } } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

async function dhcpPorts(api: Api, networkId?: string): Promise<any[]> {
  const r = await api.request('GET', `/v2.0/ports?device_owner=${DHCP}${networkId ? `&network_id=${networkId}` : ''}`);
  assert.equal(r.status, 200);
  return r.body.ports;
}

async function network(api: Api, name: string, project?: string): Promise<any> {
  const r = await api.request('POST', '/v2.0/networks', { network: { name, ...(project ? { project_id: project } : {}) } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.network;
}

async function subnet(api: Api, body: Record<string, unknown>): Promise<any> {
  const r = await api.request('POST', '/v2.0/subnets', { subnet: body });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.subnet;
}

const stateful = (networkId: string, third: string): Record<string, unknown> => ({
  network_id: networkId,
  ip_version: 6,
  cidr: `2001:db8:${third}::/64`,
  ipv6_ra_mode: 'dhcpv6-stateful',
  ipv6_address_mode: 'dhcpv6-stateful',
});

for (const backend of backends()) {
  describe(`DHCP ports made by the server (${backend})`, () => {
    let api: Api;
    before(async () => {
      api = await startApi(backend);
    });
    after(async () => api.close());

    it('with no DHCP agent alive a network gets no DHCP port (Neutron: not scheduled); the first heartbeat makes it', async () => {
      const net = await network(api, 'unscheduled', 'proj-a');
      const sub = await subnet(api, stateful(net.id, 'd1'));
      const slaac = await subnet(api, { network_id: net.id, ip_version: 6, cidr: '2001:db8:d2::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
      assert.deepEqual(await dhcpPorts(api, net.id), []);
      // A compute host serves no DHCP.
      await heartbeat(api, 'compute-1', 'compute');
      assert.deepEqual(await dhcpPorts(api, net.id), []);
      await heartbeat(api, 'node-1', 'network');
      const [port, ...more] = await dhcpPorts(api, net.id);
      assert.deepEqual(more, []);
      assert.equal(port.device_id, `dhcp-node-1-${net.id}`);
      assert.equal(port['binding:host_id'], 'node-1');
      assert.equal(port.name, '');
      assert.equal(port.project_id, 'proj-a', "the network's project, as Neutron makes it");
      assert.deepEqual(port.security_groups, []);
      // The pool's first address on the stateful subnet (the gateway is the subnet-router anycast address ::), the
      // EUI-64 address on the SLAAC one (IPAM's rules).
      assert.deepEqual(port.fixed_ips.map((f: any) => f.subnet_id), [sub.id, slaac.id]);
      assert.equal(port.fixed_ips[0].ip_address, '2001:db8:d1::1');
      assert.match(port.fixed_ips[1].ip_address, /^2001:db8:d2:0:f816:3eff:fe/);
      // Heartbeats change nothing more.
      await heartbeat(api, 'node-1', 'network');
      const again = await dhcpPorts(api, net.id);
      assert.equal(again.length, 1);
      assert.equal(again[0].revision_number, port.revision_number);
    });

    it('a subnet create makes the port in its transaction; the answer is the subnet alone', async () => {
      await heartbeat(api, 'node-1', 'network');
      const net = await network(api, 'created');
      const r = await api.request('POST', '/v2.0/subnets', { subnet: stateful(net.id, 'd3') });
      assert.equal(r.status, 201);
      const shown = await api.request('GET', `/v2.0/subnets/${r.body.subnet.id}`);
      assert.deepEqual(r.body, shown.body, 'the create answer is exactly the subnet as shown');
      const ports = await dhcpPorts(api, net.id);
      assert.equal(ports.length, 1);
      assert.deepEqual(ports[0].fixed_ips, [{ subnet_id: r.body.subnet.id, ip_address: '2001:db8:d3::1' }]);
      // An instance's port comes after it in the pool.
      const vm = await api.request('POST', '/v2.0/ports', { port: { network_id: net.id } });
      assert.deepEqual(vm.body.port.fixed_ips, [{ subnet_id: r.body.subnet.id, ip_address: '2001:db8:d3::2' }]);
      // A SLAAC-only network is not served by dnsmasq: no port (the agent would serve nothing on it).
      const net2 = await network(api, 'slaac-only');
      await subnet(api, { network_id: net2.id, ip_version: 6, cidr: '2001:db8:d4::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
      assert.deepEqual(await dhcpPorts(api, net2.id), []);
    });

    it('addresses follow the served subnets: added, released with enable_dhcp, gone with the last served subnet', async () => {
      await heartbeat(api, 'node-1', 'network');
      const net = await network(api, 'follow');
      const six = await subnet(api, stateful(net.id, 'd5'));
      const four = await subnet(api, { network_id: net.id, ip_version: 4, cidr: '192.0.2.0/24' });
      let [port] = await dhcpPorts(api, net.id);
      assert.deepEqual(port.fixed_ips, [
        { subnet_id: six.id, ip_address: '2001:db8:d5::1' },
        { subnet_id: four.id, ip_address: '192.0.2.2' },
      ]);
      const off = await api.request('PUT', `/v2.0/subnets/${four.id}`, { subnet: { enable_dhcp: false } });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      [port] = await dhcpPorts(api, net.id);
      assert.deepEqual(port.fixed_ips, [{ subnet_id: six.id, ip_address: '2001:db8:d5::1' }]);
      // The released address is free again: DHCP back on takes the next one for the port (IPAM's next-fit walk).
      const on = await api.request('PUT', `/v2.0/subnets/${four.id}`, { subnet: { enable_dhcp: true } });
      assert.equal(on.status, 200);
      [port] = await dhcpPorts(api, net.id);
      assert.equal(port.fixed_ips.length, 2);
      assert.equal(port.fixed_ips[1].subnet_id, four.id);
      // Deleting the IPv6 subnet takes its address from the port (an AUTO_DELETE owner), the IPv4 one keeps it.
      assert.equal((await api.request('DELETE', `/v2.0/subnets/${six.id}`)).status, 204);
      [port] = await dhcpPorts(api, net.id);
      assert.deepEqual(port.fixed_ips.map((f: any) => f.subnet_id), [four.id]);
      // The last served subnet takes the port with it.
      assert.equal((await api.request('DELETE', `/v2.0/subnets/${four.id}`)).status, 204);
      assert.deepEqual(await dhcpPorts(api, net.id), []);
    });

    it('the DHCP port does not block network delete, which removes it and frees its addresses', async () => {
      await heartbeat(api, 'node-1', 'network');
      const net = await network(api, 'deleted');
      await subnet(api, stateful(net.id, 'd6'));
      const [port] = await dhcpPorts(api, net.id);
      assert.ok(port);
      assert.equal((await api.request('DELETE', `/v2.0/networks/${net.id}`)).status, 204);
      assert.equal((await api.request('GET', `/v2.0/ports/${port.id}`)).status, 404);
      // The same prefix on a new network: the port gets ::1 again (nothing was left allocated).
      const net2 = await network(api, 'deleted-2');
      await subnet(api, stateful(net2.id, 'd6'));
      assert.equal((await dhcpPorts(api, net2.id))[0].fixed_ips[0].ip_address, '2001:db8:d6::1');
    });

    it('a failing request rolls the DHCP port back with everything else', async () => {
      await heartbeat(api, 'node-1', 'network');
      const net = await network(api, 'rollback');
      const before = (await dhcpPorts(api)).length;
      // The second subnet of the bulk overlaps the first: the request fails after the first subnet's DHCP port was made.
      const r = await api.request('POST', '/v2.0/subnets', { subnets: [stateful(net.id, 'd7'), stateful(net.id, 'd7')] });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.deepEqual((await api.request('GET', `/v2.0/subnets?network_id=${net.id}`)).body.subnets, []);
      assert.equal((await dhcpPorts(api)).length, before);
      assert.deepEqual((await api.request('GET', `/v2.0/ports?network_id=${net.id}`)).body.ports, []);
      // Its address was not kept either.
      await subnet(api, stateful(net.id, 'd7'));
      assert.equal((await dhcpPorts(api, net.id))[0].fixed_ips[0].ip_address, '2001:db8:d7::1');
    });

    it('a full pool does not fail the change: DHCP on is answered as Neutron answers, the port comes when there is room', async () => {
      await heartbeat(api, 'node-1', 'network');
      const net = await network(api, 'full');
      const four = await subnet(api, { network_id: net.id, ip_version: 4, cidr: '192.0.2.0/29', enable_dhcp: false });
      const vms = [];
      for (let i = 0; i < 5; i++) vms.push((await api.request('POST', '/v2.0/ports', { port: { network_id: net.id } })).body.port);
      assert.equal((await api.request('POST', '/v2.0/ports', { port: { network_id: net.id } })).status, 409, 'the pool .2-.6 is full');
      const on = await api.request('PUT', `/v2.0/subnets/${four.id}`, { subnet: { enable_dhcp: true } });
      assert.equal(on.status, 200, JSON.stringify(on.body));
      assert.equal(on.body.subnet.enable_dhcp, true);
      assert.deepEqual(await dhcpPorts(api, net.id), []);
      // A heartbeat with the pool still full changes nothing and does not fail.
      await heartbeat(api, 'node-1', 'network');
      assert.deepEqual(await dhcpPorts(api, net.id), []);
      assert.equal((await api.request('DELETE', `/v2.0/ports/${vms[2].id}`)).status, 204);
      await heartbeat(api, 'node-1', 'network');
      const [port] = await dhcpPorts(api, net.id);
      assert.deepEqual(port.fixed_ips, [{ subnet_id: four.id, ip_address: vms[2].fixed_ips[0].ip_address }]);
    });

    it("deleting an agent moves its networks' DHCP ports to a live DHCP host, addresses kept", async () => {
      await heartbeat(api, 'node-1', 'network');
      const net = await network(api, 'moved');
      await subnet(api, stateful(net.id, 'd8'));
      const [port] = await dhcpPorts(api, net.id);
      assert.equal(port['binding:host_id'], 'node-1');
      await heartbeat(api, 'node-2', 'all');
      // node-1 is alive: the port stays.
      assert.equal((await dhcpPorts(api, net.id))[0]['binding:host_id'], 'node-1');
      const agent = (await api.request('GET', '/v2.0/agents?host=node-1')).body.agents[0];
      assert.equal((await api.request('DELETE', `/v2.0/agents/${agent.id}`)).status, 204);
      const [moved, ...more] = await dhcpPorts(api, net.id);
      assert.deepEqual(more, []);
      assert.equal(moved.id, port.id);
      assert.equal(moved['binding:host_id'], 'node-2');
      assert.equal(moved.device_id, `dhcp-node-2-${net.id}`);
      assert.equal(moved.status, 'DOWN');
      assert.deepEqual(moved.fixed_ips, port.fixed_ips);
    });
  });

  describe(`DHCP ports the agents made, adopted at server start (${backend})`, () => {
    it('keeps the agent-made port (no duplicate), and of two agents\' ports keeps one', async () => {
      const fresh = await freshStoreUrl(backend);
      const open = async (): Promise<{ api: Api; close: () => Promise<void> }> => {
        const store = await openStore(fresh.url);
        const server = new ApiServer({ store, defaultProjectId: 'test-project' });
        const { port } = await server.listen(0, '::1');
        const url = `http://[::1]:${port}`;
        const api: Api = {
          url,
          store,
          async request(method, path, body) {
            const res = await fetch(url + path, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
            const text = await res.text();
            return { status: res.status, body: text ? JSON.parse(text) : null };
          },
          close: async () => {},
        };
        let closed = false;
        const close = async (): Promise<void> => {
          if (closed) return;
          closed = true;
          await server.close();
          await store.close();
        };
        return { api, close };
      };
      let s: { api: Api; close: () => Promise<void> } | undefined;
      try {
        // A store as the agents left it: the DHCP ports made through POST /v2.0/ports, as ensureDhcpPorts did.
        s = await open();
        const net = await network(s.api, 'legacy');
        const sub = await subnet(s.api, stateful(net.id, 'd9'));
        const agentMade = async (host: string): Promise<any> => {
          const r = await s!.api.request('POST', '/v2.0/ports', {
            port: { network_id: net.id, device_owner: DHCP, device_id: `dhcp-${host}-${net.id}`, 'binding:host_id': host, name: '', fixed_ips: [{ subnet_id: sub.id }] },
          });
          assert.equal(r.status, 201, JSON.stringify(r.body));
          return r.body.port;
        };
        const made = [await agentMade('old-1'), await agentMade('old-2')];
        // With no agent alive, the older one stays (created in the same second here: then the lower id).
        const [first, second] = made.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
        const firstHost = first['binding:host_id'];
        await s.close();

        // The server starts on it: one port per network; the older one stays as it was, with its address.
        s = await open();
        let ports = await dhcpPorts(s.api, net.id);
        assert.deepEqual(ports.map((p) => p.id), [first.id]);
        assert.deepEqual(ports[0].fixed_ips, first.fixed_ips);
        assert.equal(ports[0].device_id, `dhcp-${firstHost}-${net.id}`);
        assert.equal((await s.api.request('GET', `/v2.0/ports/${second.id}`)).status, 404);
        // Its agent comes back: nothing changes (adopted, not re-made).
        await heartbeat(s.api, firstHost, 'all');
        ports = await dhcpPorts(s.api, net.id);
        assert.deepEqual(ports.map((p) => [p.id, p.revision_number]), [[first.id, first.revision_number]]);
        // A restart with the agent alive changes nothing either.
        await s.close();
        s = await open();
        ports = await dhcpPorts(s.api, net.id);
        assert.deepEqual(ports.map((p) => [p.id, p.revision_number]), [[first.id, first.revision_number]]);
      } finally {
        await s?.close();
        await fresh.dispose();
      }
    });
  });
}
