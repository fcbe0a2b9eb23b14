// How the supervisor restarts a daemon that exits on its own, and when it calls it failing. PURE: the supervisor
// passes the clock in. A daemon is restarted after a delay that doubles with each exit in a row (1 s, 2 s, 4 s ...
// up to 60 s), so a daemon that cannot start costs one attempt a minute, not one a second; once it has stayed up
// `stableMs` the count starts again. From `failingAfter` exits in a row it is failing: an ERROR line with its own
// last words and the likely fix, the agent's report in GET /v2.0/agents, and the ports it serves in ERROR.

export interface RestartPolicy {
  initialMs: number;
  maxMs: number;
  /** Up this long, a daemon counts as started well: the next exit starts the count again. */
  stableMs: number;
  /** Exits in a row (each within stableMs of its start) from which the daemon is failing. */
  failingAfter: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialMs: 1000, maxMs: 60_000, stableMs: 30_000, failingAfter: 3 };

export interface DaemonHealth {
  /** Exits in a row, each before the daemon had stayed up stableMs. */
  failures: number;
  /** When it was last started (ms). */
  startedAt: number;
  /** Not to be started before this (ms); 0: at once. */
  retryAt: number;
}

export const freshHealth = (): DaemonHealth => ({ failures: 0, startedAt: 0, retryAt: 0 });

/** The delay before restart number `failures` (1-based): initialMs doubling, at most maxMs. */
export function backoffMs(failures: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): number {
  if (failures <= 0) return 0;
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(failures - 1, 30));
}

/** The health after the daemon exited on its own at `now`, and how long to wait before starting it again. */
export function afterExit(h: DaemonHealth, now: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): { health: DaemonHealth; delayMs: number } {
  const failures = now - h.startedAt >= policy.stableMs ? 1 : h.failures + 1;
  const delayMs = backoffMs(failures, policy);
  return { health: { ...h, failures, retryAt: now + delayMs }, delayMs };
}

export const afterStart = (h: DaemonHealth, now: number): DaemonHealth => ({ ...h, startedAt: now, retryAt: 0 });

/** Up for stableMs since its last start: it counts as recovered. */
export function isStable(h: DaemonHealth, now: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): boolean {
  return h.startedAt > 0 && now - h.startedAt >= policy.stableMs;
}

export const isFailing = (h: DaemonHealth, policy: RestartPolicy = DEFAULT_RESTART_POLICY): boolean => h.failures >= policy.failingAfter;

/**
 * The likely fix for a daemon's last words (its last stderr lines): the failures seen on real hosts, each with
 * what to do. `namespace` is where it runs (for the commands to look with).
 */
export function likelyFix(kind: 'radvd' | 'dnsmasq' | 'bird' | 'keepalived' | 'pd-client' | 'metadata', lastWords: string[], namespace: string): string {
  const text = lastWords.join('\n');
  if (/failed to open pidfile|pid ?file/i.test(text) && /No such file or directory/i.test(text))
    return 'a path on its command line does not exist as the daemon sees it (dnsmasq chdirs to /): give the agent an absolute --state-dir';
  if (/Address already in use|failed to create listening socket|failed to bind/i.test(text))
    return `another process holds its port in ${namespace}: \`ip netns exec ${namespace} ss -lupn\` shows which; stop it (or a stale daemon from an earlier run: \`v6stack down\`)`;
  if (/Permission denied|cannot read|failed to load|cannot open or create/i.test(text))
    return 'it cannot read or write its files (dnsmasq drops to nobody): every directory down to the state dir must be searchable by others (chmod o+x)';
  if (/No such device|unknown interface|interface .* does not exist|can't find interface/i.test(text))
    return `its interface is missing in ${namespace} (\`ip -n ${namespace} link\`); the agent's next full resync rebuilds it, or restart the agent`;
  if (/Cannot open network namespace|netns/i.test(text)) return `the namespace ${namespace} is gone; the agent's next full resync rebuilds it`;
  if (/not found|No such file or directory/i.test(text) && !/\//.test(text.split('\n').pop() ?? ''))
    return `${kind} is not installed (Debian: apt-get install ${kind === 'dnsmasq' ? 'dnsmasq-base' : kind === 'bird' ? 'bird2' : kind === 'metadata' ? 'nodejs' : kind})`;
  if (/syntax error|bad option|unrecognized option|bad command line|error parsing/i.test(text))
    return `${kind} refused its configuration: check it is the version v6stack supports (Debian's), and report the config file with this log`;
  return `run its command line by hand (the agent's "start" line) in ${namespace} to see why it exits`;
}
