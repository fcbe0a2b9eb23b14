// The native DHCPv6-PD client of one router (RFC 8415 requesting router), run inside the router's namespace by
// `pd-client-main.ts` under the agent's supervisor. One UDP socket on [::]:546; one IA_PD per PD subnet, each with
// its own exchanges (domain/dhcpv6/pd.ts): Solicit → Advertise → Request → Reply, Renew at T1, Rebind at T2,
// Solicit again when the lease expires, Release when the subnet leaves (SIGHUP with a new config) or the client is
// told to stop (SIGTERM). Leases are written to leases.json (atomically) after every change, and read back at start:
// a restarted client resumes its lease (renewing it at T1 as before) instead of asking for a new prefix.

import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decode, encode, fromHex, Dhcpv6DecodeError, MESSAGE_NAMES, type Message } from '../domain/dhcpv6/codec.js';
import { REBIND, RELEASE, RENEW, REQUEST, SOLICIT, interpret, leaseTimes, nextTimeout, rebind, release, renew, request, solicit, type IaRequest, type Lease, type Outcome, type RetransmitParams } from '../domain/dhcpv6/pd.js';

export interface PdClientConfig {
  /** The router's gateway interface (qg-...), where the delegating server is. */
  interface: string;
  /** Hex of the client's DUID. */
  duid: string;
  /**
   * `prefix`: an HA router's subnet's current prefix (the API's cidr), delegated to the router through another node;
   * a client without a lease for it reclaims it with a Rebind instead of asking for a new one (features/pd.ts).
   */
  ias: { subnet_id: string; iaid: number; length: number; prefix?: string }[];
  /** An HA router's backup node: send nothing, hold no lease, release nothing (the master holds the binding). */
  standby?: boolean;
}

const ALL_DHCP_RELAY_AGENTS_AND_SERVERS = 'ff02::1:2';
const SERVER_PORT = 547;
const CLIENT_PORT = 546;

type Waiter = (m: Message) => void;

export class PdClient {
  private socket: dgram.Socket | null = null;
  private waiters = new Map<number, Waiter>();
  private leases = new Map<string, Lease>();
  private running = new Map<string, AbortController>();
  private config: PdClientConfig;
  private duid: Uint8Array;
  /** Subnets whose prefix this client is reclaiming (HA: a new master), in reclaiming.json beside leases.json. */
  private reclaiming = new Set<string>();

  constructor(
    config: PdClientConfig,
    private readonly leasePath: string,
    private readonly log: (line: string) => void,
  ) {
    this.config = config;
    this.duid = fromHex(config.duid);
    try {
      const saved = JSON.parse(readFileSync(leasePath, 'utf8')) as Record<string, Lease>;
      for (const [subnet, lease] of Object.entries(saved)) this.leases.set(subnet, lease);
    } catch {
      /* first start */
    }
    this.heldElsewhere(config);
  }

  /**
   * HA: the IAs whose prefix the router holds (the subnet's cidr) but this node has no lease for: the other node's,
   * which this node reclaims when it is the master. Written before anything else happens, so that the reporter
   * (pd-report.ts) never takes "no lease yet" for "no prefix" and renumbers the subnet during a failover.
   */
  private heldElsewhere(config: PdClientConfig): void {
    this.reclaiming = new Set(config.ias.filter((ia) => ia.prefix && !this.leases.has(ia.subnet_id)).map((ia) => ia.subnet_id));
    this.saveReclaiming();
  }

  private saveReclaiming(): void {
    const path = join(dirname(this.leasePath), 'reclaiming.json');
    writeFileSync(`${path}.tmp`, JSON.stringify([...this.reclaiming].sort()) + '\n');
    renameSync(`${path}.tmp`, path);
  }

  async start(): Promise<void> {
    const sock = dgram.createSocket({ type: 'udp6', reuseAddr: true });
    sock.on('message', (buf) => this.receive(buf));
    sock.on('error', (e) => this.log(`socket: ${e.message}`));
    await new Promise<void>((res, rej) => {
      sock.once('error', rej);
      sock.bind(CLIENT_PORT, '::', () => {
        sock.off('error', rej);
        res();
      });
    });
    this.socket = sock;
    this.log(`listening on [::]:${CLIENT_PORT}, servers via ${ALL_DHCP_RELAY_AGENTS_AND_SERVERS}%${this.config.interface}`);
    this.apply(this.config);
  }

