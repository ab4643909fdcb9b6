// Azure confidential VMs (tee=az-snp-vtpm, tee=az-tdx-vtpm) through the
// attestation API, against a real vouchd: trustee's real evidence documents
// (tests/vectors/azure, nonce "challenge"), with Intel collateral for the TD
// quote imported before start, at 2025-06-05T03:45:00Z when the VCEKs and
// the collateral are valid.  Flat and EAR tokens, the nonce and init-data
// binding, and the failures: a tampered SNP report, HCL runtime data (the
// AK's binding) or TD report, a wrong nonce, a malformed document, a TD
// quote without collateral.  Then `vouch inspect` on the same files.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { startVouchd, vouch, request } from './lib/vouchd.mjs';

const V = '../vectors/azure';
const COLLATERAL = '../vectors/dcap/phala_format/automata_v4_tdx_0625.json';
const AT = '2025-06-05T03:45:00Z';
const NONCE = Buffer.from('challenge');
const HCL_VAR_DATA = 0x4d4;       // runtime data (the AK's JWK) in the HCL report
const HCL_HW_REPORT = 0x20;       // SNP report / TD report in the HCL report

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const load = (name) => JSON.parse(readFileSync(join(V, name), 'utf8'));

// A v1 document with one bit of its base64url member `key` flipped at `off`.
function flipped(doc, key, off) {
  const d = structuredClone(doc);
  const bytes = Buffer.from(d[key], 'base64url');
  bytes[off] ^= 1;
  d[key] = bytes.toString('base64url');
  return d;
}

async function attest(url, tee, doc, extra = {}, query = '') {
  return request(`${url}/v1/attestation${query}`, {
    method: 'POST',
    body: JSON.stringify({ tee, evidence: b64url(JSON.stringify(doc)), ...extra }),
  });
}

const withNonce = { runtime_data: { raw: NONCE.toString('base64') } };

function assertProblem(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.body.code, code, r.text);
  if (field !== undefined) assert.equal(r.body.field, field, r.text);
}

async function claimsOf(url, token) {
  const jwks = jose.createRemoteJWKSet(new URL(`${url}/jwks.json`));
  const { payload } = await jose.jwtVerify(token, jwks, { issuer: url });
  return payload;
}

