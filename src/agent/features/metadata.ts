// Metadata: what an instance reads at http://[fe80::a9fe:a9fe%eth0]/ and http://169.254.169.254/. For each network
// this host serves (routed: in its router's qrouter- namespace; isolated with a DHCP server: in its qdhcp-
// namespace), a link `qm-<network id[:11]>` plugged into the network's bridge holds fe80::a9fe:a9fe (and, in a
// router, 169.254.169.254/32, which guests reach through their default router), and one metadata server per
// namespace (src/metadata/server.ts, supervised like radvd and dnsmasq) answers from a file this plan renders: the
// documents of every instance port on those networks, built by domain/network-data.ts. Why a link of its own and
// not an address on qr-/ns-: radvd would pick either link-local address of qr- as its RAs' source, and the guests'
// default router must stay the router's EUI-64 LLA (docs/dataplane.md, "What an instance sees"). PURE.

import { fileURLToPath } from 'node:url';
import { bridgeName, dhcpNsNetwork, routerNsName, type Action, type DaemonSpec, type LinkSpec, type PortDoc, type SubnetDoc } from '../model.js';
import { buildMetadataFiles, type NdPort, type NdSubnet } from '../../domain/network-data.js';
import { hostedRouters } from './l3.js';
import type { Feature } from './feature.js';

/** fe80::a9fe:a9fe, the IPv6 metadata address (Neutron's METADATA_V6_IP), on the metadata link. */
export const METADATA_V6 = 'fe80::a9fe:a9fe';
/** 169.254.169.254, the IPv4 metadata address. */
export const METADATA_V4 = '169.254.169.254';
export const metadataLinkName = (networkId: string): string => `qm-${networkId.slice(0, 11)}`;
/** The metadata link's bridge end (not `tap…`: that prefix is the ports' and l2 removes unknown ones). */
export const metadataTapName = (networkId: string): string => `mtap${networkId.slice(0, 11)}`;
/** A locally administered MAC per network (02:a9:fe + the id's first 24 bits): never a port's fa:16:3e MAC. */
export const metadataMac = (networkId: string): string => `02:a9:fe:${networkId.replaceAll('-', '').slice(0, 6).match(/../g)!.join(':')}`;

/** The compiled server this feature starts (dist/src/metadata/server.js beside dist/src/agent/). */
export const METADATA_SERVER_JS = fileURLToPath(new URL('../../metadata/server.js', import.meta.url));

/** Ports that are instances (not a router's, a DHCP server's or another network:* owner's). */
const isInstancePort = (p: PortDoc): boolean => !p.device_owner.startsWith('network:');

