// Routers: an external gateway (a dual-stack network:router_gateway port on a router:external network),
// interfaces by subnet or by port, extra routes and the HA flag. IPv6 rules from Neutron's l3_db.py: interfaces
// take the subnet's gateway address; all IPv6 subnets of one network share one router port; subnets whose RAs
// come from an external router ("address mode without RA mode") cannot be attached.

import { isPdSubnet, isProvisional } from '../../domain/prefix-delegation.js';
import { setDelegatedPrefix } from '../prefix-delegation.js';
import { NeutronError, badRequest, httpBadRequest, notFound } from '../../domain/errors.js';
import { IpAddress, IpPrefix } from '../../domain/ip.js';
import { DEVICE_OWNER_HA_REPLICATED_INT, DEVICE_OWNER_ROUTER_GW, DEVICE_OWNER_ROUTER_INTF, ROUTER_INTERFACE_OWNERS, isExternalRouterSubnet } from '../../domain/ipv6/index.js';
import type { Doc, Tx } from '../../store/types.js';
import { addExtraRoutes, removeExtraRoutes, type ExtraRoute } from '../../domain/extraroute.js';
import { convertInterfaceBody, router, type ExternalGatewayRequest } from '../../schema/index.js';
import { checkStorable, deleteDoc, insertDoc, newDoc, saveDoc, type RequestContext } from '../context.js';
import { allocateSpecific, releaseAddress, type FixedIp, type Subnet } from '../ipam.js';
import type { ResourceDef } from '../resource.js';
import { createPort, deletePort } from './ports.js';
import { checkGatewayNotInUse, checkInterfaceNotInUse } from './floatingip-refs.js';
import { checkGatewayChange, checkInterfaceNotProxied, ndpStateForCreatedRouter, ndpStateForUpdatedRouter } from './ndp-proxies.js';
import { checkZoneHints, routerAvailabilityZones } from '../availability-zones.js';
import { createsHaRouter, l3AgentsHostingRouter, migrateHa, setupHaRouter, teardownHaRouter } from '../ha-routers.js';

const GATEWAY_OWNER = DEVICE_OWNER_ROUTER_GW;

type GatewayInfo = ExternalGatewayRequest;

async function routerPorts(tx: Tx, routerId: string): Promise<Doc[]> {
  return tx.list('port', { device_id: [routerId] });
}

/** The subnets of these ports' fixed IPs, by id, in one read (one round trip on PostgreSQL, whatever their number). */
async function subnetsOf(tx: Tx, ports: Doc[]): Promise<Map<string, Subnet>> {
  const ids = [...new Set(ports.flatMap((p) => (p.fixed_ips as FixedIp[]).map((f) => f.subnet_id)))];
  if (!ids.length) return new Map();
  return new Map(((await tx.list('subnet', { id: ids })) as Subnet[]).map((s) => [s.id, s]));
}

function interfaceOwner(router: Doc): string {
  return router.ha ? DEVICE_OWNER_HA_REPLICATED_INT : DEVICE_OWNER_ROUTER_INTF;
}

async function setGateway(tx: Tx, ctx: RequestContext, router: Doc, info: GatewayInfo | null): Promise<void> {
  const current = (await routerPorts(tx, router.id)).find((p) => p.device_owner === GATEWAY_OWNER);
  if (current && info && current.network_id === info.network_id && info.external_fixed_ips === undefined) {
    router.external_gateway_info = { ...(router.external_gateway_info as object), enable_snat: info.enable_snat ?? true };
    return;
  }
  if (current) await checkGatewayNotInUse(tx, router.id, current.network_id as string);
  if (current) await deletePort(tx, current);
  if (!info) {
    router.external_gateway_info = null;
    return;
  }
  const network = await tx.get('network', info.network_id);
  if (!network) throw notFound('network', info.network_id);
  if (network['router:external'] !== true) throw badRequest('router', `Network ${network.id} is not an external network`);
  const port = await createPort(tx, ctx, {
    network_id: network.id,
    device_id: router.id,
    device_owner: GATEWAY_OWNER,
    project_id: '',
    port_security_enabled: false,
    ...(info.external_fixed_ips ? { fixed_ips: info.external_fixed_ips } : {}),
  });
  // An external network without a subnet still takes the gateway: the port has no fixed IPs (Neutron's
  // _create_router_gw_port only logs "No IPs available"), and the agent plans no SNAT or default route for it.
  router.external_gateway_info = {
    network_id: network.id,
    external_fixed_ips: port.fixed_ips,
    enable_snat: info.enable_snat ?? true,
  };
}

