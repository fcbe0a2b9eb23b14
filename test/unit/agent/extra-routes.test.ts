// A legacy router's extra routes in the namespace diff: what the API lists and the kernel lacks is added (proto
// static), what the kernel has and the API no longer lists is removed, and one route spelt two ways is one route.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffNamespace } from '../../../src/agent/features/netns.js';
import type { ActualNamespace, NamespaceSpec } from '../../../src/agent/model.js';

const spec = (extraRoutes: NamespaceSpec['extraRoutes']): NamespaceSpec => ({ name: 'qrouter-x', kind: 'router', sysctls: [], links: [], routes: [], ...(extraRoutes ? { extraRoutes } : {}) });
const actual = (extraRoutes: ActualNamespace['extraRoutes']): ActualNamespace => ({ links: new Map(), routes: [], sysctls: new Map(), ...(extraRoutes ? { extraRoutes } : {}) });
const cmds = (s: NamespaceSpec, a: ActualNamespace): string[] => diffNamespace(s, a, 'br', new Map()).flatMap((x) => x.cmds.map((c) => c.join(' ')));

test('adds the routes the kernel lacks, as proto static', () => {
  assert.deepEqual(cmds(spec([{ destination: '2001:db8:99::/64', nexthop: '2001:db8:1::7' }, { destination: '192.0.2.128/25', nexthop: '192.0.2.66' }]), actual([])), [
    'ip -n qrouter-x route replace 2001:db8:99::/64 via 2001:db8:1::7 proto static',
    'ip -n qrouter-x route replace 192.0.2.128/25 via 192.0.2.66 proto static',
  ]);
});

test('removes the static routes the API no longer lists', () => {
  assert.deepEqual(cmds(spec([]), actual([{ destination: '2001:db8:99::/64', nexthop: '2001:db8:1::7' }])), ['ip -n qrouter-x route del 2001:db8:99::/64 via 2001:db8:1::7 proto static']);
});

test('one route spelt two ways (the API\'s and the kernel\'s) is left alone', () => {
  assert.deepEqual(cmds(spec([{ destination: '2001:DB8:99:0::/64', nexthop: '2001:db8:1:0::7' }, { destination: '2001:db8:98::7/128', nexthop: '2001:db8:1::7' }]), actual([
    { destination: '2001:db8:99::/64', nexthop: '2001:db8:1::7' },
    { destination: '2001:db8:98::7/128', nexthop: '2001:db8:1::7' },
  ])), []);
});
