// Debian's real Keystone (22, Zed) for tests: scripts/keystone.sh (the procedure scripts/tempest.sh uses) sets it up
// in a temporary directory and serves it with uwsgi on a free loopback port; projects, users, role assignments and
// tokens are made through Keystone's own v3 API. `stop()` stops uwsgi and removes the directory; tests call it in
// `after`, so it happens whatever the tests did.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, run } from '../integration/util.js';

/** keystone-manage db_sync alone took over a minute on a loaded 2-core machine: a hang guard, not a threshold. */
const SETUP_TIMEOUT_MS = 600_000;
const START_TIMEOUT_MS = 180_000;

export type Role = 'admin' | 'member' | 'reader';

/** Why Keystone cannot run here (the test then skips with this reason), or false. */
export function keystoneUnavailable(): string | false {
  if (process.getuid?.() !== 0) return 'not root (keystone-manage and uwsgi run as the keystone user)';
  for (const [bin, pkg] of [['/usr/bin/keystone-manage', 'keystone'], ['/usr/bin/keystone-wsgi-public', 'keystone'], ['/usr/bin/uwsgi', 'uwsgi']]) {
    if (!existsSync(bin!)) return `${bin} is missing (Debian package ${pkg}; scripts/test-all.sh installs it)`;
  }
  if (!existsSync('/usr/lib/uwsgi/plugins/python3_plugin.so')) return 'uwsgi-plugin-python3 is not installed (scripts/test-all.sh installs it)';
  return false;
}

export interface IssuedToken {
  token: string;
  expiresAt: string;
  projectId: string;
  userId: string;
}

export interface Keystone {
  /** The identity endpoint, http://127.0.0.1:PORT/v3. */
  url: string;
  port: number;
  dir: string;
  adminPassword: string;
  /** A project in the Default domain; its id. */
  createProject(name: string): Promise<string>;
  /** A user in the Default domain with `role` in `projectId`; its id. */
  createUser(name: string, password: string, projectId: string, role: Role): Promise<string>;
  /** A project-scoped token for a user of the Default domain. */
  token(user: string, password: string, projectName: string): Promise<IssuedToken>;
  /** Revokes a token (DELETE /v3/auth/tokens). */
  revoke(token: string): Promise<void>;
  /** The service user a Neutron-like server validates tokens with (user in project `service` with role admin). */
  serviceUser(name: string, password: string): Promise<void>;
  /** Registers the `network` service with endpoints at `url` in RegionOne (what clients find in the catalog). */
  registerNetwork(url: string): Promise<void>;
  /** Stops uwsgi (Keystone stops answering); the directory stays until close(). */
  stop(): Promise<void>;
  /** stop() and remove the directory. */
  close(): Promise<void>;
}

