// Start a real vouchd on 127.0.0.1 (port 0: the kernel picks a free one)
// with its own temporary database, and stop it again.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const VOUCHD = process.env.VOUCHD;
export const VOUCH = process.env.VOUCH;
if (!VOUCHD || !VOUCH) {
  throw new Error('set VOUCHD and VOUCH to the built binaries (meson test does)');
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

// With VOUCH_TEST_PG_BASE set (tests/pg/with-postgres.sh), a vouchd started
// without a directory of its own gets a fresh PostgreSQL database instead of
// a SQLite file: the same tests then run on both backends.
export const PG_BASE = process.env.VOUCH_TEST_PG_BASE;
let pgCounter = 0;

export async function freshPostgresDb() {
  const name = `vouch_api_${process.pid}_${++pgCounter}`;
  await execFileP('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', `${PG_BASE}/postgres`,
    '-c', `CREATE DATABASE ${name}`]);
  return `${PG_BASE}/${name}`;
}

// `db`: a database URL to use instead (replicas sharing one database).
export async function startVouchd({ args = [], dir, db: dbUrl, env = {}, adminToken = ADMIN_TOKEN } = {}) {
  const workdir = dir ?? mkdtempSync(join(tmpdir(), 'vouch-api-'));
  const db = dbUrl ?? (PG_BASE && !dir ? await freshPostgresDb() : `sqlite:${join(workdir, 'vouch.db')}`);
  // The npm SDKs the tests drive (pop-core; httpx under openapi-client) keep
  // idle sockets with no timeout of their own, and vouchd closes an idle one at
  // --request-timeout (10 s).  When that close lands while node is busy in
  // synchronous work (SoftTpm's key generation, slow on a loaded machine), the
  // next call takes the closed socket from the pool before node has read the
  // close, and fails with "socket hang up".  So a test's vouchd keeps them for
  // 600 s unless the test sets the timeout itself (abuse.test.mjs tests it).
  const timeout = args.some((a) => a.startsWith('--request-timeout')) ? []
    : ['--request-timeout', '600'];
  const argv = ['--listen', '127.0.0.1:0', '--db', db, ...timeout, ...args];
  if (adminToken) argv.push('--admin-token', adminToken);
  const proc = spawn(VOUCHD, argv, {
    cwd: workdir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vouchd did not start:\n${log}`)), 30000);
    const onData = () => {
      const m = /msg=listening .*port=(\d+)/.exec(log) ?? /"msg":"listening".*"port":"(\d+)"/.exec(log);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    proc.stderr.on('data', onData);
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`vouchd exited ${code}:\n${log}`)); });
  });
  const url = `${argv.includes('--tls-cert') ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    url, port, db, dir: workdir, proc, exited,
    log: () => log,
    async stop({ keep = false } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const r = await exited;
      if (!keep && !dir) rmSync(workdir, { recursive: true, force: true });
      return r;
    },
  };
}

// Run the `vouch` CLI; resolves { stdout, stderr }.
export async function vouch(args, opts = {}) {
  return execFileP(VOUCH, args, { maxBuffer: 16 << 20, ...opts });
}

// fetch + parse, for problem+json checks.
export async function request(url, init = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, body };
}

// A new AccessKey pair for `account` (created when new) through the admin API: {id, secret}.
export async function newAccessKey(srv, account) {
  const r = await request(`${srv.url}/admin/accesskeys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ account }),
  });
  if (r.status !== 201) throw new Error(`POST /admin/accesskeys: ${r.status} ${r.text}`);
  return { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
}
