// Secrets at rest: the key-encryption key (--kek-file) and `vouch keys
// rewrap`, the database file's mode, and the admin token read from a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync,
  writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, vouch, request, VOUCHD } from './lib/vouchd.mjs';

function tempDir() {
  return mkdtempSync(join(tmpdir(), 'vouch-secrets-'));
}

function writeKek(dir, name, encoding) {
  const raw = randomBytes(32);
  const f = join(dir, name);
  writeFileSync(f, encoding === 'raw' ? raw : `${raw.toString(encoding)}\n`, { mode: 0o600 });
  return f;
}

// Every secret column of the database, as text.
function storedSecrets(dir) {
  const db = join(dir, 'vouch.db');
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', db,
    "SELECT private_pem FROM signing_keys UNION ALL SELECT value FROM meta WHERE key IN " +
    "('challenge_secret', 'vtpm_ak_ca')"],
  { encoding: 'utf8' });
}

async function signedToken(srv, kekFile) {
  const f = join(srv.dir, 'claims.json');
  writeFileSync(f, JSON.stringify({ iss: srv.url, sub: 'kek-test' }));
  const args = ['token', 'sign', '--db', srv.db, '--alg', 'ES256', f];
  if (kekFile) args.push('--kek-file', kekFile);
  return (await vouch(args)).stdout.trim();
}

async function verifies(url, token) {
  const jwks = jose.createRemoteJWKSet(new URL(`${url}/jwks.json`));
  const { payload } = await jose.jwtVerify(token, jwks);
  return payload.sub;
}

// Start vouchd expecting it to refuse; resolves its log.
async function refusesToStart(opts) {
  try {
    const srv = await startVouchd(opts);
    await srv.stop();
  } catch (e) {
    return e.message;
  }
  throw new Error('vouchd started');
}

