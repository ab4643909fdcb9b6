// The foundation's contract, checked with real clients: openid-client
// discovers the issuer, jose verifies tokens Vouch signed against the
// served JWKS, and bad requests get problem+json while the server keeps
// serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startVouchd, vouch, request, ADMIN_TOKEN, PG_BASE } from './lib/vouchd.mjs';

let srv;

before(async () => { srv = await startVouchd(); });
after(async () => { await srv?.stop(); });

function assertProblem(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.body.status, status);
  assert.equal(r.body.code, code);
  assert.equal(typeof r.body.type, 'string');
  assert.equal(typeof r.body.title, 'string');
  assert.equal(typeof r.body.detail, 'string');
}

async function assertStillServing() {
  const r = await request(`${srv.url}/healthz`);
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'ok');
}

test('healthz reports the store', async () => {
  const r = await request(`${srv.url}/healthz`);
  assert.equal(r.status, 200);
  assert.equal(r.body.store, PG_BASE ? 'postgres' : 'sqlite');
  assert.ok(r.body.schema_version >= 1);
});

// --threads' default (server.c): 32 HTTP workers per core on SQLite, where a
// report waiting for its group commit holds its thread and that thread's
// other connections; 4 per core on PostgreSQL, where each is a server connection.
test('the default worker threads follow the store', () => {
  const perCore = PG_BASE ? 4 : 32;
  const workers = perCore * cpus().length;
  const tasks = readdirSync(`/proc/${srv.proc.pid}/task`).length;
  assert.ok(tasks >= workers && tasks < workers + 16, `${tasks} threads, ${workers} workers`);
});

test('openid-client discovers the issuer', async () => {
  const config = await oidc.discovery(new URL(srv.url), 'vouch-test-client', undefined, undefined,
    { execute: [oidc.allowInsecureRequests] });
  const md = config.serverMetadata();
  assert.equal(md.issuer, srv.url);
  assert.equal(md.jwks_uri, `${srv.url}/jwks.json`);
  for (const k of ['response_types_supported', 'subject_types_supported',
    'id_token_signing_alg_values_supported']) {
    assert.ok(md[k], `discovery lacks ${k}`);
  }
  // only what is served: tokens come from the attestation API, not an OAuth flow
  for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint']) {
    assert.equal(md[k], undefined, k);
  }
  // the algorithm tokens are signed with (--token-alg)
  assert.deepEqual(md.id_token_signing_alg_values_supported, ['RS256']);
});

test('JWKS: one RSA and one P-256 key, kid is the RFC 7638 thumbprint', async () => {
  const r = await request(`${srv.url}/jwks.json`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/jwk-set+json');
  const kinds = r.body.keys.map((k) => `${k.kty}/${k.alg}`).sort();
  assert.deepEqual(kinds, ['EC/ES256', 'RSA/RS256']);
  for (const k of r.body.keys) {
    assert.equal(k.kid, await jose.calculateJwkThumbprint(k, 'sha256'));
    assert.equal(k.use, 'sig');
    assert.equal(k.d, undefined, 'private key material in the JWKS');
    assert.equal(k.p, undefined);
  }
  const rsa = r.body.keys.find((k) => k.kty === 'RSA');
  assert.equal(Buffer.from(rsa.n, 'base64url').length, 256);
  // trustee's and the Alibaba fork's paths serve the same set
  for (const p of ['/.well-known/jwks.json', '/jwks']) {
    const o = await request(`${srv.url}${p}`);
    assert.deepEqual(o.body, r.body);
  }
});

for (const alg of ['RS256', 'ES256']) {
  test(`jose verifies an ${alg} token Vouch signed, found through discovery`, async () => {
    const claimsFile = join(srv.dir, `claims-${alg}.json`);
    writeFileSync(claimsFile, JSON.stringify({ iss: srv.url, sub: 'api-test', tee: 'tdx' }));
    const { stdout } = await vouch(['token', 'sign', '--db', srv.db, '--alg', alg, claimsFile]);
    const token = stdout.trim();
    const config = await oidc.discovery(new URL(srv.url), 'c', undefined, undefined,
      { execute: [oidc.allowInsecureRequests] });
    const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
      issuer: srv.url, algorithms: [alg],
    });
    assert.equal(protectedHeader.alg, alg);
    assert.equal(payload.sub, 'api-test');
    assert.ok(payload.exp > payload.iat);
    // The same token with its payload changed does not verify.
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'evil' })).toString('base64url')}.${s}`;
    await assert.rejects(jose.jwtVerify(forged, jwks));
  });
}

test('malformed JSON gets 400 VOUCH.REQUEST.INVALID_JSON with line and column', async () => {
  const r = await request(`${srv.url}/admin/keys/rotate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: '{"alg": "RS256",\n  oops}',
  });
  assertProblem(r, 400, 'VOUCH.REQUEST.INVALID_JSON');
  assert.match(r.body.detail, /line 2/);
  await assertStillServing();
});

