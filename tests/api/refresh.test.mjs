// Upstream refresh of collateral: a second vouchd on 127.0.0.1 acts as the
// PCS; newer documents replace older ones only after verification, and a
// failed fetch keeps serving the last good copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, vouch, request } from './lib/vouchd.mjs';

const V2 = '../vectors/dcap/dcap-qvl/sample';
const coll = JSON.parse(readFileSync(join(V2, 'tdx_quote_collateral.json'), 'utf8'));
const newTdQe = `{"enclaveIdentity":${coll.qe_identity},"signature":"${coll.qe_identity_signature}"}`;

async function until(fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a downstream vouchd picks newer collateral up from its upstream and survives its loss', async () => {
  const upDir = mkdtempSync(join(tmpdir(), 'vouch-up-'));
  const downDir = mkdtempSync(join(tmpdir(), 'vouch-down-'));
  await vouch(['collateral', 'import', '--db', `sqlite:${join(upDir, 'vouch.db')}`, join(V2, 'tdx_quote_collateral.json')]);
  // The downstream starts with teepot's older captures (2025-05-27).
  await vouch(['collateral', 'import', '--db', `sqlite:${join(downDir, 'vouch.db')}`, '--at', '2025-05-28T00:00:00Z', '../vectors/pccs']);
  const alone = await startVouchd({ dir: downDir });
  const before = await request(`${alone.url}/tdx/certification/v4/qe/identity`);
  await alone.stop({ keep: true });
  assert.equal(before.status, 200);
  assert.notEqual(before.text, newTdQe);
  const up = await startVouchd({ dir: upDir });
  const down = await startVouchd({ dir: downDir, args: ['--pccs-upstream', up.url, '--pccs-refresh', '1'] });
  try {
    // The newer TD_QE identity and the TDX TCB info arrive, verified.
    assert.ok(await until(async () => (await request(`${down.url}/tdx/certification/v4/qe/identity`)).text === newTdQe),
      `not refreshed:\n${down.log()}`);
    assert.ok(await until(async () => (await request(`${down.url}/sgx/certification/v4/pckcrl?ca=platform`)).text === coll.pck_crl));
    // Only documents it holds are refreshed: a new FMSPC comes by import.
    assert.equal((await request(`${down.url}/tdx/certification/v4/tcb?fmspc=B0C06F000000`)).status, 404);
    assert.match(down.log(), /msg="collateral refreshed" id=qe\/TD_QE action=stored/);
    // Documents the upstream lacks are kept, with a warning.
    assert.match(down.log(), /collateral refresh failed; keeping the stored copy" id=tcb\/sgx/);
    // The upstream goes away: the downstream keeps serving its copy.
    await up.stop({ keep: true });
    await new Promise((r) => setTimeout(r, 2500));
    const after = await request(`${down.url}/tdx/certification/v4/qe/identity`);
    assert.equal(after.status, 200);
    assert.equal(after.text, newTdQe);
  } finally {
    await down.stop();
    await up.stop();
    rmSync(upDir, { recursive: true, force: true });
    rmSync(downDir, { recursive: true, force: true });
  }
});
