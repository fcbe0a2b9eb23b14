#!/usr/bin/python3
"""Raw-HTTP behaviour catalogue against the Neutron peer (stdlib only).

Every case is one request; the exact status and JSON body are saved to
DIR/<name>.json and summarised in DIR/catalogue.json and DIR/catalogue.md.
Cases use their own networks (prefix 'http-'). Point it at a fresh Neutron peer
and at a fresh v6stack, each with its own --out, and diff the two directories:
Neutron picks pool addresses and MACs at random, and list answers include
whatever else is in the database.

usage: /usr/bin/python3 http_cases.py --url http://127.0.0.1:9696 --out DIR

v6stack copy (scripts/http-cases.py): the requests and case names are those of
/work/shared/peers/neutron/http_cases.py unchanged. Only the control flow differs,
so that one unimplemented endpoint does not end the run: a failed setup request
raises SetupError instead of exiting, main() is split into sections that run one
after the other, and a section whose setup fails is recorded in DIR/setup-errors.json
and the next section still runs (its cases that need the failed section's objects are
then missing from DIR). cleanup() errors are reported, not fatal. Recorded answers of
the real Neutron: test/fixtures/http-cases/neutron-zed.json (scripts/http-cases-record.mjs).
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

P = argparse.ArgumentParser()
P.add_argument('--url', default='http://127.0.0.1:9696')
P.add_argument('--out', required=True)
ARGS = P.parse_args()
if urllib.parse.urlparse(ARGS.url).hostname not in ('127.0.0.1', 'localhost', '::1'):
    sys.exit('refusing non-loopback target %s' % ARGS.url)
os.makedirs(ARGS.out, exist_ok=True)
CATALOGUE = []


def req(method, path, body=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    h = {'Accept': 'application/json'}
    if data is not None:
        h['Content-Type'] = 'application/json'
    h.update(headers or {})
    r = urllib.request.Request(ARGS.url + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            status, text, rh = resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        status, text, rh = e.code, e.read().decode(), dict(e.headers)
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, parsed, rh


def case(name, method, path, body=None, headers=None, raw=None, note=''):
    status, parsed, rh = req(method, path, body, headers, raw)
    rec = {'name': name, 'note': note,
           'request': {'method': method, 'path': path, 'body': body if raw is None else raw.decode(errors='replace'),
                       'headers': headers or {}},
           'status': status,
           'response_headers': {k: v for k, v in rh.items() if k.lower() in ('content-type', 'x-openstack-request-id')},
           'body': parsed}
    with open(os.path.join(ARGS.out, name + '.json'), 'w') as f:
        json.dump(rec, f, indent=2, sort_keys=False)
    err = parsed.get('NeutronError') if isinstance(parsed, dict) else None
    CATALOGUE.append({'name': name, 'status': status, 'note': note,
                      'type': err.get('type') if isinstance(err, dict) else None,
                      'message': err.get('message') if isinstance(err, dict) else None,
                      'body_if_not_neutronerror': None if err else parsed})
    print('%-52s %s %s' % (name, status, (err or {}).get('message', '') if isinstance(err, dict) else ''))
    return status, parsed


class SetupError(Exception):
    pass


SETUP_ERRORS = []


def must(method, path, body=None):
    status, parsed, _ = req(method, path, body)
    if status >= 300:
        raise SetupError('setup request failed: %s %s -> %s %s' % (method, path, status, parsed))
    return parsed


def cleanup():
    # delete leftovers of a previous run of this script
    for p in must('GET', '/v2.0/ports?fields=id&fields=name&fields=device_owner')['ports']:
        if p['name'].startswith('http-'):
            req('DELETE', '/v2.0/ports/' + p['id'])
    for r in must('GET', '/v2.0/routers?fields=id&fields=name')['routers']:
        if r['name'].startswith('http-'):
            req('PUT', '/v2.0/routers/%s' % r['id'], {'router': {'external_gateway_info': {}}})
            for p in must('GET', '/v2.0/ports?device_id=%s&fields=id&fields=device_owner&fields=fixed_ips' % r['id'])['ports']:
                for ip in p['fixed_ips']:
                    req('PUT', '/v2.0/routers/%s/remove_router_interface' % r['id'], {'subnet_id': ip['subnet_id']})
            req('DELETE', '/v2.0/routers/' + r['id'])
    for n in must('GET', '/v2.0/networks?fields=id&fields=name')['networks']:
        if n['name'].startswith('http-'):
            for p in must('GET', '/v2.0/ports?network_id=%s&fields=id' % n['id'])['ports']:
                req('DELETE', '/v2.0/ports/' + p['id'])
            req('DELETE', '/v2.0/networks/' + n['id'])
    for sp in must('GET', '/v2.0/subnetpools?fields=id&fields=name')['subnetpools']:
        if sp['name'].startswith('http-'):
            req('DELETE', '/v2.0/subnetpools/' + sp['id'])
    for sp in must('GET', '/v2.0/bgp-peers')['bgp_peers']:
        if sp['name'].startswith('http-'):
            req('DELETE', '/v2.0/bgp-peers/' + sp['id'])
    for sp in must('GET', '/v2.0/bgp-speakers')['bgp_speakers']:
        if sp['name'].startswith('http-'):
            req('DELETE', '/v2.0/bgp-speakers/' + sp['id'])


def net(name, **kw):
    b = {'name': name}
    b.update(kw)
    return must('POST', '/v2.0/networks', {'network': b})['network']


def subnet_case(name, net_id, note='', **attrs):
    b = {'network_id': net_id}
    b.update(attrs)
    return case(name, 'POST', '/v2.0/subnets', {'subnet': b}, note=note)


def section_subnets():
        global n, nid, n2, n3, n4, n5, sl, sf, sl4, r, sp, modes, k
        n = net('http-subnets')
        nid = n['id']
        # ---- every ipv6_ra_mode x ipv6_address_mode combination (None = attribute omitted)
        modes = [None, 'slaac', 'dhcpv6-stateful', 'dhcpv6-stateless']
        k = 0
        for ra in modes:
            for am in modes:
                k += 1
                attrs = {'ip_version': 6, 'cidr': '2001:db8:aaaa:%x::/64' % k}
                if ra:
                    attrs['ipv6_ra_mode'] = ra
                if am:
                    attrs['ipv6_address_mode'] = am
                st, body = subnet_case('modes-ra-%s-addr-%s' % (ra or 'unset', am or 'unset'), nid, **attrs)
                if st == 201:
                    req('DELETE', '/v2.0/subnets/' + body['subnet']['id'])
        subnet_case('modes-explicit-null', nid, ip_version=6, cidr='2001:db8:aaaa:100::/64',
                    ipv6_ra_mode=None, ipv6_address_mode=None)
        subnet_case('modes-bad-value', nid, ip_version=6, cidr='2001:db8:aaaa:101::/64', ipv6_ra_mode='foo')
        subnet_case('v4-with-ra-mode', nid, ip_version=4, cidr='10.98.0.0/24', ipv6_ra_mode='slaac')
        subnet_case('v4-with-addr-mode', nid, ip_version=4, cidr='10.98.0.0/24', ipv6_address_mode='slaac')
        subnet_case('v4-with-both-modes', nid, ip_version=4, cidr='10.98.0.0/24', ipv6_ra_mode='slaac', ipv6_address_mode='slaac')
        subnet_case('cidr-version-mismatch', nid, ip_version=4, cidr='2001:db8:aaaa:102::/64')
        subnet_case('ip-version-5', nid, ip_version=5, cidr='2001:db8:aaaa:102::/64')
        subnet_case('slaac-prefix-80', nid, ip_version=6, cidr='2001:db8:aaaa:103::/80', ipv6_ra_mode='slaac', ipv6_address_mode='slaac')
        subnet_case('stateless-prefix-80', nid, ip_version=6, cidr='2001:db8:aaaa:104::/80',
                    ipv6_ra_mode='dhcpv6-stateless', ipv6_address_mode='dhcpv6-stateless')
        subnet_case('stateful-prefix-80', nid, note='allowed', ip_version=6, cidr='2001:db8:aaaa:105::/80',
                    ipv6_ra_mode='dhcpv6-stateful', ipv6_address_mode='dhcpv6-stateful')
        subnet_case('slaac-prefix-48', nid, ip_version=6, cidr='2001:db8:ab00::/48', ipv6_ra_mode='slaac', ipv6_address_mode='slaac')
        subnet_case('v6-prefix-128-dhcp', nid, ip_version=6, cidr='2001:db8:aaaa:106::1/128')
        subnet_case('v6-prefix-128-nodhcp', nid, ip_version=6, cidr='2001:db8:aaaa:107::1/128', enable_dhcp=False)
        subnet_case('v6-prefix-127', nid, ip_version=6, cidr='2001:db8:aaaa:108::/127')
        subnet_case('v4-prefix-32', nid, ip_version=4, cidr='10.98.1.1/32')
        subnet_case('v4-prefix-31', nid, ip_version=4, cidr='10.98.1.2/31')
        subnet_case('v4-prefix-0', nid, ip_version=4, cidr='0.0.0.0/0')
        subnet_case('v6-prefix-0', nid, ip_version=6, cidr='::/0')
        subnet_case('cidr-host-bits-set', nid, note='normalised to network address', ip_version=6, cidr='2001:db8:aaaa:109::77/64')
        subnet_case('cidr-garbage', nid, ip_version=6, cidr='2001:db8:aaaa:zz::/64')
        subnet_case('cidr-missing', nid, ip_version=6)
        subnet_case('v6-gateway-outside-cidr', nid, note='accepted!', ip_version=6, cidr='2001:db8:aaaa:110::/64', gateway_ip='2001:db8:aaaa:999::1')
        subnet_case('v6-gateway-link-local', nid, ip_version=6, cidr='2001:db8:aaaa:111::/64', gateway_ip='fe80::1')
        subnet_case('v6-gateway-network-address', nid, ip_version=6, cidr='2001:db8:aaaa:112::/64', gateway_ip='2001:db8:aaaa:112::')
        subnet_case('v6-gateway-wrong-family', nid, ip_version=6, cidr='2001:db8:aaaa:113::/64', gateway_ip='10.0.0.1')
        subnet_case('v6-gateway-null', nid, ip_version=6, cidr='2001:db8:aaaa:114::/64', gateway_ip=None)
        subnet_case('v4-gateway-outside-cidr', nid, note='accepted!', ip_version=4, cidr='10.98.2.0/24', gateway_ip='10.98.3.1')
        subnet_case('v4-gateway-network-address', nid, ip_version=4, cidr='10.98.4.0/24', gateway_ip='10.98.4.0')
        subnet_case('v4-gateway-broadcast', nid, ip_version=4, cidr='10.98.5.0/24', gateway_ip='10.98.5.255')
        subnet_case('v4-gateway-in-pool', nid, ip_version=4, cidr='10.98.6.0/24', gateway_ip='10.98.6.10',
                    allocation_pools=[{'start': '10.98.6.5', 'end': '10.98.6.20'}])
        subnet_case('v6-gateway-in-pool', nid, ip_version=6, cidr='2001:db8:aaaa:115::/64', gateway_ip='2001:db8:aaaa:115::10',
                    allocation_pools=[{'start': '2001:db8:aaaa:115::5', 'end': '2001:db8:aaaa:115::20'}])
        subnet_case('v4-overlapping-pools', nid, ip_version=4, cidr='10.98.7.0/24',
                    allocation_pools=[{'start': '10.98.7.10', 'end': '10.98.7.50'}, {'start': '10.98.7.40', 'end': '10.98.7.60'}])
        subnet_case('v6-overlapping-pools', nid, ip_version=6, cidr='2001:db8:aaaa:116::/64',
                    allocation_pools=[{'start': '2001:db8:aaaa:116::10', 'end': '2001:db8:aaaa:116::50'},
                                      {'start': '2001:db8:aaaa:116::40', 'end': '2001:db8:aaaa:116::60'}])
        subnet_case('v4-pool-outside-cidr', nid, ip_version=4, cidr='10.98.8.0/24',
                    allocation_pools=[{'start': '10.98.9.10', 'end': '10.98.9.20'}])
        subnet_case('v6-pool-outside-cidr', nid, ip_version=6, cidr='2001:db8:aaaa:117::/64',
                    allocation_pools=[{'start': '2001:db8:aaaa:118::10', 'end': '2001:db8:aaaa:118::20'}])
        subnet_case('v6-pool-partly-outside-cidr', nid, ip_version=6, cidr='2001:db8:aaaa:119::/64',
                    allocation_pools=[{'start': '2001:db8:aaaa:119::10', 'end': '2001:db8:aaaa:11a::20'}])
        subnet_case('v4-pool-start-after-end', nid, ip_version=4, cidr='10.98.10.0/24',
                    allocation_pools=[{'start': '10.98.10.50', 'end': '10.98.10.10'}])
        subnet_case('v6-pool-start-after-end', nid, ip_version=6, cidr='2001:db8:aaaa:11b::/64',
                    allocation_pools=[{'start': '2001:db8:aaaa:11b::50', 'end': '2001:db8:aaaa:11b::10'}])
        subnet_case('v6-pool-wrong-family', nid, ip_version=6, cidr='2001:db8:aaaa:11c::/64',
                    allocation_pools=[{'start': '10.0.0.1', 'end': '10.0.0.9'}])
        subnet_case('v6-pool-missing-end', nid, ip_version=6, cidr='2001:db8:aaaa:11d::/64',
                    allocation_pools=[{'start': '2001:db8:aaaa:11d::5'}])
        subnet_case('v6-pool-includes-network-addr', nid, note='accepted?', ip_version=6, cidr='2001:db8:aaaa:11e::/64',
                    allocation_pools=[{'start': '2001:db8:aaaa:11e::', 'end': '2001:db8:aaaa:11e::20'}])
        subnet_case('v6-pool-gateway-null-full-range', nid, ip_version=6, cidr='2001:db8:aaaa:11f::/64', gateway_ip=None,
                    allocation_pools=[{'start': '2001:db8:aaaa:11f::1', 'end': '2001:db8:aaaa:11f:ffff:ffff:ffff:ffff'}])
        st, ok = subnet_case('v6-ok-for-overlap', nid, ip_version=6, cidr='2001:db8:aaaa:200::/64')
        subnet_case('overlap-same-network', nid, ip_version=6, cidr='2001:db8:aaaa:200::/64')
        subnet_case('overlap-same-network-supernet', nid, ip_version=6, cidr='2001:db8:aaaa:200::/56')
        n2 = net('http-subnets-2')
        subnet_case('overlap-other-network', n2['id'], note='allowed (allow_overlapping_ips)', ip_version=6, cidr='2001:db8:aaaa:200::/64')
        subnet_case('dns-invalid', nid, ip_version=6, cidr='2001:db8:aaaa:201::/64', dns_nameservers=['not-an-ip'])
        subnet_case('dns-duplicate', nid, ip_version=6, cidr='2001:db8:aaaa:202::/64', dns_nameservers=['2001:db8::1', '2001:db8::1'])
        subnet_case('dns-v4-on-v6-subnet', nid, note='allowed', ip_version=6, cidr='2001:db8:aaaa:203::/64', dns_nameservers=['8.8.8.8'])
        subnet_case('dns-too-many', nid, ip_version=6, cidr='2001:db8:aaaa:204::/64',
                    dns_nameservers=['2001:db8::%x' % i for i in range(1, 7)])
        subnet_case('host-route-bad-nexthop', nid, ip_version=6, cidr='2001:db8:aaaa:205::/64',
                    host_routes=[{'destination': '2001:db8:ffff::/48', 'nexthop': 'nope'}])
        subnet_case('host-route-wrong-family', nid, ip_version=6, cidr='2001:db8:aaaa:206::/64',
                    host_routes=[{'destination': '10.0.0.0/8', 'nexthop': '2001:db8:aaaa:206::1'}])
        subnet_case('unknown-network', '6f1b7c3e-0000-4000-8000-000000000000', ip_version=6, cidr='2001:db8:aaaa:207::/64')
        case('missing-network-id', 'POST', '/v2.0/subnets', {'subnet': {'ip_version': 6, 'cidr': '2001:db8:aaaa:208::/64'}})
        subnet_case('unknown-attribute', nid, ip_version=6, cidr='2001:db8:aaaa:209::/64', foo='bar')
        subnet_case('prefixlen-with-cidr', nid, ip_version=6, cidr='2001:db8:aaaa:20a::/64', prefixlen=64)
        subnet_case('no-cidr-no-pool', nid, ip_version=6)
        subnet_case('pd-no-modes', nid, ip_version=6, use_default_subnetpool=True)
        subnet_case('pd-ra-slaac-addr-unset', nid, ip_version=6, use_default_subnetpool=True, ipv6_ra_mode='slaac')
        subnet_case('pd-v4', nid, ip_version=4, subnetpool_id='prefix_delegation')
        subnet_case('pool-and-use-default', nid, ip_version=6, use_default_subnetpool=True,
                    subnetpool_id='6f1b7c3e-0000-4000-8000-000000000000')
        subnet_case('unknown-subnetpool', nid, ip_version=6, subnetpool_id='6f1b7c3e-0000-4000-8000-000000000000')


def section_subnet_updates():
        global n, nid, n2, n3, n4, n5, sl, sf, sl4, r, sp, modes, k
        # ---- subnet updates
        n3 = net('http-updates')
        sl = must('POST', '/v2.0/subnets', {'subnet': {'network_id': n3['id'], 'ip_version': 6, 'cidr': '2001:db8:aaaa:300::/64',
                                                        'ipv6_ra_mode': 'slaac', 'ipv6_address_mode': 'slaac', 'name': 'http-slaac'}})['subnet']
        case('update-ra-mode', 'PUT', '/v2.0/subnets/' + sl['id'], {'subnet': {'ipv6_ra_mode': 'dhcpv6-stateful'}})
        case('update-addr-mode', 'PUT', '/v2.0/subnets/' + sl['id'], {'subnet': {'ipv6_address_mode': 'dhcpv6-stateful'}})
        case('update-disable-dhcp-on-slaac', 'PUT', '/v2.0/subnets/' + sl['id'], {'subnet': {'enable_dhcp': False}})
        case('update-cidr', 'PUT', '/v2.0/subnets/' + sl['id'], {'subnet': {'cidr': '2001:db8:aaaa:301::/64'}})
        case('update-gateway', 'PUT', '/v2.0/subnets/' + sl['id'], {'subnet': {'gateway_ip': '2001:db8:aaaa:300::fe'}})
        case('update-pools-shrink', 'PUT', '/v2.0/subnets/' + sl['id'],
             {'subnet': {'allocation_pools': [{'start': '2001:db8:aaaa:300::100', 'end': '2001:db8:aaaa:300::1ff'}]}})
        case('show-subnet-404', 'GET', '/v2.0/subnets/6f1b7c3e-0000-4000-8000-000000000000')
        case('show-subnet-bad-uuid', 'GET', '/v2.0/subnets/not-a-uuid')


def section_ports():
        global n, nid, n2, n3, n4, n5, sl, sf, sl4, r, sp, modes, k
        # ---- ports
        sf = must('POST', '/v2.0/subnets', {'subnet': {'network_id': n3['id'], 'ip_version': 6, 'cidr': '2001:db8:aaaa:302::/64',
                                                        'ipv6_ra_mode': 'dhcpv6-stateful', 'ipv6_address_mode': 'dhcpv6-stateful',
                                                        'name': 'http-stateful'}})['subnet']
        n4 = net('http-ports-slaac-only')
        sl4 = must('POST', '/v2.0/subnets', {'subnet': {'network_id': n4['id'], 'ip_version': 6, 'cidr': '2001:db8:aaaa:303::/64',
                                                         'ipv6_ra_mode': 'slaac', 'ipv6_address_mode': 'slaac'}})['subnet']
        case('port-slaac-eui64', 'POST', '/v2.0/ports', {'port': {'network_id': n4['id'], 'name': 'http-p1', 'mac_address': 'fa:16:3e:79:5a:cc'}})
        case('port-dup-mac-same-network', 'POST', '/v2.0/ports', {'port': {'network_id': n4['id'], 'name': 'http-p2', 'mac_address': 'fa:16:3e:79:5a:cc'}})
        case('port-bad-mac', 'POST', '/v2.0/ports', {'port': {'network_id': n4['id'], 'name': 'http-p3', 'mac_address': 'zz:16:3e:79:5a:cc'}})
        case('port-multicast-mac', 'POST', '/v2.0/ports', {'port': {'network_id': n4['id'], 'name': 'http-p3b', 'mac_address': '01:00:5e:00:00:01'}})
        case('port-fixed-ip-on-slaac', 'POST', '/v2.0/ports', {'port': {'network_id': n4['id'], 'name': 'http-p4',
                                                                        'fixed_ips': [{'subnet_id': sl4['id'], 'ip_address': '2001:db8:aaaa:303::10'}]}})
        case('port-two-slaac-subnets', 'POST', '/v2.0/ports', {'port': {'network_id': n3['id'], 'name': 'http-p5', 'mac_address': 'fa:16:3e:00:00:05'}},
             note='network with one SLAAC and one stateful subnet: gets EUI-64 + a stateful address')
        case('port-stateful-fixed-ip', 'POST', '/v2.0/ports', {'port': {'network_id': n3['id'], 'name': 'http-p6',
                                                                        'fixed_ips': [{'subnet_id': sf['id'], 'ip_address': '2001:db8:aaaa:302::abcd'}]}})
        case('port-stateful-ip-in-use', 'POST', '/v2.0/ports', {'port': {'network_id': n3['id'], 'name': 'http-p7',
                                                                         'fixed_ips': [{'subnet_id': sf['id'], 'ip_address': '2001:db8:aaaa:302::abcd'}]}})
        case('port-ip-outside-subnet', 'POST', '/v2.0/ports', {'port': {'network_id': n3['id'], 'name': 'http-p8',
                                                                        'fixed_ips': [{'subnet_id': sf['id'], 'ip_address': '2001:db8:bbbb::1'}]}})
        case('port-ip-1-not-gateway', 'POST', '/v2.0/ports', {'port': {'network_id': n3['id'], 'name': 'http-p8b',
                                                                       'fixed_ips': [{'subnet_id': sf['id'], 'ip_address': '2001:db8:aaaa:302::1'}]}},
             note='::1 is NOT the gateway: Zed defaults an IPv6 subnet gateway to the subnet-router anycast address ::')
        case('port-ip-is-gateway-anycast', 'POST', '/v2.0/ports', {'port': {'network_id': n3['id'], 'name': 'http-p8d',
                                                                            'fixed_ips': [{'subnet_id': sf['id'], 'ip_address': '2001:db8:aaaa:302::'}]}})
        case('port-ip-only-no-subnet', 'POST', '/v2.0/ports', {'port': {'network_id': n3['id'], 'name': 'http-p8c',
                                                                        'fixed_ips': [{'ip_address': '2001:db8:aaaa:302::beef'}]}})
        case('port-subnet-other-network', 'POST', '/v2.0/ports', {'port': {'network_id': n4['id'], 'name': 'http-p9',
                                                                           'fixed_ips': [{'subnet_id': sf['id']}]}})
        case('port-unknown-network', 'POST', '/v2.0/ports', {'port': {'network_id': '6f1b7c3e-0000-4000-8000-000000000000', 'name': 'http-p10'}})
        n5 = net('http-tiny')
        must('POST', '/v2.0/subnets', {'subnet': {'network_id': n5['id'], 'ip_version': 6, 'cidr': '2001:db8:aaaa:304::/125',
                                                  'ipv6_ra_mode': 'dhcpv6-stateful', 'ipv6_address_mode': 'dhcpv6-stateful'}})
        for i in range(8):
            st, _ = case('port-exhaust-%d' % i, 'POST', '/v2.0/ports', {'port': {'network_id': n5['id'], 'name': 'http-tiny-%d' % i}})
            if st >= 400:
                break
        case('port-404', 'GET', '/v2.0/ports/6f1b7c3e-0000-4000-8000-000000000000')
        case('net-delete-in-use', 'DELETE', '/v2.0/networks/' + n4['id'])


def section_routers():
        global n, nid, n2, n3, n4, n5, sl, sf, sl4, r, sp, modes, k
        # ---- routers
        r = must('POST', '/v2.0/routers', {'router': {'name': 'http-router', 'ha': False}})['router']
        case('router-add-slaac-iface', 'PUT', '/v2.0/routers/%s/add_router_interface' % r['id'], {'subnet_id': sl['id']})
        case('router-add-same-iface-again', 'PUT', '/v2.0/routers/%s/add_router_interface' % r['id'], {'subnet_id': sl['id']})
        case('router-add-second-v6-same-net', 'PUT', '/v2.0/routers/%s/add_router_interface' % r['id'], {'subnet_id': sf['id']},
             note='second IPv6 subnet of the same network: reuses the existing router port')
        case('router-add-both-subnet-and-port', 'PUT', '/v2.0/routers/%s/add_router_interface' % r['id'],
             {'subnet_id': sl4['id'], 'port_id': '6f1b7c3e-0000-4000-8000-000000000000'})
        case('router-add-empty', 'PUT', '/v2.0/routers/%s/add_router_interface' % r['id'], {})
        case('subnet-delete-in-use', 'DELETE', '/v2.0/subnets/' + sl['id'])
        case('router-gw-not-external', 'PUT', '/v2.0/routers/' + r['id'], {'router': {'external_gateway_info': {'network_id': n2['id']}}})
        case('router-create-ha-and-dvr', 'POST', '/v2.0/routers', {'router': {'name': 'http-r-hadvr', 'ha': True, 'distributed': True}})
        case('router-create-default', 'POST', '/v2.0/routers', {'router': {'name': 'http-r-default'}}, note='l3_ha=True: ha defaults to true')


def section_subnetpools():
        global n, nid, n2, n3, n4, n5, sl, sf, sl4, r, sp, modes, k
        # ---- subnet pools
        case('subnetpool-mixed-families', 'POST', '/v2.0/subnetpools', {'subnetpool': {'name': 'http-sp1', 'prefixes': ['2001:db8:cc00::/40', '10.0.0.0/8']}})
        case('subnetpool-default-prefixlen-too-small', 'POST', '/v2.0/subnetpools',
             {'subnetpool': {'name': 'http-sp2', 'prefixes': ['2001:db8:cd00::/48'], 'default_prefixlen': 40}})
        case('subnetpool-min-gt-max', 'POST', '/v2.0/subnetpools',
             {'subnetpool': {'name': 'http-sp3', 'prefixes': ['2001:db8:ce00::/48'], 'min_prefixlen': 64, 'max_prefixlen': 56}})
        case('subnetpool-ok-defaults', 'POST', '/v2.0/subnetpools', {'subnetpool': {'name': 'http-sp4', 'prefixes': ['2001:db8:cf00::/48']}},
             note='shows default min/max/default prefixlen for IPv6')


def section_bgp():
        global n, nid, n2, n3, n4, n5, sl, sf, sl4, r, sp, modes, k
        # ---- BGP
        case('bgp-speaker-bad-ip-version', 'POST', '/v2.0/bgp-speakers', {'bgp_speaker': {'name': 'http-s1', 'ip_version': 5, 'local_as': 65001}})
        case('bgp-speaker-bad-as', 'POST', '/v2.0/bgp-speakers', {'bgp_speaker': {'name': 'http-s2', 'ip_version': 6, 'local_as': 0}})
        case('bgp-speaker-4byte-as', 'POST', '/v2.0/bgp-speakers', {'bgp_speaker': {'name': 'http-s3', 'ip_version': 6, 'local_as': 4200000000}})
        case('bgp-peer-bad-ip', 'POST', '/v2.0/bgp-peers', {'bgp_peer': {'name': 'http-p1', 'peer_ip': 'nope', 'remote_as': 65000, 'auth_type': 'none'}})
        case('bgp-peer-bad-auth', 'POST', '/v2.0/bgp-peers', {'bgp_peer': {'name': 'http-p2', 'peer_ip': '2001:db8::2', 'remote_as': 65000, 'auth_type': 'md5'}})
        case('bgp-peer-ok', 'POST', '/v2.0/bgp-peers', {'bgp_peer': {'name': 'http-p3', 'peer_ip': '2001:db8::3', 'remote_as': 65000, 'auth_type': 'none'}})
        sp = must('POST', '/v2.0/bgp-speakers', {'bgp_speaker': {'name': 'http-s4', 'ip_version': 6, 'local_as': 65010}})['bgp_speaker']
        case('bgp-speaker-add-internal-network', 'PUT', '/v2.0/bgp-speakers/%s/add_gateway_network' % sp['id'], {'network_id': n3['id']},
             note='not router:external')
        case('bgp-speaker-add-unknown-peer', 'PUT', '/v2.0/bgp-speakers/%s/add_bgp_peer' % sp['id'], {'bgp_peer_id': '6f1b7c3e-0000-4000-8000-000000000000'})


def section_http():
        global n, nid, n2, n3, n4, n5, sl, sf, sl4, r, sp, modes, k
        # ---- HTTP level / policy
        case('bad-json', 'POST', '/v2.0/networks', raw=b'{"network": ')
        case('body-wrong-resource-key', 'POST', '/v2.0/networks', {'port': {'name': 'x'}})
        case('unknown-collection', 'GET', '/v2.0/frobnicators')
        case('method-not-allowed', 'PATCH', '/v2.0/networks')
        case('non-admin-external-net', 'POST', '/v2.0/networks', {'network': {'name': 'http-ext', 'router:external': True}},
             headers={'X-Project-Id': 'tenant-a', 'X-Roles': 'member'},
             note='with X-Project-Id, NoauthFakeProjectId sets no neutron.context; the pecan ContextHook then falls back to get_admin_context() (admin, no project): tenant_id must be in the body')
        case('non-admin-external-net-with-tenant', 'POST', '/v2.0/networks',
             {'network': {'name': 'http-ext2', 'router:external': True, 'tenant_id': 'tenant-a'}},
             headers={'X-Project-Id': 'tenant-a', 'X-Roles': 'member'}, note='201: under noauth every request is admin, X-Roles is ignored, so policy cannot be exercised')
        case('non-admin-create-net', 'POST', '/v2.0/networks', {'network': {'name': 'http-tenant-net', 'tenant_id': 'tenant-a'}},
             headers={'X-Project-Id': 'tenant-a', 'X-Roles': 'member'})
        case('non-admin-list-networks', 'GET', '/v2.0/networks?fields=id&fields=name&fields=router:external',
             headers={'X-Project-Id': 'tenant-a', 'X-Roles': 'member'})
        case('filter-unknown-field', 'GET', '/v2.0/ports?foo=bar')
        case('list-ports-limit-sort', 'GET', '/v2.0/ports?limit=2&sort_key=name&sort_dir=asc&fields=id&fields=name')

SECTIONS = [
    ('subnets', section_subnets),
    ('subnet-updates', section_subnet_updates),
    ('ports', section_ports),
    ('routers', section_routers),
    ('subnetpools', section_subnetpools),
    ('bgp', section_bgp),
    ('http', section_http),
]


def main():
    try:
        cleanup()
    except SetupError as e:
        print('cleanup before the run failed (ignored): %s' % e)
    for name, fn in SECTIONS:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - record and go on
            SETUP_ERRORS.append({'section': name, 'error': '%s: %s' % (type(e).__name__, e)})
            print('section %s stopped: %s: %s' % (name, type(e).__name__, e))
    with open(os.path.join(ARGS.out, 'setup-errors.json'), 'w') as f:
        json.dump(SETUP_ERRORS, f, indent=2)
    with open(os.path.join(ARGS.out, 'catalogue.json'), 'w') as f:
        json.dump(CATALOGUE, f, indent=2)
    with open(os.path.join(ARGS.out, 'catalogue.md'), 'w') as f:
        f.write('| case | HTTP | NeutronError.type | message |\n|---|---|---|---|\n')
        for c in CATALOGUE:
            msg = c['message'] if c['message'] is not None else (
                '(%s)' % ('created/ok' if c['status'] < 300 else json.dumps(c['body_if_not_neutronerror'])[:200]))
            f.write('| %s | %s | %s | %s |\n' % (c['name'], c['status'], c['type'] or '', msg.replace('|', '\\|').replace('\n', ' ')))
    try:
        cleanup()
    except SetupError as e:
        print('cleanup after the run failed (ignored): %s' % e)


if __name__ == '__main__':
    main()