/** Every nexthop must be on a subnet the router is connected to (Neutron's InvalidRoutes). */
function checkRoutes(ports: Doc[], subnets: Subnet[], wanted: { destination: string; nexthop: string }[]): void {
  const connected = subnets.filter((s) => ports.some((p) => (p.fixed_ips as FixedIp[]).some((f) => f.subnet_id === s.id)));
  for (const r of wanted) {
    const hop = IpAddress.parse(r.nexthop)!;
    if (!connected.some((s) => IpPrefix.parse(s.cidr)!.contains(hop))) {
      throw new NeutronError(400, 'InvalidRoutes', `Invalid format for routes: [${JSON.stringify(r)}], the nexthop is not connected with router.`);
    }
  }
}

function interfaceInfo(router: Doc, port: Doc, subnetIds: string[]): Record<string, unknown> {
  return {
    id: router.id,
    tenant_id: router.tenant_id,
    port_id: port.id,
    network_id: port.network_id,
    subnet_id: subnetIds[0],
    subnet_ids: subnetIds,
  };
}

/** Interface subnets already on the router must not overlap the new one (Neutron's _check_for_dup_router_subnets). */
async function checkOverlap(tx: Tx, router: Doc, subnet: Subnet): Promise<void> {
  const prefix = IpPrefix.parse(subnet.cidr)!;
  const interfaces = (await routerPorts(tx, router.id)).filter((p) => p.device_owner !== GATEWAY_OWNER);
  const subnets = await subnetsOf(tx, interfaces);
  for (const p of interfaces) {
    for (const f of p.fixed_ips as FixedIp[]) {
      if (f.subnet_id === subnet.id) throw badRequest('router', `Router already has a port on subnet ${subnet.id}`);
      const other = subnets.get(f.subnet_id);
      // Neutron ignores the temporary prefix of a PD subnet (several may sit on one router, all ::/64).
      if (other && !isProvisional(subnet) && IpPrefix.parse(other.cidr)!.overlaps(prefix)) {
        throw badRequest('router', `Cidr ${subnet.cidr} of subnet ${subnet.id} overlaps with cidr ${other.cidr} of subnet ${other.id}`);
      }
    }
  }
}

async function addInterfaceBySubnet(tx: Tx, ctx: RequestContext, router: Doc, subnetId: string): Promise<Record<string, unknown>> {
  const subnet = (await tx.get('subnet', subnetId)) as Subnet | undefined;
  if (!subnet) throw notFound('subnet', subnetId);
  if (!subnet.gateway_ip) throw badRequest('router', 'Subnet for router interface must have a gateway IP');
  if (subnet.ip_version === 6 && isExternalRouterSubnet(subnet)) {
    throw badRequest('router', `IPv6 subnet ${subnet.id} configured to receive RAs from an external router cannot be added to Neutron Router.`);
  }
  await checkOverlap(tx, router, subnet);
  const fixedIp = { subnet_id: subnet.id, ip_address: subnet.gateway_ip as string };
  if (subnet.ip_version === 6 && !isPdSubnet(subnet)) {
    // All IPv6 subnets of one network share the router's one IPv6 port there (a PD subnet gets a port of its own).
    const shared = (await routerPorts(tx, router.id)).find(
      (p) =>
        ROUTER_INTERFACE_OWNERS.has(p.device_owner as string) &&
        p.network_id === subnet.network_id &&
        (p.fixed_ips as FixedIp[]).some((f) => IpAddress.parse(f.ip_address)?.version === 6),
    );
    if (shared) {
      await allocateSpecific(tx, subnet, fixedIp.ip_address, shared.id);
      shared.fixed_ips = [...(shared.fixed_ips as FixedIp[]), fixedIp];
      await saveDoc(tx, 'port', shared);
      return interfaceInfo(router, shared, [subnet.id]);
    }
  }
  const port = await createPort(tx, ctx, {
    network_id: subnet.network_id,
    device_id: router.id,
    device_owner: interfaceOwner(router),
    project_id: router.project_id,
    port_security_enabled: false,
    fixed_ips: [fixedIp],
  });
  return interfaceInfo(router, port, [subnet.id]);
}

