// The store's contract, shared by the embedded SQLite store and the PostgreSQL store.
//
// Resources are kept as JSON documents (exactly what the API shows) in one table per kind, with a few columns copied
// out of the document for filtering and for the constraints the database must enforce (a MAC once per network,
// an address once per subnet). IPAM keeps its own rows: allocations, a next-fit cursor per subnet and the addresses
// released behind that cursor, so one allocation costs a handful of index look-ups however full the subnet is.

export type Kind =
  | 'network'
  | 'subnet'
  | 'port'
  | 'router'
  | 'subnetpool'
  | 'address_scope'
  | 'security_group'
  | 'security_group_rule'
  | 'agent'
  | 'bgp_speaker'
  | 'bgp_peer'
  /** A BGP speaker scheduled to a BGP agent (bgp_speaker_dragent_bindings): id is the agent's, one speaker each. */
  | 'bgp_dragent_binding'
  | 'floatingip'
  /** Neutron's RBAC entries (networkrbacs, subnetpoolrbacs, ...): one table, the object's type a column. */
  | 'rbac_policy'
  /** A project's quota limits that differ from the server's defaults (id: the project id). */
  | 'quota'
  /** Address groups (the address-group extension; a security group rule's remote_address_group_id). */
  | 'address_group'
  /** NDP proxies (the l3-ndp-proxy extension): a port's IPv6 address a router publishes on its gateway. */
  | 'ndp_proxy'
  /** Metering labels and their rules (the metering extension). */
  | 'metering_label'
  | 'metering_label_rule'
  /** The traffic counts agents report per metering label, router and host (not on the change feed). */
  | 'metering_counter'
  /**
   * A network hosted by a DHCP agent (Neutron's networkdhcpagentbindings): id is `<network id>:<agent id>`, so the
   * pair is unique in the store itself.
   */
  | 'network_dhcp_agent_binding';

export type Doc = Record<string, unknown> & { id: string };

/** Equality filters on indexed columns: a row matches when its column equals any of the values. */
export type ColumnFilters = Partial<Record<string, readonly string[]>>;

export interface Allocation {
  subnet_id: string;
  ip_address: string;
  port_id: string;
  network_id: string;
}

/** An L2 segment: what a network is carried on, held by one network at most. */
export interface Segment {
  network_type: string;
  /** '' when the type has none (VXLAN, Geneve). */
  physical_network: string;
  /** The VNI or VLAN id; 0 for a flat network (one per physical network). */
  segmentation_id: number;
}

/** A free block of a subnet pool: the address key of its start (domain/subnetpool.ts addressKey) and its length. */
export interface PoolBlock {
  first_key: string;
  prefixlen: number;
}

export interface Change {
  seq: number;
  kind: Kind;
  id: string;
  op: 'create' | 'update' | 'delete';
}

/** Raised when a write breaks a uniqueness rule; `constraint` names which one. */
export class UniqueViolation extends Error {
  constructor(readonly constraint: 'id' | 'port_mac' | 'ip_allocation' | 'default_security_group' | string) {
    super(`unique constraint ${constraint} violated`);
  }
}

export interface Tx {
  get(kind: Kind, id: string): Promise<Doc | undefined>;
  list(kind: Kind, filters?: ColumnFilters): Promise<Doc[]>;
  /** The stored JSON text of each matching document, in insertion order: for listings that need no rework. */
  listRaw(kind: Kind, filters?: ColumnFilters): Promise<string[]>;
  /**
   * One page of a listing sorted by id: the stored JSON of at most `limit` matching documents whose id comes after
   * `after` (before it when `desc`), in id order (descending when `desc`). Index order, so the cost is the page's,
   * not the collection's.
   */
  listPage(kind: Kind, filters: ColumnFilters | undefined, page: { after?: string; desc: boolean; limit: number }): Promise<string[]>;
  /**
   * The stored JSON of every matching document, in insertion order, separated by commas, as UTF-8 pieces to send in
   * order (one piece when the database joined them itself, none when nothing matches): a plain listing is then a
   * copy, with no per-row strings in JavaScript.
   */
  listJoined(kind: Kind, filters?: ColumnFilters): Promise<Buffer[]>;
  count(kind: Kind, filters?: ColumnFilters): Promise<number>;
  /** `announce`: also append a 'create' for the document to the change feed (one statement on PostgreSQL). */
  insert(kind: Kind, doc: Doc, announce?: boolean): Promise<void>;
  update(kind: Kind, doc: Doc): Promise<void>;
  remove(kind: Kind, id: string): Promise<boolean>;

