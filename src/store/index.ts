// Opens the store a URL names: `sqlite:PATH` (or a bare path, or `sqlite::memory:`) for the embedded default,
// `postgres://user:pass@host:port/db` (or `postgresql://`) for PostgreSQL.

import type { Store } from './types.js';
import { SqliteStore } from './sqlite.js';

export type { Store, Tx, Doc, Kind } from './types.js';

export const DEFAULT_DB_PATH = 'var/v6stack.db';

export async function openStore(url: string = `sqlite:${DEFAULT_DB_PATH}`): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { PostgresStore } = await import('./postgres.js');
    return PostgresStore.connect(url);
  }
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\//, '') : url;
  return new SqliteStore(path || DEFAULT_DB_PATH);
}
