// What a lab instance saw on the wire: tcpdump on its link, writing a pcap under the instance's directory.
// `lab boot --capture` starts it before eth0 comes up, on the bridge end of the instance's veth (tcpdump will not
// open a link that is down, and the two ends carry the same frames), so the router solicitation, the RA and the
// whole DHCP exchange are in it; `lab capture NAME` stops that capture (or, with none running, records for --seconds) and
// prints where the pcap is and, with tshark installed, one line per packet. `lab delete` stops it too.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const captureFile = (dir: string): string => join(dir, 'capture.pcap');
const pidFile = (dir: string): string => join(dir, 'capture.pid');

/** Starts tcpdump in `ns` on `iface` (which must be up); resolves once it is listening. */
export async function startCapture(ns: string, iface: string, dir: string, filter: string[] = []): Promise<void> {
  const log = join(dir, 'capture.log');
  const out = openSync(log, 'w');
  // --immediate-mode and -U: each packet is handed to tcpdump and written to the file as it arrives, so a capture
  // stopped at any moment is complete up to there. Without --immediate-mode libpcap delivers packets in blocks (up to
  // a second late) and a SIGINT drops the block under way: "4 packets received by filter, 0 packets captured" for a
  // capture stopped right after a SLAAC boot.
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-Z', 'root', '--immediate-mode', '-i', iface, '-n', '-U', '-s', '0', '-w', captureFile(dir), ...filter], { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  child.unref();
  await writeFile(pidFile(dir), `${child.pid}\n`);
  const end = Date.now() + 10_000;
  while (!/listening on /.test(readFileSync(log, 'utf8'))) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`tcpdump did not start in ${ns}: ${readFileSync(log, 'utf8').trim()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stops the instance's running capture, if any; true when there was one. */
export async function stopCapture(dir: string): Promise<boolean> {
  const pid = Number((await readFile(pidFile(dir), 'utf8').catch(() => '')).trim());
  await rm(pidFile(dir), { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    // `ip netns exec` execs tcpdump, so the pid is tcpdump's own: SIGINT flushes and closes the file.
    process.kill(pid, 'SIGINT');
  } catch {
    return false;
  }
  const end = Date.now() + 5000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > end) {
      process.kill(pid, 'SIGKILL');
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Records `seconds` of eth0 in `ns` into the instance's pcap (no boot capture running). */
export async function captureFor(ns: string, dir: string, seconds: number, filter: string[] = []): Promise<void> {
  await startCapture(ns, 'eth0', dir, filter);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await stopCapture(dir);
}

/** The instance's capture, stopped or recorded as asked, copied to `write` if given. Returns the pcap's path. */
export async function labCapture(ns: string, dir: string, opts: { seconds?: number; write?: string; filter?: string[] }): Promise<string> {
  if (!(await stopCapture(dir))) await captureFor(ns, dir, opts.seconds ?? 10, opts.filter ?? []);
  if (opts.write) {
    await copyFile(captureFile(dir), opts.write);
    return opts.write;
  }
  return captureFile(dir);
}

/** One line per packet, as tshark prints them (null when tshark is not installed). */
export function decodeSummary(pcap: string): string | null {
  const r = spawnSync('tshark', ['-r', pcap, '-n'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? null : r.stdout;
}
