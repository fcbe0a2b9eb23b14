// The resource definitions (src/schema): docs/api.md is what they say, every attribute converts with Neutron's texts
// through one rule per type, and the derived types hold what the API stores.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NeutronError } from '../../../src/domain/errors.js';
import { renderApiTables, updateApiDoc } from '../../../src/schema/docs.js';
import { SCHEMAS, bool, checkBody, network, port, subnet, typeErrors, uuid, type Network } from '../../../src/schema/index.js';

function fails(fn: () => unknown, type: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NeutronError, String(e));
    assert.deepEqual({ type: e.type, message: e.message }, { type, message });
    return true;
  });
}

test('docs/api.md carries exactly the tables the definitions render (run `npm run docs:api` after changing them)', () => {
  const doc = readFileSync(new URL('../../../../docs/api.md', import.meta.url), 'utf8');
  assert.equal(updateApiDoc(doc, SCHEMAS), doc, 'docs/api.md is out of date with src/schema: run `npm run docs:api`');
  // Every resource and every attribute appears.
  const tables = renderApiTables(SCHEMAS);
  for (const s of SCHEMAS) for (const a of Object.keys(s.attributes)) assert.ok(tables.includes(`| \`${a}\` |`), `${s.plural}.${a}`);
});

test("one boolean converter, with oslo's strict forms, for every boolean attribute", () => {
  for (const [v, want] of [[true, true], ['yes', true], ['On', true], ['t', true], [1, true], ['0', false], ['no', false], ['F', false]] as const) {
    assert.equal(bool.convert(v, 'x'), want, String(v));
    // enable_dhcp and admin_state_up once disagreed on "yes"; both go through the same rule now.
    assert.equal(checkBody(subnet, { network_id: '4b9842ab-6002-43f6-a429-e3cf476cf723', ip_version: 4, enable_dhcp: v }, 'create').enable_dhcp, want);
    assert.equal(checkBody(network, { admin_state_up: v }, 'create').admin_state_up, want);
  }
  for (const v of ['maybe', 2, null, [], {}, '']) fails(() => bool.convert(v, 'x'), 'InvalidInput', `Invalid input for operation: '${v === null ? 'None' : Array.isArray(v) ? '[]' : typeof v === 'object' ? '{}' : v}' cannot be converted to boolean.`);
});

test('an id is a UUID string or the request is a 400: nested ids, objects and arrays are refused', () => {
  const id = '4b9842ab-6002-43f6-a429-e3cf476cf723';
  assert.equal(uuid.convert(id, 'network_id'), id);
  assert.equal(uuid.convert(id.replaceAll('-', '').toUpperCase(), 'network_id'), id.replaceAll('-', '').toUpperCase());
  fails(() => checkBody(subnet, { network_id: [id], ip_version: 4 }, 'create'), 'HTTPBadRequest', `Invalid input for network_id. Reason: '['${id}']' is not a valid UUID.`);
  fails(() => checkBody(subnet, { network_id: {}, ip_version: 4 }, 'create'), 'HTTPBadRequest', "Invalid input for network_id. Reason: '{}' is not a valid UUID.");
  fails(() => checkBody(port, { network_id: { id } }, 'create'), 'HTTPBadRequest', `Invalid input for network_id. Reason: '{'id': '${id}'}' is not a valid UUID.`);
  fails(() => checkBody(port, { network_id: id, security_groups: [[id]] }, 'create'), 'HTTPBadRequest', `Invalid input for security_groups. Reason: '['${id}']' is not a valid UUID.`);
});

test("Neutron's order: unknown attributes, then required / not allowed in the map's order, then conversion", () => {
  fails(() => checkBody(subnet, { bogus: 1, ip_version: 'x' }, 'create'), 'HTTPBadRequest', "Unrecognized attribute(s) 'bogus'");
  fails(() => checkBody(subnet, { ip_version: 'x' }, 'create'), 'HTTPBadRequest', "Failed to parse request. Required attribute 'network_id' not specified");
  fails(() => checkBody(network, { status: 'DOWN' }, 'create'), 'HTTPBadRequest', "Attribute 'status' not allowed in POST");
  fails(() => checkBody(subnet, { ip_version: 6 }, 'update'), 'HTTPBadRequest', 'Cannot update read-only attribute ip_version');
  // Two faulty attributes: the one earlier in the map wins, whatever the body's order.
  fails(() => checkBody(subnet, { enable_dhcp: 'x', cidr: 'y', ip_version: 6, network_id: '4b9842ab-6002-43f6-a429-e3cf476cf723' }, 'create'), 'InvalidInput', 'Invalid input for operation: y is not in a CIDR format.');
});

test('strings a store cannot hold are refused; lengths are checked', () => {
  fails(() => checkBody(network, { name: 'a\u0000b' }, 'create'), 'HTTPBadRequest', "Invalid input for name. Reason: 'a\u0000b' is not a valid string.");
  fails(() => checkBody(network, { name: 'a\ud800' }, 'create'), 'HTTPBadRequest', "Invalid input for name. Reason: 'a\ud800' is not a valid string.");
  fails(() => checkBody(network, { name: 'x'.repeat(256) }, 'create'), 'HTTPBadRequest', `Invalid input for name. Reason: '${'x'.repeat(256)}' exceeds maximum length of 255.`);
  assert.equal(checkBody(network, { name: 'ünïcødé ☃ 🐍' }, 'create').name, 'ünïcødé ☃ 🐍');
});

test('typeErrors names what a stored document gets wrong, and the derived type matches a good one', () => {
  const good: Network = {
    id: '4b9842ab-6002-43f6-a429-e3cf476cf723', name: 'n', subnets: [], admin_state_up: true, status: 'ACTIVE', tenant_id: 'p', project_id: 'p',
    shared: false, mtu: 1450, 'router:external': false, is_default: false, port_security_enabled: true, 'provider:network_type': 'vxlan',
    'provider:physical_network': null, 'provider:segmentation_id': 5, availability_zone_hints: [], availability_zones: [],
    ipv4_address_scope: null, ipv6_address_scope: null, l2_adjacency: true, description: '', tags: [],
    created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z', revision_number: 0,
  };
  assert.deepEqual(typeErrors(network, good), []);
  const bad = { ...good, subnets: [['x']], mtu: '1450', extra: 1 } as Record<string, unknown>;
  delete bad.status;
  assert.deepEqual(
    typeErrors(network, bad).map((e) => e.slice(0, e.indexOf(':'))),
    ['subnets', 'status', 'mtu', 'extra'],
  );
});