async function addInterfaceByPort(tx: Tx, router: Doc, portId: string): Promise<Record<string, unknown>> {
  const port = await tx.get('port', portId);
  if (!port) throw notFound('port', portId);
  if (port.device_id) {
    throw new NeutronError(
      409,
      'PortInUse',
      `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`,
    );
  }
  const fixedIps = port.fixed_ips as FixedIp[];
  if (!fixedIps.length) throw badRequest('router', `Router port must have at least one fixed IP`);
  const subnets: Subnet[] = [];
  for (const f of fixedIps) subnets.push((await tx.get('subnet', f.subnet_id)) as Subnet);
  for (const s of subnets) {
    if (s.ip_version === 6 && isExternalRouterSubnet(s)) {
      throw badRequest('router', `IPv6 subnet ${s.id} configured to receive RAs from an external router cannot be added to Neutron Router.`);
    }
    await checkOverlap(tx, router, s);
  }
  if (subnets.some((s) => s.ip_version === 6)) {
    const existing = (await routerPorts(tx, router.id)).find(
      (p) =>
        ROUTER_INTERFACE_OWNERS.has(p.device_owner as string) &&
        p.network_id === port.network_id &&
        (p.fixed_ips as FixedIp[]).some((f) => IpAddress.parse(f.ip_address)?.version === 6),
    );
    if (existing) {
      throw badRequest(
        'router',
        `Router already contains IPv6 port ${existing.id} belonging to network id ${port.network_id}. Only one IPv6 port from the same network subnet can be connected to a router.`,
      );
    }
  }
  port.device_id = router.id;
  port.device_owner = interfaceOwner(router);
  await saveDoc(tx, 'port', port);
  return interfaceInfo(router, port, subnets.map((s) => s.id));
}

/** `{"router": {"routes": [...]}}` of add_extraroutes / remove_extraroutes, converted as the routes attribute is. */
function extraRoutesBody(body: Record<string, unknown>): ExtraRoute[] {
  const inner = body.router as Record<string, unknown> | null | undefined;
  // Neutron's plugin reads body['router']['routes'] unchecked (a KeyError, 500); the client's mistake is a 400 here.
  if (inner === undefined) throw httpBadRequest("Unable to find 'router' in request body");
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner) || !Object.hasOwn(inner, 'routes')) {
    throw httpBadRequest("Unable to find 'routes' in request body");
  }
  return router.attributes.routes.type.convert(inner.routes, 'routes') as ExtraRoute[];
}

