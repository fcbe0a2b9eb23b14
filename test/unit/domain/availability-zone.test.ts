// domain/availability-zone: Neutron's zone rules (agents_db AgentAvailabilityZoneMixin, AZLeastRoutersScheduler,
// neutron-lib's availability_zone_hint_list validator).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentsInZones,
  availabilityZoneNotFound,
  availabilityZones,
  hintsTooLong,
  missingZone,
  pyJsonStringList,
  spreadOverZones,
  zonesOf,
  type ZoneAgent,
} from '../../../src/domain/availability-zone.js';
import { scheduleHaHosts } from '../../../src/domain/ha.js';

const a = (host: string, zone: string | null, up = true): ZoneAgent => ({ host, availability_zone: zone, admin_state_up: up });

describe('domain/availability-zone', () => {
  it('lists one row per (zone, resource); available when any agent there is administratively up; agents without a zone left out', () => {
    const agents = [a('h1', 'az1'), a('h2', 'az2', false), a('h3', 'az2', false), a('h4', null), a('h5', 'az1', false)];
    const rows = availabilityZones(new Map([['network', agents], ['router', agents.slice(0, 2)]]));
    assert.deepEqual(rows, [
      { name: 'az1', resource: 'network', state: 'available' },
      { name: 'az1', resource: 'router', state: 'available' },
      { name: 'az2', resource: 'network', state: 'unavailable' },
      { name: 'az2', resource: 'router', state: 'unavailable' },
    ]);
    assert.deepEqual(availabilityZones(new Map()), []);
  });

  it('keeps every agent without hints, only the hinted zones with them', () => {
    const agents = [a('h1', 'az1'), a('h2', 'az2'), a('h3', null)];
    assert.deepEqual(agentsInZones(agents, []).map((x) => x.host), ['h1', 'h2', 'h3']);
    assert.deepEqual(agentsInZones(agents, undefined).map((x) => x.host), ['h1', 'h2', 'h3']);
    assert.deepEqual(agentsInZones(agents, ['az2']).map((x) => x.host), ['h2']);
    assert.deepEqual(agentsInZones(agents, ['az1', 'az2']).map((x) => x.host), ['h1', 'h2']);
    assert.deepEqual(agentsInZones(agents, ['az3']), []);
  });

  it('names a hinted zone no agent reports (AvailabilityZoneNotFound, 404)', () => {
    const agents = [a('h1', 'az1'), a('h2', 'az2', false)];
    assert.equal(missingZone(['az1', 'az2'], agents), null);
    assert.equal(missingZone(['az1', 'nova'], agents), 'nova');
    const e = availabilityZoneNotFound('nova');
    assert.equal(e.status, 404);
    assert.equal(e.type, 'AvailabilityZoneNotFound');
    assert.equal(e.message, 'AvailabilityZone nova could not be found.');
  });

  it("shows a resource's zones as the distinct zones of its agents, sorted", () => {
    assert.deepEqual(zonesOf([a('h2', 'az2'), a('h1', 'az1'), a('h3', 'az2'), a('h4', null)]), ['az1', 'az2']);
    assert.deepEqual(zonesOf([]), []);
  });

  it("measures hints as Python's json.dumps does: 255 characters of JSON at most", () => {
    assert.equal(pyJsonStringList(['az1', 'az2']), '["az1", "az2"]');
    assert.equal(pyJsonStringList(['a"b\\c\n', 'é']), '["a\\"b\\\\c\\n", "\\u00e9"]');
    assert.equal(pyJsonStringList([]), '[]');
    // ["xxx…"] is the length plus 4: 251 characters fit exactly, 252 do not.
    assert.equal(hintsTooLong(['x'.repeat(251)]), null);
    assert.equal(hintsTooLong(['x'.repeat(252)]), 'Too many availability_zone_hints specified');
    // Non-ASCII counts six per character, as Neutron's column does.
    assert.equal(hintsTooLong(['é'.repeat(41)]), null);
    assert.equal(hintsTooLong(['é'.repeat(42)]), 'Too many availability_zone_hints specified');
  });

  it('spreads an HA router over zones: one per zone before a second in any, least loaded within a zone', () => {
    const zoneOf = new Map([
      ['a1', 'az1'],
      ['a2', 'az1'],
      ['b1', 'az2'],
      ['c1', 'az3'],
    ]);
    // Candidates least loaded first: both az1 hosts lead, yet the second pick goes to another zone.
    assert.deepEqual(spreadOverZones(['a1', 'a2', 'b1', 'c1'], zoneOf, [], 3), ['a1', 'b1', 'c1']);
    assert.deepEqual(spreadOverZones(['a1', 'a2', 'b1', 'c1'], zoneOf, [], 4), ['a1', 'b1', 'c1', 'a2']);
    // A router already in az2 gains hosts in the other zones first.
    assert.deepEqual(spreadOverZones(['a1', 'a2', 'b1', 'c1'], zoneOf, ['b1'], 2), ['a1', 'c1']);
    assert.deepEqual(spreadOverZones(['a1'], zoneOf, [], 3), ['a1']);
  });

  it('makes the HA scheduler spread over zones when it knows them, and keeps its old choice without them', () => {
    const hosts = ['a1', 'a2', 'b1'];
    const load = new Map([['b1', 5]]);
    assert.deepEqual(scheduleHaHosts(hosts, [], 2, load), ['a1', 'a2']);
    assert.deepEqual(scheduleHaHosts(hosts, [], 2, load, new Map([['a1', 'az1'], ['a2', 'az1'], ['b1', 'az2']])), ['a1', 'b1']);
    // All in one zone (every agent in `nova` by default): exactly the least-loaded choice.
    assert.deepEqual(scheduleHaHosts(hosts, [], 2, load, new Map(hosts.map((h) => [h, 'nova']))), ['a1', 'a2']);
  });
});
