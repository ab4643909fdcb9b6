// tee=tpm through the attestation API, against a real vouchd: trustee's
// stateless TPM evidence ({ak_public, tpm_quote{message, signature, pcrs}})
// from a software TPM with a known nonce and init data, and trustee's own
// tpm_evidence.json (tests/vectors/tpm/INDEX.md).  The runtime_data and
// init_data bindings, the default policy's trusted AK and PCR 11 reference
// values, flat and EAR tokens, a custom Rego policy, and the failures.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { startVouchd, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

const V = '../vectors/tpm/trustee';
const NONCE = 'b859a068516679128fc2582e4c7174550a032cf91e8eaaf1bdf90dbdc0c32aa1';
const INIT = '78f33e3c1083cc62158e5bbebb49d9054868c76a13e26a22e44fb0da057bc03e';
const PCR8 = '0e198d6ee5937dcd26af8ed7f16fa509f95ba950c59157cedd2060d74aaf5e52';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const swtpm = JSON.parse(readFileSync(join(V, 'swtpm_evidence.json'), 'utf8'));
const trustee = JSON.parse(readFileSync(join(V, 'tpm_evidence.json'), 'utf8'));
const b64url = (doc) => Buffer.from(JSON.stringify(doc)).toString('base64url');
const raw = (hex) => ({ raw: Buffer.from(hex, 'hex').toString('base64') });

function attest(srv, body, query = '') {
  return request(`${srv.url}/v1/attestation${query}`, { method: 'POST', body: JSON.stringify(body) });
}

async function claimsOf(srv, token) {
  const jwks = jose.createRemoteJWKSet(new URL(`${srv.url}/jwks.json`));
  return (await jose.jwtVerify(token, jwks, { issuer: srv.url })).payload;
}

function refval(srv, name, values) {
  return request(`${srv.url}/reference-value`, {
    method: 'POST', headers: admin, body: JSON.stringify({ name, values }),
  });
}

describe('tee=tpm: trustee\'s evidence shape, appraised against reference values', () => {
  let srv;
  before(async () => { srv = await startVouchd(); });
  after(async () => { await srv?.stop(); });

  test('an AK nobody trusts: verified, but the default policy does not allow it', async () => {
    const r = await attest(srv, { tee: 'tpm', evidence: b64url(swtpm),
      runtime_data: raw(NONCE), init_data: raw(INIT) });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.code, 'VOUCH.POLICY.REJECTED');
  });

  test('a trusted AK: flat token with trustee\'s claims, bound to runtime and init data', async () => {
    assert.equal((await refval(srv, 'trusted_aks', [swtpm.ak_public])).status, 200);
    const r = await attest(srv, { tee: 'tpm', evidence: b64url(swtpm),
      runtime_data: raw(NONCE), init_data: raw(INIT) });
    assert.equal(r.status, 200, r.text);
    const p = await claimsOf(srv, r.text);
    assert.equal(p.tee, 'tpm');
    assert.equal(p['evaluation-reports'][0].allow, true);
    const tcb = JSON.parse(p['tcb-status']);
    assert.equal(tcb['tpm.ak_public'], swtpm.ak_public);
    assert.equal(tcb['tpm.pcr08'], PCR8);
    assert.equal(tcb.init_data, PCR8);
    assert.equal(tcb['tpm.pcr11'], swtpm.tpm_quote.pcrs[11]);
    assert.equal(tcb.report_data, NONCE);
  });

  test('EAR token: hardware 2; executables 3 once PCR 11 is a reference value', async () => {
    const ear = async () => {
      const r = await request(`${srv.url}/attestation?token=ear`, { method: 'POST',
        body: JSON.stringify({ verification_requests: [{ tee: 'tpm', evidence: b64url(swtpm) }],
          policy_ids: [] }) });
      assert.equal(r.status, 200, r.text);
      return (await claimsOf(srv, r.text)).submods.cpu0;
    };
    let cpu0 = await ear();
    assert.equal(cpu0['ear.trustworthiness-vector'].hardware, 2);
    assert.equal(cpu0['ear.trustworthiness-vector'].executables ?? 0, 0);
    assert.equal(cpu0['ear.veraison.annotated-evidence'].tpm.pcr08, PCR8);
    assert.equal((await refval(srv, 'tpm_pcr11', [swtpm.tpm_quote.pcrs[11]])).status, 200);
    cpu0 = await ear();
    assert.equal(cpu0['ear.trustworthiness-vector'].executables, 3);
  });

  test("a Rego policy of one's own over the TPM claims", async () => {
    // trustee's quote has PCR 8 (init data) zero; the swtpm one has it extended.
    const policy = 'package policy\nimport rego.v1\ndefault allow := false\n'
      + `allow if input.tpm.pcr08 == "${'0'.repeat(64)}"\n`;
    const up = await request(`${srv.url}/policy`, { method: 'POST', headers: admin,
      body: JSON.stringify({ policy_id: 'tpm-drtm', policy: Buffer.from(policy).toString('base64url') }) });
    assert.equal(up.status, 200, up.text);
    for (const [doc, status] of [[trustee, 200], [swtpm, 403]]) {
      const r = await attest(srv, { tee: 'tpm', evidence: b64url(doc), policy_ids: ['tpm-drtm'] });
      assert.equal(r.status, status, r.text);
    }
  });

  test("trustee's vector: its 48-byte report data binds to the 64-byte extraData", async () => {
    const rd = 'a04182b506878d4f29b91ee606a71a0d3361ccf1b22db20c98adcaa537bea393'
      + 'ef0e41a18b3569ab678f1497fbc5c120';
    assert.equal((await refval(srv, 'trusted_aks', [swtpm.ak_public, trustee.ak_public])).status, 200);
    const r = await attest(srv, { tee: 'tpm', evidence: b64url(trustee), runtime_data: raw(rd) });
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse((await claimsOf(srv, r.text))['tcb-status']).report_data, `${rd}${'0'.repeat(32)}`);
  });

  test('failures: binding, init data, tampering and malformed fields', async () => {
    const cases = [
      [{ runtime_data: raw('00'.repeat(32)) }, swtpm, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'runtime_data'],
      [{ init_data: raw('11'.repeat(32)) }, swtpm, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'init_data'],
      [{}, { ...swtpm, ak_public: trustee.ak_public }, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED', undefined],
      [{}, { ...swtpm, tpm_quote: { ...swtpm.tpm_quote, pcrs: swtpm.tpm_quote.pcrs.map((v, i) => (i === 4 ? PCR8 : v)) } },
        422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED', undefined],
      [{}, { ...swtpm, tpm_quote: { ...swtpm.tpm_quote, pcrs: swtpm.tpm_quote.pcrs.slice(1) } },
        400, 'VOUCH.EVIDENCE.INVALID_FORMAT', 'evidence.tpm_quote.pcrs'],
      [{}, { ...swtpm, ak_public: 'not base64!' }, 400, 'VOUCH.EVIDENCE.INVALID_FORMAT', 'evidence.ak_public'],
      [{}, { ak_public: swtpm.ak_public }, 400, 'VOUCH.EVIDENCE.INVALID_FORMAT', 'evidence.tpm_quote'],
    ];
    for (const [extra, doc, status, code, field] of cases) {
      const r = await attest(srv, { tee: 'tpm', evidence: b64url(doc), ...extra });
      assert.equal(r.status, status, r.text);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.body.code, code, r.text);
      if (field) assert.equal(r.body.field, field, r.text);
    }
  });
});
