// `v6stack lab boot|delete|exec`: lab instances (network namespaces standing in for VMs) on this host.
import { Option, type Command } from 'commander';
import { hostname } from 'node:os';
import { resolveEndpoint } from './http.js';
import { LabBootIncomplete, labBoot, labDelete, labExec } from '../lab/lab.js';
import { followDc, labDc } from '../lab/dc.js';
import { checkPdOptions, type PdServerKind } from '../lab/dc-pd.js';
import { decodeSummary, labCapture } from '../lab/lab-capture.js';
import { writeGuestResolvConf } from '../lab/lab-show.js';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { GUEST_OSES, type GuestOs } from '../lab/guest-os.js';

interface LabCliOptions {
  server?: string;
  host: string;
  stateDir: string;
}

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('lab instances: network namespaces with a real port, plugged into a network');
  const common = (c: Command): Command =>
    c
      .option('--server <url>', 'v6stack API endpoint (env OS_ENDPOINT or V6STACK_URL)')
      .option('--host <name>', "the agent's host name (whose bridges to plug into)", hostname())
      .option('--state-dir <dir>', 'where dhclient files go', (d: string) => resolve(d), '/run/v6stack/lab'); // absolute: dhclient and radvd chdir to /
  common(lab.command('boot').description('plug an instance into a network: a namespace lab-NAME whose eth0 carries a port (a new one on --network, or an existing --port)'))
    .option('--network <net>', 'network id or name (a new port is made on it)')
    .option('--port <port>', 'an existing port id or name to plug, as `openstack server create --port` (its MAC, so its EUI-64 address); the name defaults to the port\'s')
    .option('--name <name>', 'instance name (default: the port\'s name with --port, else i<pid>)')
    .option('--ip <address>', "the port's fixed IP (default: IPAM picks)")
    .option('--mac <address>', "the port's MAC address (default: Neutron's fa:16:3e:xx:xx:xx)")
    .addOption(new Option('--os <os>', "the guest's network configuration (the talk's files): ubuntu (/etc/network/interfaces) or rhel (ifcfg-eth0)").choices([...GUEST_OSES]).default('ubuntu'))
    .option('--capture', 'capture eth0 from before it comes up (see `lab capture`)')
    .option('--timeout <s>', 'give up after this many seconds in all, saying what was missing (env V6STACK_LAB_TIMEOUT)', process.env.V6STACK_LAB_TIMEOUT ?? '60')
    .action(async (o: LabCliOptions & { network?: string; port?: string; name?: string; ip?: string; mac?: string; os: GuestOs; capture?: boolean; timeout: string }) => {
      if (!o.network === !o.port) throw new Error(`lab boot: give either --network NET (a new port) or --port PORT (an existing one)${o.network ? ', not both' : ''}`);
      const timeout = Number(o.timeout);
      if (!(timeout > 0)) throw new Error(`--timeout must be a positive number of seconds, not ${o.timeout}`);
      const name = o.name ?? (o.port ? '' : `i${process.pid}`);
      const port = await labBoot({ server: resolveEndpoint(o.server), host: o.host, stateDir: o.stateDir }, o.network ?? '', name, {
        ...(o.ip ? { fixedIps: [{ ip_address: o.ip }] } : {}),
        ...(o.mac ? { mac: o.mac } : {}),
        ...(o.port ? { port: o.port } : {}),
        os: o.os,
        timeoutMs: timeout * 1000,
        ...(o.capture ? { capture: true } : {}),
      }).catch((e: unknown) => {
        // An instance kept after an incomplete boot still gets the resolv.conf of what it did receive.
        if (e instanceof LabBootIncomplete) writeGuestResolvConf(o.stateDir, e.instance);
        throw e;
      });
      const ns = String(port.device_id);
      writeGuestResolvConf(o.stateDir, ns.replace(/^lab-/, ''));
      console.log(JSON.stringify({ name: ns.replace(/^lab-/, ''), namespace: ns, port_id: port.id, mac_address: port.mac_address, fixed_ips: port.fixed_ips }));
    });
  common(lab.command('dc').description("build or refresh the data centre beyond an external network: the upstream router owning its subnets' gateways, hosts behind it, routes back to the tenants"))
    .requiredOption('--network <net>', 'external network id or name')
    .option('--name <name>', 'namespace lab-NAME', 'dc')
    .option('--behind <address...>', 'addresses of hosts behind the upstream router (the talk: the DNS host 2001:db8:cafe:a::e)', [])
    .option('--follow', 'stay and refresh the DC on every change the API reports (one JSON line each), until SIGINT/SIGTERM')
    .option('--pd-pool <prefix>', 'run a DHCPv6-PD server on the external network delegating prefixes from this pool (e.g. 2001:db8:face::/48)')
    .option('--pd-length <n>', 'the delegated prefix length', '64')
    .option('--pd-server <kind>', 'the delegating server: kea (kea-dhcp6-server) or dibbler (dibbler-server)', 'kea')
    .option('--pd-timers <t1,t2,preferred,valid>', 'the T1, T2 and lifetimes it hands out, in seconds (default 1800,2880,3600,7200)')
    .action(async (o: LabCliOptions & { network: string; name: string; behind: string[]; follow?: boolean; pdPool?: string; pdLength: string; pdServer: string; pdTimers?: string }) => {
      const lab = { server: resolveEndpoint(o.server), host: o.host, stateDir: o.stateDir };
      const timers = o.pdTimers?.split(',').map(Number);
      const pd = o.pdPool
        ? { server: o.pdServer as PdServerKind, pool: o.pdPool, length: Number(o.pdLength), ...(timers ? { timers: { t1: timers[0]!, t2: timers[1]!, preferred: timers[2]!, valid: timers[3]! } } : {}) }
        : undefined;
      if (pd) checkPdOptions(pd);
      const print = (plan: object): void => console.log(JSON.stringify({ name: o.name, namespace: `lab-${o.name}`, ...plan }));
      if (!o.follow) return print(await labDc(lab, o.network, o.name, o.behind, pd));
      const stop = new AbortController();
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
      await followDc(lab, o.network, o.name, o.behind, stop.signal, print, pd);
    });
  common(lab.command('capture').description("a pcap of what lab instance NAME saw: stops the capture `boot --capture` started, or records --seconds"))
    .argument('<name>')
    .option('--seconds <n>', 'how long to record when no capture is running', '10')
    .option('--write <file>', 'copy the pcap there')
    .option('--filter <expr>', 'tcpdump filter when recording (e.g. "icmp6 or udp port 546")')
    .option('--decode', 'print one line per packet (tshark)')
    .action(async (name: string, o: LabCliOptions & { seconds: string; write?: string; filter?: string; decode?: boolean }) => {
      const ns = `lab-${name}`;
      if (spawnSync('ip', ['netns', 'exec', ns, 'true']).status !== 0) throw new Error(`no lab instance ${name} (namespace ${ns})`);
      const seconds = Number(o.seconds);
      if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, not ${o.seconds}`);
      const pcap = await labCapture(ns, join(o.stateDir, name), { seconds, ...(o.write ? { write: o.write } : {}), ...(o.filter ? { filter: o.filter.split(/\s+/) } : {}) });
      console.log(pcap);
      if (o.decode) {
        const lines = decodeSummary(pcap);
        console.log(lines === null ? '(install tshark to decode: apt-get install tshark)' : lines.trim() ? lines : '(no packets captured)');
      }
    });
  common(lab.command('show').description('what lab instance NAME has: its port beside the kernel addresses, routes, RA, DNS and leases it really got'))
    .argument('<name>')
    .option('-f, --format <fmt>', 'table or json', 'table')
    .action(async (name: string, o: LabCliOptions & { format: string }) => {
      const ns = `lab-${name}`;
      if (spawnSync('ip', ['netns', 'exec', ns, 'true']).status !== 0) throw new Error(`no lab instance ${name} (namespace ${ns})`);
      const server = resolveEndpoint(o.server);
      const res = await fetch(`${server}/v2.0/ports?device_id=${encodeURIComponent(ns)}`);
      if (!res.ok) throw new Error(`GET ports: ${res.status} ${await res.text()}`);
      const port = ((await res.json()) as { ports: any[] }).ports[0] ?? null;
      const seen = writeGuestResolvConf(o.stateDir, name);
      if (o.format === 'json') return console.log(JSON.stringify({ port, ...seen }, null, 2));
      const api = port ? (port.fixed_ips as { ip_address: string }[]).map((f) => f.ip_address) : [];
      const have = [...seen.ipv4, ...seen.ipv6];
      const rows: [string, string][] = [
        ['port', port ? `${port.id} (${port.mac_address}) ${port.status}${port.admin_state_up === false ? ', admin down' : ''}` : '(none: deleted?)'],
        ['eth0 MAC', seen.mac ?? '(no eth0)'],
        ['API addresses', api.join('\n') || '-'],
        ['kernel addresses', have.join('\n') || '-'],
        ['agree', api.length && api.every((a) => have.includes(a)) && have.every((a) => api.includes(a)) ? 'yes' : 'NO'],
        ['IPv6 default router', seen.router6 ?? '-'],
        ['IPv4 default router', seen.router4 ?? '-'],
        ['RA', seen.ra],
        ['DNS servers', seen.dns.join(' ') || '-'],
        ['search list', seen.search || '-'],
        ['DHCPv6 lease', seen.lease6 ? `${seen.lease6.address} preferred ${seen.lease6.preferred} s, valid ${seen.lease6.valid} s` : '-'],
        ['guest file', seen.guestFile ? `${seen.guestFile.path}\n${seen.guestFile.content.trimEnd()}` : '-'],
        ['capture', seen.capture ?? '-'],
      ];
      const w = Math.max(...rows.map((r) => r[0].length));
      for (const [k, v] of rows) v.split('\n').forEach((line, i) => console.log(`${(i ? '' : k).padEnd(w)}  ${line}`));
    });
  common(lab.command('delete').description('delete lab instance or DC NAME: its namespace, daemons (dhclient, a DC\'s radvd) and port'))
    .argument('<name>')
    .action(async (name: string, o: LabCliOptions) => labDelete({ server: resolveEndpoint(o.server), host: o.host, stateDir: o.stateDir }, name));
  lab
    .command('exec')
    .description('run a command in lab instance NAME (lab exec NAME -- CMD...)')
    .argument('<name>')
    .argument('<cmd...>')
    .action((name: string, cmd: string[]) => {
      process.exitCode = labExec(name, cmd);
    });
}