describe('Azure CVMs with Intel collateral imported, at 2025-06-05', () => {
  let srv, dir;
  const snpV1 = load('snp-evidence-v1.json');
  const tdxV1 = load('tdx-evidence-v1.json');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vouch-azure-'));
    const db = `sqlite:${join(dir, 'vouch.db')}`;
    await vouch(['collateral', 'import', '--db', db, COLLATERAL]);
    srv = await startVouchd({ dir, args: ['--fixed-time', AT] });
  });
  after(async () => {
    await srv?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('az-snp-vtpm v1: flat token with trustee\'s claims; the nonce binds to the vTPM quote', async () => {
    const r = await attest(srv.url, 'az-snp-vtpm', snpV1, withNonce);
    assert.equal(r.status, 200, r.text);
    const p = await claimsOf(srv.url, r.text);
    assert.equal(p.tee, 'az-snp-vtpm');
    const tcb = JSON.parse(p['tcb-status']);
    assert.match(tcb['az-snp-vtpm.measurement'], /^agY76d159jcchC5ID43Dtccllh/);
    assert.equal(tcb['az-snp-vtpm.policy_debug_allowed'], 'false');
    assert.equal(tcb['az-snp-vtpm.reported_tcb_microcode'], '219');
    assert.match(tcb['az-snp-vtpm.tpm.pcr00'], /^e15c44796beabf46/);
    assert.equal(tcb.report_data, NONCE.toString('hex'));
    assert.equal(tcb.init_data, '0'.repeat(64));   // PCR8
    assert.equal(p['evaluation-reports'][0].allow, true);
  });

  test('az-snp-vtpm v0, v2 and Genoa documents verify too', async () => {
    for (const name of ['snp-evidence-v0.json', 'snp-evidence-v2.json', 'snp-evidence-genoa.json',
      'snp-evidence-v1-report-v2.json']) {
      const r = await attest(srv.url, 'az-snp-vtpm', load(name));
      assert.equal(r.status, 200, `${name}: ${r.text}`);
    }
  });

  test("trustee's form, EAR token: az-snp-vtpm is affirming under the default policy", async () => {
    const r = await request(`${srv.url}/attestation?token=ear`, {
      method: 'POST',
      body: JSON.stringify({ verification_requests: [{ tee: 'az-snp-vtpm',
        evidence: b64url(JSON.stringify(snpV1)) }], policy_ids: [] }),
    });
    assert.equal(r.status, 200, r.text);
    const cpu0 = (await claimsOf(srv.url, r.text)).submods.cpu0;
    assert.equal(cpu0['ear.status'], 'affirming');
    assert.equal(cpu0['ear.trustworthiness-vector'].hardware, 2);
    assert.equal(cpu0['ear.trustworthiness-vector'].configuration, 2);
    assert.equal(cpu0['ear.veraison.annotated-evidence']['az-snp-vtpm'].tpm.pcr08, '0'.repeat(64));
  });

  test('another nonce: 422 binding mismatch on runtime_data', async () => {
    const r = await attest(srv.url, 'az-snp-vtpm', snpV1,
      { runtime_data: { raw: Buffer.from('other').toString('base64') } });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'runtime_data');
    assert.match(r.body.detail, /nonce/, r.text);
  });

  test('init data that is not what PCR8 holds: 422 binding mismatch on init_data', async () => {
    const r = await attest(srv.url, 'az-snp-vtpm', snpV1,
      { ...withNonce, init_data: { raw: Buffer.alloc(32, 1).toString('base64') } });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'init_data');
  });

  test('a tampered SNP report in the HCL report: 422, its signature fails', async () => {
    const r = await attest(srv.url, 'az-snp-vtpm', flipped(snpV1, 'hcl_report', HCL_HW_REPORT + 0x90));
    assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED');
    assert.match(r.body.detail, /signature/, r.text);
  });

  test('tampered HCL runtime data (the AK is not the one bound): 422 naming hcl_report', async () => {
    const r = await attest(srv.url, 'az-snp-vtpm', flipped(snpV1, 'hcl_report', HCL_VAR_DATA + 200));
    assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED', 'evidence.hcl_report');
    assert.match(r.body.detail, /runtime data/, r.text);
  });

  test('a malformed document: 400 naming the field', async () => {
    let r = await attest(srv.url, 'az-snp-vtpm', { ...snpV1, version: 3 });
    assertProblem(r, 400, 'VOUCH.EVIDENCE.INVALID_FORMAT', 'evidence.version');
    const bad = structuredClone(snpV1);
    bad.tpm_quote.pcrs.pop();
    r = await attest(srv.url, 'az-snp-vtpm', bad);
    assertProblem(r, 400, 'VOUCH.EVIDENCE.INVALID_FORMAT', 'evidence.tpm_quote.pcrs');
    r = await attest(srv.url, 'az-snp-vtpm', { ...snpV1, hcl_report: b64url(Buffer.from('HCLA')) });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.INVALID_QUOTE', 'evidence.hcl_report');
  });

  test('az-tdx-vtpm v1: the TD quote by our DCAP core, the TPM claims beside its claims', async () => {
    const r = await attest(srv.url, 'az-tdx-vtpm', tdxV1, withNonce);
    assert.equal(r.status, 200, r.text);
    const tcb = JSON.parse((await claimsOf(srv.url, r.text))['tcb-status']);
    assert.equal(tcb['az-tdx-vtpm.tcb_status'], 'OutOfDate');
    assert.equal(tcb['az-tdx-vtpm.quote.header.version'], '0400');
    assert.match(tcb['az-tdx-vtpm.tpm.pcr00'], /^782b20b10f55cc46/);
    assert.equal(tcb.report_data, NONCE.toString('hex'));
  });

  test('az-tdx-vtpm v0, EAR token: a warning, the TD\'s TCB is out of date', async () => {
    const r = await attest(srv.url, 'az-tdx-vtpm', load('tdx-evidence-v0.json'), withNonce,
      '?token=ear');
    assert.equal(r.status, 200, r.text);
    const cpu0 = (await claimsOf(srv.url, r.text)).submods.cpu0;
    assert.equal(cpu0['ear.status'], 'warning');
    assert.equal(cpu0['ear.trustworthiness-vector'].hardware, 32);
  });

  test('az-tdx-vtpm: a TD report that is not the quoted one: 422', async () => {
    const r = await attest(srv.url, 'az-tdx-vtpm', flipped(tdxV1, 'hcl_report', HCL_HW_REPORT + 512 + 16));
    assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED', 'evidence.hcl_report');
    assert.match(r.body.detail, /TD report/, r.text);
  });

  test('an SNP document posted as az-tdx-vtpm: refused by its HCL report type', async () => {
    const r = await attest(srv.url, 'az-tdx-vtpm', snpV1);
    assert.equal(r.status >= 400 && r.status < 500, true, r.text);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
  });
});

describe('az-tdx-vtpm without Intel collateral', () => {
  let srv;
  before(async () => { srv = await startVouchd({ args: ['--fixed-time', AT] }); });
  after(async () => { await srv?.stop(); });

  test('422 collateral missing; az-snp-vtpm needs none', async () => {
    let r = await attest(srv.url, 'az-tdx-vtpm', load('tdx-evidence-v1.json'));
    assertProblem(r, 422, 'VOUCH.COLLATERAL.MISSING');
    r = await attest(srv.url, 'az-snp-vtpm', load('snp-evidence-v1.json'));
    assert.equal(r.status, 200, r.text);
  });
});

describe('vouch inspect on Azure evidence', () => {
  test('inspect evidence --tee az-snp-vtpm and inspect az-tdx-vtpm print the claims', async () => {
    let { stdout } = await vouch(['inspect', 'evidence', '--tee', 'az-snp-vtpm',
      join(V, 'snp-evidence-v2.json'), '--at', AT]);
    let out = JSON.parse(stdout);
    assert.equal(out.tee, 'az-snp-vtpm');
    assert.match(out.claims.report_data, /^982f5c6e/);
    ({ stdout } = await vouch(['inspect', 'az-tdx-vtpm', join(V, 'tdx-evidence-v1.json'),
      '--collateral', COLLATERAL, '--at', AT]));
    out = JSON.parse(stdout);
    assert.equal(out.claims.tcb_status, 'OutOfDate');
  });

  test('after the VCEK expired: exit status 1', async () => {
    await assert.rejects(vouch(['inspect', 'az-snp-vtpm', join(V, 'snp-evidence-v1.json'),
      '--at', '2033-01-01T00:00:00Z']), (err) => err.code === 1 && /expire/i.test(err.stderr));
  });
});
