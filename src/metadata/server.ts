// The metadata service of one namespace (a qrouter- or qdhcp- namespace), started by the agent's supervisor inside
// it (`ip netns exec NS node server.js ...`, agent/features/metadata.ts). It answers only from the file the agent
// rendered for it: every instance port on the networks this namespace serves, with its documents already built by
// domain/network-data.ts. SIGHUP re-reads the file (a new port, new user data); a changed listener set is a restart.
//
// Who asks is decided by the connection, never by the request: the listener it arrived on names the network
// (fe80::a9fe:a9fe%qm-<net> is one network's link), and the source address names the port on that network: a
// global address among the port's fixed_ips, or a link-local address whose EUI-64 identifier gives the port's MAC
// (guests ask fe80::a9fe:a9fe from their own link-local address). X-Forwarded-For and friends are ignored.
// 169.254.169.254 is one listener for the namespace: there the source address is looked up among the networks of
// the namespace (a router's subnets never overlap, so an IPv4 address names one port), as Neutron's metadata agent
// looks it up among the router's networks.
//
//   node server.js --config FILE [--listen ADDR%LINK=NETWORK_ID]... [--listen4 ADDR] [--port 80]

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';

export interface MetadataInstance {
  port_id: string;
  network_id: string;
  mac: string;
  addresses: string[];
  /** path (no leading '/') -> content; directories end in '/'. */
  files: Record<string, string>;
}

export interface MetadataConfig {
  instances: MetadataInstance[];
}

/** The MAC a modified EUI-64 link-local address was made from (RFC 4291 appendix A), or null. */
export function macFromEui64LinkLocal(address: string): string | null {
  const a = address.split('%')[0]!.toLowerCase();
  if (isIP(a) !== 6 || !a.startsWith('fe80:')) return null;
  const groups = expand(a);
  if (!groups) return null;
  const iid = groups.slice(4).map((g) => g.padStart(4, '0')).join('');
  if (iid.slice(6, 10) !== 'fffe') return null;
  const first = (parseInt(iid.slice(0, 2), 16) ^ 0x02).toString(16).padStart(2, '0');
  const hex = first + iid.slice(2, 6) + iid.slice(10, 16);
  return hex.match(/../g)!.join(':');
}

function expand(a: string): string[] | null {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  if (tail === undefined) return h.length === 8 ? h : null;
  const fill = 8 - h.length - t.length;
  return fill < 0 ? null : [...h, ...Array<string>(fill).fill('0'), ...t];
}

const normalize = (ip: string): string => {
  const a = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  return a.split('%')[0]!.toLowerCase();
};

/** The instance behind a connection: on `networkId` when the listener names one, else among all the file's. */
export function findInstance(config: MetadataConfig, remote: string, networkId: string | null): MetadataInstance | null {
  const addr = normalize(remote);
  const candidates = config.instances.filter((i) => networkId === null || i.network_id === networkId);
  const mac = networkId !== null ? macFromEui64LinkLocal(addr) : null;
  const hits = candidates.filter((i) => (mac !== null ? i.mac === mac : i.addresses.some((x) => normalize(x) === addr)));
  return hits.length === 1 ? hits[0]! : null;
}

/** A path's content: a file, or a directory's listing (with or without its trailing '/'). */
export function lookup(files: Record<string, string>, path: string): { body: string; type: string } | null {
  const p = decodeURIComponent(path.split('?')[0]!).replace(/^\/+/, '');
  const hit = files[p] ?? (p.endsWith('/') ? undefined : files[`${p}/`]) ?? (p === '' ? files[''] : undefined);
  if (hit === undefined) return null;
  return { body: hit, type: p.endsWith('.json') ? 'application/json' : 'text/plain; charset=utf-8' };
}

function answer(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

interface Listener {
  host: string;
  networkId: string | null;
}

function parseArgs(argv: string[]): { config: string; listeners: Listener[]; port: number; pidFile: string | null } {
  let config = '';
  let port = 80;
  let pidFile: string | null = null;
  const listeners: Listener[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i] ?? '';
    if (a === '--config') config = v;
    else if (a === '--port') port = Number(v);
    else if (a === '--pid-file') pidFile = v;
    else if (a === '--listen') {
      const [host, networkId] = v.split('=');
      listeners.push({ host: host!, networkId: networkId ?? null });
    } else if (a === '--listen4') listeners.push({ host: v, networkId: null });
    else throw new Error(`unknown argument ${a}`);
  }
  if (!config || !listeners.length) throw new Error('usage: server.js --config FILE --listen ADDR%LINK=NETWORK_ID... [--listen4 ADDR] [--port N]');
  return { config, listeners, port, pidFile };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let config: MetadataConfig = JSON.parse(readFileSync(args.config, 'utf8'));
  process.on('SIGHUP', () => {
    try {
      config = JSON.parse(readFileSync(args.config, 'utf8'));
    } catch (e) {
      process.stderr.write(`metadata: cannot re-read ${args.config}: ${(e as Error).message}\n`);
    }
  });
  if (args.pidFile) writeFileSync(args.pidFile, `${process.pid}\n`);
  const servers: Server[] = [];
  const stop = (): void => {
    for (const s of servers) s.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (const l of args.listeners) {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'Method Not Allowed\n');
      const inst = findInstance(config, req.socket.remoteAddress ?? '', l.networkId);
      // Neutron's metadata agent answers 404 when no port matches the source (instance not found).
      if (!inst) return answer(res, 404, 'Not Found: no instance with this source address on this network\n');
      const hit = lookup(inst.files, req.url ?? '/');
      if (!hit) return answer(res, 404, 'Not Found\n');
      answer(res, 200, hit.body, hit.type);
    });
    servers.push(server);
    // The listening address is added by the agent's kernel pass before the supervisor starts this daemon; a bind
    // that still fails (the link is being recreated) is retried.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: l.host, port: args.port, exclusive: true }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (e) {
        if (attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    process.stdout.write(`metadata: listening on [${l.host}]:${args.port}${l.networkId ? ` for network ${l.networkId}` : ''}\n`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((e) => {
    process.stderr.write(`metadata: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
