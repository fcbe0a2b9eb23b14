// The config drive and network_data.json against cloud-init from Debian: `v6stack config-drive` writes an ISO 9660
// image labelled config-2 for a port on each address mode; the image is loop-mounted (always unmounted), cloud-init's
// ConfigDrive data source reads it (read_config_drive), and `cloud-init devel net-convert` turns its
// network_data.json into the guest's configuration: ifupdown (eni), netplan and RHEL ifcfg (sysconfig). Those are
// compared with golden files (test/fixtures/config-drive; UPDATE_GOLDEN=1 rewrites them) and with the talk's
// guest files for the mode (src/lab/guest-os.ts): `iface eth0 inet6 auto` + `dhcp 1`, `DHCPV6C_OPTIONS=-S`, ...

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from '../helpers/v6stack.js';
import { freePort } from './util.js';
import { repoRoot } from './http-cases-compare.js';
import { guestConfig } from '../../src/lab/guest-os.js';

const MAC = 'fa:16:3e:79:5a:cc';
const GOLDEN = join(repoRoot, 'test/fixtures/config-drive');
const has = (p: string): boolean => spawnSync('sh', ['-c', `command -v ${p}`]).status === 0;
const skip =
  process.platform !== 'linux' ? 'needs Linux' : process.getuid?.() !== 0 ? 'needs root (loop mount)' : !has('xorriso') || !has('cloud-init') ? 'missing xorriso or cloud-init (Debian: xorriso cloud-init)' : false;

/** The interpreter cloud-init runs under (its #! line: Debian's python3, which has the cloudinit package). */
const CLOUD_INIT_PYTHON = (() => {
  try {
    return /^#!\s*(\S+)/.exec(readFileSync('/usr/bin/cloud-init', 'utf8'))?.[1] ?? '/usr/bin/python3';
  } catch {
    return '/usr/bin/python3';
  }
})();

/** Whether this kernel mounts ISO 9660 (containers often lack isofs). */
const ISOFS = (() => {
  try {
    return /\biso9660\b/.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
})();

const sh = (argv: string[], input?: string) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000, ...(input !== undefined ? { input } : {}) });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};

