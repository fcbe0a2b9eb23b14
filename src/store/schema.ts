// Schema and migrations, written once for both dialects. The only differences are the auto-increment key and
// the JSON column type; everything else is the common subset of SQLite and PostgreSQL.

import { cidrKeys } from '../domain/subnetpool.js';
import type { Kind } from './types.js';

export interface KindTable {
  table: string;
  /** Document attributes copied into columns: filterable in SQL, and available to constraints. */
  columns: readonly string[];
  /**
   * Columns with an index of their own (default: project_id, name and every column). Each index costs a page write
   * per insert, so the hot table (ports) indexes only what the server itself looks up; other filters scan.
   */
  indexed?: readonly string[];
  /**
   * Columns computed from the document (after the kind's own, before the body), added by a later migration than
   * the table: not filterable by the API, there for the server's own range queries.
   */
  derived?: readonly { name: string; of: (doc: Record<string, unknown>) => unknown }[];
}

export const KIND_TABLES: Record<Kind, KindTable> = {
  network: { table: 'networks', columns: [] },
  // cidr_first / cidr_last: sortable keys of the cidr's first and last addresses (family, fixed-width hex), so that
  // "does anything of this pool overlap that cidr" is two range look-ups on (subnetpool_id, cidr_first) (schema v7).
  subnet: {
    table: 'subnets',
    columns: ['network_id', 'subnetpool_id'],
    derived: [
      { name: 'cidr_first', of: (doc) => cidrKeys(doc.cidr)?.first ?? null },
      { name: 'cidr_last', of: (doc) => cidrKeys(doc.cidr)?.last ?? null },
      { name: 'cidr_len', of: (doc) => cidrKeys(doc.cidr)?.length ?? null },
    ],
  },
  // (network_id, mac_address) is indexed by the unique MAC rule below, which also serves network_id look-ups.
  port: { table: 'ports', columns: ['network_id', 'device_id', 'device_owner', 'mac_address'], indexed: ['device_id'] },
  router: { table: 'routers', columns: [] },
  subnetpool: { table: 'subnetpools', columns: ['address_scope_id'] },
  address_scope: { table: 'address_scopes', columns: [] },
  security_group: { table: 'security_groups', columns: [] },
  security_group_rule: { table: 'security_group_rules', columns: ['security_group_id'] },
  agent: { table: 'agents', columns: ['host'] },
  bgp_speaker: { table: 'bgp_speakers', columns: [] },
  bgp_peer: { table: 'bgp_peers', columns: [] },
  bgp_dragent_binding: { table: 'bgp_speaker_dragent_bindings', columns: ['bgp_speaker_id'] },
  // A port's floating IPs and a router's are looked up by the server (disassociation on port delete, the interface
  // and gateway checks); floating_network_id guards the external network's delete.
  floatingip: { table: 'floatingips', columns: ['floating_network_id', 'port_id', 'router_id'] },
  // Looked up by object (a network's entries, its `shared` wildcard) and by target (what a project was granted).
  rbac_policy: { table: 'rbac_policies', columns: ['object_type', 'object_id', 'action', 'target_tenant'], indexed: ['project_id', 'object_id', 'target_tenant'] },
  quota: { table: 'quotas', columns: [], indexed: [] },
  address_group: { table: 'address_groups', columns: [] },
  // A router's proxies are looked up by the server (interface and gateway removal), a port's on its delete.
  ndp_proxy: { table: 'ndp_proxies', columns: ['router_id', 'port_id', 'ip_address'], indexed: ['project_id', 'router_id', 'port_id'] },
  metering_label: { table: 'metering_labels', columns: [] },
  metering_label_rule: { table: 'metering_label_rules', columns: ['metering_label_id'], indexed: ['metering_label_id'] },
  metering_counter: { table: 'metering_counters', columns: ['metering_label_id', 'router_id'], indexed: ['metering_label_id'] },
  // Looked up by network (its agents, on every subnet change) and by agent (its networks, its load).
  network_dhcp_agent_binding: { table: 'network_dhcp_agent_bindings', columns: ['network_id', 'dhcp_agent_id'], indexed: ['network_id', 'dhcp_agent_id'] },
};

/** The store kinds migration v9 adds (address groups; an rbac-address-group would name `address_group`). */
export const ADDRESS_GROUP_KINDS: Kind[] = ['address_group'];

/** The store kinds the NDP proxy migration adds (l3-ndp-proxy). */
export const NDP_PROXY_KINDS: Kind[] = ['ndp_proxy'];
/** The store kinds the metering migration adds (labels, their rules, the counts agents report). */
export const METERING_KINDS: Kind[] = ['metering_label', 'metering_label_rule', 'metering_counter'];
/** The store kinds migration v10 adds (the network -> DHCP agent bindings). */
export const DHCP_BINDING_KINDS: Kind[] = ['network_dhcp_agent_binding'];

