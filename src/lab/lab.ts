// Lab instances: a network namespace `lab-<name>` standing in for a VM. Its `eth0` carries a real API port's MAC
// and is plugged into the network's bridge (made by the agent), so what it gets from radvd and dnsmasq is what a
// guest would get. DAD is off and addr_gen_mode is EUI-64, both set before the link comes up.

import { stopPdServer } from './dc-pd.js';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { captureFile, startCapture, stopCapture } from './lab-capture.js';
import { dhcpClientsFor, guestConfig, type GuestOs } from './guest-os.js';
import { exec } from '../agent/linux.js';
import { bridgeName, bridgeNsName, ROUTER_INTERFACE_OWNERS, tapName } from '../agent/model.js';
import type { Network, Port, Subnet } from '../schema/index.js';
import { isAutoAddressSubnet, routerAdvertises } from '../domain/ipv6/index.js';

export interface LabOptions {
  server: string;
  host: string;
  stateDir: string;
  log?: (line: string) => void;
}

export const labNsName = (name: string): string => `lab-${name}`;
export const LAB_OWNER = 'compute:lab';

async function api(server: string, method: string, path: string, body?: unknown): Promise<any> {
  let res: Response;
  try {
    res = await fetch(server + path, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach the v6stack API at ${server} (${cause?.code ?? cause?.message ?? (e as Error).message}): start v6stack with \`npm start\` (or \`v6stack up\`) as root, or point OS_ENDPOINT or --server at it`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** What `ip -json` prints of a link, an address list or a route (the fields the lab reads). */
export interface IpJson {
  ifname?: string;
  address?: string;
  master?: string;
  flags?: string[];
  gateway?: string;
  dst?: string;
  addr_info?: { local: string; prefixlen: number; scope: string; tentative?: boolean }[];
}

const namespaceExists = (ns: string): boolean => spawnSync('ip', ['netns', 'exec', ns, 'true'], { stdio: 'ignore' }).status === 0;

/** The port `ref` names: its id, else its name (one port only). */
async function findPort(server: string, ref: string): Promise<Port> {
  const byId = (await api(server, 'GET', `/v2.0/ports?id=${encodeURIComponent(ref)}`)).ports as Port[];
  if (byId.length) return byId[0]!;
  const byName = (await api(server, 'GET', `/v2.0/ports?name=${encodeURIComponent(ref)}`)).ports as Port[];
  if (byName.length > 1) throw new Error(`more than one port is named ${ref}: give its id`);
  if (!byName.length) throw new Error(`no port ${ref}`);
  return byName[0]!;
}

const DHCLIENT_SCRIPT = (dir: string): string => `#!/bin/sh
# v6stack lab dhclient script: sets the leased address (and, for IPv4, the router) and records the options in
# dhclient.env (DHCPv6) or dhclient4.env (DHCPv4); never touches /etc/resolv.conf.
case "$reason" in
  *6) env | grep -E '^(reason|interface|new_|old_)' | sort > '${dir}/dhclient.env' ;;
  PREINIT) ;;
  *) env | grep -E '^(reason|interface|new_|old_)' | sort > '${dir}/dhclient4.env' ;;
esac
case "$reason" in
  PREINIT)
    ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ] && ip -4 addr del "$old_ip_address/$old_subnet_mask" dev "$interface"
    ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
    for r in $new_routers; do ip -4 route replace default via "$r" dev "$interface"; break; done ;;
  EXPIRE|FAIL|RELEASE|STOP)
    [ -n "$old_ip_address" ] && ip -4 addr del "$old_ip_address/$old_subnet_mask" dev "$interface" ;;
  BOUND6|RENEW6|REBIND6|REBOOT6)
    [ -n "$new_ip6_address" ] || exit 0
    if [ "$(cat /proc/sys/net/ipv6/conf/$interface/accept_dad)" = 0 ]; then
      ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad
    else
      # Duplicate address detection, as ISC's own linux script does it: a leased address another host already holds
      # is removed and the script exits 3, on which dhclient sends a Decline and solicits again.
      ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface"
      i=0
      while [ $i -lt 50 ]; do
        case "$(ip -6 addr show dev "$interface" to "$new_ip6_address/128")" in
          *dadfailed*) ip -6 addr del "$new_ip6_address/$new_ip6_prefixlen" dev "$interface"; exit 3 ;;
          *tentative*) sleep 0.1; i=$((i + 1)) ;;
          *) break ;;
        esac
      done
    fi ;;
  EXPIRE6|RELEASE6|STOP6)
    [ -n "$old_ip6_address" ] && ip -6 addr del "$old_ip6_address/$old_ip6_prefixlen" dev "$interface" ;;
esac
exit 0
`;

async function waitFor(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + Math.max(deadlineMs, 0);
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What to ask of the port: its fixed IPs (as `openstack port create --fixed-ip ...`) and its MAC address. */
export interface LabPortRequest {
  fixedIps?: { subnet_id?: string; ip_address?: string }[];
  mac?: string;
  /** The guest OS whose network configuration the instance carries (default ubuntu); see guest-os.ts. */
  os?: GuestOs;
  /** Capture eth0 from before it comes up (lab-capture.ts): the RS, the RA and the DHCP exchange. */
  capture?: boolean;
  /** Plug this existing port (id or name), as `openstack server create --port`; the network is the port's. */
  port?: string;
  /** Give up after this long in all (default 60 s), saying what was missing. */
  timeoutMs?: number;
}

export const DEFAULT_BOOT_TIMEOUT_MS = 60_000;

/** The instance is plugged but did not get everything in time: it is kept, for `lab show` and `lab capture`. */
export class LabBootIncomplete extends Error {
  constructor(
    message: string,
    /** The instance, kept for `lab show` and `lab capture`. */
    readonly instance: string,
  ) {
    super(message);
  }
}

/**
 * `ip netns exec` binds the files of /etc/netns/NS/ over /etc/: the instance's resolv.conf lives there (written by
 * `lab-show.ts` writeGuestResolvConf from what the instance received), and goes with the instance.
 */
export const guestEtcDir = (name: string): string => `/etc/netns/${labNsName(name)}`;

/** Which port the instance plugs and whether the lab created it (then `lab delete` deletes it; else it unbinds it). */
interface PortRecord {
  id: string;
  created: boolean;
}
const PORT_RECORD = 'port.json';

/**
 * `fixedIp`: ask IPAM for this address (as `openstack port create --fixed-ip ip-address=...`), or a port request.
 * A boot that fails before the instance is plugged removes everything it made (namespace, port); one that is
 * plugged but does not get its addresses within the time limit throws LabBootIncomplete and keeps the instance.
 */
export async function labBoot(opts: LabOptions, network: string, name: string, fixedIp?: string | LabPortRequest): Promise<Port> {
  const want: LabPortRequest = typeof fixedIp === 'string' ? { fixedIps: [{ ip_address: fixedIp }] } : (fixedIp ?? {});
  const log = opts.log ?? ((l: string) => console.error(`lab: ${l}`));
  const t0 = Date.now();
  const limit = want.timeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
  const deadline = t0 + limit;
  const left = (): number => deadline - Date.now();
  let existing: Port | undefined;
  if (want.port) {
    existing = await findPort(opts.server, want.port);
    if (!name) name = /^[A-Za-z0-9_.-]{1,40}$/.test(String(existing.name)) ? String(existing.name) : `i${process.pid}`;
  }
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(name)) throw new Error(`bad lab instance name: ${name}`);
  const ns = labNsName(name);
  if (namespaceExists(ns)) throw new Error(`lab instance ${name} already exists (namespace ${ns}): \`v6stack lab delete ${name}\` first, or choose another --name`);
  const held = ((await api(opts.server, 'GET', `/v2.0/ports?device_id=${encodeURIComponent(ns)}`)).ports as Port[]).filter((p) => p.id !== existing?.id);
  if (held.length) throw new Error(`lab instance name ${name} is in use: port ${held[0]!.id} has device_id ${ns} (\`v6stack lab delete ${name}\` removes it)`);
  let net: Network | undefined;
  let port: Port;
  if (existing) {
    if (existing.device_id && existing.device_id !== ns) throw new Error(`port ${existing.id} is in use (device_owner ${existing.device_owner || '-'}, device_id ${existing.device_id})`);
    if (want.fixedIps || want.mac) throw new Error('--ip and --mac are the port\'s own with --port (set them with `port set`)');
    net = (await api(opts.server, 'GET', `/v2.0/networks?id=${encodeURIComponent(String(existing.network_id))}`)).networks[0];
    if (!net) throw new Error(`port ${existing.id}: no network ${existing.network_id}`);
    // Bound to this host and owned by the instance, as Nova binds a port given to `server create --port`.
    port = (await api(opts.server, 'PUT', `/v2.0/ports/${existing.id}`, { port: { device_owner: LAB_OWNER, device_id: ns, 'binding:host_id': opts.host } })).port;
  } else {
    net = (await api(opts.server, 'GET', `/v2.0/networks?id=${encodeURIComponent(network)}`)).networks[0];
    net ??= (await api(opts.server, 'GET', `/v2.0/networks?name=${encodeURIComponent(network)}`)).networks[0];
    if (!net) throw new Error(`no network ${network}`);
    port = (await api(opts.server, 'POST', '/v2.0/ports', { port: { network_id: net.id, device_owner: LAB_OWNER, device_id: ns, name: ns, 'binding:host_id': opts.host, ...(want.fixedIps ? { fixed_ips: want.fixedIps } : {}), ...(want.mac ? { mac_address: want.mac } : {}) } })).port;
  }
  const record: PortRecord = { id: String(port.id), created: !existing };
  log(`port ${port.id} ${port.mac_address} ${port.fixed_ips.map((i) => i.ip_address).join(' ')}${existing ? ' (existing port)' : ''}`);
  const dir = join(opts.stateDir, name);
  let madeNs = false;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, PORT_RECORD), JSON.stringify(record) + '\n');
    const brNs = bridgeNsName(opts.host);
    const bridge = bridgeName(net.id);
    log(`waiting for the agent's bridge ${bridge} in ${brNs}`);
    await waitFor(`bridge ${bridge} in ${brNs} after ${Math.round(limit / 1000)} s: is the agent for host ${opts.host} running (\`npm start\` or \`v6stack up\`; \`v6stack agent\` on this host)?`, Math.min(left(), 30_000), async () => {
      try {
        await exec(['ip', '-n', brNs, 'link', 'show', bridge]);
        return true;
      } catch {
        return false;
      }
    });
    const mtu = String(net.mtu ?? 1500);
    await exec(['ip', 'netns', 'add', ns]);
    madeNs = true;
    await exec(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // No duplicate address detection by default: addresses are usable at once (a guest waits about a second). Turned
    // back on per interface (sysctl net.ipv6.conf.eth0.accept_dad=1), the dhclient script does DAD and declines.
    await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.addr_gen_mode=0', 'net.ipv6.conf.default.use_tempaddr=0']);
    const tap = tapName(port.id);
    await exec(['ip', '-n', brNs, 'link', 'add', tap, 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns, 'address', port.mac_address, 'mtu', mtu]);
    await exec(['ip', '-n', brNs, 'link', 'set', tap, 'master', bridge, 'up']);
    if (want.capture) {
      await startCapture(brNs, tap, dir);
      log(`capturing ${tap} (eth0's bridge end) into ${captureFile(dir)}`);
    }
    await exec(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    log(`namespace ${ns}: eth0 ${port.mac_address} on ${bridge} via ${tap}`);
  } catch (e) {
    // Not plugged: nothing of it stays (a name in use, an agent not running, a kernel error).
    await undoBoot(opts, name, record, madeNs, log);
    throw e;
  }

  const missing: string[] = [];
  const subnets: Subnet[] = (await api(opts.server, 'GET', `/v2.0/subnets?network_id=${net.id}`)).subnets;
  // The guest's network configuration for its OS and this network's subnets (the talk's files), kept under the
  // instance's directory as the guest would have it, and the DHCP clients ifup would start for it.
  const os = want.os ?? 'ubuntu';
  const config = guestConfig(os, subnets);
  await mkdir(join(dir, 'guest', dirname(config.path)), { recursive: true });
  await writeFile(join(dir, 'guest', config.path), config.content);
  log(`${os}: ${config.path}: ${config.content.trim().replaceAll('\n', '; ')}`);
  const clients = dhcpClientsFor(os, config).map((c) =>
    c.family === 4 ? [...c.flags, '-pf', join(dir, 'dhclient4.pid'), '-lf', join(dir, 'dhclient4.leases')] : [...c.flags, '-pf', join(dir, 'dhclient.pid'), '-lf', join(dir, 'dhclient6.leases')],
  );
  if (clients.length) await writeFile(join(dir, 'dhclient-script'), DHCLIENT_SCRIPT(dir), { mode: 0o755 });
  for (const c of clients) {
    const v4 = c[0] === '-4';
    const logFile = join(dir, v4 ? 'dhclient4.log' : 'dhclient.log');
    const argv = ['dhclient', ...c, '-1', '-v', '-sf', join(dir, 'dhclient-script'), 'eth0'];
    log(`${argv.join(' ')}`);
    // dhclient -1 returns once it has a lease (then daemonises to renew it; `lab delete` stops it) or gives up.
    // Its output goes to a file: the daemonised dhclient keeps its stdio, and a pipe would hold us until it exits.
    const out = openSync(logFile, 'a');
    // A few tries, each bounded, within the boot's time: the agent learns of the new port through the change feed,
    // so the first Solicit can reach a dnsmasq that does not know the port's MAC yet.
    let ok = false;
    for (let attempt = 1; !ok && left() > 1000; attempt++) {
      const budget = Math.min(left(), 20_000);
      log(`${v4 ? 'DHCPv4' : 'DHCPv6'}: waiting for a reply (try ${attempt}, up to ${Math.round(budget / 1000)} s)`);
      // Not spawnSync: the API server and agent may run in this very process (`v6stack demo`), and must go on
      // answering while dhclient waits for them.
      const r = await new Promise<{ status: number | null; signal: string | null }>((resolve) => {
        const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', out, out] });
        const t = setTimeout(() => child.kill('SIGKILL'), budget);
        child.once('exit', (status, signal) => {
          clearTimeout(t);
          resolve({ status, signal });
        });
      });
      ok = r.status === 0;
      if (!ok) log(`dhclient exited ${r.status ?? r.signal} (try ${attempt}); see ${logFile}`);
    }
    closeSync(out);
    if (!ok) missing.push(v4 ? `no DHCPv4 lease (dhclient -4 got no answer; ${logFile})` : `no DHCPv6 reply (dhclient ${c.slice(0, 2).join(' ')} got no answer; ${logFile})`);
  }
  const ra = await awaitRouterAdvertisement(opts, ns, net.id, port, subnets, log, left());
  if (ra) missing.push(ra);
  if (missing.length) {
    throw new LabBootIncomplete(
      `lab boot ${name}: gave up after ${Math.round((Date.now() - t0) / 1000)} s: ${missing.join('; ')}. The instance is kept to look at: \`v6stack lab show ${name}\`, ` +
        `\`v6stack lab capture ${name} --seconds 10 --decode\`, the ERROR lines of the agent's log and \`openstack port list --network ${net.id} -c ID -c Status\` (a port in ERROR: its daemon keeps failing); \`v6stack lab delete ${name}\` removes it`,
      name,
    );
  }
  log(`booted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return port;
}

/** Removes what a boot made: its daemons, namespace and directory; the port is deleted if the boot created it, else unbound. */
async function undoBoot(opts: LabOptions, name: string, record: PortRecord, madeNs: boolean, log: (l: string) => void): Promise<void> {
  const dir = join(opts.stateDir, name);
  await stopCapture(dir).catch(() => false);
  await stopDhclients(dir, log);
  if (madeNs) await exec(['ip', 'netns', 'del', labNsName(name)]).catch(() => '');
  await rm(dir, { recursive: true, force: true });
  await rm(guestEtcDir(name), { recursive: true, force: true });
  await releasePort(opts, record, log).catch((e: Error) => log(`could not remove port ${record.id}: ${e.message}`));
}

async function releasePort(opts: LabOptions, record: PortRecord, log: (l: string) => void): Promise<void> {
  if (record.created) {
    await api(opts.server, 'DELETE', `/v2.0/ports/${record.id}`);
    log(`deleted port ${record.id}`);
  } else {
    // A port the user made stays, unbound, as Nova leaves a port given to `server create --port`.
    await api(opts.server, 'PUT', `/v2.0/ports/${record.id}`, { port: { device_owner: '', device_id: '', 'binding:host_id': '' } });
    log(`unplugged port ${record.id} (kept: it was not made by the lab)`);
  }
}

async function stopDhclients(dir: string, log: (l: string) => void): Promise<void> {
  for (const file of ['dhclient.pid', 'dhclient4.pid']) {
    const pid = Number((await readFile(join(dir, file), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 1) {
      try {
        process.kill(pid, 'SIGTERM');
        log(`stopped dhclient ${pid}`);
      } catch {
        /* gone */
      }
    }
  }
}

/**
 * A guest's boot is done when it has its addresses: dhclient -1 returns with its lease, and for SLAAC and
 * dhcpv6-stateless addresses we wait (bounded) for the router's advertisement to give them, when a router is on the
 * network to send one; so what follows a boot (`lab exec`, `lab capture`, `lab show`) sees a configured instance.
 */
async function awaitRouterAdvertisement(opts: LabOptions, ns: string, networkId: string, port: Port, subnets: Subnet[], log: (l: string) => void, budgetMs: number): Promise<string | null> {
  const auto = new Set(subnets.filter((s) => isAutoAddressSubnet(s)).map((s) => s.id as string));
  const want = port.fixed_ips.filter((f) => auto.has(f.subnet_id)).map((f) => String(f.ip_address));
  // Subnets whose router advertises (ipv6_ra_mode set): the instance's IPv6 default route comes from the RA.
  const advertised = subnets.some((s) => s.ip_version === 6 && routerAdvertises(s));
  if (!want.length && !advertised) return null;
  const owners = ((await api(opts.server, 'GET', `/v2.0/ports?network_id=${networkId}&fields=device_owner`)).ports as Pick<Port, 'device_owner'>[]).map((p) => p.device_owner);
  if (!owners.some((o) => ROUTER_INTERFACE_OWNERS.has(o))) {
    if (want.length) log(`no router on the network yet: ${want.join(' ')} will come with its first RA`);
    return null;
  }
  const have = async (): Promise<string[]> => {
    const out = await exec(['ip', '-n', ns, '-json', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']);
    return ((JSON.parse(out || '[]') as IpJson[])[0]?.addr_info ?? []).filter((a) => !a.tentative).map((a) => a.local);
  };
  const route = async (): Promise<boolean> => (JSON.parse((await exec(['ip', '-n', ns, '-json', '-6', 'route', 'show', 'default'])) || '[]') as IpJson[]).length > 0;
  const t0 = Date.now();
  log(`waiting for the router's advertisement${want.length ? ` (to give ${want.join(' ')})` : ''} and the IPv6 default route`);
  try {
    await waitFor('the router advertisement', budgetMs, async () => {
      const got = await have();
      return want.every((a) => got.includes(a)) && (!advertised || (await route()));
    });
    log(`RA: ${[...want, advertised ? 'default route' : ''].filter(Boolean).join(', ')} after ${Date.now() - t0} ms`);
    return null;
  } catch {
    const got = await have();
    const lacking = want.filter((a) => !got.includes(a));
    const noRoute = advertised && !(await route());
    return `no RA seen${lacking.length ? ` (no ${lacking.join(' ')}; eth0 has ${got.join(' ') || 'no global address'})` : ''}${noRoute ? ' (no IPv6 default route)' : ''}: is the router's radvd running (\`ip netns exec qrouter-<router id> pgrep -a radvd\`)?`;
  }
}

/** The pid of a live (not zombie) daemon the lab started under `dir`: its pid file there, and a command line naming `dir/<conf>`. */
export async function labDaemonPid(dir: string, pidFile: string, conf: string): Promise<number | null> {
  const pid = Number((await readFile(join(dir, pidFile), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) return null;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const state = /\)\s+(\S)/.exec(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''))?.[1];
  return cmdline.includes(join(dir, conf)) && state !== undefined && state !== 'Z' ? pid : null;
}

/**
 * Stops that daemon with SIGTERM and waits until it has exited (a zombie counts: PID 1 reaps slowly here), so that
 * what it sends on SIGTERM (radvd's goodbye RA) is on the wire before its namespace goes. True if it was running.
 */
export async function stopLabDaemon(dir: string, pidFile: string, conf: string, log: (line: string) => void): Promise<boolean> {
  const pid = await labDaemonPid(dir, pidFile, conf);
  if (!pid) return false;
  process.kill(pid, 'SIGTERM');
  for (const end = Date.now() + 5000; await labDaemonPid(dir, pidFile, conf); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) {
      process.kill(pid, 'SIGKILL');
      break;
    }
  }
  log(`stopped ${pidFile.replace(/\.pid$/, '')} ${pid}`);
  return true;
}

/** Deletes lab instance (or DC) NAME: its daemons, namespace, directory and port. An unknown name is an error. */
export async function labDelete(opts: LabOptions, name: string): Promise<void> {
  const log = opts.log ?? ((l: string) => console.error(`lab: ${l}`));
  const ns = labNsName(name);
  const dir = join(opts.stateDir, name);
  const record = JSON.parse(await readFile(join(dir, PORT_RECORD), 'utf8').catch(() => 'null')) as PortRecord | null;
  const hadDir = await stat(dir).then(() => true, () => false);
  const hadNs = namespaceExists(ns);
  const ports: Port[] = ((await api(opts.server, 'GET', `/v2.0/ports?device_id=${encodeURIComponent(ns)}`)).ports as Port[]).filter((x) => x.device_owner === LAB_OWNER);
  if (!hadDir && !hadNs && !ports.length) throw new Error(`no lab instance ${name} (no namespace ${ns}, no port with device_id ${ns}, nothing in ${dir})`);
  if (await stopCapture(dir)) log(`stopped the capture (${captureFile(dir)} is removed with the instance)`);
  await stopDhclients(dir, log);
  // A DC's radvd (dc.ts): its SIGTERM sends the goodbye RA, so hosts on the provider network drop it at once.
  await stopLabDaemon(dir, 'radvd.pid', 'radvd.conf', log);
  await stopPdServer(dir, log);
  await rm(dir, { recursive: true, force: true });
  await rm(guestEtcDir(name), { recursive: true, force: true });
  if (hadNs) {
    await exec(['ip', 'netns', 'del', ns]);
    log(`deleted namespace ${ns}`);
  }
  for (const p of ports) await releasePort(opts, { id: String(p.id), created: record && record.id === p.id ? record.created : true }, log);
}

export function labExec(name: string, cmd: string[]): number {
  const r = spawnSync('ip', ['netns', 'exec', labNsName(name), ...cmd], { stdio: 'inherit' });
  return r.status ?? 1;
}
