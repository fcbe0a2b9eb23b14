// Drives domain/subnetpool.ts `allocateFromPool` for the IPAM-at-scale section. Filled in against that module's
// actual signature once it exists.
export async function prefixAdapter(
  _fn: (...a: unknown[]) => unknown,
  mod: Record<string, unknown>,
  _target: number,
  _seconds: number,
): Promise<Record<string, unknown>> {
  return { skipped: `allocateFromPool found, but its signature is not known to the benchmark yet (exports: ${Object.keys(mod).join(', ')})` };
}
