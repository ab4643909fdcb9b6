// OIDC as cloud IAM sees it: vouchd over HTTPS (a CA made here) issuing
// tokens for a real TDX quote.  Nothing is exchanged with AWS or Alibaba;
// the test checks every field AWS IAM documents as required of an OIDC
// provider's discovery document, its JWKS and an ID token, the `sub` rule
// of docs/oidc.md (computed here from the quote's bytes), the per-request
// audience, and the OAuth errors of the endpoints Alibaba's discovery names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFile } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { startVouchd, vouch } from './lib/vouchd.mjs';
import { makeCa, issueServerCert, sha1Thumbprint, fetchTrusting } from './lib/pki.mjs';
import { subjectOf } from './lib/subject.mjs';

const run = promisify(execFile);
const V2 = '../vectors/dcap/dcap-qvl/sample';
const FIXED = '2025-07-04T10:24:15Z';
const AUDIENCES = ['sts.amazonaws.com', 'sts.aliyuncs.com'];
const quote = readFileSync(join(V2, 'tdx_quote'));
const evidence = Buffer.from(JSON.stringify({ quote: quote.toString('base64'), cc_eventlog: null }))
  .toString('base64url');

let dir, ca, srv, agent;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vouch-oidc-'));
  ca = await makeCa(dir);
  const cert = await issueServerCert(ca, 'vouch');
  const db = `sqlite:${join(dir, 'vouch.db')}`;
  await vouch(['collateral', 'import', '--db', db, join(V2, 'tdx_quote_collateral.json')]);
  srv = await startVouchd({
    dir, db,
    args: ['--tls-cert', cert.cert, '--tls-key', cert.key, '--fixed-time', FIXED,
      '--allowed-audiences', ` ${AUDIENCES.join(' , ')} `],
  });
  agent = new https.Agent({ ca: ca.pem });
});
after(async () => {
  agent?.destroy();
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function call(path, { method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(`${srv.url}${path}`, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, body: json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const attest = (body, query = '') => call(`/v1/attestation${query}`,
  { method: 'POST', body: JSON.stringify({ tee: 'tdx', evidence, policy_ids: [], ...body }) });

async function discovered() {
  const config = await oidc.discovery(new URL(srv.url), AUDIENCES[0], undefined, undefined,
    { [oidc.customFetch]: fetchTrusting(ca.pem) });
  return config.serverMetadata();
}

// docs/oidc.md's rule for tee=tdx, on registers read from the quote's own
// bytes: the TD report body starts after the 48-byte header.
function expectedTdxSubject() {
  const field = (off) => quote.subarray(48 + off, 48 + off + 48).toString('hex');
  return subjectOf('tdx', { quote: { body: { mr_td: field(136), rtmr_0: field(328),
    rtmr_1: field(376), rtmr_2: field(424), rtmr_3: field(472) } } });
}

test('discovery document: every field AWS IAM requires, and only what is served', async () => {
  const md = await discovered();
  // AWS: the provider URL begins with https:// and is the tokens' iss
  assert.equal(md.issuer, srv.url);
  assert.match(md.issuer, /^https:\/\//);
  assert.equal(md.jwks_uri, `${srv.url}/jwks.json`);
  assert.ok(md.response_types_supported.includes('id_token'));
  assert.deepEqual(md.subject_types_supported, ['public']);
  assert.deepEqual(md.id_token_signing_alg_values_supported, ['RS256']);
  for (const c of ['iss', 'sub', 'aud', 'exp', 'iat']) assert.ok(md.claims_supported.includes(c), c);
  // every URL it names answers (no endpoint is listed that is not served)
  const urls = Object.entries(md).filter(([k, v]) => typeof v === 'string' && /(_endpoint|_uri)$/.test(k));
  assert.deepEqual(urls.map(([k]) => k), ['jwks_uri']);
  for (const [k, v] of urls) {
    const r = await call(new URL(v).pathname);
    assert.equal(r.status, 200, `${k}: ${r.text}`);
  }
  for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'scopes_supported']) {
    assert.equal(md[k], undefined, `${k} is listed but no such flow is served`);
  }
});

test('JWKS: what AWS IAM requires of the keys', async () => {
  const r = await call('/jwks.json');
  assert.equal(r.status, 200);
  assert.ok(r.body.keys.length >= 1);
  const kids = new Set();
  for (const k of r.body.keys) {
    assert.equal(typeof k.kid, 'string');
    assert.ok(!kids.has(k.kid), 'kid values are unique');
    kids.add(k.kid);
    assert.equal(k.use, 'sig');
    assert.ok(['RS256', 'ES256'].includes(k.alg));
    for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[priv], undefined, priv);
  }
  const rsa = r.body.keys.find((k) => k.alg === 'RS256');
  assert.equal(rsa.kty, 'RSA');
  assert.ok(Buffer.from(rsa.n, 'base64url').length >= 256, 'RSA modulus of at least 2048 bits');
  assert.equal(rsa.e, 'AQAB');
});

test('ID token: iss, sub, aud, exp, iat, kid and RS256, verified by jose through discovery', async () => {
  const r = await attest({ audience: 'sts.amazonaws.com' });
  assert.equal(r.status, 200, r.text);
  const md = await discovered();
  const jwks = jose.createRemoteJWKSet(new URL(md.jwks_uri), { agent });
  const { payload, protectedHeader } = await jose.jwtVerify(r.text, jwks,
    { issuer: md.issuer, audience: 'sts.amazonaws.com', algorithms: ['RS256'] });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(protectedHeader.typ, 'JWT');
  const served = (await call('/jwks.json')).body.keys.map((k) => k.kid);
  assert.ok(served.includes(protectedHeader.kid), 'the header kid names a JWKS key');
  assert.equal(payload.iss, srv.url);
  assert.equal(payload.aud, 'sts.amazonaws.com');
  assert.equal(typeof payload.sub, 'string');
  assert.ok(payload.sub.length > 0 && payload.sub.length <= 255, 'sub is 1..255 characters');
  assert.ok(Number.isInteger(payload.iat) && Number.isInteger(payload.exp));
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(payload.iat - now) < 300, 'iat is the time of issue, not the fixed verification time');
  assert.ok(payload.exp > payload.iat);
});

test('sub: the documented hash of the TD measurement registers, the same for every token of the TD', async () => {
  const want = expectedTdxSubject();
  const flat = await attest({});
  const other = await attest({ audience: 'sts.aliyuncs.com' });
  const ear = await attest({}, '?token=ear');
  for (const r of [flat, other, ear]) assert.equal(r.status, 200, r.text);
  for (const r of [flat, other, ear]) assert.equal(jose.decodeJwt(r.text).sub, want);
  // the rule's inputs are in the flat token's claims, for a relying party to recompute
  const tcb = JSON.parse(jose.decodeJwt(flat.text)['tcb-status']);
  assert.equal(tcb['tdx.quote.body.mr_td'], quote.subarray(48 + 136, 48 + 184).toString('hex'));
});

test('aud: the issuer by default, a listed audience on request, anything else 400 naming the field', async () => {
  assert.equal(jose.decodeJwt((await attest({})).text).aud, srv.url);
  assert.equal(jose.decodeJwt((await attest({ audience: srv.url })).text).aud, srv.url);
  for (const a of AUDIENCES) assert.equal(jose.decodeJwt((await attest({ audience: a })).text).aud, a);
  const ear = await attest({ audience: 'sts.aliyuncs.com' }, '?token=ear');
  assert.equal(jose.decodeJwt(ear.text).aud, 'sts.aliyuncs.com');
  assert.equal(jose.decodeJwt((await attest({}, '?token=ear')).text).aud, undefined, 'EAR: no aud unless asked');
  for (const bad of ['sts.amazonaws.com.evil', 'STS.AMAZONAWS.COM', '', 7, ['sts.amazonaws.com'], {}]) {
    const r = await attest({ audience: bad });
    assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(r.body.code, 'VOUCH.REQUEST.INVALID_ARGUMENT');
    assert.equal(r.body.field, 'audience');
  }
  // the trustee form takes it at the top level too
  const trustee = await call('/v1/attestation', { method: 'POST', body: JSON.stringify({
    verification_requests: [{ tee: 'tdx', evidence }], policy_ids: [], audience: 'nope' }) });
  assert.equal(trustee.status, 400);
  assert.equal(trustee.body.field, 'audience');
});

test('vouch attest --audience asks for it; vouch verify-token --audience checks it', async () => {
  // plain HTTP: the CLI's HTTP client trusts the system's CAs only
  const plain = await startVouchd({ args: ['--fixed-time', FIXED, '--allowed-audiences', AUDIENCES[0]],
    db: `sqlite:${join(dir, 'vouch.db')}` });
  try {
    const { stdout } = await vouch(['attest', '--tee', 'tdx', '--evidence', join(V2, 'tdx_quote'),
      '--url', plain.url, '--audience', AUDIENCES[0], '--raw']);
    const token = stdout.trim();
    assert.equal(jose.decodeJwt(token).aud, AUDIENCES[0]);
    await vouch(['verify-token', token, '--issuer', plain.url, '--audience', AUDIENCES[0]]);
    await assert.rejects(vouch(['verify-token', token, '--issuer', plain.url, '--audience', 'other']),
      /aud is not other/);
    await assert.rejects(vouch(['attest', '--tee', 'tdx', '--evidence', join(V2, 'tdx_quote'),
      '--url', plain.url, '--audience', 'sts.aliyuncs.com', '--raw']), /400[\s\S]*"field":\s*"audience"/);
  } finally {
    await plain.stop();
  }
});

test('the OAuth endpoints Alibaba\'s discovery names answer OAuth errors (RFC 6749/6750), not problem+json', async () => {
  const cases = [
    ['GET', '/authorize?response_type=code&client_id=x', 400, 'unsupported_response_type'],
    ['POST', '/authorize', 400, 'unsupported_response_type'],
    ['POST', '/token', 400, 'unsupported_grant_type'],
    ['GET', '/token', 400, 'unsupported_grant_type'],
    ['GET', '/userinfo', 401, 'invalid_token'],
    ['POST', '/userinfo', 401, 'invalid_token'],
  ];
  for (const [method, path, status, error] of cases) {
    const body = method === 'POST' ? 'grant_type=client_credentials' : undefined;
    const r = await call(path, { method, body, headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {} });
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    assert.equal(r.headers['content-type'], 'application/json;charset=UTF-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.body.error, error);
    assert.equal(typeof r.body.error_description, 'string');
    assert.deepEqual(Object.keys(r.body).sort(), ['error', 'error_description']);
  }
  const bare = await call('/userinfo');
  assert.equal(bare.headers['www-authenticate'], 'Bearer realm="vouch"');
  const withToken = await call('/userinfo', { headers: { authorization: 'Bearer abc' } });
  assert.equal(withToken.headers['www-authenticate'], 'Bearer realm="vouch", error="invalid_token"');
});

test('docs/oidc.md: the thumbprint recipe gives the CA\'s SHA-1 fingerprint', async () => {
  // the recipe: the last certificate `openssl s_client -showcerts` prints is the
  // top of the chain; with a leaf-only chain that is the leaf, so serve one with
  // the CA to show the recipe picks the CA
  const withCa = join(dir, 'chain.pem');
  const cert = await issueServerCert(ca, 'chained');
  writeFileSync(withCa, Buffer.concat([readFileSync(cert.cert), ca.pem]));
  const chained = await startVouchd({ args: ['--tls-cert', withCa, '--tls-key', cert.key] });
  try {
    const { stdout } = await run('sh', ['-c',
      `openssl s_client -connect 127.0.0.1:${chained.port} -showcerts </dev/null 2>/dev/null | ` +
      "awk '/-----BEGIN CERTIFICATE-----/{c=\"\"} {c=c $0 \"\\n\"} /-----END CERTIFICATE-----/{last=c} END{printf \"%s\", last}' | " +
      "openssl x509 -fingerprint -sha1 -noout | cut -d= -f2 | tr -d : | tr A-F a-f"]);
    assert.equal(stdout.trim(), await sha1Thumbprint(ca.cert));
    assert.match(stdout.trim(), /^[0-9a-f]{40}$/);
  } finally {
    await chained.stop();
  }
});