/** The modes of the talk plus static IPv6 and IPv4 with DHCP: each a network with one subnet and the port vm1. */
const MODES: { name: string; subnet: Record<string, unknown>; fixedIp?: string }[] = [
  { name: 'slaac', subnet: { ip_version: 6, cidr: '2001:db8:cafe::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac', dns_nameservers: ['2001:db8:cafe:a::e'] } },
  { name: 'dhcpv6-stateless', subnet: { ip_version: 6, cidr: '2001:db8:cafe:2::/64', ipv6_ra_mode: 'dhcpv6-stateless', ipv6_address_mode: 'dhcpv6-stateless', dns_nameservers: ['2001:db8:cafe:a::e'] } },
  { name: 'dhcpv6-stateful', subnet: { ip_version: 6, cidr: '2001:db8:cafe:1::/64', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful', dns_nameservers: ['2001:db8:cafe:a::e'] } },
  { name: 'static-ipv6', subnet: { ip_version: 6, cidr: '2001:db8:cafe:3::/64', enable_dhcp: false, gateway_ip: '2001:db8:cafe:3::1', dns_nameservers: ['2001:db8:cafe:a::e'] }, fixedIp: '2001:db8:cafe:3::10' },
  { name: 'ipv4-dhcp', subnet: { ip_version: 4, cidr: '192.0.2.0/24', gateway_ip: '192.0.2.1', dns_nameservers: ['192.0.2.53'] }, fixedIp: '192.0.2.10' },
];

/** What cloud-init writes for this network_data.json: file (relative to the output root) -> content, comments dropped. */
function netConvert(ndPath: string, out: string, kind: 'eni' | 'netplan' | 'sysconfig'): Map<string, string> {
  rmSync(out, { recursive: true, force: true });
  const distro = kind === 'sysconfig' ? 'rhel' : kind === 'netplan' ? 'ubuntu' : 'debian';
  const r = sh(['cloud-init', 'devel', 'net-convert', '-p', ndPath, '-k', 'network_data.json', '-d', out, '-D', distro, '-O', kind, '-m', `eth0,${MAC}`]);
  assert.equal(r.status, 0, r.stderr);
  const want = kind === 'eni' ? ['etc/network/interfaces.d/50-cloud-init'] : kind === 'netplan' ? ['etc/netplan/50-cloud-init.yaml'] : ['etc/sysconfig/network-scripts/ifcfg-eth0', 'etc/resolv.conf'];
  return new Map(want.map((f) => [f, readFileSync(join(out, f), 'utf8').split('\n').filter((l) => !l.startsWith('#') && !l.startsWith('; ')).join('\n').trim() + '\n']));
}

test('config drive per mode: cloud-init reads the ISO (ConfigDrive) and converts network_data.json into the talk\'s guest configuration', { skip, timeout: 300_000 }, async (t) => {
  if (!ISOFS) t.diagnostic('this kernel has no iso9660: the image is unpacked with xorriso -osirrox instead of loop-mounted');
  const dir = mkdtempSync(join(tmpdir(), 'v6stack-config-drive-it-'));
  const port = await freePort();
  const server = await spawnServer(`sqlite:${join(dir, 'v6stack.db')}`, port);
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  let mounted = false;
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(server.url + path, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const cli = (args: string[]) => sh([process.execPath, 'dist/src/cli/main.js', '--os-endpoint', server.url, ...args]);
  try {
    const userData = '#cloud-config\nfqdn: vm1.example.com\nusers:\n  - name: cloud\n    ssh_authorized_keys:\n      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKvm1 cloud@example\n';
    writeFileSync(join(dir, 'user-data'), userData);
    for (const mode of MODES) {
      const net = (await api('POST', '/v2.0/networks', { network: { name: `net-${mode.name}` } })).network;
      const subnet = (await api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, name: `sub-${mode.name}`, ...mode.subnet } })).subnet;
      const p = (await api('POST', '/v2.0/ports', { port: { network_id: net.id, name: `vm1-${mode.name}`, mac_address: MAC, 'instance:metadata': { name: 'vm1' }, ...(mode.fixedIp ? { fixed_ips: [{ subnet_id: subnet.id, ip_address: mode.fixedIp }] } : {}) } })).port;
      const iso = join(dir, `${mode.name}.iso`);
      const made = cli(['config-drive', p.name, '-o', iso, '--user-data', join(dir, 'user-data')]);
      assert.equal(made.status, 0, made.stderr);
      // The volume label cloud-init looks for.
      assert.match(sh(['xorriso', '-indev', iso, '-pvd_info']).stdout + sh(['xorriso', '-indev', iso, '-pvd_info']).stderr, /Volume Id\s*:\s*config-2/);

      // Loop-mounted where the kernel reads ISO 9660; otherwise (a container without isofs) the image is unpacked
      // by xorriso's own reader, so cloud-init still reads what the image holds, not our source files.
      if (ISOFS) {
        const m = sh(['mount', '-o', 'loop,ro', iso, mnt]);
        assert.equal(m.status, 0, `loop mount: ${m.stderr}`);
        mounted = true;
      } else {
        rmSync(mnt, { recursive: true, force: true });
        const x = sh(['xorriso', '-osirrox', 'on', '-indev', iso, '-extract', '/', mnt]);
        assert.equal(x.status, 0, x.stderr);
      }
      const read = sh([CLOUD_INIT_PYTHON, '-c', [
        'import json, sys',
        'from cloudinit.sources import DataSourceConfigDrive as ds',
        'r = ds.read_config_drive(sys.argv[1])',
        'print(json.dumps({"uuid": r["metadata"].get("uuid"), "hostname": r["metadata"].get("hostname"), "userdata": r["userdata"].decode() if isinstance(r["userdata"], bytes) else r["userdata"], "networkdata": r["networkdata"], "version": r.get("version")}))',
      ].join('\n'), mnt]);
      assert.equal(read.status, 0, read.stderr);
      const got = JSON.parse(read.stdout);
      assert.equal(got.uuid, p.id);
      assert.equal(got.hostname, 'vm1');
      assert.equal(got.userdata, userData);
      assert.equal(got.version, 2, 'read as an OpenStack v2 drive (openstack/latest)');
      const ndPath = join(dir, `${mode.name}.network_data.json`);
      writeFileSync(ndPath, readFileSync(join(mnt, 'openstack/latest/network_data.json')));
      assert.deepEqual(got.networkdata, JSON.parse(readFileSync(ndPath, 'utf8')));
      assert.deepEqual(readdirSync(join(mnt, 'openstack/latest')).sort(), ['meta_data.json', 'network_data.json', 'user_data', 'vendor_data.json', 'vendor_data2.json']);
      if (mounted) {
        assert.equal(sh(['umount', mnt]).status, 0);
        mounted = false;
      } else {
        sh(['chmod', '-R', 'u+w', mnt]);
        rmSync(mnt, { recursive: true, force: true });
        mkdirSync(mnt);
      }

      // cloud-init's conversions, against the golden files and the talk's guest files.
      const outputs = new Map<string, string>();
      for (const kind of ['eni', 'netplan', 'sysconfig'] as const) for (const [f, c] of netConvert(ndPath, join(dir, `out-${mode.name}-${kind}`), kind)) outputs.set(`${kind}/${f.split('/').pop()}`, c);
      for (const [name, content] of outputs) {
        const golden = join(GOLDEN, mode.name, name);
        if (process.env.UPDATE_GOLDEN) {
          mkdirSync(join(GOLDEN, mode.name, name.split('/')[0]!), { recursive: true });
          writeFileSync(golden, content);
        }
        assert.ok(existsSync(golden), `golden file ${golden} (UPDATE_GOLDEN=1 writes it)`);
        assert.equal(content, readFileSync(golden, 'utf8'), `${mode.name} ${name}`);
      }
      const eni = outputs.get('eni/50-cloud-init')!;
      const ifcfg = outputs.get('sysconfig/ifcfg-eth0')!;
      const s = { ...mode.subnet, enable_dhcp: mode.subnet.enable_dhcp !== false } as never;
      // The talk's Ubuntu stanza for the mode is what cloud-init writes (static IPv6 has none in the talk).
      if (mode.name !== 'static-ipv6') {
        for (const line of guestConfig('ubuntu', [s]).content.split('\n').filter((l) => l.startsWith('iface') || l.trim() === 'dhcp 1')) assert.ok(eni.split('\n').map((l) => l.trim()).includes(line.trim()), `${mode.name}: eni has "${line.trim()}"\n${eni}`);
        // The talk's RHEL variables (cloud-init writes them unquoted).
        for (const line of guestConfig('rhel', [s]).content.split('\n').filter((l) => /^(IPV6INIT|DHCPV6C|DHCPV6C_OPTIONS)=/.test(l))) assert.ok(ifcfg.split('\n').includes(line.replaceAll('"', '')), `${mode.name}: ifcfg has ${line}\n${ifcfg}`);
      }
    }
  } finally {
    if (mounted) sh(['umount', '-l', mnt]);
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
