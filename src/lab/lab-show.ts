// What a lab instance really has, read from its namespace and its DHCP clients' records: kernel addresses and
// default routes, the RA rdisc6 hears, the DNS servers and search list it received (as the guest's resolvconf
// would merge them), its guest network file and its leases. `v6stack lab show NAME` prints it beside the API's
// port; `v6stack demo` builds its report from it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestEtcDir, labNsName, type IpJson } from './lab.js';

export interface InstanceState {
  namespace: string;
  mac: string | null;
  ipv6: string[];
  ipv4: string[];
  router6: string | null;
  router4: string | null;
  /** The RA as rdisc6 decodes it: flags and prefixes. */
  ra: string;
  dns: string[];
  search: string;
  /** Lifetimes the DHCPv6 server granted (stateful), from dhclient. */
  lease6: { address: string; preferred: string; valid: string } | null;
  guestFile: { path: string; content: string } | null;
  capture: string | null;
}

function run(argv: string[]): { status: number; stdout: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '' };
}

function ipJson(ns: string, args: string[]): IpJson[] {
  const r = run(['ip', '-n', ns, '-json', ...args]);
  return r.status === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

function envFile(path: string): Map<string, string> {
  const m = new Map<string, string>();
  try {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).replace(/^'|'$/g, ''));
    }
  } catch {
    /* no DHCP client ran */
  }
  return m;
}

/** The RA as rdisc6 decodes it: the M/O flags and, per prefix, its on-link/autonomous flags; plus RDNSS. */
function raSummary(ns: string): { text: string; rdnss: string[] } {
  const r = run(['ip', 'netns', 'exec', ns, 'rdisc6', '-1', '-w', '1500', 'eth0']);
  if (r.status !== 0) return { text: 'no RA', rdnss: [] };
  const yes = (k: string): boolean => new RegExp(`${k}\\s*:\\s*Yes`).test(r.stdout);
  const flags = [yes('Stateful address conf\\.') ? 'managed' : '', yes('Stateful other conf\\.') ? 'other stateful' : ''].filter(Boolean);
  const prefixes = [...r.stdout.matchAll(/Prefix\s*:\s*(\S+)\s+On-link\s*:\s*(\w+)\s+Autonomous address conf\.\s*:\s*(\w+)/g)].map(
    (m) => `prefix ${m[1]} [${[m[2] === 'Yes' ? 'onlink' : '', m[3] === 'Yes' ? 'auto' : ''].filter(Boolean).join(', ')}]`,
  );
  const rdnss = [...r.stdout.matchAll(/Recursive DNS server\s*:\s*(\S+)/g)].map((m) => m[1]!);
  return { text: [`Flags [${flags.join(' ') || 'none'}]`, ...prefixes].join('; '), rdnss };
}

/** Everything the instance `name` (namespace lab-NAME, files under labDir/NAME) has now. */
export function inspectInstance(labDir: string, name: string): InstanceState {
  const ns = labNsName(name);
  const link = ipJson(ns, ['link', 'show', 'dev', 'eth0'])[0];
  const addrs = (family: string): string[] =>
    (ipJson(ns, [family, 'addr', 'show', 'dev', 'eth0'])[0]?.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => a.local);
  const gw = (family: string): string | null => ipJson(ns, [family, 'route', 'show', 'default'])[0]?.gateway ?? null;
  const ra = raSummary(ns);
  const dir = join(labDir, name);
  const d6 = envFile(join(dir, 'dhclient.env'));
  const d4 = envFile(join(dir, 'dhclient4.env'));
  // As the guest's resolvconf would merge them: the DHCPv4 servers, then DHCPv6's (or the RA's RDNSS without DHCPv6).
  const dns6 = (d6.get('new_dhcp6_name_servers') ?? '').split(/\s+/).filter(Boolean);
  const dns = [...(d4.get('new_domain_name_servers') ?? '').split(/\s+/).filter(Boolean), ...(dns6.length ? dns6 : ra.rdnss)];
  const search = (d6.get('new_dhcp6_domain_search') ?? d4.get('new_domain_name') ?? '').split(/\s+/)[0]!.replace(/\.$/, '');
  let guestFile: InstanceState['guestFile'] = null;
  for (const path of ['/etc/network/interfaces', '/etc/sysconfig/network-scripts/ifcfg-eth0']) {
    if (existsSync(join(dir, 'guest', path))) guestFile = { path, content: readFileSync(join(dir, 'guest', path), 'utf8') };
  }
  return {
    namespace: ns,
    mac: link?.address ?? null,
    ipv6: addrs('-6'),
    ipv4: addrs('-4'),
    router6: gw('-6'),
    router4: gw('-4'),
    ra: ra.text,
    dns: [...new Set(dns)],
    search,
    lease6: d6.get('new_ip6_address') ? { address: d6.get('new_ip6_address')!, preferred: d6.get('new_preferred_life') ?? '', valid: d6.get('new_max_life') ?? '' } : null,
    guestFile,
    capture: existsSync(join(dir, 'capture.pcap')) ? join(dir, 'capture.pcap') : null,
  };
}

/** The resolv.conf a guest's resolvconf writes from what it received: its search domain and DNS servers, in order. */
export function guestResolvConf(name: string, seen: Pick<InstanceState, 'dns' | 'search'>): string {
  return [
    `# lab instance ${name}: the DNS servers and search domain it received (DHCPv4, DHCPv6, or the RA's RDNSS)`,
    ...(seen.search ? [`search ${seen.search}`] : []),
    ...seen.dns.map((d) => `nameserver ${d}`),
    '',
  ].join('\n');
}

/**
 * Writes the instance's /etc/resolv.conf as `ip netns exec` shows it (/etc/netns/lab-NAME/resolv.conf), so
 * `lab exec NAME -- cat /etc/resolv.conf` sees the guest's DNS, not the host's; returns what it saw.
 */
export function writeGuestResolvConf(labDir: string, name: string): InstanceState {
  const seen = inspectInstance(labDir, name);
  mkdirSync(guestEtcDir(name), { recursive: true });
  writeFileSync(join(guestEtcDir(name), 'resolv.conf'), guestResolvConf(name, seen));
  return seen;
}
