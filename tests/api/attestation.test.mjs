// POST /v1/attestation end to end against a real vouchd: a real TDX quote
// with Intel collateral at a fixed time, and synthetic quotes from the DCAP
// test PKI (tests/tools/dcap_forge) for binding, policies and TCB states.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { startVouchd, vouch, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

const run = promisify(execFile);
const FORGE = process.env.DCAP_FORGE;
const V2 = '../vectors/dcap/dcap-qvl/sample';
const FIXED = '2025-07-04T10:24:15Z';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const evidenceOf = (quote) => b64url(JSON.stringify({ quote: Buffer.from(quote).toString('base64'), cc_eventlog: null }));

// TD report body offsets (after the 48-byte header).
const tdField = (quote, off, len) => Buffer.from(quote).subarray(48 + off, 48 + off + len).toString('hex');
const MR_TD = [136, 48];
const REPORT_DATA = [520, 64];

async function attest(url, body, query = '') {
  return request(`${url}/v1/attestation${query}`, { method: 'POST', body: JSON.stringify(body) });
}

async function verifyToken(url, token) {
  const config = await oidc.discovery(new URL(url), 'rp', undefined, undefined,
    { execute: [oidc.allowInsecureRequests] });
  const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, { issuer: url });
  return { payload, protectedHeader };
}

function assertProblem(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.body.code, code, r.text);
  if (field !== undefined) assert.equal(r.body.field, field, r.text);
}

// A vouchd with collateral imported before it starts.
async function serverWith(collateral, { root, args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-attest-'));
  const db = `sqlite:${join(dir, 'vouch.db')}`;
  const rootArgs = root ? ['--dcap-root', root] : [];
  await vouch(['collateral', 'import', '--db', db, ...rootArgs, collateral]);
  const srv = await startVouchd({ dir, args: [...rootArgs, ...args] });
  const stop = srv.stop.bind(srv);
  srv.stop = async () => { await stop(); rmSync(dir, { recursive: true, force: true }); };
  return srv;
}

// A synthetic quote + collateral + root from the DCAP test PKI.
async function forge(opts = []) {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-forge-'));
  const f = { quote: join(dir, 'q.bin'), collateral: join(dir, 'c.json'), root: join(dir, 'root.pem'), dir };
  await run(FORGE, ['--quote', f.quote, '--collateral', f.collateral, '--root', f.root, ...opts]);
  f.bytes = readFileSync(f.quote);
  return f;
}

describe('a real TDX quote (dcap-qvl sample, Intel collateral) at a fixed time', () => {
  let srv;
  const quote = readFileSync(join(V2, 'tdx_quote'));
  before(async () => { srv = await serverWith(join(V2, 'tdx_quote_collateral.json'), { args: ['--fixed-time', FIXED] }); });
  after(async () => { await srv?.stop(); });

  test("Alibaba's flat form: a flat RS256 token that jose verifies through discovery", async () => {
    const r = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(quote), policy_ids: [] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'application/jwt');
    const { payload, protectedHeader } = await verifyToken(srv.url, r.text);
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.tee, 'tdx');
    assert.equal(payload.iss, srv.url);
    assert.equal(payload.exp - payload.iat, 21600);
    assert.match(payload.jti, /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    assert.equal(typeof payload['tcb-status'], 'string');
    const tcb = JSON.parse(payload['tcb-status']);
    assert.equal(tcb['tdx.quote.body.mr_td'], tdField(quote, ...MR_TD));
    assert.equal(tcb.report_data, tdField(quote, ...REPORT_DATA));
    assert.equal(tcb['tdx.quote.header.version'], '0400');
    assert.equal(tcb['tdx.tcb_status'], 'UpToDate');
    assert.equal(payload['evaluation-reports'][0]['policy-id'], 'default');
    assert.equal(payload['evaluation-reports'][0].allow, true);
    assert.deepEqual(payload.customized_claims, { init_data: null, runtime_data: null });
  });

  test("trustee's form, EAR token: affirming under the default policy", async () => {
    const r = await request(`${srv.url}/attestation?token=ear`, {
      method: 'POST',
      body: JSON.stringify({ verification_requests: [{ tee: 'tdx', evidence: evidenceOf(quote) }], policy_ids: [] }),
    });
    assert.equal(r.status, 200, r.text);
    const { payload } = await verifyToken(srv.url, r.text);
    const cpu0 = payload.submods.cpu0;
    assert.equal(cpu0['ear.status'], 'affirming');
    assert.equal(cpu0['ear.trustworthiness-vector'].hardware, 2);
    assert.equal(cpu0['ear.appraisal-policy-id'], 'default');
    const ev = cpu0['ear.veraison.annotated-evidence'];
    assert.equal(ev.tdx.quote.body.mr_td, tdField(quote, ...MR_TD));
    assert.equal(ev.report_data, tdField(quote, ...REPORT_DATA));
  });

  test('raw runtime_data equal to the report data binds; anything else is a 422', async () => {
    const rd = Buffer.from(tdField(quote, ...REPORT_DATA), 'hex');
    const ok = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(quote), runtime_data: { raw: b64url(rd) } });
    assert.equal(ok.status, 200, ok.text);
    const bad = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(quote), runtime_data: { raw: b64url(Buffer.from('other')) } });
    assertProblem(bad, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'runtime_data');
  });

  test('malformed requests get problem+json and the server keeps serving', async () => {
    const cases = [
      [{ tee: 'tdx', evidence: 'not base64url!' }, 400, 'VOUCH.EVIDENCE.INVALID_ENCODING', 'evidence'],
      [{ tee: 'tdx', evidence: b64url(JSON.stringify({ cc_eventlog: null })) }, 400, 'VOUCH.EVIDENCE.INVALID_FORMAT', 'evidence.quote'],
      [{ tee: 'tdx', evidence: evidenceOf(quote.subarray(0, 700)) }, 422, 'VOUCH.EVIDENCE.INVALID_QUOTE', 'evidence.quote'],
      [{ tee: 'sev', evidence: evidenceOf(quote) }, 400, 'VOUCH.REQUEST.UNSUPPORTED_TEE', 'tee'],
      [{ tee: 'tdx', evidence: evidenceOf(quote), policy_ids: ['no-such-policy'] }, 404, 'VOUCH.POLICY.NOT_FOUND', 'policy_ids'],
      [{ verification_requests: [{ tee: 'tdx' }], policy_ids: [] }, 400, 'VOUCH.REQUEST.INVALID_ARGUMENT', 'verification_requests[0].evidence'],
    ];
    for (const [body, status, code, field] of cases) {
      assertProblem(await attest(srv.url, body), status, code, field);
      assert.equal((await request(`${srv.url}/healthz`)).status, 200);
    }
    const notJson = await request(`${srv.url}/v1/attestation`, { method: 'POST', body: '{"tee":' });
    assertProblem(notJson, 400, 'VOUCH.REQUEST.INVALID_JSON');
    const huge = await request(`${srv.url}/v1/attestation`, { method: 'POST', body: Buffer.alloc(10 << 20, 0x7b) });
    assertProblem(huge, 413, 'VOUCH.REQUEST.TOO_LARGE');
    assert.equal((await request(`${srv.url}/healthz`)).status, 200);
  });

  test('a flipped byte in the signed region fails at the quote signature', async () => {
    const bad = Buffer.from(quote);
    bad[48 + 136] ^= 1; // mr_td
    const r = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(bad) });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED', 'evidence');
    assert.match(r.body.detail, /quote signature/);
  });
});

