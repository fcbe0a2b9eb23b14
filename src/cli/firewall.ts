// `v6stack firewall show PORT`: the security-group and port-security rules a port gets, as the agent compiles them
// (domain/firewall.ts) from the API's ports, groups and rules; with --kernel, also what the port's host holds in its
// bridge namespace (`nft list chain …`), when that host is this machine.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { allocateMarks, chainNames, compileFirewall, describePort, FW_TABLE, isFiltered, type FwGroup, type FwPort, type FwRule } from '../domain/firewall.js';
import { bridgeName, bridgeNsName, tapName } from '../agent/model.js';
import { NeutronClient, PORT, SECURITY_GROUP, SECURITY_GROUP_RULE, resolveEndpoint } from './http.js';

export function registerFirewallCommands(program: Command): void {
  const fw = program.command('firewall').description("security groups and port security as the agent enforces them");
  fw.command('show <port>')
    .description('list the nftables rules and sets a port gets (anti-spoofing, fixed ICMPv6/DHCP rules, its groups)')
    .option('--server <url>', 'v6stack API endpoint (env OS_ENDPOINT or V6STACK_URL)')
    .option('--kernel', "also list the port's chains from its host's bridge namespace (when that host is this machine)")
    .action(async (portId: string, o: { server?: string; kernel?: boolean }) => {
      const client = new NeutronClient(resolveEndpoint(o.server));
      const [ports, groups, rules] = await Promise.all([client.list(PORT), client.list(SECURITY_GROUP), client.list(SECURITY_GROUP_RULE)]);
      const port = (ports as unknown as FwPort[]).find((p) => p.id === portId || (p as unknown as { name?: string }).name === portId);
      if (!port) throw new Error(`No Port found for ${portId}`);
      if (!isFiltered(port)) {
        console.log(`port ${port.id}: no filtering (${port.port_security_enabled === false ? 'port_security_enabled is false' : `device_owner ${port.device_owner} is trusted`})`);
        return;
      }
      const plan = compileFirewall({
        ports: ports as unknown as FwPort[],
        groups: groups as unknown as FwGroup[],
        rules: rules as unknown as FwRule[],
        local: [{ port, tap: tapName(port.id), bridge: bridgeName(port.network_id) }],
        marks: allocateMarks([port.id], new Map()),
      });
      console.log(`# port ${port.id} (tap ${tapName(port.id)}, host ${port['binding:host_id'] || '-'}); the mark is the host's, shown here as 1`);
      process.stdout.write(describePort(plan, port.id));
      if (o.kernel && port['binding:host_id']) {
        const ns = bridgeNsName(port['binding:host_id']);
        const c = chainNames(port.id);
        console.log(`# in the kernel (${ns})`);
        for (const [family, chain] of [['bridge', c.spoof], ['inet', c.egress], ['inet', c.ingress]] as const) {
          const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', family, FW_TABLE, chain], { encoding: 'utf8' });
          process.stdout.write(r.status === 0 ? r.stdout : `${family} ${chain}: ${r.stderr.trim()}\n`);
        }
      }
    });
}
