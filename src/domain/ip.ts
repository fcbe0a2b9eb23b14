// IPv4 and IPv6 addresses and prefixes as immutable values over BigInt, in the spirit of Go's net/netip:
// exact, total operations, no I/O. Text output is canonical: dotted quad for IPv4, RFC 5952 for IPv6.

export type IpVersion = 4 | 6;

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

export function bitsOf(version: IpVersion): number {
  return BITS[version];
}

function parseV4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    // Strict decimal octets: no leading zeros (ambiguous octal), no signs, no spaces.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseV6(text: string): bigint | null {
  if (text.length < 2 || text.length > 45) return null;
  let head = text;
  let v4tail: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) !== -1) {
    // Embedded IPv4 in the last 32 bits (::ffff:192.0.2.1, 64:ff9b::192.0.2.1).
    v4tail = parseV4(text.slice(lastColon + 1));
    if (v4tail === null) return null;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const toGroups = (s: string): string[] | null => (s === '' ? [] : s.split(':'));
  const left = toGroups(halves[0]!);
  const right = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (left === null || right === null) return null;
  const total = left.length + right.length;
  if (halves.length === 1 && total !== 8) return null;
  if (halves.length === 2 && total > 7) return null;
  const groups = [...left, ...Array(8 - total).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  if (v4tail !== null) value = (value & ~0xffffffffn) | v4tail;
  return value;
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
}

function formatV6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952 4.2: compress the longest run (>= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 5 / glibc inet_ntop (which netaddr, hence Neutron, prints with): IPv4-mapped ::ffff:a.b.c.d and
  // IPv4-compatible ::a.b.c.d keep the dotted tail.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && groups[5] === 0xffff))) {
    return `${bestLen === 6 ? '::' : '::ffff:'}${formatV4(value & 0xffffffffn)}`;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

export class IpAddress {
  private constructor(
    readonly version: IpVersion,
    readonly value: bigint,
  ) {}

  static of(version: IpVersion, value: bigint): IpAddress {
    const max = (1n << BigInt(BITS[version])) - 1n;
    if (value < 0n || value > max) throw new RangeError(`address value out of range for IPv${version}`);
    return new IpAddress(version, value);
  }

  /** Parses IPv4 dotted quad or IPv6 text (no zone, no prefix). Returns null when the text is not an address. */
  static parse(text: unknown): IpAddress | null {
    if (typeof text !== 'string') return null;
    if (text.includes(':')) {
      const v = parseV6(text);
      return v === null ? null : new IpAddress(6, v);
    }
    const v = parseV4(text);
    return v === null ? null : new IpAddress(4, v);
  }

  get bits(): number {
    return BITS[this.version];
  }

  toString(): string {
    return this.version === 4 ? formatV4(this.value) : formatV6(this.value);
  }

  equals(other: IpAddress): boolean {
    return this.version === other.version && this.value === other.value;
  }

  compare(other: IpAddress): number {
    if (this.version !== other.version) return this.version - other.version;
    return this.value < other.value ? -1 : this.value > other.value ? 1 : 0;
  }

  add(n: bigint): IpAddress {
    return IpAddress.of(this.version, this.value + n);
  }

  isLinkLocal(): boolean {
    return this.version === 6 ? this.value >> 118n === 0x3fan : this.value >> 16n === 0xa9fen;
  }
}

export class IpPrefix {
  private constructor(
    readonly network: IpAddress,
    readonly length: number,
  ) {}

  /**
   * Parses "address/length". `strict` (default false) refuses host bits set; otherwise they are cleared,
   * as netaddr's `IPNetwork(x).cidr` does. A bare address is refused (Neutron requires the '/').
   */
  static parse(text: unknown, strict = false): IpPrefix | null {
    if (typeof text !== 'string') return null;
    const slash = text.indexOf('/');
    if (slash === -1) return null;
    const address = IpAddress.parse(text.slice(0, slash));
    const lenText = text.slice(slash + 1);
    if (!address || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return null;
    const length = Number(lenText);
    if (length > address.bits) return null;
    const masked = address.value & IpPrefix.maskOf(address.version, length);
    if (strict && masked !== address.value) return null;
    return new IpPrefix(IpAddress.of(address.version, masked), length);
  }

  static of(address: IpAddress, length: number): IpPrefix {
    return new IpPrefix(IpAddress.of(address.version, address.value & IpPrefix.maskOf(address.version, length)), length);
  }

  static maskOf(version: IpVersion, length: number): bigint {
    const bits = BigInt(BITS[version]);
    return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(length))) - 1n);
  }

  get version(): IpVersion {
    return this.network.version;
  }

  /** Number of addresses in the prefix. */
  get size(): bigint {
    return 1n << BigInt(this.network.bits - this.length);
  }

  get first(): IpAddress {
    return this.network;
  }

  get last(): IpAddress {
    return this.network.add(this.size - 1n);
  }

  contains(address: IpAddress): boolean {
    return (
      address.version === this.version &&
      (address.value & IpPrefix.maskOf(this.version, this.length)) === this.network.value
    );
  }

  overlaps(other: IpPrefix): boolean {
    if (other.version !== this.version) return false;
    return this.contains(other.network) || other.contains(this.network);
  }

  covers(other: IpPrefix): boolean {
    return other.version === this.version && other.length >= this.length && this.contains(other.network);
  }

  toString(): string {
    return `${this.network.toString()}/${this.length}`;
  }

  equals(other: IpPrefix): boolean {
    return this.length === other.length && this.network.equals(other.network);
  }
}

/** An inclusive range of addresses of one family, as Neutron's allocation pools are. */
export class IpRange {
  constructor(
    readonly start: IpAddress,
    readonly end: IpAddress,
  ) {
    if (start.version !== end.version) throw new RangeError('range ends of different families');
  }

  get size(): bigint {
    return this.end.value - this.start.value + 1n;
  }

  contains(address: IpAddress): boolean {
    return address.version === this.start.version && address.value >= this.start.value && address.value <= this.end.value;
  }

  overlaps(other: IpRange): boolean {
    return this.start.value <= other.end.value && other.start.value <= this.end.value;
  }

  toString(): string {
    return `${this.start.toString()}-${this.end.toString()}`;
  }
}

/** Canonical text of an address, or null when the text is not an address. */
export function canonicalIp(text: unknown): string | null {
  const a = IpAddress.parse(text);
  return a ? a.toString() : null;
}
