// domain/ha: Neutron's HA-router rules (l3_hamode_db.py): the CIDR check, VRIDs 1..254, how many agents and which,
// and the ha_state shown for dead agents.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agentsForScheduling, haCidrProblem, haStateOf, pickVrid, scheduleHaHosts, shownHaStates, vridOf } from '../../../src/domain/ha.js';

describe('domain/ha', () => {
  it('accepts the HA CIDR only as a network address with a length (_verify_configuration)', () => {
    assert.equal(haCidrProblem('169.254.192.0/18'), null);
    assert.equal(haCidrProblem('169.254.192.1/18'), "The HA Network CIDR specified in the configuration file isn't valid; 169.254.192.1/18.");
    assert.notEqual(haCidrProblem('169.254.192.0'), null);
    assert.notEqual(haCidrProblem('nonsense'), null);
  });

  it('picks the smallest free VRID in 1..254, none when all are taken', () => {
    assert.equal(pickVrid([]), 1);
    assert.equal(pickVrid([1, 2, 4]), 3);
    assert.equal(pickVrid(Array.from({ length: 254 }, (_, i) => i + 1)), null);
    assert.equal(vridOf({ ha_vr_id: 7 }), 7);
    assert.equal(vridOf({ ha_vr_id: 255 }), null);
    assert.equal(vridOf({}), null);
  });

  it('schedules on every live agent up to max_l3_agents_per_router (0: no limit), least loaded first, keeping current hosts', () => {
    assert.equal(agentsForScheduling(5, 3), 3);
    assert.equal(agentsForScheduling(2, 3), 2);
    assert.equal(agentsForScheduling(5, 0), 5);
    const load = new Map([['a', 3], ['b', 1], ['c', 0]]);
    assert.deepEqual(scheduleHaHosts(['a', 'b', 'c'], [], 2, load), ['c', 'b']);
    assert.deepEqual(scheduleHaHosts(['a', 'b', 'c'], ['a'], 2, load), ['c']);
    assert.deepEqual(scheduleHaHosts(['a', 'b', 'c'], ['a', 'b'], 2, load), []);
    // A dead host keeps its port (Neutron never moves an HA router off a dead agent) and the router stays at the max.
    assert.deepEqual(scheduleHaHosts(['b', 'c'], ['a', 'b'], 2, load), []);
    assert.deepEqual(scheduleHaHosts(['b', 'c'], ['a'], 3, load), ['c', 'b']);
    assert.deepEqual(scheduleHaHosts(['a', 'b', 'c'], [], 0, load), ['c', 'b', 'a']);
  });

  it("translates keepalived's states as Neutron's agent does (fault is standby)", () => {
    assert.equal(haStateOf('MASTER'), 'active');
    assert.equal(haStateOf('BACKUP'), 'standby');
    assert.equal(haStateOf('FAULT'), 'standby');
  });

  it('shows a dead active agent standby while another hosting agent lives, unknown when all are dead', () => {
    assert.deepEqual(shownHaStates([{ host: 'a', reported: 'active', live: true }, { host: 'b', reported: 'standby', live: true }]), ['active', 'standby']);
    assert.deepEqual(shownHaStates([{ host: 'a', reported: 'active', live: false }, { host: 'b', reported: 'active', live: true }]), ['standby', 'active']);
    assert.deepEqual(shownHaStates([{ host: 'a', reported: 'active', live: false }, { host: 'b', reported: 'standby', live: false }]), ['unknown', 'standby']);
  });
});
