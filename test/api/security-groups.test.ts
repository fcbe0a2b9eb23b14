// Security groups and rules answer as Neutron does (neutron/db/securitygroups_db.py, neutron/extensions/
// securitygroup.py), including the cases Tempest's negative tests found (issue 25), and port security's rules.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { backends, startApi, type Api } from '../helpers/v6stack.js';

for (const backend of backends()) {
  describe(`security groups (${backend})`, () => {
    let api: Api;
    let net: { id: string };
    before(async () => {
      api = await startApi(backend);
      net = (await api.request('POST', '/v2.0/networks', { network: { name: 'sg-net' } })).body.network;
      await api.request('POST', '/v2.0/subnets', {
        subnet: { network_id: net.id, ip_version: 6, cidr: '2001:db8:5e::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
      });
    });
    after(async () => api.close());

    const expectError = async (method: string, path: string, body: unknown, status: number, type: string, message?: string) => {
      const r = await api.request(method, path, body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.NeutronError.type, type, JSON.stringify(r.body));
      if (message !== undefined) assert.equal(r.body.NeutronError.message, message);
      return r.body.NeutronError;
    };
    const newGroup = async (name = 'g') => (await api.request('POST', '/v2.0/security-groups', { security_group: { name } })).body.security_group;
    const rule = (sg: string, extra: Record<string, unknown>) =>
      api.request('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg, direction: 'ingress', ...extra } });

    it("gives each project a default group with Neutron's four rules", async () => {
      const project = 'p-default-rules';
      const g = (await api.request('POST', '/v2.0/security-groups', { security_group: { name: 'web', project_id: project } })).body.security_group;
      assert.equal(g.security_group_rules.length, 2, 'a new group has the two egress rules');
      assert.deepEqual(g.security_group_rules.map((r: { direction: string; ethertype: string }) => `${r.direction}/${r.ethertype}`).sort(), ['egress/IPv4', 'egress/IPv6']);
      const defaults = (await api.request('GET', `/v2.0/security-groups?name=default&project_id=${project}`)).body.security_groups;
      assert.equal(defaults.length, 1);
      const rules = defaults[0].security_group_rules as Array<Record<string, unknown>>;
      assert.deepEqual(
        rules.map((r) => `${r.direction}/${r.ethertype}/${r.remote_group_id === defaults[0].id ? 'self' : r.remote_group_id}`).sort(),
        ['egress/IPv4/null', 'egress/IPv6/null', 'ingress/IPv4/self', 'ingress/IPv6/self'],
      );
    });

    it('answers 404 SecurityGroupNotFound for a remote_group_id that is no group, UUID or not', async () => {
      const sg = await newGroup();
      for (const remote of ['bad_group_id', randomUUID()]) {
        await expectError('POST', '/v2.0/security-group-rules', {
          security_group_rule: { security_group_id: sg.id, direction: 'ingress', protocol: 'tcp', ethertype: 'IPv6', remote_group_id: remote },
        }, 404, 'SecurityGroupNotFound', `Security group ${remote} does not exist`);
      }
      const missing = randomUUID();
      await expectError('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: missing, direction: 'ingress' } }, 404, 'SecurityGroupNotFound');
    });

    it("checks port ranges with Neutron's texts (Tempest's invalid-ports states)", async () => {
      const sg = await newGroup();
      const cases: Array<[unknown, unknown, string, string]> = [
        [-16, 80, 'SecurityGroupInvalidPortValue', 'Invalid value for port -16'],
        [80, 79, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max'],
        [80, 65536, 'SecurityGroupInvalidPortValue', 'Invalid value for port 65536'],
        [null, 6, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max'],
        [0, 6, 'SecurityGroupInvalidPortValue', 'Invalid value for port 0'],
      ];
      for (const [min, max, type, message] of cases) {
        await expectError('POST', '/v2.0/security-group-rules', {
          security_group_rule: { security_group_id: sg.id, direction: 'ingress', protocol: 'tcp', port_range_min: min, port_range_max: max },
        }, 400, type, message);
      }
      const icmp: Array<[unknown, unknown, string, string]> = [
        [1, 256, 'SecurityGroupInvalidIcmpValue', 'Invalid value for ICMP code (port_range_max) 256. It must be 0 to 255.'],
        [-1, 25, 'SecurityGroupInvalidPortValue', 'Invalid value for port -1'],
        [null, 6, 'SecurityGroupMissingIcmpType', 'ICMP code (port-range-max) 6 is provided but ICMP type (port-range-min) is missing.'],
        [300, 1, 'SecurityGroupInvalidIcmpValue', 'Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255.'],
      ];
      for (const [min, max, type, message] of icmp) {
        await expectError('POST', '/v2.0/security-group-rules', {
          security_group_rule: { security_group_id: sg.id, direction: 'ingress', protocol: 'icmp', port_range_min: min, port_range_max: max },
        }, 400, type, message);
      }
      await expectError('POST', '/v2.0/security-group-rules', {
        security_group_rule: { security_group_id: sg.id, direction: 'ingress', protocol: 'gre', port_range_min: 1, port_range_max: 2 },
      }, 400, 'SecurityGroupInvalidProtocolForPort', 'Ports cannot be specified for protocol 47. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.');
      // The whole range is stored as no range (_make_canonical_port_range).
      const whole = await rule(sg.id, { protocol: 'udp', port_range_min: 1, port_range_max: 65535 });
      assert.equal(whole.status, 201, JSON.stringify(whole.body));
      assert.equal(whole.body.security_group_rule.port_range_min, null);
      assert.equal(whole.body.security_group_rule.port_range_max, null);
    });

    it('refuses IPv6-only protocols on an IPv4 rule', async () => {
      const sg = await newGroup();
      for (const protocol of ['41', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', '43', '44', '58', '59', '60']) {
        await expectError('POST', '/v2.0/security-group-rules', {
          security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol },
        }, 400, 'SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype IPv4 for protocol ${protocol}.`);
      }
      const ok = await rule(sg.id, { ethertype: 'IPv6', protocol: '41' });
      assert.equal(ok.status, 201);
    });

    it('stores an IPv6 rule\'s legacy "icmp" as ipv6-icmp, and a duplicate by number is a duplicate', async () => {
      const sg = await newGroup();
      const r = await rule(sg.id, { ethertype: 'IPv6', protocol: 'icmp', port_range_min: 128 });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.security_group_rule.protocol, 'ipv6-icmp');
      const dup = await rule(sg.id, { ethertype: 'IPv6', protocol: '58', port_range_min: 128 });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.NeutronError.type, 'SecurityGroupRuleExists');
      assert.equal(dup.body.NeutronError.message, `Security group rule already exists. Rule id is ${r.body.security_group_rule.id}.`);
      const any = await rule(sg.id, { ethertype: 'IPv6', protocol: 'tcp', remote_ip_prefix: '::/0' });
      assert.equal(any.status, 201);
      const dupAny = await rule(sg.id, { ethertype: 'IPv6', protocol: '6' });
      assert.equal(dupAny.status, 409, '::/0 is the same as no prefix');
    });

    it('refuses two remotes at once', async () => {
      const sg = await newGroup();
      await expectError('POST', '/v2.0/security-group-rules', {
        security_group_rule: { security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '2001:db8::/64', remote_group_id: sg.id },
      }, 400, 'SecurityGroupMultipleRemoteEntites', 'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.');
    });

    it('refuses the name "default" for a new group and for a rename (409), in any case', async () => {
      await expectError('POST', '/v2.0/security-groups', { security_group: { name: 'default' } }, 409, 'SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      const sg = await newGroup('renamed');
      await expectError('PUT', `/v2.0/security-groups/${sg.id}`, { security_group: { name: 'default' } }, 409, 'SecurityGroupDefaultAlreadyExists');
      await expectError('PUT', `/v2.0/security-groups/${sg.id}`, { security_group: { name: 'Default' } }, 409, 'SecurityGroupDefaultAlreadyExists');
      const ok = await api.request('PUT', `/v2.0/security-groups/${sg.id}`, { security_group: { name: 'web' } });
      assert.equal(ok.status, 200);
      const dflt = (await api.request('GET', '/v2.0/security-groups?name=default')).body.security_groups[0];
      await expectError('PUT', `/v2.0/security-groups/${dflt.id}`, { security_group: { name: 'other' } }, 409, 'SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
    });

    it("refuses the same group twice in a port's security_groups", async () => {
      const sg = await newGroup();
      const e = await expectError('POST', '/v2.0/ports', { port: { network_id: net.id, security_groups: [sg.id, sg.id] } }, 400, 'HTTPBadRequest');
      assert.equal(e.message, `Invalid input for security_groups. Reason: Duplicate items in the list: '${sg.id}'.`);
    });

    it('ties security groups to port security, with Neutron\'s errors both ways', async () => {
      const sg = await newGroup();
      await expectError('POST', '/v2.0/ports', { port: { network_id: net.id, port_security_enabled: false, security_groups: [sg.id] } }, 400,
        'PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');
      const off = await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, port_security_enabled: false } });
      assert.equal(off.status, 201);
      assert.deepEqual(off.body.port.security_groups, []);
      await expectError('PUT', `/v2.0/ports/${off.body.port.id}`, { port: { security_groups: [sg.id] } }, 400, 'PortSecurityAndIPRequiredForSecurityGroups');
      const on = (await api.request('POST', '/v2.0/ports', { port: { network_id: net.id, security_groups: [sg.id] } })).body.port;
      await expectError('PUT', `/v2.0/ports/${on.id}`, { port: { port_security_enabled: false } }, 409, 'PortSecurityPortHasSecurityGroup');
      const both = await api.request('PUT', `/v2.0/ports/${on.id}`, { port: { port_security_enabled: false, security_groups: [] } });
      assert.equal(both.status, 200, JSON.stringify(both.body));
      assert.equal(both.body.port.port_security_enabled, false);
    });
  });
}