test('with a KEK no private key is stored in clear; restart, rewrap, restart', async () => {
  const dir = tempDir();
  try {
    const kek1 = writeKek(dir, 'kek1', 'hex');
    const kek2 = writeKek(dir, 'kek2', 'base64');
    const a = await startVouchd({ dir, args: ['--kek-file', kek1] });
    assert.doesNotMatch(a.log(), /no --kek-file/);
    const token = await signedToken(a, kek1);
    assert.equal(await verifies(a.url, token), 'kek-test');
    assert.equal((await request(`${a.url}/challenge`, { method: 'POST' })).status, 200);
    await a.stop();

    const stored = storedSecrets(dir);
    assert.doesNotMatch(stored, /PRIVATE KEY/);
    assert.equal(stored.trim().split('\n').length, 4, stored);  // two keys, one HMAC key, the vTPM AK CA
    for (const line of stored.trim().split('\n')) assert.match(line, /^vouch-kek:[A-Za-z0-9_-]+$/);

    // Without the KEK, or with another one, vouchd refuses to start.
    assert.match(await refusesToStart({ dir }), /signing-key:\S+ is wrapped under KEK id [0-9a-f]{16}; give that KEK with --kek-file/);
    assert.match(await refusesToStart({ dir, args: ['--kek-file', kek2] }),
      /wrapped under KEK id [0-9a-f]{16}, but the KEK given has id [0-9a-f]{16}/);

    const b = await startVouchd({ dir, args: ['--kek-file', kek1] });
    assert.equal(await verifies(b.url, token), 'kek-test');
    await b.stop();

    // Rewrap to the new KEK in one go; then only the new KEK opens them.
    const listed = (await vouch(['keys', 'list', '--db', a.db])).stdout;
    assert.equal((listed.match(/ kek [0-9a-f]{16}$/gm) ?? []).length, 2, listed);
    const before = storedSecrets(dir);
    const { stdout } = await vouch(['keys', 'rewrap', '--db', a.db, '--old-kek', kek1, '--new-kek', kek2]);
    assert.match(stdout, /^[0-9a-f]{16}$/m);
    assert.notEqual(storedSecrets(dir), before);
    assert.match(await refusesToStart({ dir, args: ['--kek-file', kek1] }), /but the KEK given has id/);
    const c = await startVouchd({ dir, args: ['--kek-file', kek2] });
    assert.equal(await verifies(c.url, token), 'kek-test');
    await c.stop();

    // A rewrap naming the wrong old KEK changes nothing.
    const kek3 = writeKek(dir, 'kek3', 'raw');
    const now = storedSecrets(dir);
    await assert.rejects(vouch(['keys', 'rewrap', '--db', a.db, '--old-kek', kek3, '--new-kek', kek1]),
      /nothing changed: .*wrapped under KEK id [0-9a-f]{16}, which is not the old KEK/);
    assert.equal(storedSecrets(dir), now);
    // Both runs are in the audit log: the KEK they wrapped under, and the outcome.
    const audit = (await vouch(['audit', '--db', a.db, '--json', '--action', 'cli keys rewrap']))
      .stdout.trim().split('\n').map((l) => JSON.parse(l));
    const kek1Id = / kek ([0-9a-f]{16})$/m.exec(listed)[1];
    const kek2Id = /^[0-9a-f]{16}$/m.exec(stdout)[0];
    assert.deepEqual(audit.map((e) => [e.target, e.status]), [[kek1Id, 500], [kek2Id, 200]]);
    assert.match(audit[0].actor, /^cli:/);
    await assert.rejects(vouch(['keys', 'rewrap', '--db', a.db]),
      (e) => e.code === 2 && /give --old-kek, --new-kek or both/.test(e.stderr));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('clear secrets from before a KEK are wrapped at start; without one vouchd warns once', async () => {
  const dir = tempDir();
  try {
    const a = await startVouchd({ dir });
    const warnings = a.log().split('\n').filter((l) => l.includes('no --kek-file'));
    assert.equal(warnings.length, 1, a.log());
    assert.match(warnings[0], /level=warn/);
    const token = await signedToken(a);
    await a.stop();
    assert.match(storedSecrets(dir), /PRIVATE KEY/);

    const kek = writeKek(dir, 'kek', 'base64url');
    const b = await startVouchd({ dir, args: ['--kek-file', kek] });
    // the signing keys, the challenge secret and the vTPM AK CA's key
    assert.match(b.log(), /wrapped the secrets stored in clear" count=4/);
    assert.equal(await verifies(b.url, token), 'kek-test');
    await b.stop();
    assert.doesNotMatch(storedSecrets(dir), /PRIVATE KEY/);

    // `vouch keys rewrap --old-kek` alone goes back to clear.
    await vouch(['keys', 'rewrap', '--db', b.db, '--old-kek', kek]);
    assert.match(storedSecrets(dir), /PRIVATE KEY/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a KEK file or admin token file others can read is refused', async () => {
  const dir = tempDir();
  try {
    const kek = writeKek(dir, 'kek', 'hex');
    chmodSync(kek, 0o640);
    assert.match(await refusesToStart({ dir, args: ['--kek-file', kek] }),
      /kek is accessible to group or others \(mode 0640\).*chmod 600/);
    const tok = join(dir, 'admin-token');
    writeFileSync(tok, 'file-admin-token-0123456789\n', { mode: 0o604 });
    chmodSync(tok, 0o604);
    assert.match(await refusesToStart({ dir, adminToken: null, args: ['--admin-token-file', tok] }),
      /--admin-token-file: .*admin-token is accessible to group or others \(mode 0604\)/);
    writeFileSync(join(dir, 'short'), 'short\n', { mode: 0o600 });
    assert.match(await refusesToStart({ dir, adminToken: null, args: ['--admin-token-file', join(dir, 'short')] }),
      /at least 16 characters/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--admin-token-file: the first line is the token, and it is not on the command line', async () => {
  const dir = tempDir();
  try {
    const token = 'file-admin-token-0123456789';
    const f = join(dir, 'admin-token');
    writeFileSync(f, `${token}\nsecond line is ignored\n`, { mode: 0o600 });
    const srv = await startVouchd({ dir, adminToken: null, args: ['--admin-token-file', f] });
    try {
      const cmdline = readFileSync(`/proc/${srv.proc.pid}/cmdline`, 'utf8');
      assert.ok(!cmdline.includes(token));
      assert.doesNotMatch(srv.log(), /shown only this once/);
      const ok = await request(`${srv.url}/admin/keys`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      const withNewline = await request(`${srv.url}/admin/keys`,
        { headers: { authorization: `Bearer ${token}x` } });
      assert.equal(withNewline.status, 401);
    } finally {
      await srv.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the database and its -wal and -shm files are created 0600', async () => {
  const dir = tempDir();
  try {
    const srv = await startVouchd({ dir });
    try {
      await request(`${srv.url}/challenge`, { method: 'POST' });
      for (const f of ['vouch.db', 'vouch.db-wal', 'vouch.db-shm']) {
        const p = join(dir, f);
        assert.ok(existsSync(p), `${f} exists`);
        assert.equal(statSync(p).mode & 0o777, 0o600, f);
      }
    } finally {
      await srv.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an existing database others can read is tightened if ours, refused if not', async () => {
  const dir = tempDir();
  try {
    const srv = await startVouchd({ dir });
    await srv.stop();
    const db = join(dir, 'vouch.db');
    chmodSync(db, 0o644);
    const again = await startVouchd({ dir });
    await again.stop();
    assert.equal(statSync(db).mode & 0o777, 0o600);

    if (process.getuid() !== 0) return;  // only root can hand the file to someone else
    chmodSync(db, 0o644);
    chownSync(db, 65534, 65534);
    assert.match(await refusesToStart({ dir }),
      /vouch\.db is readable by other users \(mode 0644\) and belongs to uid 65534, not us/);
    assert.equal(statSync(db).mode & 0o777, 0o644);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vouchd --help says to prefer the token file or the environment', async () => {
  const out = execFileSync(VOUCHD, ['--help'], { encoding: 'utf8' });
  assert.match(out, /--admin-token-file FILE/);
  assert.match(out, /prefer --admin-token-file or the/);
  assert.match(out, /--kek-file FILE/);
});
