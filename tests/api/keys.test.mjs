// Signing keys: persisted in the store, rotated by `vouch keys rotate` or
// the admin API, old keys published until their tokens expire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, vouch, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

async function sign(db, dir, alg) {
  const f = join(dir, 'claims.json');
  writeFileSync(f, JSON.stringify({ sub: 'k' }));
  const { stdout } = await vouch(['token', 'sign', '--db', db, '--alg', alg, f]);
  return stdout.trim();
}

async function kids(url) {
  const r = await request(`${url}/jwks.json`);
  return r.body.keys.map((k) => k.kid).sort();
}

test('keys survive a restart; the admin token is generated once and printed once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-keys-'));
  try {
    const a = await startVouchd({ dir, adminToken: null });
    const first = await kids(a.url);
    const m = /shown only this once; keep it:\n\s+(\S+)/.exec(a.log());
    assert.ok(m, 'the generated admin token is printed');
    const token = m[1];
    const ok = await request(`${a.url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal((await a.stop()).code, 0);

    const b = await startVouchd({ dir, adminToken: null });
    assert.deepEqual(await kids(b.url), first);
    assert.doesNotMatch(b.log(), /shown only this once/);
    const again = await request(`${b.url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(again.status, 200);
    await b.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vouch keys rotate: the new key signs, the old token still verifies', async () => {
  const srv = await startVouchd();
  try {
    const before = await kids(srv.url);
    const oldToken = await sign(srv.db, srv.dir, 'RS256');
    const { stdout } = await vouch(['keys', 'rotate', '--db', srv.db, '--alg', 'RS256']);
    const newKid = /RS256 (\S+)/.exec(stdout)[1];
    assert.ok(!before.includes(newKid));
    // The running server sees the rotation within its reload interval.
    let now = [];
    for (let i = 0; i < 80 && !now.includes(newKid); i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await kids(srv.url);
    }
    assert.ok(now.includes(newKid), 'new key published');
    assert.equal(now.length, 3, 'old RS256 key still published');
    const newToken = await sign(srv.db, srv.dir, 'RS256');
    assert.equal(jose.decodeProtectedHeader(newToken).kid, newKid);
    const jwks = jose.createLocalJWKSet((await request(`${srv.url}/jwks.json`)).body);
    await jose.jwtVerify(oldToken, jwks);
    await jose.jwtVerify(newToken, jwks);
  } finally {
    await srv.stop();
  }
});

test('POST /admin/keys/rotate takes effect at once', async () => {
  const srv = await startVouchd();
  try {
    const r = await request(`${srv.url}/admin/keys/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ alg: 'ES256' }),
    });
    assert.equal(r.status, 200, r.text);
    const kid = r.body.rotated.ES256;
    assert.ok(kid);
    assert.equal(r.body.rotated.RS256, undefined);
    assert.ok((await kids(srv.url)).includes(kid));
    const bad = await request(`${srv.url}/admin/keys/rotate`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: '{"alg":"HS256"}',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'alg');
  } finally {
    await srv.stop();
  }
});
