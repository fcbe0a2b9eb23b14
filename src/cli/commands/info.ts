// `extension list`, `network agent list` and `availability zone list`, as the openstack client names them.
import type { Command } from 'commander';
import type { OutputOptions } from '../format.js';
import { queryString, type Shown } from '../http.js';
import type { Agent } from '../../schema/index.js';
import { AGENT_LIST, AVAILABILITY_ZONE_LIST, AVAILABILITY_ZONE_LIST_LONG, EXTENSION_LIST, EXTENSION_LIST_LONG } from '../views.js';
import { clientOf, printList, withOutput } from './common.js';

const AGENT_TYPES: Record<string, string> = {
  bgp: 'BGP dynamic routing agent',
  dhcp: 'DHCP agent',
  'open-vswitch': 'Open vSwitch agent',
  'linux-bridge': 'Linux bridge agent',
  ofa: 'OFA driver agent',
  l3: 'L3 agent',
  loadbalancer: 'Loadbalancer agent',
  metering: 'Metering agent',
  metadata: 'Metadata agent',
  macvtap: 'Macvtap agent',
  nic: 'NIC Switch agent',
};

export function registerExtensionCommands(extension: Command): void {
  withOutput(
    extension
      .command('list')
      .description('list API extensions')
      .option('--network', 'list extensions for the Network API (the only one here)')
      .option('--long', 'list additional fields in output'),
  ).action(async (o: OutputOptions & { long?: boolean }, cmd: Command) => {
    const r = await clientOf(cmd).request('GET', 'extensions');
    printList(o.long ? EXTENSION_LIST_LONG : EXTENSION_LIST, (r?.extensions ?? []) as Shown[], o);
  });
}

export function registerAgentCommands(agent: Command): void {
  withOutput(
    agent
      .command('list')
      .description('list network agents')
      .option('--agent-type <agent-type>', `list only agents with the specified agent type (${Object.keys(AGENT_TYPES).join(', ')})`)
      .option('--host <host>', 'list only agents running on the specified host'),
  ).action(async (o: OutputOptions & { agentType?: string; host?: string }, cmd: Command) => {
    const q = { agent_type: o.agentType === undefined ? undefined : (AGENT_TYPES[o.agentType] ?? o.agentType), host: o.host };
    const r = await clientOf(cmd).request('GET', `agents${queryString(q)}`);
    printList(AGENT_LIST, (r?.agents ?? []) as Agent[], o);
  });
}

/**
 * `availability zone list` (python-openstackclient's, network zones only: v6stack has no compute or volume service):
 * Zone Name and Zone Status, with --long the resource (network or router) each row is for.
 */
export function registerAvailabilityZoneCommands(zone: Command): void {
  withOutput(
    zone
      .command('list')
      .description('list availability zones and their status')
      .option('--network', 'list network availability zones (the only ones here)')
      .option('--long', 'list additional fields in output'),
  ).action(async (o: OutputOptions & { long?: boolean }, cmd: Command) => {
    const r = await clientOf(cmd).request('GET', 'availability_zones');
    printList(o.long ? AVAILABILITY_ZONE_LIST_LONG : AVAILABILITY_ZONE_LIST, (r?.availability_zones ?? []) as Shown[], o);
  });
}
