// The agent's data-plane features, in the order they build: what a feature plans may use what the features before
// it planned (a tunnel rides its network's bridge), their kernel actions run in this order, and their teardowns in
// the reverse order (namespaces go before the bridges they were plugged into). A new feature (HA, PD, BGP, metadata)
// is a file in this folder and a row here; the reconciler (agent.ts) and the walks (plan.ts) stay as they are.

import type { Feature } from './feature.js';
import { l2 } from './l2.js';
import { vxlan } from './vxlan.js';
import { l3 } from './l3.js';
import { ra } from './ra.js';
import { dhcp } from './dhcp.js';
import { bgp } from './bgp.js';
import { firewall } from './firewall.js';
import { ha } from './ha.js';
import { metadata } from './metadata.js';
import { nat } from './nat.js';
import { pd } from './pd.js';
import { ndpProxy } from './ndp-proxy.js';
import { metering } from './metering.js';

export const FEATURES: readonly Feature[] = [l2, vxlan, l3, ha, ra, dhcp, metadata, pd, firewall, bgp, nat, ndpProxy, metering];

export type { Feature, FeatureActions, PlanContext } from './feature.js';
