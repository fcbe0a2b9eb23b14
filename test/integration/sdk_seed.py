#!/usr/bin/python3
"""The talk's (deploying-ipv6-in-openstack) topology built with openstacksdk, as clients.test.ts runs it.

usage: /usr/bin/python3 sdk_seed.py URL [--prefix P] [--cleanup]

Connects without Keystone the way that works with python3-openstacksdk 0.101 against Neutron Zed
(noauth): Connection(auth_type='none', network_endpoint_override=URL). (endpoint_override= alone fails
in 0.101 with "'NoneType' object has no attribute 'rstrip'".) Prints one JSON object on stdout:
{"steps": {name: {"ok": true, "value": ...} | {"ok": false, "status": N, "message": "..."}}}.
Every step runs even if an earlier one failed (it then records the failure it meets). --prefix
names every object P+name (to try it on a shared Neutron); --cleanup deletes everything at the end.
"""
import json
import sys
import urllib.parse

import openstack
from openstack import exceptions as exc

URL = sys.argv[1]
if urllib.parse.urlparse(URL).hostname not in ('127.0.0.1', 'localhost', '::1'):
    sys.exit('refusing non-loopback target %s' % URL)
PREFIX = sys.argv[sys.argv.index('--prefix') + 1] if '--prefix' in sys.argv else ''
CLEANUP = '--cleanup' in sys.argv
STEPS = {}
OBJ = {}


def step(name, fn):
    try:
        STEPS[name] = {'ok': True, 'value': fn()}
    except exc.HttpException as e:
        STEPS[name] = {'ok': False, 'status': e.status_code, 'message': e.details, 'exception': type(e).__name__}
    except Exception as e:  # noqa: BLE001 - a client-side failure is a result too
        STEPS[name] = {'ok': False, 'status': None, 'message': '%s: %s' % (type(e).__name__, e), 'exception': type(e).__name__}


def subnet_view(s):
    return {'id': s.id, 'name': s.name, 'cidr': s.cidr, 'ip_version': s.ip_version, 'gateway_ip': s.gateway_ip,
            'allocation_pools': s.allocation_pools, 'enable_dhcp': s.is_dhcp_enabled, 'ipv6_ra_mode': s.ipv6_ra_mode,
            'ipv6_address_mode': s.ipv6_address_mode, 'dns_nameservers': s.dns_nameservers, 'network_id': s.network_id}


def port_view(p):
    return {'id': p.id, 'name': p.name, 'mac_address': p.mac_address, 'fixed_ips': p.fixed_ips, 'device_owner': p.device_owner,
            'device_id': p.device_id, 'network_id': p.network_id, 'status': p.status}


c = openstack.connection.Connection(auth_type='none', network_endpoint_override=URL)
N = c.network


def make_net(key, name, **kw):
    n = N.create_network(name=PREFIX + name, **kw)
    OBJ[key] = n
    return {'id': n.id, 'name': n.name, 'router:external': n.is_router_external, 'status': n.status}


def make_subnet(key, net_key, name, **kw):
    s = N.create_subnet(network_id=OBJ[net_key].id, name=PREFIX + name, **kw)
    OBJ[key] = s
    return subnet_view(s)


step('network public', lambda: make_net('public', 'public', is_router_external=True))
step('subnet public-subnet', lambda: make_subnet('public-subnet', 'public', 'public-subnet', ip_version=4, cidr='172.16.12.0/24',
                                                 allocation_pools=[{'start': '172.16.12.5', 'end': '172.16.12.254'}]))
step('subnet public-v6-subnet', lambda: make_subnet('public-v6-subnet', 'public', 'public-v6-subnet', ip_version=6,
                                                    cidr='2001:db8:cafe:d::/64', is_dhcp_enabled=False,
                                                    allocation_pools=[{'start': '2001:db8:cafe:d::5',
                                                                       'end': '2001:db8:cafe:d:ffff:ffff:ffff:fffe'}]))
step('network private', lambda: make_net('private', 'private'))
step('subnet private_v6_subnet', lambda: make_subnet('private_v6_subnet', 'private', 'private_v6_subnet', ip_version=6,
                                                     cidr='2001:db8:cafe::/64', ipv6_ra_mode='slaac', ipv6_address_mode='slaac'))
