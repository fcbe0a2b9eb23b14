import type { Command } from 'commander';

/** Resource commands (network, subnet, port, router, subnet pool, address scope, security group). */
export function registerResourceCommands(_program: Command): void {}