  /** A new configuration (SIGHUP): IAs that left are released, new ones start. */
  reconfigure(config: PdClientConfig): void {
    this.config = config;
    this.duid = fromHex(config.duid);
    this.apply(config);
  }

  private apply(config: PdClientConfig): void {
    if (config.standby) {
      // Master turned backup (or a backup from the start): the binding goes on with the new master, so no Release;
      // the leases are forgotten, the new master's renewals make them stale.
      for (const ctl of this.running.values()) ctl.abort();
      this.running.clear();
      if (this.leases.size) {
        this.leases.clear();
        this.save();
        this.log('standby (HA backup): leases left to the master, nothing released');
      }
      this.heldElsewhere(config);
      return;
    }
    for (const ia of config.ias) if (!this.running.has(ia.subnet_id) && ia.prefix && !this.leases.has(ia.subnet_id)) this.reclaiming.add(ia.subnet_id);
    this.saveReclaiming();
    const wanted = new Set(config.ias.map((i) => i.subnet_id));
    for (const [subnet, ctl] of this.running) {
      if (wanted.has(subnet)) continue;
      ctl.abort();
      this.running.delete(subnet);
      void this.releaseOne(subnet);
    }
    // Leases kept for subnets that left while no client ran (the agent was down when the interface went).
    for (const subnet of [...this.leases.keys()]) if (!wanted.has(subnet) && !this.running.has(subnet)) void this.releaseOne(subnet);
    for (const ia of config.ias) {
      if (this.running.has(ia.subnet_id)) continue;
      const ctl = new AbortController();
      this.running.set(ia.subnet_id, ctl);
      void this.runIa(ia, ctl.signal).catch((e: Error) => {
        if (!ctl.signal.aborted) this.log(`IA ${ia.subnet_id}: ${e.message}`);
      });
    }
  }

  /** SIGTERM: release every prefix, then close. */
  async stop(releaseAll: boolean): Promise<void> {
    for (const ctl of this.running.values()) ctl.abort();
    const subnets = [...this.running.keys()];
    this.running.clear();
    if (releaseAll && !this.config.standby) await Promise.all(subnets.map((s) => this.releaseOne(s)));
    this.socket?.close();
  }

  private receive(buf: Buffer): void {
    let m: Message;
    try {
      m = decode(new Uint8Array(buf));
    } catch (e) {
      this.log(`dropped a malformed message: ${e instanceof Dhcpv6DecodeError ? e.message : String(e)}`);
      return;
    }
    this.waiters.get(m.transactionId)?.(m);
  }