step('subnet private-v4-subnet', lambda: make_subnet('private-v4-subnet', 'private', 'private-v4-subnet', ip_version=4, cidr='10.0.0.0/24'))
step('network private-dhcpv6-stateless', lambda: make_net('stateless', 'private-dhcpv6-stateless'))
step('subnet private_dhcpv6_stateless_subnet', lambda: make_subnet(
    'stateless-subnet', 'stateless', 'private_dhcpv6_stateless_subnet', ip_version=6, cidr='2001:db8:cafe:2::/64',
    ipv6_ra_mode='dhcpv6-stateless', ipv6_address_mode='dhcpv6-stateless', dns_nameservers=['2001:db8:cafe:a::e']))
step('network private-dhcpv6', lambda: make_net('stateful', 'private-dhcpv6'))
step('subnet private_dhcpv6_subnet', lambda: make_subnet(
    'stateful-subnet', 'stateful', 'private_dhcpv6_subnet', ip_version=6, cidr='2001:db8:cafe:1::/64',
    ipv6_ra_mode='dhcpv6-stateful', ipv6_address_mode='dhcpv6-stateful', dns_nameservers=['2001:db8:cafe:a::e']))
# the error path: a mismatched ipv6_ra_mode / ipv6_address_mode pair
step('subnet mismatched modes', lambda: make_subnet('bad', 'private', 'bad-modes', ip_version=6, cidr='2001:db8:cafe:5::/64',
                                                    ipv6_ra_mode='slaac', ipv6_address_mode='dhcpv6-stateful'))


def make_router():
    r = N.create_router(name=PREFIX + 'private-router')
    OBJ['router'] = r
    r = N.update_router(r, external_gateway_info={'network_id': OBJ['public'].id})
    return {'id': r.id, 'external_gateway_info': r.external_gateway_info, 'status': r.status}


step('router private-router with gateway public', make_router)
step('router interface private-v4-subnet', lambda: N.add_interface_to_router(OBJ['router'], subnet_id=OBJ['private-v4-subnet'].id))
step('router interface private_v6_subnet', lambda: N.add_interface_to_router(OBJ['router'], subnet_id=OBJ['private_v6_subnet'].id))
step('router interface private_v6_subnet again', lambda: N.add_interface_to_router(OBJ['router'], subnet_id=OBJ['private_v6_subnet'].id))
step('router ports', lambda: sorted((port_view(p) for p in N.ports(device_id=OBJ['router'].id)), key=lambda p: p['device_owner']))


def make_port(key, net_key, **kw):
    p = N.create_port(network_id=OBJ[net_key].id, name=PREFIX + key, **kw)
    OBJ[key] = p
    return port_view(p)


step('port vm-slaac', lambda: make_port('vm-slaac', 'private', mac_address='fa:16:3e:79:5a:cc'))
step('port vm-slaac duplicate mac', lambda: make_port('vm-dup', 'private', mac_address='fa:16:3e:79:5a:cc'))
step('port vm-stateless', lambda: make_port('vm-stateless', 'stateless', mac_address='fa:16:3e:fe:d1:57'))
step('port vm-stateful', lambda: make_port('vm-stateful', 'stateful'))
step('subnets', lambda: sorted((subnet_view(s) for s in N.subnets() if s.name.startswith(PREFIX)), key=lambda s: s['name']))
step('find network private', lambda: N.find_network(PREFIX + 'private', ignore_missing=False).id)
step('show missing network', lambda: N.get_network('6f1b7c3e-0000-4000-8000-000000000000').id)

if CLEANUP:
    def cleanup():
        done = []
        for k in ('vm-slaac', 'vm-dup', 'vm-stateless', 'vm-stateful'):
            if k in OBJ:
                N.delete_port(OBJ[k])
                done.append(k)
        if 'router' in OBJ:
            for s in ('private-v4-subnet', 'private_v6_subnet'):
                if s in OBJ:
                    try:
                        N.remove_interface_from_router(OBJ['router'], subnet_id=OBJ[s].id)
                    except exc.NotFoundException:
                        pass
            N.update_router(OBJ['router'], external_gateway_info={})
            N.delete_router(OBJ['router'])
            done.append('router')
        for k in ('public', 'private', 'stateless', 'stateful'):
            if k in OBJ:
                N.delete_network(OBJ[k])
                done.append(k)
        return done
    step('cleanup', cleanup)

print(json.dumps({'steps': STEPS}, indent=1, default=str))