export const routers: ResourceDef = {
  kind: 'router',
  schema: router,

  /** router_availability_zone: the zones of the L3 agents running it, as they are now. */
  async present(tx, doc) {
    return { ...doc, availability_zones: await routerAvailabilityZones(tx, doc) };
  },

  async create(tx, ctx, input) {
    await checkZoneHints(tx, input.availability_zone_hints as string[] | undefined);
    const doc = newDoc(ctx, input, {
      admin_state_up: input.admin_state_up ?? true,
      status: 'ACTIVE',
      external_gateway_info: null,
      availability_zones: [],
      distributed: input.distributed ?? false,
      ha: createsHaRouter(input, ctx.settings),
      availability_zone_hints: input.availability_zone_hints ?? [],
      routes: [],
      flavor_id: input.flavor_id ?? null,
      enable_ndp_proxy: false,
    });
    await insertDoc(tx, 'router', doc);
    if (doc.ha === true) await setupHaRouter(tx, ctx.settings, doc);
    if (input.external_gateway_info) {
      await setGateway(tx, ctx, doc, input.external_gateway_info as GatewayInfo);
    }
    await ndpStateForCreatedRouter(tx, ctx.settings, doc, input);
    if (input.external_gateway_info) {
      checkStorable('router', doc);
      await tx.update('router', doc);
    }
    return doc;
  },

  async update(tx, ctx, doc, input) {
    const ndpBefore = doc.enable_ndp_proxy === true;
    const gatewayBefore = JSON.stringify(doc.external_gateway_info ?? null);
    await checkGatewayChange(tx, doc, input);
    if (input.external_gateway_info !== undefined) await setGateway(tx, ctx, doc, input.external_gateway_info as GatewayInfo | null);
    // l3-ext-ndp-proxy's PRECOMMIT_UPDATE: every update re-derives enable_ndp_proxy from the gateway it leaves.
    await ndpStateForUpdatedRouter(tx, ctx.settings, doc, input, ndpBefore, (doc.external_gateway_info as { network_id?: string } | null)?.network_id !== (JSON.parse(gatewayBefore) as { network_id?: string } | null)?.network_id);
    if (input.routes !== undefined) {
      const ports = await routerPorts(tx, doc.id);
      const byId = await subnetsOf(tx, ports);
      const subnets = ports.flatMap((p) => (p.fixed_ips as FixedIp[]).map((f) => byId.get(f.subnet_id))).filter((x): x is Subnet => !!x);
      checkRoutes(ports, subnets, input.routes as { destination: string; nexthop: string }[]);
    }
    const haChanged = input.ha !== undefined && input.ha !== doc.ha;
    // _validate_migration looks at the router as it will be: admin_state_up false may come in the same request.
    if (haChanged && (input.admin_state_up ?? doc.admin_state_up) !== false) {
      throw badRequest('router', 'Cannot change HA attribute of active routers. Please set router admin_state_up to False prior to upgrade');
    }
    if (haChanged) await migrateHa(tx, ctx.settings, doc, input.ha === true);
    const { external_gateway_info: _g, enable_ndp_proxy: _n, ...rest } = input;
    Object.assign(doc, rest);
    return saveDoc(tx, 'router', doc);
  },

  async remove(tx, ctx, doc) {
    const ports = await routerPorts(tx, doc.id);
    if (ports.some((p) => ROUTER_INTERFACE_OWNERS.has(p.device_owner as string))) {
      throw new NeutronError(409, 'RouterInUse', `Router ${doc.id} still has ports`);
    }
    const gateway = ports.find((p) => p.device_owner === GATEWAY_OWNER);
    if (gateway) await checkGatewayNotInUse(tx, doc.id, gateway.network_id as string);
    if (gateway) await checkGatewayChange(tx, doc, { external_gateway_info: null });
    for (const p of ports) await deletePort(tx, p);
    await deleteDoc(tx, 'router', doc.id);
    if (doc.ha === true) await teardownHaRouter(tx, ctx.settings, doc);
  },

  /** l3_agent_scheduler (with l3-ha's ha_state): the L3 agents hosting the router. */
  subCollections: { 'l3-agents': { list: (tx, _ctx, doc, settings) => l3AgentsHostingRouter(tx, doc, settings) } },

  actions: {
    /** extraroute-atomic: the routes plus the body's, checked as a PUT of the whole list is; answers the router. */
    async add_extraroutes(tx, ctx, doc, body) {
      const routes = addExtraRoutes(doc.routes as ExtraRoute[], extraRoutesBody(body));
      return { router: await routers.update!(tx, ctx, doc, { routes }) };
    },
    async remove_extraroutes(tx, ctx, doc, body) {
      const routes = removeExtraRoutes(doc.routes as ExtraRoute[], extraRoutesBody(body));
      return { router: await routers.update!(tx, ctx, doc, { routes }) };
    },
    async add_router_interface(tx, ctx, router, body) {
      const t = convertInterfaceBody(body);
      const info = t.subnetId !== undefined ? await addInterfaceBySubnet(tx, ctx, router, t.subnetId) : await addInterfaceByPort(tx, router, t.portId!);
      await saveDoc(tx, 'router', router);
      return info;
    },
    async remove_router_interface(tx, _ctx, router, body) {
      const t = convertInterfaceBody(body);
      const ports = (await routerPorts(tx, router.id)).filter((p) => ROUTER_INTERFACE_OWNERS.has(p.device_owner as string));
      let port: Doc | undefined;
      let removed: string[];
      if (t.portId !== undefined) {
        port = ports.find((p) => p.id === t.portId);
        if (!port) {
          throw new NeutronError(404, 'RouterInterfaceNotFound', `Router ${router.id} does not have an interface with id ${t.portId}`);
        }
        removed = (port.fixed_ips as FixedIp[]).map((f) => f.subnet_id);
        for (const s of (await subnetsOf(tx, [port])).values()) await checkInterfaceNotInUse(tx, router.id, s);
        for (const id of removed) await checkInterfaceNotProxied(tx, router.id, id);
        await deletePort(tx, port);
      } else {
        if (!(await tx.get('subnet', t.subnetId!))) throw notFound('subnet', t.subnetId!);
        port = ports.find((p) => (p.fixed_ips as FixedIp[]).some((f) => f.subnet_id === t.subnetId));
        if (!port) {
          throw new NeutronError(404, 'RouterInterfaceNotFoundForSubnet', `Router ${router.id} has no interface on subnet ${t.subnetId}`);
        }
        removed = [t.subnetId!];
        await checkInterfaceNotInUse(tx, router.id, (await tx.get('subnet', t.subnetId!)) as Subnet);
        await checkInterfaceNotProxied(tx, router.id, t.subnetId!);
        const rest = (port.fixed_ips as FixedIp[]).filter((f) => f.subnet_id !== t.subnetId);
        if (rest.length) {
          const subnet = (await tx.get('subnet', t.subnetId!)) as Subnet;
          for (const f of (port.fixed_ips as FixedIp[]).filter((x) => x.subnet_id === t.subnetId)) {
            await releaseAddress(tx, subnet, subnet.id, f.ip_address);
          }
          port.fixed_ips = rest;
          await saveDoc(tx, 'port', port);
        } else {
          await deletePort(tx, port);
        }
      }
      // A PD subnet leaving its router goes back to ::/64, its ports with it (Neutron's agent reported the
      // provisional prefix; here it is part of the removal). The router's PD client releases the prefix upstream.
      for (const id of removed) {
        const s = await tx.get('subnet', id);
        if (s && isPdSubnet(s) && !isProvisional(s)) await setDelegatedPrefix(tx, id, null);
      }
      await saveDoc(tx, 'router', router);
      return interfaceInfo(router, port, removed);
    },
  },
};
