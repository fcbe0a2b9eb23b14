// `v6stack config-drive PORT -o FILE.iso [--user-data FILE]`: the talk's stop-gap for IPv6-only instances, an
// ISO 9660 image labelled `config-2` holding openstack/latest/{meta_data.json,network_data.json,user_data} (and the
// vendor data files) for a port, as Nova writes a config drive. The documents are the metadata service's
// (domain/network-data.ts), so the drive and fe80::a9fe:a9fe never disagree. The image is made by xorriso with
// Nova's genisoimage options (-ldots -allow-lowercase -allow-multidot -l -J -r -V config-2).

import type { Command } from 'commander';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildMetadataFiles, type NdPort, type NdSubnet } from '../../domain/network-data.js';
import { CliError, NETWORK, PORT, SUBNET, type NeutronClient, type Shown } from '../http.js';
import { clientOf } from './common.js';

const run = promisify(execFile);

/** A port with its network and its subnets, as the documents read them. */
export interface PortContext {
  port: NdPort & Shown;
  network: { id: string; mtu?: number } & Shown;
  subnets: Map<string, NdSubnet>;
}

export async function portContext(client: NeutronClient, nameOrId: string): Promise<PortContext> {
  const port = (await client.get(PORT, await client.findId(PORT, nameOrId))) as unknown as NdPort & Shown;
  const network = (await client.get(NETWORK, port.network_id)) as { id: string; mtu?: number } & Shown;
  const subnets = (await client.list(SUBNET, { network_id: port.network_id })) as unknown as NdSubnet[];
  return { port, network, subnets: new Map(subnets.map((s) => [s.id, s])) };
}

/** The files of a config drive (paths under the image's root): the OpenStack `latest` documents. */
export function configDriveFiles(ctx: PortContext, userData?: string): Map<string, string> {
  const port: NdPort = userData === undefined ? ctx.port : { ...ctx.port, 'instance:user_data': userData };
  const out = new Map<string, string>();
  for (const [path, content] of buildMetadataFiles(port, ctx.network, ctx.subnets)) {
    if (path.startsWith('openstack/latest/') && !path.endsWith('/')) out.set(path, content);
  }
  return out;
}

/** Writes the files into a fresh directory and makes the ISO with xorriso (Debian: xorriso). */
export async function writeConfigDrive(files: Map<string, string>, iso: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'v6stack-config-drive-'));
  try {
    for (const [path, content] of files) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    try {
      await run('xorriso', ['-as', 'mkisofs', '-o', iso, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-publisher', 'v6stack', '-quiet', '-J', '-r', '-V', 'config-2', dir]);
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT') throw new CliError('xorriso is not installed (Debian: apt-get install xorriso)');
      throw new CliError(`xorriso failed: ${(err.stderr ?? err.message).trim()}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function registerConfigDriveCommand(program: Command): void {
  program
    .command('config-drive')
    .description("write a config drive (ISO 9660, label config-2) with a port's meta_data.json, network_data.json and user data")
    .argument('<port>', 'port name or id')
    .requiredOption('-o, --output <file.iso>', 'the image to write')
    .option('--user-data <file>', "user data (e.g. a #cloud-config) instead of the port's instance:user_data")
    .action(async (portName: string, o: { output: string; userData?: string }, cmd: Command) => {
      const ctx = await portContext(clientOf(cmd), portName);
      const userData = o.userData === undefined ? undefined : await readFile(o.userData, 'utf8');
      const files = configDriveFiles(ctx, userData);
      await writeConfigDrive(files, resolve(o.output));
      process.stdout.write(`${resolve(o.output)}: config-2 with ${[...files.keys()].sort().join(', ')}\n`);
    });
}
