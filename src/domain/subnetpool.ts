// Subnet pools: the attribute rules of POST/PUT /v2.0/subnetpools (neutron-lib subnetpool definition,
// neutron/ipam/subnet_alloc.py SubnetPoolReader/SubnetPoolHelper) and Neutron's prefix allocator
// (SubnetAllocator._allocate_any_subnet / _allocate_specific_subnet). Address space is handled as sorted, merged
// inclusive intervals over BigInt, never by enumerating prefixes, so a /8 IPv6 pool costs what a /48 does.

import { IpAddress, IpPrefix, bitsOf, type IpVersion } from './ip.js';
import { NeutronError, badAttribute, badRequest, httpBadRequest, invalidInput } from './errors.js';
import { parseCidrLoose } from './netaddr.js';
import { pyBool, pyInt, pyStr } from './py.js';
import { isUuid } from './uuid.js';

// ---------------------------------------------------------------------------------------------------------------
// Intervals.

/** An inclusive range of address values of one family. */
export type Span = [lo: bigint, hi: bigint];

const spanOf = (p: IpPrefix): Span => [p.first.value, p.last.value];

/** Sorts and merges overlapping or adjacent spans (netaddr IPSet.compact). */
function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Span[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1n) {
      if (hi > last[1]) last[1] = hi;
    } else out.push([lo, hi]);
  }
  return out;
}

