// Three vouchd replicas on one PostgreSQL database behind nginx
// (tests/pg/with-postgres.sh, meson test api_pg_cluster): state written
// through one replica is used by the others, keys converge within the
// keyring reload period, and a replica killed under load loses no
// acknowledged write.  The measured convergence times are printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as jose from 'jose';
import { startVouchd, request, freshPostgresDb, PG_BASE, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { startNginx, freePort } from './lib/nginx.mjs';

const skip = !PG_BASE && 'needs tests/pg/with-postgres.sh';
const run = promisify(execFile);
const FORGE = process.env.DCAP_FORGE;
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const evidenceOf = (quote) => b64url(JSON.stringify({ quote: Buffer.from(quote).toString('base64'), cc_eventlog: null }));
// Keys are re-read from the store every 5 s (VOUCH_KEYRING_RELOAD_SECONDS).
const KEY_BOUND_MS = 5000;

let forged, replicas = [], lb, db;

async function until(fn, ms) {
  const start = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - start;
    if (Date.now() - start > ms) return null;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const attest = (url, body) => request(`${url}/v1/attestation`, { method: 'POST', body: JSON.stringify(body) });
const post = (url, path, body) => request(`${url}${path}`, { method: 'POST', headers: AUTH, body: typeof body === 'string' ? body : JSON.stringify(body) });

before(async () => {
  if (skip) return;
  const dir = mkdtempSync(join(tmpdir(), 'vouch-forge-'));
  forged = { dir, quote: join(dir, 'q.bin'), collateral: join(dir, 'c.json'), root: join(dir, 'root.pem') };
  await run(FORGE, ['--quote', forged.quote, '--collateral', forged.collateral, '--root', forged.root]);
  db = await freshPostgresDb();
  const port = await freePort();
  const args = ['--dcap-root', forged.root, '--issuer', `http://127.0.0.1:${port}`];
  for (let i = 0; i < 3; i++) replicas.push(await startVouchd({ db, args }));
  lb = await startNginx({ port, upstreams: replicas.map((r) => `127.0.0.1:${r.port}`) });
});

after(async () => {
  await lb?.stop();
  for (const r of replicas) await r.stop();
  if (forged) rmSync(forged.dir, { recursive: true, force: true });
});

test('collateral imported on A is served by B', { skip }, async () => {
  const [a, b] = replicas;
  const r = await post(a.url, '/admin/collateral', readFileSync(forged.collateral, 'utf8'));
  assert.equal(r.status, 200, r.text);
  const fromA = await request(`${a.url}/tdx/certification/v4/qe/identity`);
  assert.equal(fromA.status, 200);
  const ms = await until(async () => (await request(`${b.url}/tdx/certification/v4/qe/identity`)).text === fromA.text, 15000);
  console.log(`# collateral imported on A served by B after ${ms} ms`);
  assert.notEqual(ms, null);
  const ok = await attest(b.url, { tee: 'tdx', evidence: evidenceOf(readFileSync(forged.quote)) });
  assert.equal(ok.status, 200, ok.text);
});

test('a policy uploaded via A is used on B, and a change to it too', { skip }, async () => {
  const [a, b] = replicas;
  const evidence = evidenceOf(readFileSync(forged.quote));
  const deny = b64url('package policy\ndefault allow := false\n');
  const allow = b64url('package policy\ndefault allow := true\n');
  assert.equal((await post(a.url, '/policy', { policy_id: 'shared', policy: deny })).status, 200);
  let r = await attest(b.url, { tee: 'tdx', evidence, policy_ids: ['shared'] });
  assert.equal(r.status, 403, r.text);
  assert.equal((await post(a.url, '/policy', { policy_id: 'shared', policy: allow })).status, 200);
  const ms = await until(async () => (await attest(b.url, { tee: 'tdx', evidence, policy_ids: ['shared'] })).status === 200, 30000);
  console.log(`# a policy changed on A used by B after ${ms} ms`);
  assert.notEqual(ms, null);
});

test('a challenge from B is accepted by C', { skip }, async () => {
  const [, b, c] = replicas;
  const ch = await request(`${b.url}/challenge`, { method: 'POST', body: '{"tee":"tdx"}' });
  assert.equal(ch.status, 200, ch.text);
  const token = ch.body['extra-params'].jwt;
  const rd = Buffer.concat([Buffer.from(ch.body.nonce, 'base64'), Buffer.alloc(32, 7)]);
  const dir = mkdtempSync(join(tmpdir(), 'vouch-forge-'));
  try {
    // dcap_forge makes a new test PKI each run, which the replicas do not
    // trust: C checks the challenge token first and only then fails on the
    // quote (422), while a tampered token stops at the challenge (401).
    await run(FORGE, ['--quote', join(dir, 'q.bin'), '--collateral', join(dir, 'c.json'), '--root', join(dir, 'r.pem'),
      '--report-data', rd.toString('hex')]);
    const evidence = evidenceOf(readFileSync(join(dir, 'q.bin')));
    const good = await attest(c.url, { tee: 'tdx', evidence, runtime_data: { raw: b64url(rd), challenge_token: token } });
    assert.equal(good.status, 422, good.text);
    assert.doesNotMatch(good.body.code, /CHALLENGE/);
    const forgedToken = token.slice(0, -2) + (token.endsWith('A') ? 'BB' : 'AA');
    const bad = await attest(c.url, { tee: 'tdx', evidence, runtime_data: { raw: b64url(rd), challenge_token: forgedToken } });
    assert.equal(bad.status, 401, bad.text);
    assert.equal(bad.body.code, 'VOUCH.CHALLENGE.INVALID_TOKEN');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a key rotated on A is in C\'s JWKS within the reload period; tokens verify anywhere', { skip }, async () => {
  const [a, , c] = replicas;
  const before = (await request(`${c.url}/jwks.json`)).body.keys.map((k) => k.kid);
  const rot = await post(a.url, '/admin/keys/rotate', '');
  assert.equal(rot.status, 200, rot.text);
  const fresh = (await request(`${a.url}/jwks.json`)).body.keys.map((k) => k.kid).filter((k) => !before.includes(k));
  assert.ok(fresh.length > 0, 'A publishes the new keys at once');
  const ms = await until(async () => {
    const kids = (await request(`${c.url}/jwks.json`)).body.keys.map((k) => k.kid);
    return fresh.every((k) => kids.includes(k));
  }, KEY_BOUND_MS + 5000);
  console.log(`# a key rotated on A published by C after ${ms} ms (bound ${KEY_BOUND_MS} ms)`);
  assert.notEqual(ms, null);
  assert.ok(ms <= KEY_BOUND_MS + 1000, `${ms} ms`);
  // Wait for every replica to sign with the new key, then cross-verify.
  await new Promise((r) => setTimeout(r, KEY_BOUND_MS + 500));
  const evidence = evidenceOf(readFileSync(forged.quote));
  const tokens = [];
  for (const r of replicas) {
    const t = await attest(r.url, { tee: 'tdx', evidence });
    assert.equal(t.status, 200, t.text);
    tokens.push(t.text);
  }
  for (const r of replicas) {
    const jwks = jose.createLocalJWKSet((await request(`${r.url}/jwks.json`)).body);
    for (const t of tokens) {
      const { protectedHeader } = await jose.jwtVerify(t, jwks);
      assert.ok(fresh.includes(protectedHeader.kid), 'signed with the rotated key');
    }
  }
});

test('through nginx, kill -9 of a replica under load: service continues, no acknowledged write lost', { skip }, async () => {
  const policy = b64url('package policy\ndefault allow := true\n');
  const acked = new Set();
  const failures = [];
  let stop = false, n = 0, killedAt = 0;
  const worker = async (w) => {
    while (!stop) {
      const id = `lb-${w}-${n++}`;
      try {
        const r = await post(lb.url, '/policy', { policy_id: id, policy });
        if (r.status === 200) acked.add(id);
        else failures.push({ at: Date.now(), status: r.status });
      } catch (e) {
        failures.push({ at: Date.now(), status: String(e) });
      }
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(worker));
  await new Promise((r) => setTimeout(r, 1000));
  replicas[1].proc.kill('SIGKILL');
  killedAt = Date.now();
  await replicas[1].exited;
  await new Promise((r) => setTimeout(r, 3000));
  stop = true;
  await load;
  const late = failures.filter((f) => f.at > killedAt + 1000);
  console.log(`# through nginx: ${acked.size} writes acknowledged, ${failures.length} failed ` +
    `(${late.length} more than 1 s after the kill)`);
  assert.ok(acked.size > 20, 'the load ran');
  assert.deepEqual(late, [], 'the surviving replicas answer everything');
  // Every acknowledged write is stored, as seen from another replica.
  const list = await request(`${replicas[2].url}/policy`, { headers: AUTH });
  const stored = new Set(list.body.map((p) => p['policy-id']));
  assert.deepEqual([...acked].filter((id) => !stored.has(id)), []);
});
