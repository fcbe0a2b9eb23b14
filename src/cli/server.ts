// `v6stack server`: the Neutron v2.0 API on the store a URL names. `v6stack up` is the one-command start on the
// embedded store (the data-plane agent joins it when it lands).
import type { Command } from 'commander';
import { ApiServer } from '../api/server.js';
import { DEFAULT_DB_PATH, openStore } from '../store/index.js';

interface ServerOptions {
  port: string;
  host: string;
  db: string;
  projectId: string;
  logRequests?: boolean;
}

async function runServer(opts: ServerOptions): Promise<void> {
  const store = await openStore(opts.db);
  const api = new ApiServer({ store, defaultProjectId: opts.projectId, logRequests: opts.logRequests ?? false });
  const { port } = await api.listen(Number(opts.port), opts.host);
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  console.log(`v6stack: Neutron v2.0 API on http://${shown}:${port}/v2.0 (store: ${store.dialect} ${opts.db.replace(/:[^:@/]*@/, ':***@')})`);
  const stop = async (signal: string): Promise<void> => {
    console.log(`v6stack: ${signal}, stopping`);
    await api.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

export function registerServerCommands(program: Command): void {
  for (const name of ['server', 'up']) {
    program
      .command(name)
      .description(
        name === 'up'
          ? 'start v6stack on this host with the embedded store (one command, nothing to install)'
          : 'run the Neutron v2.0 API server',
      )
      .option('--port <port>', 'TCP port', process.env.V6STACK_PORT ?? '9696')
      .option('--host <address>', 'listen address (:: is every IPv6 and IPv4 address)', process.env.V6STACK_HOST ?? '::')
      .option('--db <url>', 'store: sqlite:PATH or postgres://user:pass@host/db', process.env.V6STACK_DB ?? `sqlite:${DEFAULT_DB_PATH}`)
      .option('--project-id <id>', 'project for requests that name none (noauth)', process.env.V6STACK_PROJECT_ID ?? 'default')
      .option('--log-requests', 'log one line per request')
      .action((opts: ServerOptions) => runServer(opts));
  }
}