/** Columns every kind has, besides its own. */
export const COMMON_COLUMNS = ['id', 'project_id', 'name'] as const;

export type Dialect = 'sqlite' | 'postgres';

function kindDdl(dialect: Dialect, t: KindTable): string[] {
  const cols = t.columns.map((c) => `${c} TEXT`).join(', ');
  const ddl = [
    `CREATE TABLE ${t.table} (${seqColumn(dialect)}, id TEXT NOT NULL UNIQUE, project_id TEXT, name TEXT${cols ? ', ' + cols : ''}, body TEXT NOT NULL)`,
  ];
  for (const c of t.indexed ?? ['project_id', 'name', ...t.columns]) ddl.push(`CREATE INDEX ${t.table}_${c} ON ${t.table} (${c})`);
  return ddl;
}

/** Each migration is a list of statements; version N is migrations[N-1]. Append, never edit. */
/**
 * Insertion order. On SQLite a plain INTEGER PRIMARY KEY (the rowid) is already increasing, and AUTOINCREMENT would
 * add a write to sqlite_sequence on every insert; rows of the change feed are never deleted, so no number is reused.
 */
function seqColumn(dialect: Dialect): string {
  return dialect === 'sqlite' ? 'seq INTEGER PRIMARY KEY' : 'seq BIGSERIAL PRIMARY KEY';
}

