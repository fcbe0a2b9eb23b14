// `v6stack server`: the Neutron v2.0 API on the store a URL names. `v6stack up`: the one-command start on one host,
// the API on the embedded store plus this host's data-plane agent (when the host can run it: root, iproute2, radvd).
import { Option, type Command } from 'commander';
import { aptInstallLine, missingTools } from '../agent/host-tools.js';
import { hostname } from 'node:os';
import { liveAgent } from '../agent/host-state.js';
import { upStateDir } from './host.js';
import { Agent } from '../agent/agent.js';
import { ApiServer, MAX_REQUEST_BODY_SIZE } from '../api/server.js';
import { DEFAULT_DB_PATH, openStore } from '../store/index.js';
import { DEFAULT_MTU_CONFIG, type OverlayIpVersion } from '../domain/mtu.js';
import { AGENT_DOWN_TIME_MS } from '../api/resources/agents.js';
import { IPV6_MIN_MTU } from '../domain/ipv6/index.js';
import { DEFAULT_HA_SETTINGS, haCidrProblem } from '../domain/ha.js';
import { DEFAULT_DHCP_SCHEDULER } from '../api/dhcp-agent-scheduler.js';
import { NETWORK_TYPES } from '../api/resources/networks.js';
import { keystoneAuth, DEFAULT_TOKEN_CACHE_TIME_S } from '../api/auth/keystone.js';
import type { Authenticator } from '../api/context.js';
import { randomBytes } from 'node:crypto';

/**
 * `--auth-strategy keystone`: the Authenticator from the keystone_authtoken options, checked before anything
 * listens. The service password and the agents' secret come from the environment (V6STACK_KEYSTONE_PASSWORD,
 * V6STACK_AGENT_SECRET), never the command line, where `ps` shows them. `up` gives its own agent a fresh secret.
 */
function keystoneAuthenticator(opts: ServerOptions, withAgent: boolean): { authenticate: Authenticator; agentSecret?: string } {
  const missing = [
    ['--auth-url', opts.authUrl],
    ['--keystone-username', opts.keystoneUsername],
    ['V6STACK_KEYSTONE_PASSWORD (environment)', process.env.V6STACK_KEYSTONE_PASSWORD],
  ].filter(([, v]) => !v).map(([n]) => n);
  if (missing.length) throw new Error(`--auth-strategy keystone needs ${missing.join(', ')} (Neutron's [keystone_authtoken] auth_url, username, password)`);
  for (const [flag, value] of [['--auth-url', opts.authUrl], ['--www-authenticate-uri', opts.wwwAuthenticateUri]] as const) {
    if (value === undefined) continue;
    let u: URL | undefined;
    try {
      u = new URL(value);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new Error(`${flag} must be an http(s) URL of Keystone, not ${JSON.stringify(value)}`);
  }
  const cacheTime = Number(opts.tokenCacheTime);
  if (!Number.isFinite(cacheTime) || cacheTime < 0) throw new Error(`--token-cache-time must be a number of seconds (0: no cache), not ${opts.tokenCacheTime}`);
  const agentSecret = process.env.V6STACK_AGENT_SECRET || (withAgent ? randomBytes(24).toString('base64url') : undefined);
  const authenticate = keystoneAuth({
    authUrl: opts.authUrl!,
    ...(opts.wwwAuthenticateUri ? { wwwAuthenticateUri: opts.wwwAuthenticateUri } : {}),
    username: opts.keystoneUsername!,
    password: process.env.V6STACK_KEYSTONE_PASSWORD!,
    projectName: opts.keystoneProjectName,
    userDomainName: opts.keystoneUserDomainName,
    projectDomainName: opts.keystoneProjectDomainName,
    tokenCacheTime: cacheTime,
    ...(agentSecret ? { agentSecret } : {}),
    agentProjectId: opts.projectId,
  });
  return { authenticate, ...(agentSecret ? { agentSecret } : {}) };
}
import { NEUTRON_DEFAULT_QUOTAS, QUOTA_MAX, QUOTA_RESOURCES } from '../api/quotas.js';

/** commander's camel-case key of --quota-<resource> (--quota-security-group-rule → quotaSecurityGroupRule). */
const quotaOptionKey = (r: string): string => `quota${r.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`;

interface ServerOptions {
  port: string;
  host: string;
  db: string;
  projectId: string;
  logRequests?: boolean;
  agent?: boolean;
  globalPhysnetMtu: string;
  overlayIpVersion: string;
  agentDownTime: string;
  maxRequestBodySize: string;
  l3Ha?: boolean;
  maxL3AgentsPerRouter: string;
  dhcpAgentsPerNetwork: string;
  networkAutoSchedule: boolean;
  l3HaNetCidr: string;
  l3HaNetworkType?: string;
  ipv6PdEnabled?: boolean;
  enableNdpProxyByDefault?: boolean;
  authStrategy: string;
  authUrl?: string;
  wwwAuthenticateUri?: string;
  keystoneUsername?: string;
  keystoneProjectName: string;
  keystoneUserDomainName: string;
  keystoneProjectDomainName: string;
  tokenCacheTime: string;
}

/** Why this host cannot run the data-plane agent, or null when it can: every program the agent runs is checked. */
function agentUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root (network namespaces need it)';
  const missing = missingTools(['agent']);
  if (missing.length) return `${missing.map((t) => `${t.program} (Debian package ${t.debianPackage})`).join(', ')} not installed: ${aptInstallLine(missing)}, or \`v6stack install-deps\``;
  return null;
}

