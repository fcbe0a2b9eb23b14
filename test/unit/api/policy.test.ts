// The pure parts of src/api/policy.ts: personas (Keystone's implied roles), oslo.policy's rule text as Neutron's
// _build_match_rule composes it, what members may not read, and sharing by the documents' own flags.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasRole, policyNotAuthorized, redact, ruleText, sharedWith, type Caller } from '../../../src/api/policy.js';
import type { Tx } from '../../../src/store/types.js';

const admin: Caller = { projectId: 'p', roles: ['admin'], isAdmin: true };
const member: Caller = { projectId: 'p', roles: ['member'], isAdmin: false };
const reader: Caller = { projectId: 'p', roles: ['reader'], isAdmin: false };
const nobody: Caller = { projectId: 'p', roles: [], isAdmin: false };

describe('policy: personas', () => {
  it('follows Keystone’s implied roles: admin ⊃ member ⊃ reader', () => {
    assert.deepEqual([admin, member, reader, nobody].map((c) => [hasRole(c, 'admin'), hasRole(c, 'member'), hasRole(c, 'reader')]), [
      [true, true, true],
      [false, true, true],
      [false, false, true],
      [false, false, false],
    ]);
    // A token carrying the admin role without the admin flag still implies member (the flag is what Neutron checks).
    assert.equal(hasRole({ projectId: 'p', roles: ['admin'], isAdmin: false }, 'member'), true);
  });
});

describe('policy: rule text (neutron/policy.py _build_match_rule, oslo.policy AndCheck)', () => {
  it('is the bare rule when no policed attribute is set', () => {
    assert.equal(ruleText('update_network', 'network', { name: 'x' }, 'update'), 'rule:update_network');
    assert.equal(policyNotAuthorized('rule:update_network').message, 'rule:update_network is disallowed by policy');
    assert.equal(policyNotAuthorized('rule:update_network').status, 403);
    assert.equal(policyNotAuthorized('rule:update_network').type, 'PolicyNotAuthorized');
  });

  it('nests one AndCheck per attribute rule, in the attribute map order', () => {
    assert.equal(ruleText('create_network', 'network', { 'router:external': true, shared: true }, 'create'),
      '((rule:create_network and rule:create_network:shared) and rule:create_network:router:external)');
  });

  it('leaves out attributes a create sets to their default, not those an update names', () => {
    assert.equal(ruleText('create_network', 'network', { shared: false, port_security_enabled: true }, 'create'), 'rule:create_network');
    assert.equal(ruleText('update_network', 'network', { shared: false }, 'update'), '(rule:update_network and rule:update_network:shared)');
  });

  it('adds a dict attribute’s sub-attribute rules, and a list of dicts’ keys', () => {
    assert.equal(ruleText('update_router', 'router', { external_gateway_info: { network_id: 'n' } }, 'update'),
      '(rule:update_router and (rule:update_router:external_gateway_info and (rule:update_router:external_gateway_info:network_id)))');
    assert.equal(ruleText('create_port', 'port', { fixed_ips: [{ subnet_id: 's' }, { ip_address: '2001:db8::1' }] }, 'create'),
      '(rule:create_port and (rule:create_port:fixed_ips and (rule:create_port:fixed_ips:subnet_id and rule:create_port:fixed_ips:ip_address)))');
  });
});

describe('policy: what members may not read', () => {
  const network = { id: 'n', name: 'x', 'provider:network_type': 'vxlan', 'provider:physical_network': null, 'provider:segmentation_id': 7, shared: false };
  it('removes provider attributes from a network for members and readers, keeps them for admins', () => {
    assert.deepEqual(Object.keys(redact(member, 'network', network)), ['id', 'name', 'shared']);
    assert.deepEqual(Object.keys(redact(reader, 'network', network)), ['id', 'name', 'shared']);
    assert.equal(redact(admin, 'network', network), network);
    assert.ok('provider:network_type' in network, 'the stored document is left alone');
  });
  it('removes port bindings but the vnic type, and routers’ ha and distributed flags', () => {
    const port = { id: 'p', 'binding:host_id': 'h', 'binding:profile': {}, 'binding:vif_type': 'ovs', 'binding:vif_details': {}, 'binding:vnic_type': 'normal' };
    assert.deepEqual(Object.keys(redact(member, 'port', port)), ['id', 'binding:vnic_type']);
    assert.deepEqual(Object.keys(redact(member, 'router', { id: 'r', ha: true, distributed: false, name: 'r' })), ['id', 'name']);
    const group = { id: 'g', name: 'default' };
    assert.equal(redact(member, 'security_group', group), group);
  });
});

describe('policy: sharing by the documents’ flags', () => {
  // The wildcard entry is the document's own `shared` flag: deciding it needs no store read. Everything else (an
  // entry naming one project, who an external network is external for) is the rbac entries' business, tested
  // against the real store in test/api/rbac-visibility.test.ts.
  const noReads = new Proxy({}, { get: () => { throw new Error('sharing by flags reads nothing'); } }) as Tx;
  it('shares a network shared with everyone without reading its entries', async () => {
    assert.deepEqual(await sharedWith(noReads, 'network', { id: 'n', shared: true, 'router:external': false }, 'q'), { shared: true, external: false });
  });
  it('shares pools, scopes and groups shared with everyone without a read, and other kinds never', async () => {
    for (const kind of ['subnetpool', 'address_scope', 'security_group'] as const) {
      assert.equal((await sharedWith(noReads, kind, { id: 'x', shared: true }, 'q')).shared, true);
    }
    assert.deepEqual(await sharedWith(noReads, 'router', { id: 'r', shared: true }, 'q'), { shared: false, external: false });
  });
});