export const metadata: Feature = {
  name: 'metadata',
  applies: ['kernel', 'daemons'],

  plan(ctx, planned) {
    const { networks, subnets, opts } = ctx;
    // namespace -> the networks it serves, and whether it answers 169.254.169.254.
    const serving = new Map<string, { networks: string[]; v4: boolean }>();
    const routed = new Set<string>();
    for (const { router, internal } of hostedRouters(ctx)) {
      const ns = planned.namespaces.find((n) => n.name === routerNsName(router.id, opts.namespaceSuffix));
      if (!ns || !internal.length) continue;
      const nets = [...new Set(internal.map((p) => p.network_id))].sort();
      for (const n of nets) routed.add(n);
      const v4 = internal.some((p) => p.fixed_ips.some((ip) => subnets.get(ip.subnet_id)?.ip_version === 4));
      serving.set(ns.name, { networks: nets, v4 });
    }
    for (const ns of planned.namespaces) {
      if (ns.kind !== 'dhcp') continue;
      const networkId = dhcpNsNetwork(ns.name, opts.namespaceSuffix);
      if (networkId === null) continue;
      // A routed network is served by its router; two fe80::a9fe:a9fe on one link would both answer ND.
      if (routed.has(networkId)) continue;
      serving.set(ns.name, { networks: [networkId], v4: false });
    }
    const daemons: DaemonSpec[] = [];
    for (const [ns, { networks: nets, v4 }] of [...serving].sort(([a], [b]) => a.localeCompare(b))) {
      const links: LinkSpec[] = nets.map((networkId) => ({
        name: metadataLinkName(networkId),
        tap: metadataTapName(networkId),
        bridge: bridgeName(networkId),
        mac: metadataMac(networkId),
        mtu: networks.get(networkId)?.mtu ?? 1500,
        addresses: [`${METADATA_V6}/64`, ...(v4 ? [`${METADATA_V4}/32`] : [])],
        up: true,
      }));
      const instances = nets.flatMap((networkId) =>
        (ctx.byNetwork.get(networkId) ?? []).filter(isInstancePort).map((p) => ({
          port_id: p.id,
          network_id: networkId,
          mac: p.mac_address.toLowerCase(),
          addresses: p.fixed_ips.map((ip) => ip.ip_address),
          files: Object.fromEntries(buildMetadataFiles(p as NdPort, networks.get(networkId), subnets as ReadonlyMap<string, SubnetDoc & NdSubnet>)),
        })),
      );
      const dir = `${opts.stateDir}/metadata/${ns}`;
      daemons.push({
        id: `metadata-${ns}`,
        kind: 'metadata',
        namespace: ns,
        dir,
        argv: [
          process.execPath,
          METADATA_SERVER_JS,
          '--config', `${dir}/instances.json`,
          '--pid-file', `${dir}/pid`,
          ...links.flatMap((l) => ['--listen', `${METADATA_V6}%${l.name}=${nets[links.indexOf(l)]}`]),
          ...(v4 ? ['--listen4', METADATA_V4] : []),
        ],
        // User data is the instance's own: readable by root only.
        files: [{ name: 'instances.json', content: JSON.stringify({ instances }), mode: 0o600 }],
        reload: 'hup',
        links,
      });
    }
    return { daemons };
  },

  diff(desired, actual) {
    const build: Action[] = [];
    const teardown: Action[] = [];
    const brNs = desired.bridgeNs;
    const brLinks = actual.ns.get(brNs)?.links;
    const wantByNs = new Map<string, LinkSpec[]>();
    // Only the namespaces this pass reads back (the agent diffs the namespaces whose plan changed; a full resync
    // all): a namespace not read back is not known to lack its link. Every change of a namespace's served networks
    // changes its own spec too (a qr- link), so it is read back then.
    const readBack = new Set(desired.namespaces.map((n) => n.name));
    for (const d of desired.daemons) if (d.kind === 'metadata' && readBack.has(d.namespace)) wantByNs.set(d.namespace, d.links ?? []);
    for (const [ns, links] of wantByNs) {
      const a = actual.ns.get(ns);
      for (const l of links) {
        const have = a?.links.get(l.name);
        const cmds: string[][] = [];
        if (!have) {
          if (brLinks?.has(l.tap)) cmds.push(['ip', '-n', brNs, 'link', 'del', l.tap]);
          cmds.push(
            ['ip', '-n', brNs, 'link', 'add', l.tap, 'mtu', String(l.mtu), 'type', 'veth', 'peer', 'name', l.name, 'netns', ns, 'address', l.mac, 'mtu', String(l.mtu)],
            ['ip', '-n', brNs, 'link', 'set', l.tap, 'master', l.bridge, 'up'],
          );
        }
        const held = [...(have?.addresses ?? []), ...(have?.linkLocal ?? [])];
        for (const addr of l.addresses) {
          if (have && held.includes(addr)) continue;
          cmds.push(['ip', '-n', ns, 'addr', 'replace', addr, 'dev', l.name, ...(addr.includes(':') ? ['nodad'] : [])]);
        }
        if (!have || !have.up) cmds.push(['ip', '-n', ns, 'link', 'set', l.name, 'up']);
        if (cmds.length) build.push({ desc: `metadata link ${ns} ${l.name} (${l.addresses.join(' ')}) on ${l.bridge} via ${l.tap}`, cmds, ns });
      }
    }
    // Metadata links of networks a namespace no longer serves (a router interface removed); namespaces that go
    // take theirs with them.
    for (const [ns, a] of actual.ns) {
      if (!ns.startsWith('qrouter-') && !ns.startsWith('qdhcp-')) continue;
      if (!readBack.has(ns)) continue;
      const want = new Set((wantByNs.get(ns) ?? []).map((l) => l.name));
      for (const name of a.links.keys()) {
        if (name.startsWith('qm-') && !want.has(name)) teardown.push({ desc: `delete metadata link ${ns} ${name}`, cmds: [['ip', '-n', ns, 'link', 'del', name]], ns });
      }
    }
    return { build, teardown };
  },
};