async function runServer(opts: ServerOptions, withAgent: boolean): Promise<void> {
  if (withAgent) {
    // Before anything listens: a second `up` for this host refuses, rather than share its bridge namespace.
    const other = liveAgent(upStateDir(hostname()), hostname());
    if (other) throw new Error(`v6stack up: another v6stack agent for host ${hostname()} is already running (pid ${other.pid}; ${other.how}). Stop it (Ctrl-C in its shell, or \`v6stack down\`), or run the API alone with --no-agent`);
  }
  const auth = opts.authStrategy === 'keystone' ? keystoneAuthenticator(opts, withAgent) : undefined;
  const store = await openStore(opts.db);
  const globalPhysnetMtu = Number(opts.globalPhysnetMtu);
  if (!Number.isInteger(globalPhysnetMtu) || globalPhysnetMtu < IPV6_MIN_MTU) throw new Error(`--global-physnet-mtu must be an integer of at least ${IPV6_MIN_MTU} (IPv6's minimum link MTU), not ${opts.globalPhysnetMtu}`);
  const agentDownTime = Number(opts.agentDownTime);
  if (!(agentDownTime > 0)) throw new Error(`--agent-down-time must be a positive number of seconds, not ${opts.agentDownTime}`);
  const maxL3 = Number(opts.maxL3AgentsPerRouter);
  if (!Number.isSafeInteger(maxL3) || maxL3 < 0) throw new Error(`--max-l3-agents-per-router must be a non-negative integer (0: every L3 agent), not ${opts.maxL3AgentsPerRouter}`);
  const cidrProblem = haCidrProblem(opts.l3HaNetCidr);
  if (cidrProblem) throw new Error(`--l3-ha-net-cidr: ${cidrProblem}`);
  const ha = { l3Ha: opts.l3Ha === true, maxL3AgentsPerRouter: maxL3, l3HaNetCidr: opts.l3HaNetCidr, l3HaNetworkType: opts.l3HaNetworkType ?? DEFAULT_HA_SETTINGS.l3HaNetworkType };
  const quotas: Record<string, number> = {};
  for (const r of QUOTA_RESOURCES) {
    const given = (opts as unknown as Record<string, string>)[quotaOptionKey(r)] ?? String(NEUTRON_DEFAULT_QUOTAS[r]);
    const n = Number(given);
    if (!Number.isSafeInteger(n) || n < -1 || n > QUOTA_MAX) throw new Error(`--quota-${r.replaceAll('_', '-')} must be an integer from -1 (unlimited) to ${QUOTA_MAX}, not ${given}`);
    quotas[r] = n;
  }
  const perNetwork = Number(opts.dhcpAgentsPerNetwork);
  if (!Number.isSafeInteger(perNetwork) || perNetwork < 1) throw new Error(`--dhcp-agents-per-network must be a positive integer, not ${opts.dhcpAgentsPerNetwork}`);
  const dhcp = { agentsPerNetwork: perNetwork, networkAutoSchedule: opts.networkAutoSchedule !== false };
  const settings = { mtu: { globalPhysnetMtu, overlayIpVersion: Number(opts.overlayIpVersion) as OverlayIpVersion }, agentDownTimeMs: agentDownTime * 1000, ha, ipv6PdEnabled: opts.ipv6PdEnabled === true, enableNdpProxyByDefault: opts.enableNdpProxyByDefault === true, quotas, dhcp };
  const maxRequestBodySize = Number(opts.maxRequestBodySize);
  if (!Number.isSafeInteger(maxRequestBodySize) || maxRequestBodySize < 1) throw new Error(`--max-request-body-size must be a positive number of bytes, not ${opts.maxRequestBodySize}`);
  const api = new ApiServer({ store, defaultProjectId: opts.projectId, logRequests: opts.logRequests ?? false, settings, maxRequestBodySize, ...(auth ? { authenticate: auth.authenticate } : {}) });
  const { port } = await api.listen(Number(opts.port), opts.host).catch(async (e: NodeJS.ErrnoException) => {
    await store.close();
    if (e.code === 'EADDRINUSE') throw new Error(`v6stack: port ${opts.port} on ${opts.host} is already in use (another \`v6stack up\` or server? stop it, or choose another --port)`);
    throw e;
  });
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  console.log(`v6stack: Neutron v2.0 API on http://${shown}:${port}/v2.0 (store: ${store.dialect} ${opts.db.replace(/:[^:@/]*@/, ':***@')})`);
  if (auth) console.log(`v6stack: auth strategy keystone: tokens validated by ${opts.authUrl} as ${opts.keystoneUsername} (token cache ${opts.tokenCacheTime} s)`);
  let agent: Agent | undefined;
  if (withAgent) {
    const why = agentUnavailable();
    if (why) console.log(`v6stack: data-plane agent not started: ${why}; the API runs alone`);
    else {
      const host = hostname();
      const local = opts.host === '::' || opts.host.includes(':') ? `[${opts.host === '::' ? '::1' : opts.host}]` : opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
      // Absolute: dnsmasq chdirs to / before it writes its pid file (lab facts); a relative dir kept it restarting.
      const stateDir = upStateDir(host);
      agent = new Agent({ server: `http://${local}:${port}`, host, stateDir, ...(auth?.agentSecret ? { secret: auth.agentSecret } : {}) });
      console.log(`v6stack: data-plane agent for host ${host} (state in ${stateDir})`);
      const forTour = missingTools(['lab', 'tour']);
      if (forTour.length) console.log(`v6stack: the README tour also uses ${forTour.map((t) => t.program).join(', ')}: ${aptInstallLine(forTour)} (or \`v6stack install-deps\`)`);
      agent.start().catch((e: Error) => console.error(`v6stack: ERROR agent failed: ${e.message}`));
    }
  }
  const stop = async (signal: string): Promise<void> => {
    console.log(`v6stack: ${signal}, stopping`);
    await agent?.stop();
    await api.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

export function registerServerCommands(program: Command): void {
  for (const name of ['server', 'up']) {
    const cmd = program
      .command(name)
      .description(
        name === 'up'
          ? 'start v6stack on this host with the embedded store (one command, nothing to install)'
          : 'run the Neutron v2.0 API server',
      )
      .option('--port <port>', 'TCP port', process.env.V6STACK_PORT ?? '9696')
      .option('--host <address>', 'listen address (:: is every IPv6 and IPv4 address)', process.env.V6STACK_HOST ?? '::')
      .option('--db <url>', 'store: sqlite:PATH or postgres://user:pass@host/db', process.env.V6STACK_DB ?? `sqlite:${DEFAULT_DB_PATH}`)
      .option('--project-id <id>', 'project for requests that name none (noauth)', process.env.V6STACK_PROJECT_ID ?? 'default')
      .option('--log-requests', 'log one line per request')
      .option('--global-physnet-mtu <bytes>', "the underlay's MTU; tunnel networks get it less their encapsulation (Neutron's global_physnet_mtu)", process.env.V6STACK_GLOBAL_PHYSNET_MTU ?? String(DEFAULT_MTU_CONFIG.globalPhysnetMtu))
      .addOption(
        new Option('--overlay-ip-version <4|6>', "IP version of the agents' tunnel addresses: VXLAN costs 50 bytes over IPv4, 70 over IPv6 (Neutron's overlay_ip_version)")
          .choices(['4', '6'])
          .default(process.env.V6STACK_OVERLAY_IP_VERSION ?? String(DEFAULT_MTU_CONFIG.overlayIpVersion)),
      )
      .option('--agent-down-time <s>', "seconds without a heartbeat after which GET /v2.0/agents shows an agent dead (Neutron's agent_down_time)", String(AGENT_DOWN_TIME_MS / 1000))
      .option('--ipv6-pd-enabled', "IPv6 subnets made with use_default_subnetpool get prefix delegation (::/64 until the router's DHCPv6-PD client obtains a prefix; Neutron's ipv6_pd_enabled)", process.env.V6STACK_IPV6_PD_ENABLED === '1')
      .option('--enable-ndp-proxy-by-default', "a router whose gateway network has an IPv6 subnet and address scope gets enable_ndp_proxy true unless told otherwise (Neutron's enable_ndp_proxy_by_default)", process.env.V6STACK_ENABLE_NDP_PROXY_BY_DEFAULT === '1')
      .option('--max-request-body-size <bytes>', "larger request bodies are refused with 413 (oslo.middleware's max_request_body_size)", process.env.V6STACK_MAX_REQUEST_BODY_SIZE ?? String(MAX_REQUEST_BODY_SIZE))
      .option('--l3-ha', "routers created without `ha` are HA routers (Neutron's l3_ha)")
      .option('--dhcp-agents-per-network <n>', "DHCP agents a network is scheduled on (Neutron's dhcp_agents_per_network)", String(DEFAULT_DHCP_SCHEDULER.agentsPerNetwork))
      .option('--no-network-auto-schedule', "networks are hosted by DHCP agents only when an operator adds them (Neutron's network_auto_schedule = False)")
      .option('--max-l3-agents-per-router <n>', "L3 agents an HA router is scheduled on; 0: every live one (Neutron's max_l3_agents_per_router)", String(DEFAULT_HA_SETTINGS.maxL3AgentsPerRouter))
      .option('--l3-ha-net-cidr <cidr>', "the per-project HA network's subnet, where VRRP runs (Neutron's l3_ha_net_cidr)", DEFAULT_HA_SETTINGS.l3HaNetCidr)
      .addOption(new Option('--auth-strategy <strategy>', "noauth: every caller is an admin of X-Project-Id's project (one machine); keystone: X-Auth-Token validated by Keystone v3 (Neutron's auth_strategy)").choices(['noauth', 'keystone']).default(process.env.V6STACK_AUTH_STRATEGY ?? 'noauth'))
      .option('--auth-url <url>', "keystone: Keystone's identity endpoint, e.g. http://keystone:5000/v3 ([keystone_authtoken] auth_url)", process.env.V6STACK_AUTH_URL)
      .option('--www-authenticate-uri <url>', "keystone: the Keystone URL 401 answers send clients to (www_authenticate_uri; default --auth-url)", process.env.V6STACK_WWW_AUTHENTICATE_URI)
      .option('--keystone-username <name>', 'keystone: the service user that validates tokens (username; its password from V6STACK_KEYSTONE_PASSWORD)', process.env.V6STACK_KEYSTONE_USERNAME)
      .option('--keystone-project-name <name>', "keystone: the service user's project (project_name)", process.env.V6STACK_KEYSTONE_PROJECT_NAME ?? 'service')
      .option('--keystone-user-domain-name <name>', "keystone: the service user's domain (user_domain_name)", process.env.V6STACK_KEYSTONE_USER_DOMAIN_NAME ?? 'Default')
      .option('--keystone-project-domain-name <name>', "keystone: the service project's domain (project_domain_name)", process.env.V6STACK_KEYSTONE_PROJECT_DOMAIN_NAME ?? 'Default')
      .option('--token-cache-time <s>', 'keystone: seconds a validated token is trusted without asking Keystone again, never past its expiry; 0: ask every time (token_cache_time)', process.env.V6STACK_TOKEN_CACHE_TIME ?? String(DEFAULT_TOKEN_CACHE_TIME_S))
      .addOption(new Option('--l3-ha-network-type <type>', "the HA network's provider:network_type (Neutron's l3_ha_network_type; default: the tenant network type)").choices(NETWORK_TYPES.filter((t) => t !== 'flat' && t !== 'vlan')));
    // Neutron's [quotas] quota_<resource>; an environment variable V6STACK_QUOTA_<RESOURCE> sets the default too.
    for (const r of QUOTA_RESOURCES) {
      cmd.option(`--quota-${r.replaceAll('_', '-')} <n>`, `default limit of ${r.replaceAll('_', ' ')}s per project, -1: unlimited (Neutron's quota_${r})`, process.env[`V6STACK_QUOTA_${r.toUpperCase()}`] ?? String(NEUTRON_DEFAULT_QUOTAS[r]));
    }
    if (name === 'up') cmd.option('--no-agent', 'run the API alone, without this host\'s data-plane agent');
    cmd.action((opts: ServerOptions) => runServer(opts, name === 'up' && opts.agent !== false));
  }
}