  /** The subnet's next-fit cursor (the last address handed out by the walk), locking the row against other writers. */
  ipamCursor(subnetId: string): Promise<string | null>;
  setIpamCursor(subnetId: string, cursor: string | null): Promise<void>;
  isAllocated(subnetId: string, ip: string): Promise<boolean>;
  /** Throws UniqueViolation('ip_allocation') when the address is taken. */
  allocate(a: Allocation): Promise<void>;
  /**
   * Takes the address if it is free: one statement where isAllocated + allocate would be two. `moveCursor`: when
   * taken, the subnet's next-fit cursor moves to it, in the same statement on PostgreSQL.
   */
  tryAllocate(a: Allocation, moveCursor?: boolean): Promise<boolean>;
  /** Frees one address; `behindCursor` keeps it on the subnet's released list for reuse. */
  release(subnetId: string, ip: string, behindCursor: boolean): Promise<void>;
  /** Takes (and removes) one released address of the subnet, if any. */
  takeReleased(subnetId: string): Promise<string | undefined>;
  allocationsOfSubnet(subnetId: string): Promise<Allocation[]>;
  countAllocations(subnetId: string): Promise<number>;
  /**
   * Locks a subnet pool against other allocators until the transaction ends (on PostgreSQL, its row; SQLite has one
   * writer), and says whether the pool's free-block list is built (see schema v7).
   */
  lockSubnetPool(poolId: string): Promise<{ blocksReady: boolean }>;
  setSubnetPoolBlocksReady(poolId: string, ready: boolean): Promise<void>;
  /** The smallest free block of the pool that holds a prefix of `prefixlen`, lowest address first. */
  poolBlockFitting(poolId: string, prefixlen: number): Promise<PoolBlock | undefined>;
  /** The free block of the pool starting at or before the address key. */
  poolBlockAtOrBefore(poolId: string, key: string): Promise<PoolBlock | undefined>;
  addPoolBlock(poolId: string, block: PoolBlock): Promise<void>;
  /** Removes the free block if the list has it (exactly that start and length); says whether it did. */
  takePoolBlock(poolId: string, block: PoolBlock): Promise<boolean>;
  clearPoolBlocks(poolId: string): Promise<void>;
  /** Whether a subnet of the pool overlaps the range of address keys [first, last]. */
  poolSubnetOverlaps(poolId: string, first: string, last: string): Promise<boolean>;
  /** The address-key ranges of the pool's subnets, for a rebuild of its free list. */
  poolSubnetRanges(poolId: string): Promise<{ first: string; last: string }[]>;
  /** How many subnets of the pool a project has, per prefix length (default_quota). */
  poolUsage(poolId: string, projectId: string): Promise<{ prefixlen: number; count: number }[]>;
  /** Forgets a subnet's IPAM state (cursor, released list); allocations must already be gone. */
  dropIpam(subnetId: string): Promise<void>;

  /**
   * The segmentation id the allocation walk last handed out for a network type on a physical network (null before
   * the first), locking that range against other allocators until the transaction ends.
   */
  segmentCursor(networkType: string, physicalNetwork: string): Promise<number | null>;
  /**
   * Takes the segment for the network if no network holds it. `moveCursor`: when taken, the walk's cursor for its
   * type and physical network moves to it (in the same statement on PostgreSQL).
   */
  tryReserveSegment(segment: Segment, networkId: string, moveCursor?: boolean): Promise<boolean>;
  releaseSegment(segment: Segment): Promise<void>;
  /** Segments held, of a network type on a physical network. */
  countSegments(networkType: string, physicalNetwork: string): Promise<number>;

  /** The project's "default" security group id, if it has been made. */
  defaultSecurityGroup(projectId: string): Promise<string | undefined>;
  /** Throws UniqueViolation('default_security_group') when another writer made it first. */
  setDefaultSecurityGroup(projectId: string, securityGroupId: string): Promise<void>;

  /**
   * Serializes quota checks of one project and resource until the transaction ends (PostgreSQL: an advisory lock, so
   * API servers sharing the database count one after the other; SQLite: nothing, its writes already run one by one).
   */
  lockQuota(projectId: string, resource: string): Promise<void>;

  /** Appends to the change feed; agents follow it by `seq`. */
  recordChange(kind: Kind, id: string, op: Change['op']): Promise<void>;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs fn in one transaction; resolves only after the transaction is durable. fn's error rolls back its writes. */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  changesSince(seq: number, limit: number): Promise<Change[]>;
  close(): Promise<void>;
}
