// Output rendering against golden text captured from the real openstack client (see fixtures/README.md).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatDict, formatList, formatOne, humanValue, pyRepr, renderTable, selectColumns, toYaml } from '../../../src/cli/format.js';
import {
  NETWORK_LIST_LONG,
  NETWORK_SHOW,
  PORT_SHOW,
  SECURITY_GROUP_RULE_LIST,
  SECURITY_GROUP_SHOW,
  SUBNET_POOL_LIST_LONG,
  SUBNET_SHOW,
  portRange,
  securityGroupRuleRow,
} from '../../../src/cli/views.js';

const fixtures = new URL('../../../../test/unit/cli/fixtures/', import.meta.url);
const text = (name: string): string => readFileSync(new URL(name, fixtures), 'utf8');
const body = (name: string): Record<string, any> => JSON.parse(text(name));

describe('show tables match the openstack client', () => {
  it('subnet show (pools, host routes, None, booleans)', () => {
    assert.equal(formatOne(SUBNET_SHOW, body('subnet.json').subnet), text('subnet.txt'));
  });
  it('port show (fixed_ips and allowed address pairs as key=value lines, binding columns)', () => {
    assert.equal(formatOne(PORT_SHOW, body('port.json').port), text('port.txt'));
  });
  it('network show (UP, External, tags)', () => {
    assert.equal(formatOne(NETWORK_SHOW, body('net.json').network), text('net.txt'));
  });
  it('security group show (rules as multi-line cell, empty keys dropped)', () => {
    assert.equal(formatOne(SECURITY_GROUP_SHOW, body('sg.json').security_group), text('sg.txt'));
  });
});

describe('list tables match the openstack client', () => {
  it('network list --long', () => {
    assert.equal(formatList(NETWORK_LIST_LONG, [body('net.json').network]), text('netlist.txt'));
  });
  it('security group rule list GROUP (derived port range and any-address prefix)', () => {
    assert.equal(formatList(SECURITY_GROUP_RULE_LIST, body('rules.json').security_group_rules.map(securityGroupRuleRow)), text('rules.txt'));
  });
  it('an empty list prints only a newline, as cliff does', () => {
    assert.equal(formatList(NETWORK_LIST_LONG, []), '\n');
  });
  it('integer columns are right-aligned, prefix lengths that travel as strings included', () => {
    const out = formatList(SUBNET_POOL_LIST_LONG, [
      { id: 'x', name: 'p', prefixes: ['2001:db8:b000::/36'], default_prefixlen: '64', address_scope_id: null, is_default: false, shared: false, tags: [] },
    ]);
    assert.match(out, /\| {20}64 \| None {10}\| False {15}\| False  \| {6}\|/);
  });
});

describe('other output forms', () => {
  it('-f yaml matches PyYAML safe_dump', () => {
    assert.equal(formatOne(SUBNET_SHOW, body('subnet.json').subnet, { format: 'yaml' }), text('subnet.yaml'));
  });
  it('-f value prints Python str() of each value', () => {
    assert.equal(formatOne(PORT_SHOW, body('port.json').port, { format: 'value' }), text('port.value'));
  });
  it('-f json keeps the API values and OSC column names', () => {
    const out = JSON.parse(formatOne(SUBNET_SHOW, body('subnet.json').subnet, { format: 'json' }));
    assert.equal(out.enable_dhcp, false);
    assert.equal(out.subnetpool_id, null);
    assert.deepEqual(out.host_routes, [{ destination: '2001:db8:ff::/64', nexthop: '2001:db8:c1c::1' }]);
    assert.equal(out.dns_publish_fixed_ip, null);
  });
  it('-c keeps the named columns in table order; none recognised is an error', () => {
    const out = formatOne(SUBNET_SHOW, body('subnet.json').subnet, { column: ['gateway_ip', 'cidr'], format: 'value' });
    assert.equal(out, '2001:db8:c1c::/64\n2001:db8:c1c::\n');
    assert.deepEqual(selectColumns(SUBNET_SHOW, ['nope', 'cidr']).map((c) => c.name), ['cidr']);
    assert.throws(() => selectColumns(SUBNET_SHOW, ['nope']), /No recognized column names in \['nope'\]/);
  });
  it('an unknown -f is refused', () => {
    assert.throws(() => formatOne(SUBNET_SHOW, {}, { format: 'csv' }), /invalid choice: 'csv'/);
  });
});

