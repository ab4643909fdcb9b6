// The error table seen from outside: failures the server answers by kind,
// never by message text.  A real TDX quote with Intel collateral at a fixed
// time, a store whose signing keys are all retired, and collateral imports
// that are not JSON or not collateral.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startVouchd, vouch, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

const run = promisify(execFile);
const V2 = '../vectors/dcap/dcap-qvl/sample';
const FIXED = '2025-07-04T10:24:15Z';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const quote = readFileSync(join(V2, 'tdx_quote'));
const evidence = Buffer.from(JSON.stringify({ quote: quote.toString('base64'), cc_eventlog: null }))
  .toString('base64url');
let srv, dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vouch-errors-'));
  await vouch(['collateral', 'import', '--db', `sqlite:${join(dir, 'vouch.db')}`,
    join(V2, 'tdx_quote_collateral.json')]);
  srv = await startVouchd({ dir, args: ['--fixed-time', FIXED] });
});
after(async () => { await srv?.stop(); rmSync(dir, { recursive: true, force: true }); });

const attest = () => request(`${srv.url}/v1/attestation`, {
  method: 'POST', body: JSON.stringify({ tee: 'tdx', evidence }),
});

function assertProblem(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.body.code, code, r.text);
  assert.equal(r.body.status, status);
}

test('collateral import: not JSON is 400 INVALID_JSON, JSON but not collateral is 422', async () => {
  const post = (body) => request(`${srv.url}/admin/collateral`, { method: 'POST', headers: admin, body });
  const notJson = await post('{"tcb_info": ');
  assertProblem(notJson, 400, 'VOUCH.REQUEST.INVALID_JSON');
  assert.match(notJson.body.detail, /line 1 column/);
  assertProblem(await post('{"tcb_info": 5}'), 422, 'VOUCH.COLLATERAL.INVALID');
});

test('no active signing key: 503 VOUCH.TOKEN.NO_SIGNING_KEY with Retry-After, until a rotation', async () => {
  assert.equal((await attest()).status, 200);
  // Retire every key behind the server's back, as another replica's store would.
  const now = Math.floor(Date.now() / 1000);
  await run('sqlite3', ['-cmd', '.timeout 5000', join(dir, 'vouch.db'),
    `UPDATE signing_keys SET retired_at = ${now} WHERE retired_at IS NULL`]);
  let r;
  for (let i = 0; i < 40; i++) {   // the keyring is reloaded every few seconds
    r = await attest();
    if (r.status !== 200) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assertProblem(r, 503, 'VOUCH.TOKEN.NO_SIGNING_KEY');
  assert.equal(r.headers.get('retry-after'), '5');
  assert.equal(r.body.field, undefined);
  const rot = await request(`${srv.url}/admin/keys/rotate`, { method: 'POST', headers: admin });
  assert.equal(rot.status, 200, rot.text);
  assert.equal((await attest()).status, 200);
});