export function migrations(dialect: Dialect): string[][] {
  const seq = seqColumn(dialect);
  const v1: string[] = [];
  for (const t of Object.values(KIND_TABLES)) v1.push(...kindDdl(dialect, t));
  v1.push(
    // A MAC address is unique per network (Neutron's MacAddressInUse is per network, not global).
    'CREATE UNIQUE INDEX ports_network_mac ON ports (network_id, mac_address)',
    // One address per subnet, whoever asks: the last line of defence against concurrent allocators.
    'CREATE TABLE ip_allocations (subnet_id TEXT NOT NULL, ip_address TEXT NOT NULL, port_id TEXT NOT NULL, network_id TEXT NOT NULL, PRIMARY KEY (subnet_id, ip_address))',
    // Next-fit cursor per subnet; the row is also the per-subnet lock on PostgreSQL (SELECT ... FOR UPDATE).
    'CREATE TABLE ipam_subnets (subnet_id TEXT PRIMARY KEY, cursor_ip TEXT)',
    // Addresses freed behind the cursor, reused before the walk resumes.
    'CREATE TABLE ipam_released (subnet_id TEXT NOT NULL, ip_address TEXT NOT NULL, PRIMARY KEY (subnet_id, ip_address))',
    // Neutron keeps one "default" security group per project.
    'CREATE TABLE default_security_groups (project_id TEXT PRIMARY KEY, security_group_id TEXT NOT NULL)',
    `CREATE TABLE changes (${seq}, kind TEXT NOT NULL, id TEXT NOT NULL, op TEXT NOT NULL)`,
  );
  // v2, PostgreSQL only: the change feed in commit order. Concurrent transactions take `seq` values in one order and
  // commit in another, so a reader that follows `seq` could step past a change whose transaction commits later.
  // Each change records its transaction id; a reader publishes (numbers, in `pub_seq`) only changes of transactions
  // older than every transaction still running that wrote to the feed (postgres.ts changesSince), and follows `pub_seq`. SQLite commits one batch at a time, so its
  // `seq` is already in commit order and v2 is empty there.
  const v2 =
    dialect === 'postgres'
      ? [
          'ALTER TABLE changes ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id(), ADD COLUMN pub_seq BIGINT',
          'CREATE UNIQUE INDEX changes_pub_seq ON changes (pub_seq)',
          'CREATE INDEX changes_unpublished ON changes (txid, seq) WHERE pub_seq IS NULL',
        ]
      : [];
  // v3: a subnet pool's next-fit cursor, valid while the pool is filled front to back with one prefix length (then
  // Neutron's smallest-free-block-first order is exactly "the next block"); the row is also the pool's lock.
  const v3 = ['CREATE TABLE subnetpool_cursors (pool_id TEXT PRIMARY KEY, prefixlen INTEGER, next_cidr TEXT)'];
  // v4: network segments (VXLAN VNIs, VLAN ids...) taken, one row each, so that picking a free one is a probe from a
  // next-fit cursor instead of a scan of every network. A cursor row with last_id NULL means the table has not been
  // filled from the networks created before v4 yet (done once, on first use, by the API).
  const v4 = [
    'CREATE TABLE network_segments (network_type TEXT NOT NULL, segmentation_id INTEGER NOT NULL, network_id TEXT NOT NULL, PRIMARY KEY (network_type, segmentation_id))',
    'CREATE TABLE segment_cursors (network_type TEXT PRIMARY KEY, last_id INTEGER)',
  ];
  // v5: segments keyed by physical network too (a VLAN id is per physical network; a flat network holds its
  // physical network: segmentation id 0), so that the primary key is Neutron's TunnelIdInUse / VlanIdInUse /
  // FlatNetworkInUse. Filled from the networks themselves (v4's table was filled lazily, per type); the cursor (last
  // id the walk handed out, per type and physical network; on PostgreSQL the row allocators of that range lock)
  // keeps v4's value for the tunnel types.
  const field = (name: string): string =>
    dialect === 'sqlite' ? `json_extract(body, '$."${name}"')` : `(body::jsonb ->> '${name}')`;
  const v5 = [
    'CREATE TABLE segment_allocations (network_type TEXT NOT NULL, physical_network TEXT NOT NULL, segmentation_id INTEGER NOT NULL, network_id TEXT NOT NULL, PRIMARY KEY (network_type, physical_network, segmentation_id))',
    `INSERT INTO segment_allocations (network_type, physical_network, segmentation_id, network_id)
     SELECT ${field('provider:network_type')}, COALESCE(${field('provider:physical_network')}, ''),
            COALESCE(CAST(${field('provider:segmentation_id')} AS INTEGER), 0), id
     FROM networks WHERE ${field('provider:network_type')} IN ('vxlan', 'geneve', 'vlan', 'flat')
     ORDER BY seq ON CONFLICT DO NOTHING`,
    'DROP TABLE network_segments',
    'ALTER TABLE segment_cursors RENAME TO segment_cursors_v4',
    'CREATE TABLE segment_cursors (network_type TEXT NOT NULL, physical_network TEXT NOT NULL, last_id INTEGER, PRIMARY KEY (network_type, physical_network))',
    `INSERT INTO segment_cursors (network_type, physical_network, last_id)
     SELECT network_type, '', last_id FROM segment_cursors_v4 WHERE last_id IS NOT NULL AND network_type IN ('vxlan', 'geneve')`,
    'DROP TABLE segment_cursors_v4',
  ];
  // v6: the kinds added with BGP dynamic routing and floating IPs. v1 creates every kind's table on a fresh store, so
  // these are IF NOT EXISTS: a store made before v6 gets them here, a fresh one already has them.
  const v6Kinds: Kind[] = ['bgp_speaker', 'bgp_peer', 'bgp_dragent_binding', 'floatingip'];
  const v6 = v6Kinds.flatMap((k) =>
    kindDdl(dialect, KIND_TABLES[k]).map((stmt) => stmt.replace(/^CREATE (TABLE|INDEX) /, 'CREATE $1 IF NOT EXISTS ')),
  );
  // v7: subnet pools flat at any size. Subnets get their cidr as sortable keys (KIND_TABLES.subnet.derived), indexed
  // with the pool, so that an overlap check is a range query; a pool's quota usage is an index-only count per prefix
  // length; and each pool keeps its free space as a buddy list (domain/subnetpool.ts, splitBlock), so that the next
  // block (Neutron's smallest free block first) and "is this cidr free" are one ordered look-up each. The keys of
  // the subnets already stored are filled in by the store after these statements (SUBNET_KEYS_BACKFILL: they are
  // computed in JavaScript); a pool's buddy list is built from its subnets on its first allocation after the
  // upgrade (blocks_ready NULL), and again whenever its prefixes change. v3's next-fit cursor is left unused.
  const v7 = [
    'ALTER TABLE subnets ADD COLUMN cidr_first TEXT',
    'ALTER TABLE subnets ADD COLUMN cidr_last TEXT',
    'ALTER TABLE subnets ADD COLUMN cidr_len INTEGER',
    'CREATE INDEX subnets_pool_cidr ON subnets (subnetpool_id, cidr_first)',
    'CREATE INDEX subnets_pool_usage ON subnets (subnetpool_id, project_id, cidr_len)',
    'ALTER TABLE subnetpool_cursors ADD COLUMN blocks_ready INTEGER',
    'CREATE TABLE subnetpool_free_blocks (pool_id TEXT NOT NULL, first_key TEXT NOT NULL, prefixlen INTEGER NOT NULL, PRIMARY KEY (pool_id, first_key))',
    'CREATE INDEX subnetpool_free_blocks_size ON subnetpool_free_blocks (pool_id, prefixlen, first_key)',
  ];
  // v8: RBAC policies and per-project quotas. Neutron's unique constraint (target_project, object_id, action) per
  // object type is the last guard against a DuplicateRbacPolicy race. Quota enforcement counts a project's ports on
  // every port create, so ports get a project_id index (its cost measured in docs/benchmarks.md).
  const v8Kinds: Kind[] = ['rbac_policy', 'quota'];
  const v8 = [
    ...v8Kinds.flatMap((k) =>
      kindDdl(dialect, KIND_TABLES[k]).map((stmt) => stmt.replace(/^CREATE (TABLE|INDEX) /, 'CREATE $1 IF NOT EXISTS ')),
    ),
    'CREATE UNIQUE INDEX IF NOT EXISTS rbac_policies_unique ON rbac_policies (object_type, object_id, action, target_tenant)',
    'CREATE INDEX IF NOT EXISTS ports_project_id ON ports (project_id)',
  ];
  // v9: address groups (the address-group extension), made IF NOT EXISTS as v6's kinds are.
  const v9 = ADDRESS_GROUP_KINDS.flatMap((k) =>
    kindDdl(dialect, KIND_TABLES[k]).map((stmt) => stmt.replace(/^CREATE (TABLE|INDEX) /, 'CREATE $1 IF NOT EXISTS ')),
  );
  // v10: NDP proxies (l3-ndp-proxy), made IF NOT EXISTS as v6's kinds are, with Neutron's unique constraint
  // uniq_ndp_proxy0router_id0ip_address (one proxy per router and address, whoever races); and every router stored
  // before gets enable_ndp_proxy false, as Neutron's routers without a router_ndp_proxy_state row show it.
  const v10 = [
    ...NDP_PROXY_KINDS.flatMap((k) =>
      kindDdl(dialect, KIND_TABLES[k]).map((stmt) => stmt.replace(/^CREATE (TABLE|INDEX) /, 'CREATE $1 IF NOT EXISTS ')),
    ),
    'CREATE UNIQUE INDEX IF NOT EXISTS ndp_proxies_router_ip ON ndp_proxies (router_id, ip_address)',
    dialect === 'sqlite'
      ? `UPDATE routers SET body = json_set(body, '$.enable_ndp_proxy', json('false')) WHERE json_extract(body, '$.enable_ndp_proxy') IS NULL`
      : `UPDATE routers SET body = (body::jsonb || '{"enable_ndp_proxy": false}'::jsonb)::text WHERE NOT jsonb_exists(body::jsonb, 'enable_ndp_proxy')`,
  ];
  // v11: metering (the metering extension): labels, their rules and the agents' counts, made IF NOT EXISTS as v6's are.
  const v11 = METERING_KINDS.flatMap((k) =>
    kindDdl(dialect, KIND_TABLES[k]).map((stmt) => stmt.replace(/^CREATE (TABLE|INDEX) /, 'CREATE $1 IF NOT EXISTS ')),
  );
  // v12: networks bound to DHCP agents (the dhcp_agent_scheduler extension), made IF NOT EXISTS as v6's kinds are.
  // A store upgrading from v11 has DHCP ports but no bindings: each network is bound to the agent that holds its
  // port when that host's DHCP agent first reports (api/dhcp-agent-scheduler.ts prefers it), so nothing moves.
  const v12 = DHCP_BINDING_KINDS.flatMap((k) =>
    kindDdl(dialect, KIND_TABLES[k]).map((stmt) => stmt.replace(/^CREATE (TABLE|INDEX) /, 'CREATE $1 IF NOT EXISTS ')),
  );
  return [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12];
}

/** The schema version from which subnets carry their cidr keys (v7): a store upgrading past it fills them in. */
export const SUBNET_KEYS_VERSION = 7;

/** Filling v7's cidr keys of the subnets stored before it (run by each store's migrate, in its transaction). */
export const SUBNET_KEYS_BACKFILL = {
  select: 'SELECT id, body FROM subnets',
  update: 'UPDATE subnets SET cidr_first = ?, cidr_last = ?, cidr_len = ? WHERE id = ?',
  params(row: { id: string; body: string }): unknown[] {
    const keys = cidrKeys((JSON.parse(row.body) as Record<string, unknown>).cidr);
    return [keys?.first ?? null, keys?.last ?? null, keys?.length ?? null, row.id];
  },
} as const;

/** The applied migration count (one row), read and written by both stores' migrate. */
export const SCHEMA_VERSION = {
  create: 'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)',
  get: 'SELECT version FROM schema_version',
  clear: 'DELETE FROM schema_version',
  set: 'INSERT INTO schema_version (version) VALUES (?)',
} as const;

export function tableOf(kind: Kind): KindTable {
  return KIND_TABLES[kind];
}
