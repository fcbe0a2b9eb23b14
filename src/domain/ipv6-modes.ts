// Kept so that older imports resolve: the IPv6 rules live in ./ipv6/ (import from './ipv6/index.js').
export * from './ipv6/index.js';
