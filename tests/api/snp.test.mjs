// AMD SEV-SNP (tee=snp) through the attestation API, against a real vouchd:
// trustee's own evidence document for its test report (a Milan v2 report,
// tests/vectors/snp/trustee-e2e-evidence.json) with the report's VCEK in
// cert_chain, at 2025-06-01 when the VCEK is valid.  Flat and EAR tokens,
// the runtime_data / init_data binding, and the failures: a tampered
// report, another chip's VCEK, no VCEK, an expired VCEK, a malformed field.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { startVouchd, request } from './lib/vouchd.mjs';
import { subjectOf } from './lib/subject.mjs';

const V = '../vectors/snp';
const AT = '2025-06-01T00:00:00Z';
const REPORT_DATA = 'ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2';
const MEASUREMENT = 'a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c'
  + '23500644e0e692e6be917f9050d3d38c';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const base = JSON.parse(readFileSync(join(V, 'trustee-e2e-evidence.json'), 'utf8'));
const vcek = readFileSync(join(V, 'test-vcek.der'));
const otherVcek = readFileSync(join(V, 'az-milan-v3-vcek.der'));

// trustee's tee=snp document; `edit` changes a deep copy of it.
function snpEvidence({ cert = vcek, edit } = {}) {
  const doc = structuredClone(base);
  if (cert) doc.cert_chain = [{ cert_type: 'VCEK', data: [...cert] }];
  if (edit) edit(doc);
  return b64url(JSON.stringify(doc));
}

async function attest(url, body, query = '') {
  return request(`${url}/v1/attestation${query}`, { method: 'POST', body: JSON.stringify(body) });
}

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

describe('tee=snp: trustee\'s test report with its VCEK at 2025-06-01', () => {
  let srv;
  before(async () => { srv = await startVouchd({ args: ['--fixed-time', AT] }); });
  after(async () => { await srv?.stop(); });

  test('flat token with the snp claims; runtime_data binds to REPORT_DATA', async () => {
    const r = await attest(srv.url, { tee: 'snp', evidence: snpEvidence(),
      runtime_data: { raw: Buffer.from(REPORT_DATA, 'hex').toString('base64') },
      init_data: { raw: Buffer.alloc(32).toString('base64') } });
    assert.equal(r.status, 200, r.text);
    const p = await claimsOf(srv.url, r.text);
    assert.equal(p.tee, 'snp');
    const tcb = JSON.parse(p['tcb-status']);
    assert.equal(tcb['snp.measurement'], MEASUREMENT);
    // sub: the guest's launch measurement (docs/oidc.md)
    assert.equal(p.sub, subjectOf('snp', { measurement: MEASUREMENT }));
    assert.equal(tcb['snp.policy_debug_allowed'], false);
    assert.equal(tcb['snp.policy_smt_allowed'], true);
    assert.equal(tcb['snp.policy_abi_minor'], 31);
    assert.equal(tcb['snp.reported_tcb_bootloader'], 3);
    assert.equal(tcb['snp.reported_tcb_snp'], 8);
    assert.equal(tcb['snp.reported_tcb_microcode'], 115);
    assert.equal(tcb['snp.platform_smt_enabled'], true);
    assert.match(tcb['snp.chip_id'], /^c38427a3[0-9a-f]{120}$/);
    assert.equal(tcb.report_data, REPORT_DATA + '0'.repeat(64));
    assert.equal(tcb.init_data, '0'.repeat(64));
    assert.equal(p['evaluation-reports'][0].allow, true);
  });

  test("trustee's form, EAR token: cpu0 affirming under the default policy", async () => {
    const r = await request(`${srv.url}/attestation?token=ear`, {
      method: 'POST',
      body: JSON.stringify({ verification_requests: [{ tee: 'snp', evidence: snpEvidence() }],
        policy_ids: [] }),
    });
    assert.equal(r.status, 200, r.text);
    const p = await claimsOf(srv.url, r.text);
    const cpu0 = p.submods.cpu0;
    assert.equal(cpu0['ear.status'], 'affirming');
    assert.equal(cpu0['ear.trustworthiness-vector'].hardware, 2);
    assert.equal(cpu0['ear.trustworthiness-vector'].configuration, 2);
    assert.equal(cpu0['ear.veraison.annotated-evidence'].snp.measurement, MEASUREMENT);
  });

  test('other runtime_data or init_data: 422 binding mismatch', async () => {
    let r = await attest(srv.url, { tee: 'snp', evidence: snpEvidence(),
      runtime_data: { raw: Buffer.from('other').toString('base64') } });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'runtime_data');
    r = await attest(srv.url, { tee: 'snp', evidence: snpEvidence(),
      init_data: { raw: Buffer.from('other').toString('base64') } });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.field, 'init_data', r.text);
  });

  test('a tampered report (one measurement bit): 422, the signature fails', async () => {
    const r = await attest(srv.url, { tee: 'snp', evidence: snpEvidence({
      edit: (d) => { d.attestation_report.measurement[0] ^= 1; } }) });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED');
    assert.match(r.body.detail, /signature/, r.text);
  });

  test("another chip's VCEK: 422, its hwID is not the report's CHIP_ID", async () => {
    const r = await attest(srv.url, { tee: 'snp', evidence: snpEvidence({ cert: otherVcek }) });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED');
    assert.match(r.body.detail, /CHIP_ID/, r.text);
  });

  test('a foreign ARK in cert_chain: 422, only the pinned AMD roots count', async () => {
    const genoaArk = readFileSync(join(V, 'az-genoa-vcek.pem'));   // not an ARK at all
    const r = await attest(srv.url, { tee: 'snp', evidence: snpEvidence({
      edit: (d) => { d.cert_chain.push({ cert_type: 'ARK', data: [...genoaArk] }); } }) });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED');
  });

  test('no VCEK in the evidence: 422 collateral missing', async () => {
    const r = await attest(srv.url, { tee: 'snp', evidence: snpEvidence({ cert: null }) });
    assertProblem(r, 422, 'VOUCH.COLLATERAL.MISSING');
  });

  test('a malformed report field: 400 naming it', async () => {
    const r = await attest(srv.url, { tee: 'snp', evidence: snpEvidence({
      edit: (d) => { d.attestation_report.measurement.pop(); } }) });
    assertProblem(r, 400, 'VOUCH.EVIDENCE.INVALID_FORMAT');
    assert.match(r.body.field, /attestation_report\.measurement$/, r.text);
  });
});

describe('tee=snp after the VCEK expired (2031-01-01)', () => {
  let srv;
  before(async () => { srv = await startVouchd({ args: ['--fixed-time', '2031-01-01T00:00:00Z'] }); });
  after(async () => { await srv?.stop(); });

  test('422: the certificate is expired', async () => {
    const r = await attest(srv.url, { tee: 'snp', evidence: snpEvidence() });
    assert.equal(r.status, 422, r.text);
    assert.match(r.body.detail, /expire/i, r.text);
  });
});
