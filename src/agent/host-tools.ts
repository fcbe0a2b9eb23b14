// The programs v6stack runs on a host, and the Debian package of each: the agent's (without them it cannot run),
// and the lab's and the README tour's (without them `lab boot`, `lab capture` or a tour command fails). The start-up
// check and `v6stack install-deps` read this one list, so nothing the agent runs can be forgotten by the check.

import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export interface HostTool {
  program: string;
  debianPackage: string;
  /**
   * agent: the data-plane agent runs it; lab: `lab boot/capture/show`; tour: the README's commands; bgp: the agent's
   * BGP speakers (optional: without it the agent does not offer itself as a BGP dynamic routing agent).
   */
  neededBy: 'agent' | 'lab' | 'tour' | 'bgp';
}

export const HOST_TOOLS: readonly HostTool[] = [
  { program: 'ip', debianPackage: 'iproute2', neededBy: 'agent' },
  { program: 'bridge', debianPackage: 'iproute2', neededBy: 'agent' },
  { program: 'sysctl', debianPackage: 'procps', neededBy: 'agent' },
  { program: 'radvd', debianPackage: 'radvd', neededBy: 'agent' },
  { program: 'dnsmasq', debianPackage: 'dnsmasq-base', neededBy: 'agent' },
  { program: 'bird', debianPackage: 'bird2', neededBy: 'bgp' },
  { program: 'nft', debianPackage: 'nftables', neededBy: 'agent' },
  // A router's IPv4 NAT (features/nat.ts): the flows of a moved floating IP, the gratuitous ARP.
  { program: 'conntrack', debianPackage: 'conntrack', neededBy: 'agent' },
  { program: 'arping', debianPackage: 'iputils-arping', neededBy: 'agent' },
  { program: 'keepalived', debianPackage: 'keepalived', neededBy: 'agent' },
  { program: 'dhclient', debianPackage: 'isc-dhcp-client', neededBy: 'lab' },
  { program: 'tcpdump', debianPackage: 'tcpdump', neededBy: 'lab' },
  { program: 'ping', debianPackage: 'iputils-ping', neededBy: 'lab' },
  { program: 'rdisc6', debianPackage: 'ndisc6', neededBy: 'tour' },
  { program: 'tshark', debianPackage: 'tshark', neededBy: 'tour' },
  { program: 'openstack', debianPackage: 'python3-openstackclient', neededBy: 'tour' },
  { program: 'neutron', debianPackage: 'python3-neutronclient', neededBy: 'tour' },
  // The tour's instance view and the lab DC's delegating server (README: metadata, config drive, prefix delegation).
  { program: 'curl', debianPackage: 'curl', neededBy: 'tour' },
  { program: 'xorriso', debianPackage: 'xorriso', neededBy: 'tour' },
  { program: 'kea-dhcp6', debianPackage: 'kea-dhcp6-server', neededBy: 'tour' },
];

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Whether `program` is an executable on PATH (or in the sbin directories a root shell has). */
export function onPath(program: string, path = process.env.PATH ?? ''): boolean {
  return [...path.split(':').filter(Boolean), ...SEARCH].some((d) => {
    try {
      accessSync(join(d, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The tools of `needs` that `has` says are missing. */
export function missingTools(needs: HostTool['neededBy'][], has: (program: string) => boolean = onPath): HostTool[] {
  return HOST_TOOLS.filter((t) => needs.includes(t.neededBy) && !has(t.program));
}

/** Their Debian packages, each once, in the list's order. */
export const packagesOf = (tools: HostTool[]): string[] => [...new Set(tools.map((t) => t.debianPackage))];

/** The one command that installs them. */
export const aptInstallLine = (tools: HostTool[]): string => `apt-get install -y ${packagesOf(tools).join(' ')}`;
