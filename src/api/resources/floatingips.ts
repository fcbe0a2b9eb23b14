// Floating IPs (neutron/db/l3_db.py): an IPv4 address of a `router:external` network, held by its own port there
// (device_owner network:floatingip, device_id the floating IP's id, never shown to the project), mapped to a fixed
// IPv4 address of a port behind a router whose gateway is on that network. The association rules are
// domain/floatingip.ts; here are the store work and the hooks ports, routers and networks call.

import { IpAddress } from '../../domain/ip.js';
import { DEVICE_OWNER_FLOATINGIP, DEVICE_OWNER_ROUTER_GW, ROUTER_INTERFACE_OWNERS } from '../../domain/ipv6/index.js';
import { notFound } from '../../domain/errors.js';
import { checkFixedIpNeedsPort, floatingIpErrors, internalAddress, routerForFloatingIp, type RouterCandidate } from '../../domain/floatingip.js';
import type { Doc, Tx } from '../../store/types.js';
import { floatingip, type FloatingIpPool } from '../../schema/index.js';
import { deleteDoc, insertDoc, newDoc, saveDoc, type RequestContext } from '../context.js';
import type { FixedIp, Subnet } from '../ipam.js';
import type { ResourceDef } from '../resource.js';
import { NONE } from './floatingip-refs.js';
import { createPort, deletePort } from './ports.js';

const isV4 = (ip: string): boolean => IpAddress.parse(ip)?.version === 4;

interface Association {
  port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
}


/** The routers joining `subnet` (through an interface on the port's network) to the external network. */
async function routerCandidates(tx: Tx, networkId: string, subnetId: string, externalNetworkId: string): Promise<RouterCandidate[]> {
  const interfaces = (await tx.list('port', { network_id: [networkId] })).filter((p) => ROUTER_INTERFACE_OWNERS.has(p.device_owner as string));
  const out: RouterCandidate[] = [];
  for (const p of interfaces) {
    const ip = (p.fixed_ips as FixedIp[]).find((f) => f.subnet_id === subnetId);
    if (!ip || out.some((c) => c.routerId === p.device_id)) continue;
    const gateways = await tx.list('port', { device_id: [p.device_id as string], device_owner: [DEVICE_OWNER_ROUTER_GW] });
    if (gateways.some((g) => g.network_id === externalNetworkId)) out.push({ routerId: p.device_id as string, interfaceIp: ip.ip_address });
  }
  return out;
}

/** _check_and_get_fip_assoc: what the floating IP maps to after a request carrying `body`. */
async function association(tx: Tx, fip: Doc, body: { port_id?: string | null; fixed_ip_address?: string | null }): Promise<Association> {
  checkFixedIpNeedsPort(body);
  // A body that does not name the port keeps the current one (its router is looked up again).
  const portId = body.port_id !== undefined ? body.port_id : (fip.port_id as string | null);
  if (!portId) return { ...NONE };
  const port = await tx.get('port', portId);
  if (!port) throw notFound('port', portId);
  const internal = internalAddress(port as Doc & { device_owner: string; fixed_ips: FixedIp[] }, body.port_id !== undefined ? body.fixed_ip_address : null);
  const subnet = (await tx.get('subnet', internal.subnet_id)) as Subnet | undefined;
  const candidates = await routerCandidates(tx, port.network_id as string, internal.subnet_id, fip.floating_network_id as string);
  const routerId = routerForFloatingIp(candidates, (subnet?.gateway_ip as string | null | undefined) ?? null, internal.subnet_id, fip.floating_network_id as string, port.id);
  if (portId !== fip.port_id) {
    const taken = (await tx.list('floatingip', { port_id: [portId], floating_network_id: [fip.floating_network_id as string] })).some(
      (other) => other.id !== fip.id && other.fixed_ip_address === internal.ip_address,
    );
    if (taken) throw floatingIpErrors.portAlreadyAssociated(fip as Doc & { floating_ip_address: string | null; floating_network_id: string }, portId, internal.ip_address);
  }
  return { port_id: portId, fixed_ip_address: internal.ip_address, router_id: routerId };
}

/** The floating IP's own port on the external network. */
async function floatingPort(tx: Tx, fipId: string): Promise<Doc | undefined> {
  return (await tx.list('port', { device_id: [fipId], device_owner: [DEVICE_OWNER_FLOATINGIP] }))[0];
}

async function removeFloatingIp(tx: Tx, fip: Doc): Promise<void> {
  const port = await floatingPort(tx, fip.id);
  if (port) await deletePort(tx, port);
  await deleteDoc(tx, 'floatingip', fip.id);
}

