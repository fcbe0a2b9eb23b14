// bgp-speakers (neutron-lib api/definitions/bgp.py, with bgp_4byte_asn's local_as range) and the bodies of its member
// actions. A speaker is not a standard-attribute resource: no description, tags, timestamps or revision number, as
// neutron-dynamic-routing's _make_bgp_speaker_dict shows it. `peers` and `networks` change only through the actions.

import { badAttribute, badRequest } from '../../domain/errors.js';
import { MAX_4BYTE_ASNUM, MIN_ASNUM } from '../../domain/bgp.js';
import { pyInt, pyStr } from '../../domain/py.js';
import { defineResource, type DocOf, type InputOf } from '../define.js';
import { bool, isUuid, listOf, oneOf, uuid, type Type } from '../types.js';
import { id, name, project } from './standard.js';

/**
 * validators.validate_range((MIN_ASNUM, MAX_4BYTE_ASNUM)) with no converter: Python's int() of the value (the
 * openstack client sends local_as as a string), stored and shown as an integer.
 */
export const asNumber: Type<number> = {
  describe: `integer ${MIN_ASNUM}..${MAX_4BYTE_ASNUM} (4-byte ASNs)`,
  is: (v) => Number.isSafeInteger(v) && (v as number) >= MIN_ASNUM && (v as number) <= MAX_4BYTE_ASNUM,
  convert(v, attr) {
    const n = pyInt(v);
    if (n === null) throw badAttribute(attr, `'${pyStr(v)}' is not an integer`);
    if (n < MIN_ASNUM) throw badAttribute(attr, `'${n}' is too small - must be at least '${MIN_ASNUM}'`);
    if (n > MAX_4BYTE_ASNUM) throw badAttribute(attr, `'${n}' is too large - must be no larger than '${MAX_4BYTE_ASNUM}'`);
    return n;
  },
};

export const bgpSpeaker = defineResource({
  kind: 'bgp_speaker',
  singular: 'bgp_speaker',
  plural: 'bgp_speakers',
  path: 'bgp-speakers',
  doc:
    'neutron-dynamic-routing: one address family per speaker; gateway networks and peers by the member actions; ' +
    '`GET …/get_advertised_routes` derives the routes (domain/bgp.ts); `GET …/route_explanations` (v6stack) says why a subnet is not advertised.',
  // neutron-dynamic-routing's BgpPlugin does not set __filter_validation_support: unknown filters are ignored there.
  filterValidation: false,
  operations: ['list', 'show', 'create', 'update', 'delete'],
  actions: ['add_bgp_peer', 'remove_bgp_peer', 'add_gateway_network', 'remove_gateway_network'],
  attributes: {
    id,
    name,
    // Neutron's map gives local_as and ip_version a default of None over NOT NULL columns (a 500 when absent):
    // here they are required, the client's mistake a 400.
    local_as: { type: asNumber, post: true, required: true, doc: 'bgp_4byte_asn' },
    ip_version: { type: oneOf([4, 6] as const), post: true, required: true },
    ...project,
    peers: { type: listOf(uuid), default: [], doc: 'add_bgp_peer / remove_bgp_peer' },
    networks: { type: listOf(uuid), default: [], doc: 'add_gateway_network / remove_gateway_network' },
    advertise_floating_ip_host_routes: { type: bool, post: true, put: true, default: true },
    advertise_tenant_networks: { type: bool, post: true, put: true, default: true },
  },
});

export type BgpSpeaker = DocOf<typeof bgpSpeaker>;
export type BgpSpeakerInput = InputOf<typeof bgpSpeaker>;

/** bgp_db._get_id_for: the action body's `<idName>`, a UUID ("Bad bgp-speaker request: ..."). */
export function actionId(body: Record<string, unknown>, idName: 'bgp_peer_id' | 'network_id'): string {
  const v = body[idName];
  if (v === undefined) throw badRequest('bgp-speaker', `${idName} must be specified`);
  if (!isUuid(v)) throw badRequest('bgp-speaker', `'${pyStr(v)}' is not a valid UUID`);
  return v;
}