describe('synthetic quotes from the DCAP test PKI', () => {
  const structured = { nonce: 'abc', key: { kty: 'EC' } };
  const jcs = '{"key":{"kty":"EC"},"nonce":"abc"}';

  for (const alg of ['sha256', 'sha384', 'sha512']) {
    test(`structured runtime_data hashed with ${alg} binds; another hash does not`, async () => {
      const digest = createHash(alg).update(jcs).digest('hex');
      const f = await forge(['--report-data', digest]);
      const srv = await serverWith(f.collateral, { root: f.root });
      try {
        const ok = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(f.bytes), runtime_data: { structured }, runtime_data_hash_algorithm: alg });
        assert.equal(ok.status, 200, ok.text);
        const { payload } = await verifyToken(srv.url, ok.text);
        assert.deepEqual(payload.customized_claims.runtime_data, structured);
        const other = alg === 'sha384' ? 'sha512' : 'sha384';
        const bad = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(f.bytes), runtime_data: { structured }, runtime_data_hash_algorithm: other });
        assertProblem(bad, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'runtime_data');
      } finally {
        await srv.stop();
        rmSync(f.dir, { recursive: true, force: true });
      }
    });
  }

  test('init_data_toml binds MRCONFIGID to its digest; its files become init_data_claims', async () => {
    const toml = [
      'algorithm = "sha384"', 'version = "0.1.0"', '', '[data]',
      '"cdh.toml" = \'\'\'', 'socket = "unix:///run/confidential-containers/cdh.sock"', '[kbc]',
      'name = "cc_kbc"', 'url = "http://127.0.0.1:8080"', '\'\'\'',
      '"policy.rego" = \'\'\'', 'package agent_policy', 'import future.keywords.in',
      'default CreateContainerRequest := false',
      'policy_data := {"containers": [{"OCI": {"Version": "1.1.0"}}]}', '\'\'\'', '',
    ].join('\n');
    const f = await forge(['--mr-config-id', createHash('sha384').update(toml).digest('hex')]);
    const srv = await serverWith(f.collateral, { root: f.root });
    try {
      const r = await attest(srv.url, { verification_requests: [{ tee: 'tdx', evidence: evidenceOf(f.bytes),
        init_data: { init_data_toml: toml } }], policy_ids: [] }, '?token=ear');
      assert.equal(r.status, 200, r.text);
      const { payload } = await verifyToken(srv.url, r.text);
      const claims = payload.submods.cpu0['ear.veraison.annotated-evidence'].init_data_claims;
      assert.equal(claims['cdh.toml'].kbc.name, 'cc_kbc');
      assert.equal(claims.agent_policy_claims.containers[0].OCI.Version, '1.1.0');
      assert.equal(claims['policy.rego'], undefined);
      const bad = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(f.bytes),
        init_data: { init_data_toml: toml.replace('cc_kbc', 'other') } });
      assertProblem(bad, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'init_data');
      const broken = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(f.bytes),
        init_data: { init_data_toml: 'algorithm = "sha384"\n[data\n' } });
      assertProblem(broken, 400, 'VOUCH.REQUEST.INVALID_ARGUMENT', 'init_data.init_data_toml');
      assert.match(broken.body.detail, /TOML line 2/);
    } finally {
      await srv.stop();
      rmSync(f.dir, { recursive: true, force: true });
    }
  });

  test('an OutOfDate TCB gives ear.status warning under the default policy', async () => {
    const f = await forge(['--status', 'OutOfDate']);
    const srv = await serverWith(f.collateral, { root: f.root });
    try {
      const r = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(f.bytes) }, '?token=ear');
      assert.equal(r.status, 200, r.text);
      const { payload } = await verifyToken(srv.url, r.text);
      assert.equal(payload.submods.cpu0['ear.status'], 'warning');
      assert.equal(payload.submods.cpu0['ear.veraison.annotated-evidence'].tdx.tcb_status, 'OutOfDate');
    } finally {
      await srv.stop();
      rmSync(f.dir, { recursive: true, force: true });
    }
  });

  test('a policy uploaded by id rejects a debug TD; a policy that does not compile is refused with file:line:col', async () => {
    const debug = await forge(['--debug']);
    const srv = await serverWith(debug.collateral, { root: debug.root });
    try {
      const rego = 'package policy\nimport rego.v1\ndefault allow := false\nallow if input.tdx.td_attributes.debug == false\n';
      const up = await request(`${srv.url}/policy`, { method: 'POST', headers: admin, body: JSON.stringify({ policy_id: 'no-debug', policy: b64url(rego) }) });
      assert.equal(up.status, 200, up.text);
      const list = await request(`${srv.url}/policy`, { headers: admin });
      assert.ok(list.body.some((p) => p['policy-id'] === 'no-debug'));
      const flat = await attest(srv.url, { tee: 'tdx', evidence: evidenceOf(debug.bytes), policy_ids: ['no-debug'] });
      assertProblem(flat, 403, 'VOUCH.POLICY.REJECTED');
      const bad = await request(`${srv.url}/policy`, { method: 'POST', headers: admin, body: JSON.stringify({ policy_id: 'broken', policy: b64url('package policy\nallow if {\n') }) });
      assertProblem(bad, 400, 'VOUCH.POLICY.INVALID', 'policy');
      assert.match(bad.body.detail, /broken\.rego:\d+:\d+/);
    } finally {
      await srv.stop();
      rmSync(debug.dir, { recursive: true, force: true });
    }
  });

  test('a challenge nonce bound into REPORT_DATA is accepted on another replica; a forged token is 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vouch-replicas-'));
    const a = await startVouchd({ dir });
    const nonceResp = await request(`${a.url}/challenge`, { method: 'POST', body: '{"tee":"tdx"}' });
    assert.equal(nonceResp.status, 200);
    const nonce = Buffer.from(nonceResp.body.nonce, 'base64');
    const token = nonceResp.body['extra-params'].jwt;
    const rd = Buffer.concat([nonce, Buffer.alloc(32, 7)]);
    const f = await forge(['--report-data', rd.toString('hex')]);
    await a.stop({ keep: true });
    await vouch(['collateral', 'import', '--db', a.db, '--dcap-root', f.root, f.collateral]);
    const b = await startVouchd({ dir, args: ['--dcap-root', f.root] });
    try {
      const ok = await attest(b.url, { tee: 'tdx', evidence: evidenceOf(f.bytes), runtime_data: { raw: b64url(rd), challenge_token: token } });
      assert.equal(ok.status, 200, ok.text);
      const forged = token.slice(0, -2) + (token.endsWith('A') ? 'BB' : 'AA');
      const r = await attest(b.url, { tee: 'tdx', evidence: evidenceOf(f.bytes), runtime_data: { raw: b64url(rd), challenge_token: forged } });
      assertProblem(r, 401, 'VOUCH.CHALLENGE.INVALID_TOKEN');
    } finally {
      await b.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(f.dir, { recursive: true, force: true });
    }
  });
});