  private save(): void {
    const tmp = `${this.leasePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.leases), null, 1) + '\n');
    renameSync(tmp, this.leasePath);
  }

  private setLease(subnet: string, lease: Lease | null, why: string): void {
    const old = this.leases.get(subnet);
    if (lease) this.leases.set(subnet, lease);
    else this.leases.delete(subnet);
    this.save();
    // The agent reads leases.json; this line is for people.
    this.log(`${why}: subnet ${subnet} ${lease ? `prefix ${lease.prefix} (preferred ${lease.preferred} s, valid ${lease.valid} s, T1 ${lease.t1} s, T2 ${lease.t2} s)` : 'no prefix'}${old && lease && old.prefix !== lease.prefix ? ` (was ${old.prefix})` : ''}`);
  }

  private async send(m: Message): Promise<void> {
    const bytes = encode(m);
    await new Promise<void>((res) => {
      this.socket!.send(bytes, SERVER_PORT, `${ALL_DHCP_RELAY_AGENTS_AND_SERVERS}%${this.config.interface}`, (err) => {
        if (err) this.log(`send ${MESSAGE_NAMES[m.type]}: ${err.message}`);
        res();
      });
    });
  }

  /**
   * One exchange with RFC 8415 §15 retransmission: sends `build(elapsed)` until `judge` accepts an answer, the
   * deadline passes, MRC is reached or the IA is aborted. Returns the accepted outcome, or null.
   */
  private async exchange(build: (xid: number, elapsed: number) => Message, params: RetransmitParams, judge: (m: Message, xid: number) => Outcome, deadline: number, signal: AbortSignal | null, collectFirst = false): Promise<Outcome | null> {
    const xid = randomInt(0, 0x1000000);
    const started = Date.now();
    let rt: number | null = null;
    let best: Outcome | null = null;
    let tries = 0;
    try {
      for (;;) {
        if (signal?.aborted || Date.now() >= deadline) return best;
        if (params.mrc && tries >= params.mrc) return best;
        tries++;
        // §15: the first Solicit's RAND is strictly positive, so that many clients do not send at once.
        const rand = Math.random() * 0.2 - 0.1;
        rt = nextTimeout(rt, params, rt === null && params === SOLICIT ? Math.abs(rand) : rand);
        const wait = Math.min(rt * 1000, deadline - Date.now());
        const answer = new Promise<Outcome | null>((resolve) => {
          const timer = setTimeout(() => resolve(null), Math.max(0, wait));
          const onAbort = (): void => {
            clearTimeout(timer);
            resolve(null);
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          this.waiters.set(xid, (m) => {
            const out = judge(m, xid);
            if (out.kind === 'ignore') return;
            // §18.2.9: an Advertise with preference 255 is taken at once; else the best one seen in the first RT.
            if (collectFirst && out.kind === 'lease' && out.serverPreference < 255) {
              if (!best || best.kind !== 'lease' || out.serverPreference > best.serverPreference) best = out;
              return;
            }
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            resolve(out);
          });
        });
        await this.send(build(xid, Math.floor((Date.now() - started) / 10)));
        const out = await answer;
        if (out) return out;
        if (best) return best;
      }
    } finally {
      this.waiters.delete(xid);
    }
  }

  private judge(ia: { iaid: number }, expect: 'advertise' | 'reply') {
    return (m: Message, xid: number): Outcome => interpret(m, { duid: this.duid, transactionId: xid }, ia.iaid, Date.now(), expect);
  }

  private async acquire(ia: PdClientConfig['ias'][number], signal: AbortSignal): Promise<Lease | null> {
    const previous = this.leases.get(ia.subnet_id);
    const hint = previous?.prefix ?? ia.prefix;
    const req: IaRequest = { iaid: ia.iaid, length: ia.length, ...(hint ? { hint } : {}) };
    const adv = await this.exchange((xid, elapsed) => solicit({ duid: this.duid, transactionId: xid, elapsed }, req), SOLICIT, this.judge(ia, 'advertise'), Number.MAX_SAFE_INTEGER, signal, true);
    if (!adv || adv.kind !== 'lease') {
      if (adv?.kind === 'refused') this.log(`subnet ${ia.subnet_id}: the server has no prefix (status ${adv.status}: ${adv.message})`);
      return null;
    }
    const server = fromHex(adv.lease.serverId);
    const reply = await this.exchange((xid, elapsed) => request({ duid: this.duid, transactionId: xid, elapsed }, server, req, adv.lease.prefix), REQUEST, this.judge(ia, 'reply'), Number.MAX_SAFE_INTEGER, signal);
    if (reply?.kind === 'lease') return reply.lease;
    if (reply?.kind === 'refused') this.log(`subnet ${ia.subnet_id}: Request refused (status ${reply.status}: ${reply.message})`);
    return null;
  }

  private async sleep(ms: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>((res) => {
      const t = setTimeout(res, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        res();
      }, { once: true });
    });
  }

  private async runIa(ia: PdClientConfig['ias'][number], signal: AbortSignal): Promise<void> {
    // An HA router's new master: the prefix the router holds (through the old master) is reclaimed first.
    let reclaiming = this.reclaiming.has(ia.subnet_id) ? ia.prefix : undefined;
    while (!signal.aborted) {
      const lease = this.leases.get(ia.subnet_id);
      const now = Date.now();
      if (!lease && reclaiming) {
        const got = await this.reclaim(ia, reclaiming, signal);
        if (signal.aborted) return;
        reclaiming = undefined;
        // leases.json first: the reporter never finds the IA with neither a lease nor a reclaim.
        if (got) this.setLease(ia.subnet_id, got, 'reclaimed');
        this.reclaiming.delete(ia.subnet_id);
        this.saveReclaiming();
        if (got) continue;
        // Refused (NoBinding: the server let the binding go): ask as any client, the prefix as a hint.
      }
      if (!lease || now >= leaseTimes(lease).expiresAt) {
        if (lease) this.setLease(ia.subnet_id, null, 'expired');
        const got = await this.acquire(ia, signal);
        if (got) this.setLease(ia.subnet_id, got, 'delegated');
        else if (!signal.aborted) await this.sleep(5000, signal);
        continue;
      }
      const { renewAt, rebindAt, expiresAt } = leaseTimes(lease);
      if (now < renewAt) {
        await this.sleep(renewAt - now, signal);
        continue;
      }
      const x = (xid: number, elapsed: number) => ({ duid: this.duid, transactionId: xid, elapsed });
      const renewing = now < rebindAt;
      const out = renewing
        ? await this.exchange((xid, e) => renew(x(xid, e), lease, fromHex(lease.serverId)), RENEW, this.judge(ia, 'reply'), rebindAt, signal)
        : await this.exchange((xid, e) => rebind(x(xid, e), lease), REBIND, this.judge(ia, 'reply'), expiresAt, signal);
      if (signal.aborted) return;
      if (out?.kind === 'lease') this.setLease(ia.subnet_id, out.lease, renewing ? 'renewed' : 'rebound');
      else if (out?.kind === 'refused') this.setLease(ia.subnet_id, null, `${renewing ? 'Renew' : 'Rebind'} refused (status ${out.status}: ${out.message})`);
    }
  }

  /**
   * An HA router's new master extends the binding the old master held (the same DUID and IAID): a Rebind with the
   * prefix the router holds (RFC 8415 §18.2.5: to any server, as a client that may have moved; lifetimes 0, the
   * server sets them), retransmitted as RFC 8415 §15 says until a server answers: while none does (the server is down)
   * the router goes on routing the prefix. Null when refused (NoBinding) or aborted.
   */
  private async reclaim(ia: PdClientConfig['ias'][number], prefix: string, signal: AbortSignal): Promise<Lease | null> {
    this.log(`subnet ${ia.subnet_id}: reclaiming ${prefix} (Rebind)`);
    const held: Lease = { iaid: ia.iaid, prefix, preferred: 0, valid: 0, t1: 0, t2: 0, serverId: '', obtainedAt: Date.now() };
    const out = await this.exchange((xid, elapsed) => rebind({ duid: this.duid, transactionId: xid, elapsed }, held), REBIND, this.judge(ia, 'reply'), Number.MAX_SAFE_INTEGER, signal);
    if (out?.kind === 'refused') this.log(`subnet ${ia.subnet_id}: Rebind of ${prefix} refused (status ${out.status}: ${out.message})`);
    return out?.kind === 'lease' ? out.lease : null;
  }

  private async releaseOne(subnet: string): Promise<void> {
    const lease = this.leases.get(subnet);
    if (!lease) return;
    // §18.2.7: the client stops using the prefix at once, then tells the server (bounded: REL_MAX_RC tries).
    this.setLease(subnet, null, 'releasing');
    const out = await this.exchange((xid, elapsed) => release({ duid: this.duid, transactionId: xid, elapsed }, lease, fromHex(lease.serverId)), { ...RELEASE, mrc: 2 }, (m, xid) => (m.transactionId === xid && m.type === 7 ? { kind: 'refused', status: 0, message: 'released' } : { kind: 'ignore', why: '' }), Date.now() + 4000, null);
    this.log(`released ${lease.prefix} for subnet ${subnet}${out ? '' : ' (no Reply from the server)'}`);
  }
}
