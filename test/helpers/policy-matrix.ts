// The cross-project matrix, shared by its two runs: identities (admin, a member and a reader of project A, a member
// of project B) × resources (networks private / shared / external, a subnet, a port, a router, a security group,
// subnet pools shared / private, an address scope, a floating IP) × verbs (list, show, create, update, delete) → the
// status Neutron's default policy answers (neutron/conf/policies/*.py with the secure-RBAC personas; docs/policy.md).
//
// Who speaks comes from an IdentitySource: test/api/policy-matrix.test.ts uses the test authenticator's headers on
// both stores; test/integration/keystone-policy-matrix.test.ts uses real Keystone tokens. Each delete acts on a
// fresh copy of the resource, so cells stay independent.

import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Api } from './v6stack.js';
import { IDENTITIES, type IdentityName } from './identities.js';

export interface IdentitySource {
  /** Starts the API that authenticates these identities. */
  start(): Promise<Api>;
  /** The request headers that make a request come from `who`. */
  headersFor(who: IdentityName): Record<string, string>;
  /** The project id `who`'s requests act in. */
  projectOf(who: IdentityName): string;
}

const WHO = Object.keys(IDENTITIES) as IdentityName[];

type Verb = 'list' | 'show' | 'create' | 'update' | 'delete';
/** list: whether the resource appears in the caller's listing; the other verbs: the HTTP status. */
type Expect = { list: boolean; show: number; create: number; update: number; delete: number };

/** A's own resource (or one A can create): A's members do everything, its reader reads, B sees nothing. */
const OWN_A: Record<IdentityName, Expect> = {
  admin: { list: true, show: 200, create: 201, update: 200, delete: 204 },
  'member-A': { list: true, show: 200, create: 201, update: 200, delete: 204 },
  'reader-A': { list: true, show: 200, create: 403, update: 403, delete: 403 },
  'member-B': { list: false, show: 404, create: 201, update: 404, delete: 404 },
};
/** The admin's shared (or external) resource: everyone reads it, only the admin changes it or makes another. */
const SHARED: Record<IdentityName, Expect> = {
  admin: { list: true, show: 200, create: 201, update: 200, delete: 204 },
  'member-A': { list: true, show: 200, create: 403, update: 403, delete: 403 },
  'reader-A': { list: true, show: 200, create: 403, update: 403, delete: 403 },
  'member-B': { list: true, show: 200, create: 403, update: 403, delete: 403 },
};
/** Something living on A's private network: B may not even create it there (the network is 404 to B). */
const ON_A_NETWORK: Record<IdentityName, Expect> = { ...OWN_A, 'member-B': { ...OWN_A['member-B'], create: 404 } };

interface Row {
  name: string;
  path: string;
  singular: string;
  expect: Record<IdentityName, Expect>;
  /** Makes one instance as its usual owner; returns its id. */
  make(): Promise<string>;
  /** The create body the row's create cell sends (as the identity under test). */
  createBody(n: number): unknown;
  update: unknown;
}

