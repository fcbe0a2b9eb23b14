// `v6stack agent`: the data-plane agent of this host (src/agent), and the `lab` commands that plug test instances in.
import { Option, type Command } from 'commander';
import { HOST_ROLES, type HostRole } from '../agent/plan.js';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { resolveEndpoint } from './http.js';
import { Agent } from '../agent/agent.js';
import { registerLabCommands } from './lab.js';
import { IpAddress } from '../domain/ip.js';
import { DEFAULT_VRRP } from '../agent/keepalived.js';
import { DEFAULT_AVAILABILITY_ZONE } from '../domain/availability-zone.js';

const isIpv6 = (text: string): boolean => IpAddress.parse(text)?.version === 6;

interface AgentCliOptions {
  server?: string;
  host: string;
  stateDir?: string;
  /** --bgp: be this host's BGP dynamic routing agent. */
  bgp?: boolean;
  minRtrAdvInterval: string;
  maxRtrAdvInterval: string;
  resyncInterval: string;
  meteringInterval: string;
  role: HostRole;
  tunnelIp?: string;
  ipv6Gateway?: string;
  availabilityZone: string;
  reportInterval: string;
  haVrrpAdvertInt: string;
  haVrrpGarpMasterDelay: string;
  namespaceSuffix?: string;
}

export function registerAgentCommands(program: Command): void {
  program
    .command('agent')
    .description('run the data-plane agent: bridges, router namespaces, radvd and dnsmasq from the API state')
    .option('--server <url>', 'v6stack API endpoint (env OS_ENDPOINT or V6STACK_URL)')
    .option('--host <name>', 'this host name, as the agent reports itself', hostname())
    .option('--state-dir <dir>', 'daemon configs and the ledger of owned namespaces (default /var/lib/v6stack/agent-HOST)')
    .option('--min-rtr-adv-interval <s>', "radvd MinRtrAdvInterval (Neutron's default)", '30')
    .option('--max-rtr-adv-interval <s>', "radvd MaxRtrAdvInterval (Neutron's default)", '100')
    .addOption(new Option('--role <role>', 'all: this host runs everything; network: routers and DHCP among several hosts; compute: bridges for its own ports only').choices(HOST_ROLES).default('all'))
    .option('--availability-zone <name>', "this host's availability zone (Neutron's [AGENT] availability_zone): networks and routers hinted to other zones are not served here", DEFAULT_AVAILABILITY_ZONE)
    .option('--tunnel-ip <address>', "this host's underlay address: networks get VXLAN tunnels to the other agents' (Neutron's local_ip)")
    .option('--ipv6-gateway <address>', "the upstream router's IPv6 (link-local) address, for routers whose external network has no IPv6 gateway_ip (Neutron's ipv6_gateway); without it they learn the default route from the upstream RAs")
    .option('--resync-interval <s>', 'seconds between full resyncs (every collection fetched, every namespace read back)', '60')
    .option('--bgp', "also be this host's BGP dynamic routing agent: run a BIRD (Debian bird2) for each BGP speaker scheduled here")
    .option('--ha-vrrp-advert-int <s>', "HA routers: seconds between VRRP advertisements (VRRPv3, centiseconds); a failover takes about 3 x this (Neutron's ha_vrrp_advert_int, default 2 there)", String(DEFAULT_VRRP.advertInt))
    .option('--ha-vrrp-garp-master-delay <s>', "HA routers: seconds after becoming master before keepalived's second round of gratuitous ARPs / unsolicited NAs", String(DEFAULT_VRRP.garpMasterDelay))
    .option('--namespace-suffix <text>', 'appended to router namespace names, so the agents of several lab hosts can run the same HA router on one machine (e.g. @host-a)')
    .option('--metering-interval <s>', "seconds between readings of the metering counters, reported to the server (Neutron's metering agent measure_interval)", '30')
    .option('--report-interval <s>', "seconds between heartbeats (Neutron's report_interval; keep it well under the server's --agent-down-time)", '10')
    .action(async (o: AgentCliOptions) => {
      const advertInt = Number(o.haVrrpAdvertInt);
      const garpMasterDelay = Number(o.haVrrpGarpMasterDelay);
      // VRRPv3's interval is 12 bits of centiseconds (RFC 5798 5.2.7): 0.01 to 40.95 s.
      if (!(advertInt >= 0.01 && advertInt <= 40.95)) throw new Error(`--ha-vrrp-advert-int must be between 0.01 and 40.95 seconds, not ${o.haVrrpAdvertInt}`);
      if (!Number.isInteger(garpMasterDelay) || garpMasterDelay < 0) throw new Error(`--ha-vrrp-garp-master-delay must be a whole number of seconds, not ${o.haVrrpGarpMasterDelay}`);
      // Neutron's option has max_length 255; the server refuses a longer zone in every heartbeat.
      if (!o.availabilityZone || o.availabilityZone.length > 255) throw new Error(`--availability-zone must be 1 to 255 characters, not ${JSON.stringify(o.availabilityZone)}`);
      if (o.ipv6Gateway !== undefined && !isIpv6(o.ipv6Gateway)) throw new Error(`--ipv6-gateway must be an IPv6 address, not ${JSON.stringify(o.ipv6Gateway)}`);
      const agent = new Agent({
        server: resolveEndpoint(o.server),
        // A server with --auth-strategy keystone serves agents that present its secret (kept off the command line).
        ...(process.env.V6STACK_AGENT_SECRET ? { secret: process.env.V6STACK_AGENT_SECRET } : {}),
        host: o.host,
        stateDir: resolve(o.stateDir ?? `/var/lib/v6stack/agent-${o.host}`),
        resyncMs: Number(o.resyncInterval) * 1000,
        heartbeatMs: Number(o.reportInterval) * 1000,
        meteringMs: Number(o.meteringInterval) * 1000,
        role: o.role,
        availabilityZone: o.availabilityZone,
        ...(o.tunnelIp ? { tunnelIp: o.tunnelIp } : {}),
        ...(o.ipv6Gateway ? { ipv6Gateway: o.ipv6Gateway } : {}),
        vrrp: { advertInt, garpMasterDelay },
        ...(o.namespaceSuffix ? { namespaceSuffix: o.namespaceSuffix } : {}),
        radvd: { minRtrAdvInterval: Number(o.minRtrAdvInterval), maxRtrAdvInterval: Number(o.maxRtrAdvInterval) },
        ...(o.bgp ? { bgp: true } : {}),
      });
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        console.log(`agent: ${signal}, stopping`);
        void agent.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      await agent.start();
    });
  registerLabCommands(program);
}
