// The HA routers' state files on this host: `<state dir>/keepalived/<router id>/state`, written by keepalived's
// notify script (keepalived.ts renderNotifyScript) at every VRRP transition: MASTER, BACKUP, FAULT or STOP.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Router id -> keepalived's last state, for every router with a state file. */
export async function readHaStates(stateDir: string): Promise<Record<string, string>> {
  const dir = join(stateDir, 'keepalived');
  const routers = await readdir(dir).catch(() => [] as string[]);
  const out: Record<string, string> = {};
  await Promise.all(
    routers.map(async (id) => {
      const s = (await readFile(join(dir, id, 'state'), 'utf8').catch(() => '')).trim();
      if (s) out[id] = s;
    }),
  );
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
