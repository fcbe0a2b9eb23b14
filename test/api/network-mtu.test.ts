// A network's MTU: by default what its segment type leaves of the physical MTU, which depends on the underlay's IP
// version; a bigger one is refused as Neutron refuses it (InvalidInput, 400), at create and at update.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Api } from '../helpers/v6stack.js';

describe('network MTU', () => {
  const apis: Api[] = [];
  after(async () => {
    for (const a of apis) await a.close();
  });

  it("Neutron's defaults: VXLAN 1450, flat 1500; 1451 on VXLAN is refused with Neutron's message", async () => {
    const api = await startApi('sqlite');
    apis.push(api);
    const vx = await api.request('POST', '/v2.0/networks', { network: { name: 'vx' } });
    assert.equal(vx.status, 201);
    assert.equal(vx.body.network.mtu, 1450);
    const flat = await api.request('POST', '/v2.0/networks', { network: { name: 'f', 'provider:network_type': 'flat', 'provider:physical_network': 'public' } });
    assert.equal(flat.body.network.mtu, 1500);
    const big = await api.request('POST', '/v2.0/networks', { network: { name: 'big', mtu: 1451 } });
    assert.equal(big.status, 400);
    assert.deepEqual(big.body, { NeutronError: { type: 'InvalidInput', message: 'Invalid input for operation: Requested MTU is too big, maximum is 1450.', detail: '' } });
    const smaller = await api.request('POST', '/v2.0/networks', { network: { name: 'small', mtu: 1400 } });
    assert.equal(smaller.body.network.mtu, 1400);
  });

  it('an IPv6 underlay (overlay_ip_version 6): VXLAN networks get 1430; updates are held to it too', async () => {
    const api = await startApi('sqlite', { settings: { mtu: { globalPhysnetMtu: 1500, overlayIpVersion: 6 } } });
    apis.push(api);
    const vx = (await api.request('POST', '/v2.0/networks', { network: { name: 'vx' } })).body.network;
    assert.equal(vx.mtu, 1430);
    const geneve = (await api.request('POST', '/v2.0/networks', { network: { name: 'g', 'provider:network_type': 'geneve' } })).body.network;
    assert.equal(geneve.mtu, 1422);
    const up = await api.request('PUT', `/v2.0/networks/${vx.id}`, { network: { mtu: 1450 } });
    assert.equal(up.status, 400);
    assert.match(up.body.NeutronError.message, /maximum is 1430\.$/);
    const ok = await api.request('PUT', `/v2.0/networks/${vx.id}`, { network: { mtu: 1420 } });
    assert.equal(ok.body.network.mtu, 1420);
  });

  it('a jumbo underlay (global_physnet_mtu 9000) leaves VXLAN-over-IPv6 networks 8930', async () => {
    const api = await startApi('sqlite', { settings: { mtu: { globalPhysnetMtu: 9000, overlayIpVersion: 6 } } });
    apis.push(api);
    assert.equal((await api.request('POST', '/v2.0/networks', { network: { name: 'j' } })).body.network.mtu, 8930);
  });
});