/** a minus b, both merged and sorted; linear in their lengths. */
function subtractSpans(a: Span[], b: Span[]): Span[] {
  const out: Span[] = [];
  let j = 0;
  for (const [lo0, hi] of a) {
    let lo = lo0;
    while (j < b.length && b[j]![1] < lo) j++;
    let k = j;
    while (k < b.length && b[k]![0] <= hi && lo <= hi) {
      const [blo, bhi] = b[k]!;
      if (blo > lo) out.push([lo, blo - 1n]);
      lo = bhi + 1n;
      k++;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

function trailingZeros(v: bigint, bits: number): number {
  return v === 0n ? bits : log2Floor(v & -v);
}

function log2Floor(v: bigint): number {
  return v.toString(2).length - 1;
}

/**
 * The canonical CIDR decomposition of a span (netaddr iprange_to_cidrs): greedy largest aligned blocks, in address
 * order. At most 2 x bits blocks, whatever the span's size.
 */
function* spanToPrefixes(span: Span, version: IpVersion): Generator<{ start: bigint; length: number }> {
  const bits = bitsOf(version);
  let [lo] = span;
  const hi = span[1];
  while (lo <= hi) {
    const sizeLog = Math.min(trailingZeros(lo, bits), log2Floor(hi - lo + 1n));
    yield { start: lo, length: bits - sizeLog };
    lo += 1n << BigInt(sizeLog);
  }
}

function spansToCidrs(spans: Span[], version: IpVersion): string[] {
  const out: string[] = [];
  for (const s of spans) {
    for (const p of spanToPrefixes(s, version)) out.push(`${IpAddress.of(version, p.start)}/${p.length}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// POST/PUT body.

export interface SubnetPoolFields {
  /** Compacted (overlaps and neighbours merged), canonical, in address order. */
  prefixes: string[];
  ip_version: IpVersion;
  /** Strings on the wire, as Neutron Zed returns them ("64"). */
  default_prefixlen: string;
  min_prefixlen: string;
  max_prefixlen: string;
  default_quota: number | null;
  is_default: boolean;
  shared: boolean;
  address_scope_id: string | null;
}

/** SubnetPoolHelper: default min_prefixlen 8 (IPv4) / 64 (IPv6); max = address bits; default = min. */
export const DEFAULT_MIN_PREFIXLEN: Record<IpVersion, number> = { 4: 8, 6: 64 };

/** validators.validate_subnet for one prefix: null when valid, else the reason. */
export function validatePrefixText(data: unknown): string | null {
  const invalid = `'${pyStr(data)}' is not a valid IP subnet`;
  if (typeof data !== 'string' || /\s/.test(data)) return invalid;
  const net = parseCidrLoose(data);
  if (!net) return invalid;
  const slash = data.indexOf('/');
  // str(IPNetwork) keeps host bits but prints IPv4 canonically, so only odd IPv4 spellings differ from the input.
  const printed = slash === -1 ? null : `${parseCidrLoose(`${data.slice(0, slash)}/${net.network.bits}`)!.network}/${net.length}`;
  if (slash === -1 || (net.version === 4 && printed !== data)) {
    return `'${data}' isn't a recognized IP subnet cidr, '${net}' is recommended`;
  }
  return null;
}

function prefixlenAttr(body: Record<string, unknown>, attr: string): number | undefined {
  if (body[attr] === undefined) return undefined;
  const n = pyInt(body[attr]);
  if (n === null) throw invalidInput(`'${pyStr(body[attr])}' is not an integer`);
  if (n < 0) throw badAttribute(attr, `'${n}' should be non-negative`);
  return n;
}

const bounds = (type: string, len: number, baseType: string, baseLen: number) =>
  new NeutronError(400, 'IllegalSubnetPoolPrefixBounds', `Illegal prefix bounds: ${type}=${len}, ${baseType}=${baseLen}.`);

/**
 * The stored fields of a subnet pool, or Neutron's error. Attributes are checked in the attribute map's order
 * (prefixes, default_quota, default_prefixlen, min_prefixlen, max_prefixlen, is_default, shared,
 * address_scope_id), then SubnetPoolReader's rules, then the one-default-per-family rule. Whether the address
 * scope exists and has the pool's family needs the store and is the caller's.
 */
export function buildSubnetPool(
  body: Record<string, unknown>,
  ctx: { existingDefault?: { id: string } | null },
): SubnetPoolFields {
  if (body.prefixes === undefined) throw httpBadRequest("Failed to parse request. Required attribute 'prefixes' not specified");
  const prefixes = body.prefixes;
  if (!Array.isArray(prefixes)) throw badAttribute('prefixes', `'${pyStr(prefixes)}' is not a list`);
  const dups = prefixes.filter((p, i) => prefixes.indexOf(p) !== i);
  if (dups.length) throw badAttribute('prefixes', `Duplicate items in the list: '${[...new Set(dups)].map(pyStr).join(', ')}'`);
  for (const p of prefixes) {
    const msg = validatePrefixText(p);
    if (msg) throw badAttribute('prefixes', msg);
  }
  let quota: number | null = null;
  if (body.default_quota !== undefined && body.default_quota !== null) {
    quota = pyInt(body.default_quota);
    if (quota === null) throw invalidInput(`'${pyStr(body.default_quota)}' is not an integer`);
    if (quota < 0) throw badAttribute('default_quota', `'${quota}' should be non-negative`);
  }
  const defaultLen = prefixlenAttr(body, 'default_prefixlen');
  const minLen = prefixlenAttr(body, 'min_prefixlen');
  const maxLen = prefixlenAttr(body, 'max_prefixlen');
  const flag = (attr: string, fallback: boolean): boolean => {
    if (body[attr] === undefined) return fallback;
    const b = pyBool(body[attr]);
    if (b === null) throw invalidInput(`'${pyStr(body[attr])}' cannot be converted to boolean`);
    return b;
  };
  const isDefault = flag('is_default', false);
  const shared = flag('shared', false);
  const scope = body.address_scope_id ?? null;
  if (scope !== null && !isUuid(scope)) {
    throw badAttribute('address_scope_id', `'${pyStr(scope)}' is not a valid UUID`);
  }

  // SubnetPoolReader._read_prefix_info
  if (prefixes.length === 0) throw new NeutronError(400, 'EmptySubnetPoolPrefixList', 'Empty subnet pool prefix list.');
  const nets = prefixes.map((p) => parseCidrLoose(p)!);
  const version = nets[0]!.version;
  if (nets.some((n) => n.version !== version)) {
    throw new NeutronError(400, 'PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
  }
  // SubnetPoolReader._read_prefix_bounds and SubnetPoolHelper.validate_*: min vs max, max vs family, default.
  const bits = bitsOf(version);
  const min = minLen ?? DEFAULT_MIN_PREFIXLEN[version];
  const max = maxLen ?? bits;
  const def = defaultLen ?? min;
  if (min > max) throw bounds('min_prefixlen', min, 'max_prefixlen', max);
  if (max > bits) throw bounds('max_prefixlen', max, 'ip_version_max', bits);
  if (def < min) throw bounds('default_prefixlen', def, 'min_prefixlen', min);
  if (def > max) throw bounds('default_prefixlen', def, 'max_prefixlen', max);
  if (isDefault && ctx.existingDefault) {
    throw invalidInput('A default subnetpool for this IP family has already been set. Only one default may exist per IP family');
  }
  return {
    prefixes: spansToCidrs(mergeSpans(nets.map(spanOf)), version),
    ip_version: version,
    default_prefixlen: String(def),
    min_prefixlen: String(min),
    max_prefixlen: String(max),
    default_quota: quota,
    is_default: isDefault,
    shared,
    address_scope_id: scope as string | null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Allocation.

export interface PoolForAllocation {
  prefixes: string[];
  min_prefixlen: number | string;
  max_prefixlen: number | string;
  default_prefixlen: number | string;
}

export interface PoolRequest {
  /** A specific prefix: must lie inside the pool and be free. */
  cidr?: string;
  /** The size wanted for any free prefix; the pool's default_prefixlen when omitted. */
  prefixlen?: number;
  /** Neutron turns a gateway without cidr into the specific request gateway/prefixlen. */
  gateway_ip?: string;
  /** The subnet's ip_version, to refuse a pool of the other family. */
  ip_version?: number;
}

// Neutron Zed answers 500 here; a pool without room is the caller's problem, not the server's, so 409 Conflict.
const allocationError = (reason: string) =>
  new NeutronError(409, 'SubnetAllocationError', `Failed to allocate subnet: ${reason}.`);

// Parsed cidrs by text. The same allocated list is handed in again on every allocation from a pool, so parsing it
// each time would dominate; values are immutable, and the cache is dropped whole when it grows large.
const spanCache = new Map<string, { version: IpVersion; span: Span } | null>();
const SPAN_CACHE_MAX = 1_000_000;

function cidrSpan(text: string): { version: IpVersion; span: Span } | null {
  let hit = spanCache.get(text);
  if (hit === undefined) {
    const p = IpPrefix.parse(text);
    hit = p ? { version: p.version, span: spanOf(p) } : null;
    if (spanCache.size >= SPAN_CACHE_MAX) spanCache.clear();
    spanCache.set(text, hit);
  }
  return hit;
}

function spansOf(list: string[], version: IpVersion): Span[] {
  const out: Span[] = [];
  for (const text of list) {
    const hit = cidrSpan(text);
    if (hit && hit.version === version) out.push([hit.span[0], hit.span[1]]);
  }
  return out;
}

/** The pool's free space: its prefixes minus the allocated cidrs, merged and sorted. O((P + A) log(P + A)). */
export function freeSpans(prefixes: string[], allocated: string[], version: IpVersion): Span[] {
  return subtractSpans(mergeSpans(spansOf(prefixes, version)), mergeSpans(spansOf(allocated, version)));
}

/**
 * Neutron's subnet pool allocator. Prefix length limits first (max, then min); then a specific cidr must sit
 * inside the free space; otherwise the free space's canonical CIDR blocks are sorted by prefix length, longest
 * (smallest block) first, lowest address first among equals, and the first block that can hold the request gives
 * its first sub-prefix. Returns the allocated cidr. Quotas (default_quota) need per-project usage and are the
 * caller's. SubnetAllocationError is a 500 in Neutron Zed; here it is a 409 (never a 500 for a user's request).
 */
export function allocateFromPool(pool: PoolForAllocation, allocated: string[], request: PoolRequest): string {
  const ask = poolAsk(pool, request);
  const { version, prefixlen } = ask;
  const specific = ask.specific && !ask.foreign ? IpPrefix.of(IpAddress.of(version, ask.specific.start), ask.specific.length) : null;
  if (ask.foreign) throw cannotAllocateRequested();
  const free = freeSpans(pool.prefixes, allocated, version);
  if (specific) {
    const [lo, hi] = spanOf(specific);
    // Inside one free span <=> inside one block of its canonical decomposition (all_matching_cidrs in Neutron).
    if (free.some(([a, b]) => a <= lo && hi <= b)) return specific.toString();
    throw cannotAllocateRequested();
  }
  let best: { start: bigint; length: number } | null = null;
  for (const span of free) {
    for (const block of spanToPrefixes(span, version)) {
      if (block.length > prefixlen) continue;
      if (!best || block.length > best.length || (block.length === best.length && block.start < best.start)) best = block;
    }
  }
  if (!best) throw insufficientSpace(prefixlen);
  return `${IpAddress.of(version, best.start)}/${prefixlen}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The pool's free space as a buddy list, so that an allocation costs a few index look-ups however many subnets the
// pool holds. The canonical CIDR decomposition of a set of addresses (netaddr's IPSet.iter_cidrs, which Neutron's
// allocator sorts) is exactly its maximal aligned blocks: aligned blocks either nest or are disjoint, and the greedy
// decomposition of a span never takes a block whose parent lies inside the span. So the free space is kept as those
// blocks: an allocation splits the block it comes from into the allocation and the buddies along the way down; a
// release merges the freed block with its buddy while the buddy is free, upwards. Neutron's choice (the smallest
// free block that holds the request, the lowest address among equals; its first sub-prefix) is then one ordered
// look-up, and "is this cidr free?" is the one free block at or before its first address.

/** An aligned block of one family: `start` has no bits set past `length`. */
export interface Block {
  version: IpVersion;
  start: bigint;
  length: number;
}

const HEX_DIGITS: Record<IpVersion, number> = { 4: 8, 6: 32 };

/**
 * A sortable key of an address: the family, then the address in fixed-width hex, so that text order is address
 * order within a family (the store indexes subnets and free blocks by it; an overlap check is then a range query).
 */
export function addressKey(version: IpVersion, value: bigint): string {
  return `${version}${value.toString(16).padStart(HEX_DIGITS[version], '0')}`;
}

export function keyAddress(key: string): { version: IpVersion; value: bigint } {
  const version = Number(key[0]) as IpVersion;
  return { version, value: BigInt(`0x${key.slice(1)}`) };
}

/** The keys of a cidr's first and last addresses, and its length; null when it is not a cidr. */
export function cidrKeys(cidr: unknown): { first: string; last: string; length: number } | null {
  const hit = typeof cidr === 'string' ? cidrSpan(cidr) : null;
  if (!hit) return null;
  const slash = (cidr as string).lastIndexOf('/');
  const bits = bitsOf(hit.version);
  const length = slash === -1 ? bits : Number((cidr as string).slice(slash + 1));
  return { first: addressKey(hit.version, hit.span[0]), last: addressKey(hit.version, hit.span[1]), length };
}

const blockSize = (b: Block): bigint => 1n << BigInt(bitsOf(b.version) - b.length);
export const blockLast = (b: Block): bigint => b.start + blockSize(b) - 1n;
export const blockCidr = (b: Block): string => `${IpAddress.of(b.version, b.start)}/${b.length}`;
export const blockOfPrefix = (p: IpPrefix): Block => ({ version: p.version, start: p.first.value, length: p.length });
export const blockCovers = (outer: Block, inner: Block): boolean =>
  outer.version === inner.version && outer.length <= inner.length && outer.start <= inner.start && blockLast(inner) <= blockLast(outer);

/** The other half of the block's parent; null for the whole address space. */
export function buddyOf(b: Block): Block | null {
  if (b.length === 0) return null;
  return { version: b.version, start: b.start ^ blockSize(b), length: b.length };
}

export function parentOf(b: Block): Block {
  const size = blockSize(b) * 2n;
  return { version: b.version, start: b.start - (b.start % size), length: b.length - 1 };
}

/**
 * Taking `want` out of the free block `from` (which covers it): the buddies of `want`'s ancestors below `from`,
 * longest first. They are free, and maximal: each one's parent holds `want`.
 */
export function splitBlock(from: Block, want: Block): Block[] {
  const out: Block[] = [];
  for (let b = want; b.length > from.length; b = parentOf(b)) out.push(buddyOf(b)!);
  return out;
}

/** The pool's free space as its maximal aligned blocks, in address order: for a (re)build of the buddy list. */
export function freeBlocks(prefixes: readonly string[], allocated: readonly Span[], version: IpVersion): Block[] {
  const free = subtractSpans(mergeSpans(spansOf(prefixes as string[], version)), mergeSpans(allocated.map(([lo, hi]) => [lo, hi] as Span)));
  const out: Block[] = [];
  for (const span of free) for (const p of spanToPrefixes(span, version)) out.push({ version, start: p.start, length: p.length });
  return out;
}

/** What a request asks of a pool, after Neutron's checks in its order (allocateFromPool's, without the choice). */
export interface PoolAsk {
  version: IpVersion;
  prefixlen: number;
  /** A specific block (an explicit cidr, or the gateway's), else null: any block of `prefixlen`. */
  specific: Block | null;
  /** The specific request is of the other family: it cannot be in the pool. */
  foreign: boolean;
}

export function poolAsk(pool: PoolForAllocation, request: PoolRequest): PoolAsk {
  const nets = pool.prefixes.map((p) => IpPrefix.parse(p)).filter((p): p is IpPrefix => p !== null);
  if (nets.length === 0) throw allocationError('Insufficient prefix space to allocate subnet size /0');
  const version = nets[0]!.version;
  const bits = bitsOf(version);
  if (request.ip_version !== undefined && Number(request.ip_version) !== version) {
    throw badRequest('subnets', `Cannot allocate IPv${request.ip_version} subnet from IPv${version} subnet pool`);
  }
  const maxLen = Number(pool.max_prefixlen);
  const minLen = Number(pool.min_prefixlen);
  const defaultLen = Number(pool.default_prefixlen);

  let specific: IpPrefix | null = null;
  if (request.cidr !== undefined) {
    specific = parseCidrLoose(request.cidr);
    if (!specific) throw invalidInput(`${pyStr(request.cidr)} is not in a CIDR format`);
  } else if (request.gateway_ip !== undefined) {
    const gw = IpAddress.parse(request.gateway_ip);
    const len = request.prefixlen ?? defaultLen;
    if (gw && len <= gw.bits) specific = IpPrefix.of(gw, len);
  }
  const prefixlen = specific ? specific.length : (request.prefixlen ?? defaultLen);
  if (!specific && (prefixlen > bits || prefixlen < 0)) {
    // AnySubnetRequest builds netaddr.IPNetwork('::/130') before any other check.
    throw new NeutronError(400, 'AddrFormatError', `invalid IPNetwork ${version === 6 ? '::' : '0.0.0.0'}/${prefixlen}`);
  }
  if (prefixlen > maxLen) {
    throw new NeutronError(
      400,
      'MaxPrefixSubnetAllocationError',
      `Unable to allocate subnet with prefix length ${prefixlen}, maximum allowed prefix is ${maxLen}.`,
    );
  }
  if (prefixlen < minLen) {
    throw new NeutronError(
      400,
      'MinPrefixSubnetAllocationError',
      `Unable to allocate subnet with prefix length ${prefixlen}, minimum allowed prefix is ${minLen}.`,
    );
  }
  return {
    version,
    prefixlen,
    specific: specific ? blockOfPrefix(specific) : null,
    foreign: specific !== null && specific.version !== version,
  };
}

export const cannotAllocateRequested = (): NeutronError => allocationError('Cannot allocate requested subnet from the available set of prefixes');
export const insufficientSpace = (prefixlen: number): NeutronError => allocationError(`Insufficient prefix space to allocate subnet size /${prefixlen}`);

// ---------------------------------------------------------------------------------------------------------------
// Prefix list operations (db_base_plugin_v2 update_subnetpool, add_prefixes, remove_prefixes).

/** Whether two prefix lists (of any families) share an address (netaddr IPSet intersection). */
export function prefixesOverlap(a: readonly string[], b: readonly string[]): boolean {
  for (const version of [4, 6] as const) {
    const sa = mergeSpans(spansOf(a as string[], version));
    const sb = mergeSpans(spansOf(b as string[], version));
    let i = 0;
    let j = 0;
    while (i < sa.length && j < sb.length) {
      const [alo, ahi] = sa[i]!;
      const [blo, bhi] = sb[j]!;
      if (alo <= bhi && blo <= ahi) return true;
      if (ahi < bhi) i++;
      else j++;
    }
  }
  return false;
}

/** Whether every address of `inner` is in `outer` (netaddr IPSet.issubset). */
export function prefixesCover(outer: readonly string[], inner: readonly string[]): boolean {
  for (const version of [4, 6] as const) {
    if (subtractSpans(mergeSpans(spansOf(inner as string[], version)), mergeSpans(spansOf(outer as string[], version))).length) return false;
  }
  return true;
}

/** _update_subnetpool_dict: a PUT's prefixes must keep every address the pool had. */
export function checkPrefixesGrow(before: readonly string[], after: readonly string[]): void {
  if (!prefixesCover(after, before)) {
    throw new NeutronError(400, 'IllegalSubnetPoolPrefixUpdate', 'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.');
  }
}

/**
 * subnetpool_prefix_ops.get_operation_request_body: the body of add_prefixes / remove_prefixes is
 * {"prefixes": [...]}, a non-empty list (webob's HTTPBadRequest otherwise); each entry is then a subnet as the
 * attribute map's validate_subnet_list wants it (Neutron would fail inside netaddr with a 500; a 400 names it).
 */
export function prefixOperationBody(body: unknown): string[] {
  const prefixes = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).prefixes : undefined;
  if (!Array.isArray(prefixes) || prefixes.length === 0) throw httpBadRequest('Request body contains invalid data');
  for (const p of prefixes) {
    const msg = validatePrefixText(p);
    if (msg) throw badAttribute('prefixes', msg);
  }
  return prefixes as string[];
}

/**
 * remove_prefixes: the pool's prefixes minus `remove`, compacted; refused while a subnet allocated from the pool
 * uses any of the removed addresses. A removal that touches none of the pool's prefixes changes nothing.
 * Removing every prefix leaves an empty list, as Neutron does (the pool then allocates nothing).
 */
export function removePoolPrefixes(prefixes: readonly string[], remove: readonly string[], allocated: readonly string[], version: IpVersion): string[] {
  if (!prefixesOverlap(prefixes, remove)) return [...prefixes];
  if (prefixesOverlap(allocated, remove)) {
    throw new NeutronError(
      400,
      'IllegalSubnetPoolPrefixUpdate',
      // Neutron's text ends in ".." (the message's own dot, then the exception's).
      'Illegal update to prefixes: One or more the prefixes to be removed is in use by a subnet..',
    );
  }
  return spansToCidrs(subtractSpans(mergeSpans(spansOf(prefixes as string[], version)), mergeSpans(spansOf(remove as string[], version))), version);
}

// ---------------------------------------------------------------------------------------------------------------
// Address scopes (db_base_plugin_v2._validate_address_scope_id, address_scope_db).

export interface ScopedPool {
  id: string;
  prefixes: readonly string[];
}

/** No two pools of one address scope may share an address: 409 AddressScopePrefixConflict. */
export function checkScopePrefixes(poolId: string, prefixes: readonly string[], poolsInScope: readonly ScopedPool[]): void {
  for (const other of poolsInScope) {
    if (other.id === poolId) continue;
    if (prefixesOverlap(prefixes, other.prefixes)) {
      throw new NeutronError(
        409,
        'AddressScopePrefixConflict',
        'Failed to associate address scope: subnetpools within an address scope must have unique prefixes.',
      );
    }
  }
}

export const addressScopeAffinityError = (): NeutronError =>
  new NeutronError(
    400,
    'NetworkAddressScopeAffinityError',
    'Subnets of the same address family hosted on the same network must all participate in the same address scope.',
  );

export const subnetPoolAffinityError = (): NeutronError =>
  new NeutronError(400, 'NetworkSubnetPoolAffinityError', 'Subnets hosted on the same network must be allocated from the same subnet pool.');

/**
 * _check_subnetpool_address_scope_network_affinity: a pool's scope may only be set (or kept, when its prefixes
 * change) if, on every network holding one of its subnets, every subnet of the pool's family comes from this pool;
 * otherwise re-scoping would split a network's family across scopes. `networkSubnets`: the subnets of the pool's
 * family on those networks.
 */
export function checkRescopeAffinity(poolSubnetIds: ReadonlySet<string>, networkSubnets: readonly { id: string }[]): void {
  if (networkSubnets.some((s) => !poolSubnetIds.has(s.id))) throw addressScopeAffinityError();
}

/**
 * ipam_backend_mixin._validate_network_subnetpools for a new subnet of `ipVersion`: `pool` is the pool it comes
 * from (its id and scope), 'prefix_delegation', or null for an explicit cidr; `networkScopeId` is the scope the
 * network's subnets of that family already participate in. In a scope a network may mix pools of that scope;
 * without one, every subnet of the family comes from one pool (or none).
 */
export function checkNetworkPoolAffinity(
  ipVersion: number,
  pool: { id: string; address_scope_id: string | null } | 'prefix_delegation' | null,
  networkScopeId: string | null,
  siblings: readonly { ip_version: number | string; subnetpool_id?: string | null }[],
): void {
  const pd = pool === 'prefix_delegation';
  if (networkScopeId && (pd || (pool !== null && pool.address_scope_id !== networkScopeId))) throw addressScopeAffinityError();
  for (const s of siblings) {
    const sameFamily = Number(s.ip_version) === ipVersion;
    const siblingPool = s.subnetpool_id ?? null;
    if (pd) {
      if (Number(s.ip_version) === 6 && siblingPool !== 'prefix_delegation') throw subnetPoolAffinityError();
    } else if (pool !== null) {
      if (siblingPool !== pool.id && sameFamily && !networkScopeId) throw subnetPoolAffinityError();
    } else if (siblingPool && sameFamily) {
      throw subnetPoolAffinityError();
    }
  }
}

/** address_scope_db.update_address_scope: a shared scope stays shared (400 AddressScopeUpdateError). */
export function checkAddressScopeUpdate(scope: { id: string; shared: boolean }, input: Record<string, unknown>): void {
  if (scope.shared && input.shared === false) {
    throw new NeutronError(400, 'AddressScopeUpdateError', `Unable to update address scope ${scope.id} : Shared address scope can't be unshared.`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Quota (subnet_alloc.SubnetAllocator._check_subnetpool_project_quota).

/** SubnetPoolHelper quota units: IPv4 counts addresses (/32s), IPv6 counts /64s. */
export const QUOTA_UNIT_PREFIXLEN: Record<IpVersion, number> = { 4: 32, 6: 64 };

/** How many quota units a prefix of that length costs: 2^(unit - prefixlen), a fraction below the unit (a /128). */
export function quotaUnits(version: IpVersion, prefixlen: number): number {
  return 2 ** (QUOTA_UNIT_PREFIXLEN[version] - prefixlen);
}

/**
 * default_quota: a project's subnets from the pool, plus the request, may cost at most the quota in units.
 * A quota of null or 0 means none (Neutron's `if quota:`). 409 SubnetPoolQuotaExceeded (an OverQuota).
 */
export function checkPoolQuota(quota: number | null, version: IpVersion, usedCidrs: readonly string[], prefixlen: number): void {
  const usage = new Map<number, number>();
  for (const text of usedCidrs) {
    const slash = text.lastIndexOf('/');
    if (slash !== -1) usage.set(Number(text.slice(slash + 1)), (usage.get(Number(text.slice(slash + 1))) ?? 0) + 1);
  }
  checkPoolQuotaUsage(quota, version, [...usage].map(([length, count]) => ({ prefixlen: length, count })), prefixlen);
}

/** checkPoolQuota from the project's subnets of the pool counted per prefix length (what the store's index gives). */
export function checkPoolQuotaUsage(quota: number | null, version: IpVersion, usage: readonly { prefixlen: number; count: number }[], prefixlen: number): void {
  if (!quota) return;
  let used = 0;
  for (const u of usage) used += u.count * quotaUnits(version, u.prefixlen);
  if (used + quotaUnits(version, prefixlen) > quota) {
    throw new NeutronError(409, 'SubnetPoolQuotaExceeded', 'Per-project subnet pool prefix quota exceeded.');
  }
}

/**
 * The prefix length a subnet request asks of a pool, after the pool's bounds (allocate_subnet's Max/Min checks come
 * first in Neutron, before the lock and the quota): the explicit cidr's, the gateway-derived one's, else prefixlen,
 * else the pool's default.
 */
export function requestedPrefixlen(pool: PoolForAllocation, request: PoolRequest): number {
  if (request.cidr !== undefined) {
    const p = parseCidrLoose(request.cidr);
    if (p) return p.length;
  }
  return request.prefixlen ?? Number(pool.default_prefixlen);
}

// ---------------------------------------------------------------------------------------------------------------
// Onboarding (db_base_plugin_v2._onboard_network_subnets).

/**
 * The network's subnets of the pool's family join the pool: their cidrs are added to its prefixes. A subnet whose
 * cidr meets a prefix already allocated from the pool is refused (400 IllegalSubnetPoolUpdate), as is therefore a
 * subnet that is already the pool's. Returns the new prefix list before compaction (the update compacts it).
 */
export function onboardPrefixes(
  poolId: string,
  poolPrefixes: readonly string[],
  allocated: readonly string[],
  subnets: readonly { id: string; cidr: string }[],
): string[] {
  for (const s of subnets) {
    if (prefixesOverlap([s.cidr], allocated)) {
      throw new NeutronError(
        400,
        'IllegalSubnetPoolUpdate',
        `Illegal subnetpool update : Onboarding subnet ${s.id}: ${s.cidr} conflicts with allocated prefixes in subnet pool ${poolId}.`,
      );
    }
  }
  return [...poolPrefixes, ...subnets.map((s) => s.cidr)];
}
