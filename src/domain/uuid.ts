// The one UUID pattern: neutron-lib validate_uuid (oslo uuidutils.is_uuid_like) accepts hex with or without the
// dashes, in any case.

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}
