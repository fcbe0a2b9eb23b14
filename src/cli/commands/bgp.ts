// `v6stack bgp why <subnet>` and `v6stack bgp routes <speaker>`: what a BGP speaker advertises, and why a tenant subnet
// is not advertised (an address scope that differs from the gateway network's, no gateway, the other IP version...),
// where Neutron stays silent. Both read the API (GET …/get_advertised_routes, v6stack's GET …/route_explanations).
import type { Command } from 'commander';
import type { OutputOptions } from '../format.js';
import { CliError, SUBNET, type ResourceType, type Shown } from '../http.js';
import type { Column } from '../format.js';
import { clientOf, printList, withOutput } from './common.js';

const BGP_SPEAKER: ResourceType = { path: 'bgp-speakers', singular: 'bgp_speaker', label: 'BgpSpeaker' };

const WHY: Column[] = [
  { name: 'Speaker', key: 'speaker' },
  { name: 'Subnet', key: 'cidr' },
  { name: 'Advertised', key: 'advertised' },
  { name: 'Next hops', key: 'next_hops', fmt: 'list' },
  { name: 'Why not', key: 'why' },
];
const ROUTES: Column[] = [
  { name: 'Destination', key: 'destination' },
  { name: 'Nexthop', key: 'next_hop' },
];

export function registerBgpCommands(bgp: Command): void {
  withOutput(
    bgp
      .command('why')
      .argument('<subnet>', 'subnet (name or ID)')
      .option('--speaker <speaker>', 'only this BGP speaker (name or ID); default: every speaker')
      .description('say whether each BGP speaker advertises a subnet, with which next hops, and if not, why'),
  ).action(async (subnet: string, o: OutputOptions & { speaker?: string }, cmd: Command) => {
    const client = clientOf(cmd);
    const subnetId = await client.findId(SUBNET, subnet);
    const speakers = o.speaker ? [await client.find(BGP_SPEAKER, o.speaker)] : await client.list(BGP_SPEAKER);
    if (speakers.length === 0) throw new CliError('No BGP speaker exists: nothing advertises any subnet (openstack bgp speaker create).');
    const rows: Shown[] = [];
    for (const s of speakers) {
      const r = await client.request('GET', `bgp-speakers/${encodeURIComponent(s.id)}/route_explanations?subnet_id=${encodeURIComponent(subnetId)}`);
      for (const e of (r?.route_explanations ?? []) as { subnet_id: string; cidr: string; advertised: boolean; next_hops: string[]; reasons: string[] }[]) {
        rows.push({ id: `${s.id}/${e.subnet_id}`, speaker: (s.name as string) || s.id, cidr: e.cidr, advertised: e.advertised, next_hops: e.next_hops, why: e.reasons.join('; ') });
      }
    }
    printList(WHY, rows, o);
  });

  withOutput(
    bgp
      .command('routes')
      .argument('<speaker>', 'BGP speaker (name or ID)')
      .description('list the routes a BGP speaker advertises (openstack bgp speaker list advertised routes)'),
  ).action(async (speaker: string, o: OutputOptions, cmd: Command) => {
    const client = clientOf(cmd);
    const id = await client.findId(BGP_SPEAKER, speaker);
    const r = await client.request('GET', `bgp-speakers/${encodeURIComponent(id)}/get_advertised_routes`);
    printList(ROUTES, ((r?.advertised_routes ?? []) as Shown[]), o);
  });
}