describe('value formatters', () => {
  it('allocation pools as start-end joined by commas (the talk shows JSON; OSC 6 prints this)', () => {
    assert.equal(
      humanValue([{ start: '2001:db8:cafe::1', end: '2001:db8:cafe::ffff:ffff:ffff:ffff' }], 'pools'),
      '2001:db8:cafe::1-2001:db8:cafe::ffff:ffff:ffff:ffff',
    );
  });
  it('routes show gateway= instead of nexthop', () => {
    assert.equal(humanValue([{ destination: '::/0', nexthop: '2001:db8::1' }], 'routes'), "destination='::/0', gateway='2001:db8::1'");
  });
  it('lists are sorted and comma joined; None stays None', () => {
    assert.equal(humanValue(['b', 'a', 'C'], 'list'), 'C, a, b');
    assert.equal(humanValue(null, 'list'), 'None');
    assert.equal(humanValue([], 'list'), '');
    assert.equal(humanValue(null), 'None');
    assert.equal(humanValue(true), 'True');
  });
  it('external gateway info is Python json.dumps text, null when unset', () => {
    assert.equal(humanValue(null, 'json'), 'null');
    assert.equal(
      humanValue({ network_id: 'n', external_fixed_ips: [{ subnet_id: 's', ip_address: '2001:db8::5' }], enable_snat: true }, 'json'),
      '{"network_id": "n", "external_fixed_ips": [{"subnet_id": "s", "ip_address": "2001:db8::5"}], "enable_snat": true}',
    );
  });
  it('format_dict flattens nested dicts and prints None as empty', () => {
    assert.equal(formatDict({ b: null, a: { y: 1, x: 'v' } }), "a.x='v', a.y='1', b=");
  });
  it('pyRepr follows Python quoting', () => {
    assert.equal(pyRepr(["it's", 'a', null, true, 3, { k: 'v' }]), `["it's", 'a', None, True, 3, {'k': 'v'}]`);
  });
  it('port ranges as OSC shows them', () => {
    assert.equal(portRange({ protocol: 'tcp', port_range_min: 22, port_range_max: 23 }), '22:23');
    assert.equal(portRange({ protocol: 'tcp', port_range_min: 80, port_range_max: null }), '80:80');
    assert.equal(portRange({ protocol: 'ipv6-icmp', port_range_min: 135, port_range_max: 0 }), 'type=135');
    assert.equal(portRange({ protocol: 'icmp', port_range_min: 3, port_range_max: 1 }), 'type=3:code=1');
    assert.equal(portRange({ protocol: null, port_range_min: null, port_range_max: null }), '');
  });
});

describe('renderTable', () => {
  it('splits multi-line cells into rows and pads the others', () => {
    assert.equal(
      renderTable(['A', 'B'], [['123456', 'xy\nlonger line'], ['1', '']], ['r', 'l']),
      [
        '+--------+-------------+',
        '|      A | B           |',
        '+--------+-------------+',
        '| 123456 | xy          |',
        '|        | longer line |',
        '|      1 |             |',
        '+--------+-------------+',
      ].join('\n'),
    );
  });
});

describe('toYaml', () => {
  it('quotes what YAML would misread and leaves prefixes plain', () => {
    assert.equal(
      toYaml({ b: '', a: '2001:db8::', c: '2001:db8::/64', d: '2026-11-24T20:43:21Z', e: 'True', f: [], g: [{ y: 1, x: null }] }),
      "a: '2001:db8::'\nb: ''\nc: 2001:db8::/64\nd: '2026-11-24T20:43:21Z'\ne: 'True'\nf: []\ng:\n- x: null\n  y: 1\n",
    );
  });
});
