// Parsing of the option values the openstack client accepts: comma separated key=value lists (osc-lib's
// MultiKeyValueAction, with its messages), port ranges, integers. Pure. Errors are commander's InvalidArgumentError,
// so commander reports them as `error: option '--x <v>' argument 'y' is invalid. <why>` and exits 1.
import { InvalidArgumentError } from 'commander';

export class ArgumentError extends InvalidArgumentError {}

/**
 * `start=2001:db8::5,end=2001:db8::ff` into `{start, end}`. Keys outside required+optional, and missing required
 * keys, are refused with osc-lib's wording. Blanks around pieces are dropped (the talk writes `start=a, end=b`).
 */
export function parseKeyValues(value: string, required: string[] = [], optional: string[] = []): Record<string, string> {
  const params: Record<string, string> = {};
  for (const raw of value.split(',')) {
    const kv = raw.trim();
    const eq = kv.indexOf('=');
    if (eq < 0) throw new ArgumentError(`Expected comma separated 'key=value' pairs, but got: ${kv}`);
    const key = kv.slice(0, eq).trim();
    if (!key) throw new ArgumentError(`Each property key must be specified: ${kv}`);
    params[key] = kv.slice(eq + 1).trim();
  }
  const valid = [...required, ...optional];
  if (valid.length) {
    const invalid = Object.keys(params).filter((k) => !valid.includes(k));
    if (invalid.length) throw new ArgumentError(`Invalid keys ${invalid.join(', ')} specified.\nValid keys are: ${valid.join(', ')}`);
  }
  const missing = required.filter((k) => !(k in params));
  if (missing.length) throw new ArgumentError(`Missing required keys ${missing.join(', ')}.\nRequired keys are: ${required.join(', ')}`);
  return params;
}

/**
 * A repeatable option's values. Its `--no-X` twin (commander stores false under the same name) clears what the
 * resource has first; `cleared` remembers that when values follow (`--no-fixed-ip --fixed-ip ...` overwrites).
 */
export type ListOption<T> = T[] & { cleared?: boolean };

function append<T>(previous: ListOption<T> | false | undefined, value: T): ListOption<T> {
  const out: ListOption<T> = [...(Array.isArray(previous) ? previous : []), value];
  if (previous === false || (Array.isArray(previous) && previous.cleared)) out.cleared = true;
  return out;
}

/** Whether `--no-X` was given for a repeatable option. */
export function isCleared(opt: ListOption<unknown> | false | undefined): boolean {
  return opt === false || (Array.isArray(opt) && opt.cleared === true);
}

/** The values given for a repeatable option (none when only `--no-X`). */
export function valuesOf<T>(opt: ListOption<T> | false | undefined): T[] {
  return Array.isArray(opt) ? [...opt] : [];
}

/** A commander option parser collecting repeated key=value options into a list. */
export function keyValueList(required: string[], optional: string[] = []) {
  return (value: string, previous: ListOption<Record<string, string>> | false | undefined): ListOption<Record<string, string>> =>
    append(previous, parseKeyValues(value, required, optional));
}

/** A commander option parser collecting repeated plain options into a list. */
export function collect(value: string, previous: ListOption<string> | false | undefined): ListOption<string> {
  return append(previous, value);
}

/** `22` or `22:24` (OSC's --dst-port) into [min, max]. */
export function parsePortRange(value: string): [number, number] {
  const parts = value.split(':');
  if (parts.length > 2 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new ArgumentError(`argument --dst-port: Invalid range, ${value} is not a valid port range`);
  }
  const min = Number(parts[0]);
  const max = Number(parts[1] ?? parts[0]);
  if (min > max) throw new ArgumentError(`argument --dst-port: Invalid range, ${min} is greater than ${max}`);
  return [min, max];
}

/** A commander option parser for integers, with argparse's message. */
export function integer(name: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) throw new ArgumentError(`argument ${name}: invalid int value: '${value}'`);
    return Number(value);
  };
}

/** --host-route / --route entries in API form: the CLI's gateway= is the API's nexthop. */
export function toRoutes(entries: Record<string, string>[] | undefined): { destination: string; nexthop: string }[] {
  return (entries ?? []).map((e) => ({ destination: e.destination!, nexthop: e.gateway! }));
}
