// What every resource command shares: the client from the global options, the -f/-c output options, printing,
// and deleting several resources the way the openstack client reports it.
import type { Command } from 'commander';
import { collect, isCleared, valuesOf, type ListOption } from '../args.js';
import { formatList, formatOne, type Column, type OutputOptions } from '../format.js';
import { CliError, NeutronClient, credentialsFrom, explicitEndpoint, resolveEndpoint, type AuthFlags, type Body, type ResourceType, type Shown } from '../http.js';

export function clientOf(cmd: Command): NeutronClient {
  const g = cmd.optsWithGlobals() as AuthFlags & { osEndpoint?: string; osProjectId?: string };
  // OS_AUTH_URL & co (or --os-auth-url ...): a Keystone token, and the catalog's endpoint unless one is named.
  const auth = credentialsFrom(g);
  if (auth) return new NeutronClient(explicitEndpoint(g.osEndpoint), undefined, auth);
  return new NeutronClient(resolveEndpoint(g.osEndpoint), g.osProjectId || process.env.OS_PROJECT_ID || undefined);
}

/** -f/--format and -c/--column, as cliff offers them on show and list commands. */
export function withOutput(cmd: Command): Command {
  return cmd
    .option('-f, --format <format>', 'the output format: table, json, value or yaml', 'table')
    .option('-c, --column <column>', 'specify the column(s) to include, can be repeated to show multiple columns', collect);
}

export function printOne(columns: Column[], record: Readonly<Record<string, unknown>>, opts: OutputOptions): void {
  process.stdout.write(formatOne(columns, record, opts));
}

export function printList(columns: Column[], records: Readonly<Record<string, unknown>>[], opts: OutputOptions): void {
  process.stdout.write(formatList(columns, records, opts));
}

/**
 * Deletes each named resource; failures are reported per item and summarised as the openstack client does
 * ("1 of 2 networks failed to delete."), which is an error (exit 1).
 */
export async function deleteMany(client: NeutronClient, type: ResourceType, noun: string, nouns: string, names: string[]): Promise<void> {
  let failed = 0;
  for (const name of names) {
    try {
      const id = await client.findId(type, name);
      await client.remove(type, id);
    } catch (e) {
      failed++;
      process.stderr.write(`Failed to delete ${noun} with name or ID '${name}': ${(e as Error).message}\n`);
    }
  }
  if (failed) throw new CliError(`${failed} of ${names.length} ${nouns} failed to delete.`);
}

/** Sets tags after a create, as the openstack client does (tags are a sub-resource), and returns the fresh body. */
export async function applyTags<D extends Shown>(client: NeutronClient, type: ResourceType<D>, body: D, tags: string[] | undefined): Promise<D> {
  if (!tags || !tags.length) return body;
  await client.setTags(type, body.id, tags);
  return client.get(type, body.id);
}

/** `set --tag X` adds to the existing tags; `--no-tag` clears them first. */
export async function updateTags(
  client: NeutronClient,
  type: ResourceType,
  body: Body,
  opts: { tag?: ListOption<string> | false },
): Promise<void> {
  const add = valuesOf(opts.tag);
  if (!add.length && !isCleared(opts.tag)) return;
  const base = isCleared(opts.tag) ? [] : ((body.tags as string[]) ?? []);
  await client.setTags(type, body.id as string, [...new Set([...base, ...add])]);
}

/** `unset --tag X` removes those tags; `--all-tag` removes every one. */
export async function removeTags(client: NeutronClient, type: ResourceType, body: Body, opts: { tag?: string[]; allTag?: boolean }): Promise<void> {
  if (!opts.allTag && !(opts.tag && opts.tag.length)) return;
  const keep = opts.allTag ? [] : ((body.tags as string[]) ?? []).filter((t) => !opts.tag!.includes(t));
  await client.setTags(type, body.id as string, keep);
}

/** Adds --tag (repeatable) and, for set commands, --no-tag. */
export function withTags(cmd: Command, set = false): Command {
  cmd.option('--tag <tag>', 'tag to be added (repeat option to set multiple tags)', collect);
  if (set) cmd.option('--no-tag', 'clear tags associated with the resource; specify both --tag and --no-tag to overwrite current tags');
  return cmd;
}

/** The `--X / --no-X` flag pairs become true / false / undefined; commander gives that directly. */
export function maybe<T>(attrs: Body, key: string, value: T | undefined): void {
  if (value !== undefined) attrs[key] = value;
}