export async function startKeystone(): Promise<Keystone> {
  const repo = process.cwd();
  const dir = mkdtempSync('/tmp/v6stack-keystone-');
  const script = join(repo, 'scripts/keystone.sh');
  const port = await freePort('127.0.0.1');
  const url = `http://127.0.0.1:${port}/v3`;
  let child: ChildProcess | undefined;
  let uwsgiLog = '';
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      const c = child;
      const kill = setTimeout(() => c.kill('SIGKILL'), 20_000);
      c.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      c.kill('SIGTERM');
    });
  const close = async (): Promise<void> => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const setup = await run('bash', [script, 'setup', '--dir', dir, '--port', String(port)], { timeoutMs: SETUP_TIMEOUT_MS });
    if (setup.code !== 0) throw new Error(`keystone.sh setup failed (${setup.timedOut ? 'timed out' : `exit ${setup.code}`}): ${setup.stderr.slice(-2000)}`);
    // serve execs uwsgi: the child is uwsgi's master, which SIGTERM stops (die-on-term).
    child = spawn('bash', [script, 'serve', '--dir', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (uwsgiLog = (uwsgiLog + d).slice(-4000)));
    child.stderr!.on('data', (d) => (uwsgiLog = (uwsgiLog + d).slice(-4000)));
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Keystone's uwsgi exited ${child.exitCode}: ${uwsgiLog}`);
      const ok = await fetch(url, { signal: AbortSignal.timeout(10_000) }).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`Keystone did not answer at ${url} within ${START_TIMEOUT_MS / 1000} s: ${uwsgiLog}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (e) {
    await close();
    throw e;
  }
  const adminPassword = readFileSync(join(dir, 'admin-password'), 'utf8').trim();

  /** One call to Keystone's API; the answer's JSON (or null) and headers; anything but `expect` is an error. */
  async function call(method: string, path: string, body?: unknown, token?: string, expect: number[] = [200, 201, 204]): Promise<{ status: number; headers: Headers; json: any }> {
    const res = await fetch(url + path, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { 'X-Auth-Token': token } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!expect.includes(res.status)) throw new Error(`Keystone ${method} ${path}: ${res.status} ${text}`);
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
  }
  async function token(user: string, password: string, projectName: string): Promise<IssuedToken> {
    const r = await call('POST', '/auth/tokens?nocatalog', {
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
        scope: { project: { name: projectName, domain: { name: 'Default' } } },
      },
    });
    return { token: r.headers.get('x-subject-token')!, expiresAt: r.json.token.expires_at, projectId: r.json.token.project.id, userId: r.json.token.user.id };
  }
  let admin: { token: string; until: number } | undefined;
  async function adminToken(): Promise<string> {
    if (admin && admin.until > Date.now()) return admin.token;
    const t = await token('admin', adminPassword, 'admin');
    admin = { token: t.token, until: Date.now() + 600_000 };
    return t.token;
  }
  async function find(collection: string, name: string): Promise<string | undefined> {
    const r = await call('GET', `/${collection}?name=${encodeURIComponent(name)}`, undefined, await adminToken());
    return r.json[collection][0]?.id;
  }
  async function createProject(name: string): Promise<string> {
    return (await find('projects', name)) ?? (await call('POST', '/projects', { project: { name, domain_id: 'default' } }, await adminToken())).json.project.id;
  }
  async function createUser(name: string, password: string, projectId: string, role: Role | 'service'): Promise<string> {
    const t = await adminToken();
    let id = await find('users', name);
    if (id) await call('PATCH', `/users/${id}`, { user: { password } }, t);
    else id = (await call('POST', '/users', { user: { name, password, domain_id: 'default' } }, t)).json.user.id as string;
    const roleId = await find('roles', role);
    if (!roleId) throw new Error(`Keystone has no role ${role}`);
    await call('PUT', `/projects/${projectId}/users/${id}/roles/${roleId}`, undefined, t);
    return id!;
  }
  return {
    url,
    port,
    dir,
    adminPassword,
    createProject,
    createUser: (name, password, projectId, role) => createUser(name, password, projectId, role),
    token,
    async revoke(t) {
      const res = await fetch(url + '/auth/tokens', { method: 'DELETE', headers: { 'X-Auth-Token': await adminToken(), 'X-Subject-Token': t }, signal: AbortSignal.timeout(60_000) });
      if (res.status !== 204) throw new Error(`Keystone did not revoke the token: ${res.status} ${await res.text()}`);
    },
    async serviceUser(name, password) {
      await createUser(name, password, await createProject('service'), 'admin');
    },
    async registerNetwork(networkUrl) {
      const t = await adminToken();
      const r = await call('GET', '/services?type=network', undefined, t);
      const service = r.json.services[0]?.id ?? (await call('POST', '/services', { service: { type: 'network', name: 'neutron' } }, t)).json.service.id;
      for (const iface of ['public', 'internal', 'admin']) {
        await call('POST', '/endpoints', { endpoint: { service_id: service, interface: iface, url: networkUrl, region_id: 'RegionOne' } }, t);
      }
    },
    stop,
    close,
  };
}

/** A password nobody guesses, for test users. */
export function newPassword(): string {
  return randomBytes(12).toString('base64url');
}
