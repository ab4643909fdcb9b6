// vouch db status | migrate | copy on a real PostgreSQL (tests/pg/with-postgres.sh):
// a single-node SQLite installation moved to PostgreSQL keeps its keys
// (wrapped under its KEK), policies and collateral, and a vouchd on the
// copy serves the same JWKS and data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, vouch, request, freshPostgresDb, PG_BASE, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { newAccessKey, rpcClient, rpc, signedQuery, SoftAttester } from './lib/vtpmclient.mjs';

const skip = !PG_BASE && 'needs tests/pg/with-postgres.sh';
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const POLICY = Buffer.from('package policy\ndefault allow := true\n').toString('base64url');
const COLLATERAL = '../vectors/dcap/dcap-qvl/sample/tdx_quote_collateral.json';

// The attestation history (written in the background) once its newest row is request `rid`.
async function historyWith(url, rid) {
  for (let i = 0; i < 200; i++) {
    const h = await request(`${url}/admin/attestations`, { headers: AUTH });
    if (h.body?.attestations?.[0]?.request_id === rid) return h.body.attestations;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`request ${rid} never reached the history`);
}

// Run vouch; resolves { code, stdout, stderr } whatever the exit status.
async function run(args) {
  try {
    const r = await vouch(args);
    return { code: 0, ...r };
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('vouch db status at a missing SQLite path says so and creates nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-db-'));
  try {
    const path = join(dir, 'typo.db');
    const r = await run(['db', 'status', '--db', `sqlite:${path}`]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /no database at .*typo\.db/);
    assert.equal(existsSync(path), false);
    // once migrate made it, status reads it
    assert.equal((await run(['db', 'migrate', '--db', `sqlite:${path}`])).code, 0);
    const again = await run(['db', 'status', '--db', `sqlite:${path}`]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^pending migrations: none$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vouch db copy reads its source and never creates or migrates it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-dbcopy-src-'));
  try {
    const typo = join(dir, 'typo.db');
    const to = `sqlite:${join(dir, 'to.db')}`;
    let r = await run(['db', 'copy', '--from', `sqlite:${typo}`, '--to', to]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /--from: no database at .*typo\.db/);
    assert.equal(existsSync(typo), false);
    assert.equal(existsSync(join(dir, 'to.db')), false, 'the target is not touched either');
    // A database that exists at another schema (here: never migrated) is
    // refused and left as it was; db status still reads version 0.
    if (PG_BASE) {
      const old = await freshPostgresDb();
      r = await run(['db', 'copy', '--from', old, '--to', to]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /--from: its schema is version 0 and this vouch copies version \d+: run vouch db migrate/);
      assert.match(r.stderr, /nothing copied/);
      r = await run(['db', 'status', '--db', old]);
      assert.match(r.stdout, /^schema version: 0$/m);
    }
    // A current source copies.
    const from = `sqlite:${join(dir, 'from.db')}`;
    assert.equal((await run(['db', 'migrate', '--db', from])).code, 0);
    r = await run(['db', 'copy', '--from', from, '--to', to]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /from sqlite to sqlite/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vouch db status and migrate on a new PostgreSQL database', { skip }, async () => {
  const db = await freshPostgresDb();
  let r = await run(['db', 'status', '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^backend: postgres$/m);
  assert.match(r.stdout, /^schema version: 0$/m);
  // The latest migration this build knows (src/store/store.c), as the CLI says.
  const LATEST = Number(/^latest known: (\d+)$/m.exec(r.stdout)?.[1]);
  assert.ok(LATEST >= 5, r.stdout);
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
    const m = /copied (\d+) settings, (\d+) signing keys, (\d+) documents and (\d+) vTPM and audit rows from sqlite to postgres/.exec(r.stdout);
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

test('vouch db copy moves the vTPM service: instances, AKs, IMA state, events, history, keys', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-db-vtpm-'));
  const kek = join(dir, 'kek');
  writeFileSync(kek, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const sqlite = `sqlite:${join(dir, 'vouch.db')}`;
  const args = ['--kek-file', kek];
  const a = new SoftAttester('moved-1');
  const look = (client) => Promise.all([
    rpc(client, 'DescribeInstance', { PropertyUuid: a.uuid }),
    rpc(client, 'DescribeBoot', { PropertyUuid: a.uuid }),
    rpc(client, 'DescribeEvents', { PropertyUuid: a.uuid }),
  ].map((p) => p.then(({ RequestId, ...rest }) => rest)));
  let pg, before, key, replay, history;
  try {
    // Real data through the API on SQLite: enrolment, reports with IMA, a PCR drift.
    const one = await startVouchd({ dir, args });
    try {
      key = await newAccessKey(one.url, 'tenant-a');
      const client = rpcClient(one.url, key);
      await a.enrol(client);
      await a.report(client);
      a.tpm.pcrs.sha256[5] = Buffer.alloc(32, 0x5a);
      await a.report(client);
      // An attestation rejected before appraisal is a row of the attestation history.
      const bad = await request(`${one.url}/v1/attestation`, { method: 'POST',
        body: JSON.stringify({ tee: 'tdx', evidence: Buffer.from('not a quote').toString('base64url') }) });
      assert.equal(bad.status, 400);
      history = await historyWith(one.url, bad.headers.get('x-request-id'));
      replay = signedQuery(key, { Action: 'DescribeInstances' });
      assert.equal((await request(`${one.url}/?${replay}`)).status, 200);
      before = await look(client);
      assert.equal(before[0].SystemTrustStatus, 2);
      assert.equal(before[2].TotalCount, 1);
    } finally {
      await one.stop({ keep: true });
    }
    const target = await freshPostgresDb();
    const r = await run(['db', 'copy', '--from', sqlite, '--to', target]);
    assert.equal(r.code, 0, r.stderr);
    const m = /and (\d+) vTPM and audit rows from sqlite to postgres/.exec(r.stdout);
    assert.ok(m && Number(m[1]) >= 10, r.stdout);
    // A vouchd on the copy (same KEK): the access key (wrapped) signs, the
    // instance, boot and events read the same, the SignatureNonce stays used.
    pg = await startVouchd({ db: target, args });
    const client = rpcClient(pg.url, key);
    assert.deepEqual(await look(client), before);
    const again = await request(`${pg.url}/?${replay}`);
    assert.equal(again.body.Code, 'SignatureNonceUsed');
    // The next incremental report continues from the copied IMA state and AK.
    const next = a.next;
    const data = await a.report(client);
    assert.equal(data.nextClientIMAIndex, next + a.entries);
    const boot = await rpc(client, 'DescribeBoot', { PropertyUuid: a.uuid });
    assert.equal(boot.Reports, before[1].Reports + 1);
    // The attestation history came along, and new rows number on after the copied ids.
    const bad = await request(`${pg.url}/v1/attestation`, { method: 'POST',
      body: JSON.stringify({ tee: 'tdx', evidence: Buffer.from('still not a quote').toString('base64url') }) });
    const h = await historyWith(pg.url, bad.headers.get('x-request-id'));
    assert.deepEqual(h[1], history[0]);
    assert.ok(h[0].id > history[0].id);
  } finally {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
