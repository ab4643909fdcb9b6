// vouch db status | migrate | copy on a real PostgreSQL (tests/pg/with-postgres.sh):
// a single-node SQLite installation moved to PostgreSQL keeps its keys
// (wrapped under its KEK), policies and collateral, and a vouchd on the
// copy serves the same JWKS and data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, vouch, request, freshPostgresDb, PG_BASE, ADMIN_TOKEN } from './lib/vouchd.mjs';

const skip = !PG_BASE && 'needs tests/pg/with-postgres.sh';
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const POLICY = Buffer.from('package policy\ndefault allow := true\n').toString('base64url');
const COLLATERAL = '../vectors/dcap/dcap-qvl/sample/tdx_quote_collateral.json';
const LATEST = 4;

// Run vouch; resolves { code, stdout, stderr } whatever the exit status.
async function run(args) {
  try {
    const r = await vouch(args);
    return { code: 0, ...r };
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('vouch db status and migrate on a new PostgreSQL database', { skip }, async () => {
  const db = await freshPostgresDb();
  let r = await run(['db', 'status', '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^backend: postgres$/m);
  assert.match(r.stdout, /^schema version: 0$/m);
  assert.match(r.stdout, new RegExp(`^latest known: ${LATEST}$`, 'm'));
  assert.match(r.stdout, new RegExp(`^pending migrations: ${LATEST} \\(1 to ${LATEST}\\)`, 'm'));
  // status applied nothing
  r = await run(['db', 'status', '--db', db]);
  assert.match(r.stdout, /^schema version: 0$/m);
  r = await run(['db', 'migrate', '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^schema version: ${LATEST}$`, 'm'));
  r = await run(['db', 'status', '--db', db]);
  assert.match(r.stdout, /^pending migrations: none$/m);
  // Unreachable database, bad arguments.
  r = await run(['db', 'status', '--db', 'postgres://nobody@127.0.0.1:1/x']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /cannot connect/);
  assert.equal((await run(['db', 'copy', '--from', db])).code, 2);
});

test('vouch db copy moves a SQLite installation, wrapped keys included', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-dbcopy-'));
  const kek = join(dir, 'kek');
  writeFileSync(kek, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const sqlite = `sqlite:${join(dir, 'vouch.db')}`;
  let pg;
  try {
    await vouch(['collateral', 'import', '--db', sqlite, COLLATERAL]);
    const one = await startVouchd({ dir, args: ['--kek-file', kek] });
    let jwksBefore;
    try {
      assert.equal((await request(`${one.url}/policy`, {
        method: 'POST', headers: AUTH, body: JSON.stringify({ policy_id: 'moved', type: 'rego', policy: POLICY }),
      })).status, 200);
      assert.equal((await request(`${one.url}/admin/keys/rotate`, { method: 'POST', headers: AUTH })).status, 200);
      jwksBefore = (await request(`${one.url}/jwks.json`)).body;
    } finally {
      await one.stop({ keep: true });
    }
    const target = await freshPostgresDb();
    let r = await run(['db', 'copy', '--from', sqlite, '--to', target]);
    assert.equal(r.code, 0, r.stderr);
    const m = /copied (\d+) settings, (\d+) signing keys and (\d+) documents from sqlite to postgres/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(Number(m[2]) >= 4, 'two algorithms, rotated once');
    // A second copy onto the now non-empty target is refused; --force replaces.
    r = await run(['db', 'copy', '--from', sqlite, '--to', target]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nothing copied \(--force replaces them\)/);
    r = await run(['db', 'copy', '--from', sqlite, '--to', target, '--force']);
    assert.equal(r.code, 0, r.stderr);
    // A vouchd on the copy, with the same KEK, publishes the same keys and has the data.
    pg = await startVouchd({ db: target, args: ['--kek-file', kek] });
    const byKid = (jwks) => [...jwks.keys].sort((a, b) => a.kid.localeCompare(b.kid));
    assert.deepEqual(byKid((await request(`${pg.url}/jwks.json`)).body), byKid(jwksBefore));
    const p = await request(`${pg.url}/policy/moved`, { headers: AUTH });
    assert.equal(p.status, 200);
    assert.equal(p.body.policy, POLICY);
    assert.equal((await request(`${pg.url}/tdx/certification/v4/qe/identity`)).status, 200);
    // Without the KEK the wrapped keys cannot be used: it refuses to start.
    await assert.rejects(startVouchd({ db: target }), /KEK|kek|wrapped/);
  } finally {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vouch db copy refuses a source with vTPM data rather than drop it', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-db-vtpm-'));
  try {
    const sqlite = `sqlite:${join(dir, 'src.db')}`;
    let r = await run(['accesskey', 'create', '--db', sqlite, 'tenant-a']);
    assert.equal(r.code, 0, r.stderr);
    const target = await freshPostgresDb();
    r = await run(['db', 'copy', '--from', sqlite, '--to', target]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /vTPM accounts, access keys and instances.*nothing copied/);
    r = await run(['db', 'status', '--db', target]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