test('a wrong field type names the field', async () => {
  const r = await request(`${srv.url}/admin/keys/rotate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    body: '{"alg": 256}',
  });
  assertProblem(r, 400, 'VOUCH.REQUEST.INVALID_ARGUMENT');
  assert.equal(r.body.field, 'alg');
});

test('an oversized body gets 413 and the server keeps serving', async () => {
  const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
  const r = await request(`${srv.url}/admin/keys/rotate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    body: big,
  });
  assertProblem(r, 413, 'VOUCH.REQUEST.TOO_LARGE');
  await assertStillServing();
});

test('an oversized chunked body (no Content-Length) gets 413 too', async () => {
  const r = await new Promise((resolve, reject) => {
    const req = http.request(`${srv.url}/admin/keys/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'transfer-encoding': 'chunked' },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(256 * 1024, 0x62);
    for (let i = 0; i < 8; i++) req.write(chunk);
    req.end();
  });
  assert.equal(r.status, 413);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(JSON.parse(r.text).code, 'VOUCH.REQUEST.TOO_LARGE');
  await assertStillServing();
});

test('an unknown route gets 404 problem+json', async () => {
  const r = await request(`${srv.url}/v0/nothing-here`);
  assertProblem(r, 404, 'VOUCH.REQUEST.NOT_FOUND');
  await assertStillServing();
});

test('a wrong method gets 405 with Allow', async () => {
  const r = await request(`${srv.url}/jwks.json`, { method: 'DELETE' });
  assertProblem(r, 405, 'VOUCH.REQUEST.METHOD_NOT_ALLOWED');
  assert.equal(r.headers.get('allow'), 'GET');
  await assertStillServing();
});

test('admin endpoints need the bearer token', async () => {
  const none = await request(`${srv.url}/admin/keys`);
  assertProblem(none, 401, 'VOUCH.AUTH.UNAUTHORIZED');
  assert.match(none.headers.get('www-authenticate'), /^Bearer/);
  const wrong = await request(`${srv.url}/admin/keys`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } });
  assertProblem(wrong, 401, 'VOUCH.AUTH.UNAUTHORIZED');
  const ok = await request(`${srv.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(ok.status, 200);
  assert.ok(ok.body.keys.length >= 2);
  assert.equal(JSON.stringify(ok.body).includes('PRIVATE'), false);
});

test('keep-alive: several requests with bodies share one connection', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const reused = [];
  for (let i = 0; i < 4; i++) {
    const status = await new Promise((resolve, reject) => {
      const req = http.request(`${srv.url}/admin/keys/rotate`, {
        method: 'POST', agent, headers: { authorization: 'Bearer wrong-token-xxxxxxxx' },
      }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
      req.on('error', reject);
      reused.push(req.reusedSocket);
      req.end('{"alg":"RS256"}');
    });
    assert.equal(status, 401);
  }
  agent.destroy();
  assert.deepEqual(reused, [false, true, true, true]);
});

test('OIDC flows Vouch does not offer answer an OAuth error (docs/oidc.md)', async () => {
  const r = await request(`${srv.url}/authorize`);
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('content-type'), 'application/json;charset=UTF-8');
  assert.equal(r.body.error, 'unsupported_response_type');
});

test('one structured log line per request', async () => {
  await request(`${srv.url}/healthz?probe=1`);
  const lines = srv.log().split('\n').filter((l) => l.includes('msg=request') && l.includes('path=/healthz'));
  assert.ok(lines.length >= 1);
  assert.match(lines.at(-1), /method=GET path=\/healthz status=200 us=\d+ bytes=\d+/);
});
