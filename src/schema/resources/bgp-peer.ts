// bgp-peers (neutron-lib api/definitions/bgp.py, with bgp_4byte_asn's remote_as range). The password is write-only
// (is_visible False): stored for the agent, never shown (api/resources/bgp-peers.ts strips it). Not a
// standard-attribute resource, as _make_bgp_peer_dict shows it.

import { defineResource, type DocOf, type InputOf } from '../define.js';
import { ipAddress, nullable, oneOf, string } from '../types.js';
import { asNumber } from './bgp-speaker.js';
import { id, name, project } from './standard.js';

/** neutron-lib constants.SUPPORTED_AUTH_TYPES. */
export const BGP_AUTH_TYPES = ['none', 'md5'] as const;

export const bgpPeer = defineResource({
  kind: 'bgp_peer',
  singular: 'bgp_peer',
  plural: 'bgp_peers',
  path: 'bgp-peers',
  doc: 'A BGP neighbour; `auth_type` `md5` needs a password (TCP MD5, RFC 2385), which is never shown.',
  // neutron-dynamic-routing's BgpPlugin does not set __filter_validation_support: unknown filters are ignored there.
  filterValidation: false,
  operations: ['list', 'show', 'create', 'update', 'delete'],
  attributes: {
    id,
    name,
    peer_ip: { type: ipAddress, post: true, required: true },
    remote_as: { type: asNumber, post: true, required: true, doc: 'bgp_4byte_asn' },
    auth_type: { type: oneOf(BGP_AUTH_TYPES), post: true, required: true },
    password: { type: nullable(string(255)), post: true, put: true, default: null, hidden: true, doc: 'only with auth_type md5' },
    ...project,
  },
});

export type BgpPeer = DocOf<typeof bgpPeer>;
export type BgpPeerInput = InputOf<typeof bgpPeer>;