export const floatingips: ResourceDef = {
  kind: 'floatingip',
  schema: floatingip,

  async create(tx, ctx, input) {
    const networkId = input.floating_network_id as string;
    const network = await tx.get('network', networkId);
    if (!network) throw notFound('network', networkId);
    if (network['router:external'] !== true) throw floatingIpErrors.notExternal(networkId);
    const subnets = (await tx.list('subnet', { network_id: [networkId] })) as Subnet[];
    if (!subnets.some((s) => s.ip_version === 4)) throw floatingIpErrors.noIpv4Subnet(networkId);

    const doc = newDoc(ctx, input, {
      floating_ip_address: null,
      floating_network_id: networkId,
      router_id: null,
      port_id: null,
      fixed_ip_address: null,
      status: 'DOWN',
    });
    // Floating IPs have no name (neutron-lib's map has none).
    delete doc.name;
    // The external port: both subnet_id and floating_ip_address may narrow the address (InvalidIpForSubnet when they
    // disagree); its project is '' as in Neutron, which never shows it to the project.
    const wanted: Record<string, string> = {};
    if (input.subnet_id) wanted.subnet_id = input.subnet_id as string;
    if (input.floating_ip_address) wanted.ip_address = input.floating_ip_address as string;
    const port = await createPort(tx, ctx, {
      network_id: networkId,
      device_id: doc.id,
      device_owner: DEVICE_OWNER_FLOATINGIP,
      project_id: '',
      ...(Object.keys(wanted).length ? { fixed_ips: [wanted] } : {}),
    });
    const v4 = (port.fixed_ips as FixedIp[]).find((f) => isV4(f.ip_address));
    if (!v4) throw floatingIpErrors.exhausted(networkId);
    doc.floating_ip_address = v4.ip_address;
    Object.assign(doc, await association(tx, doc, { port_id: input.port_id as string | null | undefined, fixed_ip_address: input.fixed_ip_address as string | null | undefined }));
    return insertDoc(tx, 'floatingip', doc);
  },

  async update(tx, _ctx, doc, input) {
    const assoc = await association(tx, doc, { port_id: input.port_id as string | null | undefined, fixed_ip_address: input.fixed_ip_address as string | null | undefined });
    Object.assign(doc, assoc);
    if (input.description !== undefined) doc.description = input.description;
    return saveDoc(tx, 'floatingip', doc);
  },

  async remove(tx, _ctx, doc) {
    await removeFloatingIp(tx, doc);
  },

  /** fip-port-details, and the status: ACTIVE once associated and its port is plugged (ACTIVE). */
  async present(tx, doc) {
    const port = doc.port_id ? await tx.get('port', doc.port_id as string) : undefined;
    const out: Doc = { ...doc };
    out.status = doc.router_id && port?.status === 'ACTIVE' ? 'ACTIVE' : 'DOWN';
    out.port_details = port
      ? {
          name: port.name,
          network_id: port.network_id,
          mac_address: port.mac_address,
          admin_state_up: port.admin_state_up,
          status: port.status,
          device_id: port.device_id,
          device_owner: port.device_owner,
        }
      : null;
    return out;
  },
};

// ---- Hooks for networks.ts (those for ports.ts and routers.ts are in floatingip-refs.ts: ports.ts cannot import
// this module, which makes ports).

/**
 * Before an external network is deleted, its floating IPs that map to nothing go (external_net_db
 * _process_l3_delete); associated ones keep their ports, so the delete is refused (NetworkInUse). Unlike Neutron,
 * which deletes them in a transaction of their own, a refused delete keeps them too (one transaction per request).
 */
export async function deleteDisassociatedFloatingIps(tx: Tx, networkId: string): Promise<void> {
  for (const fip of await tx.list('floatingip', { floating_network_id: [networkId] })) if (!fip.port_id) await removeFloatingIp(tx, fip);
}

/** GET /v2.0/floatingip_pools: the IPv4 subnets of every external network. */
export async function floatingIpPools(tx: Tx, ctx: RequestContext): Promise<FloatingIpPool[]> {
  const external = (await tx.list('network')).filter((n) => n['router:external'] === true).map((n) => n.id);
  if (!external.length) return [];
  const subnets = (await tx.list('subnet', { network_id: external })) as Subnet[];
  return subnets
    .filter((s) => s.ip_version === 4)
    .map((s) => ({ subnet_id: s.id, subnet_name: s.name as string, project_id: ctx.projectId, network_id: s.network_id, cidr: s.cidr }));
}