/** Registers the matrix's tests in the enclosing describe. */
export function policyMatrix(source: IdentitySource): void {
    let api: Api;
    let n = 0;
    const as = async (who: IdentityName, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> =>
      api.request(method, path, body, source.headersFor(who));
    const made = async (who: IdentityName, path: string, singular: string, body: Record<string, unknown>): Promise<any> => {
      const r = await as(who, 'POST', `/v2.0/${path}`, { [singular]: body });
      assert.equal(r.status, 201, `${who} POST ${path}: ${JSON.stringify(r.body)}`);
      return r.body[singular];
    };
    let privateNet: any;
    let externalNet: any;
    const rows: Row[] = [];

    before(async () => {
      api = await source.start();
      privateNet = await made('member-A', 'networks', 'network', { name: 'a-private' });
      await made('member-A', 'subnets', 'subnet', { network_id: privateNet.id, ip_version: 6, cidr: '2001:db8:a::/64' });
      externalNet = await made('admin', 'networks', 'network', { name: 'public', 'router:external': true });
      await made('admin', 'subnets', 'subnet', { network_id: externalNet.id, ip_version: 4, cidr: '192.0.2.0/24' });
      const id = async (who: IdentityName, path: string, singular: string, body: () => Record<string, unknown>): Promise<string> => (await made(who, path, singular, body())).id;
      const sixtyFour = (): string => `2001:db8:${(0xb00 + ++n).toString(16)}::/64`;
      rows.push(
        {
          name: 'network (private, A)', path: 'networks', singular: 'network', expect: OWN_A,
          make: () => id('member-A', 'networks', 'network', () => ({ name: 'a-net' })),
          createBody: () => ({ name: 'made' }), update: { description: 'renamed' },
        },
        {
          name: 'network (shared)', path: 'networks', singular: 'network', expect: SHARED,
          make: () => id('admin', 'networks', 'network', () => ({ name: 'shared', shared: true })),
          createBody: () => ({ name: 'made', shared: true }), update: { description: 'renamed' },
        },
        {
          name: 'network (external)', path: 'networks', singular: 'network', expect: SHARED,
          make: () => id('admin', 'networks', 'network', () => ({ name: 'ext', 'router:external': true })),
          createBody: () => ({ name: 'made', 'router:external': true }), update: { description: 'renamed' },
        },
        {
          name: 'subnet (A)', path: 'subnets', singular: 'subnet', expect: ON_A_NETWORK,
          make: () => id('member-A', 'subnets', 'subnet', () => ({ network_id: privateNet.id, ip_version: 6, cidr: sixtyFour() })),
          createBody: () => ({ network_id: privateNet.id, ip_version: 6, cidr: sixtyFour() }), update: { description: 'renamed' },
        },
        {
          name: 'port (A)', path: 'ports', singular: 'port', expect: ON_A_NETWORK,
          make: () => id('member-A', 'ports', 'port', () => ({ network_id: privateNet.id })),
          createBody: () => ({ network_id: privateNet.id }), update: { description: 'renamed' },
        },
        {
          name: 'router (A)', path: 'routers', singular: 'router', expect: OWN_A,
          make: () => id('member-A', 'routers', 'router', () => ({ name: 'r' })),
          createBody: () => ({ name: 'made' }), update: { description: 'renamed' },
        },
        {
          name: 'security group (A)', path: 'security-groups', singular: 'security_group', expect: OWN_A,
          make: () => id('member-A', 'security-groups', 'security_group', () => ({ name: `sg${++n}` })),
          createBody: () => ({ name: `made${++n}` }), update: { description: 'renamed' },
        },
        {
          name: 'subnet pool (shared)', path: 'subnetpools', singular: 'subnetpool', expect: SHARED,
          make: () => id('admin', 'subnetpools', 'subnetpool', () => ({ name: 'sp', shared: true, prefixes: [`2001:db8:${(0xc00 + ++n).toString(16)}::/48`], default_prefixlen: 64 })),
          createBody: () => ({ name: 'made', shared: true, prefixes: [`2001:db8:${(0xc00 + ++n).toString(16)}::/48`] }), update: { description: 'renamed' },
        },
        {
          name: 'subnet pool (private, A)', path: 'subnetpools', singular: 'subnetpool', expect: OWN_A,
          make: () => id('member-A', 'subnetpools', 'subnetpool', () => ({ name: 'pp', prefixes: [`2001:db8:${(0xd00 + ++n).toString(16)}::/48`] })),
          createBody: () => ({ name: 'made', prefixes: [`2001:db8:${(0xd00 + ++n).toString(16)}::/48`] }), update: { description: 'renamed' },
        },
        {
          name: 'address scope (A)', path: 'address-scopes', singular: 'address_scope', expect: OWN_A,
          make: () => id('member-A', 'address-scopes', 'address_scope', () => ({ name: 'as', ip_version: 6 })),
          createBody: () => ({ name: 'made', ip_version: 6 }), update: { name: 'renamed' },
        },
        {
          name: 'floating IP (A)', path: 'floatingips', singular: 'floatingip', expect: OWN_A,
          make: () => id('member-A', 'floatingips', 'floatingip', () => ({ floating_network_id: externalNet.id })),
          createBody: () => ({ floating_network_id: externalNet.id }), update: { description: 'renamed' },
        },
      );
    });
    after(() => api?.close());

    it('answers every identity × resource × verb as Neutron does', async () => {
      const wrong: string[] = [];
      const check = (row: Row, who: IdentityName, verb: Verb, got: number | boolean, body: unknown): void => {
        const want = row.expect[who][verb];
        if (got !== want) wrong.push(`${row.name} ${who} ${verb}: want ${want}, got ${got} ${JSON.stringify(body)}`);
      };
      for (const row of rows) {
        const subject = await row.make();
        for (const who of WHO) {
          const listed = await as(who, 'GET', `/v2.0/${row.path}`);
          assert.equal(listed.status, 200);
          const plural = Object.keys(listed.body)[0]!;
          check(row, who, 'list', (listed.body[plural] as any[]).some((d) => d.id === subject), '');
          const shown = await as(who, 'GET', `/v2.0/${row.path}/${subject}`);
          check(row, who, 'show', shown.status, shown.body);
          const updated = await as(who, 'PUT', `/v2.0/${row.path}/${subject}`, { [row.singular]: row.update });
          check(row, who, 'update', updated.status, updated.body);
          const created = await as(who, 'POST', `/v2.0/${row.path}`, { [row.singular]: row.createBody(++n) });
          check(row, who, 'create', created.status, created.body);
          const victim = await row.make();
          const deleted = await as(who, 'DELETE', `/v2.0/${row.path}/${victim}`);
          check(row, who, 'delete', deleted.status, deleted.body);
          // Every refusal is in Neutron's fault shape, with its type.
          for (const r of [shown, updated, created, deleted]) {
            if (r.status === 403) assert.equal(r.body.NeutronError.type, 'PolicyNotAuthorized', JSON.stringify(r.body));
            if (r.status === 404) assert.match(r.body.NeutronError.type, /NotFound$/, JSON.stringify(r.body));
          }
        }
      }
      assert.deepEqual(wrong, []);
    });

    it("gives another project nothing when it filters by A's project_id", async () => {
      for (const path of ['networks', 'subnets', 'ports', 'routers', 'security-groups', 'subnetpools', 'address-scopes', 'floatingips']) {
        const r = await as('member-B', 'GET', `/v2.0/${path}?project_id=${source.projectOf('member-A')}`);
        assert.equal(r.status, 200);
        const items = r.body[Object.keys(r.body)[0]!] as any[];
        assert.deepEqual(items, [], `${path}: ${JSON.stringify(items)}`);
        const a = await as('member-A', 'GET', `/v2.0/${path}?tenant_id=${source.projectOf('member-A')}`);
        assert.ok((a.body[Object.keys(a.body)[0]!] as any[]).length > 0, `${path}: A sees its own`);
      }
    });
}
