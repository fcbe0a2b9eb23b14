// The one home of v6stack's IPv6 and addressing rules: what the modes mean (modes.ts), which device owners are
// treated apart (owners.ts) and which addresses a port gets (port-addresses.ts). Everything else imports from here.
// Tested as tables of Neutron's expected values in test/unit/domain/ipv6-rules.test.ts.

export * from './modes.js';
export * from './owners.js';
export * from './port-addresses.js';
