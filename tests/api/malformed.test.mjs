// A generated corpus of malformed requests, at least 500 per endpoint family,
// from a fixed seed: mutated paths, query strings (bad %-escapes, %00, huge
// values, repeated keys), headers (bad Content-Type, huge or NUL-carrying
// Authorization), bodies (truncated and mutated JSON, deep nesting, huge
// numbers, wrong types).  Every answer is a 4xx, a 503 for a dependency, the
// documented 501 of an OIDC flow Vouch does not do, or (when a mutation
// happens to leave the request well-formed) a success; never another 5xx.  Errors our code answers are problem+json.
// /healthz answers after every batch, and vouchd is still running at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startVouchd, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { RawConnection, buildRequest } from './lib/rawhttp.mjs';

const SEED = 0x5eed1234;
const PER_FAMILY = 520;
const BATCH = 52;
const CONCURRENCY = 4;
const AUTH = `Bearer ${ADMIN_TOKEN}`;

// mulberry32: a small deterministic PRNG
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (arr) => arr[int(arr.length)];
  return { next, int, pick };
}

const ATTEST_SEEDS = (() => {
  const dir = '../../fuzz/server/corpus_attest';
  return readdirSync(dir).sort().map((f) => readFileSync(join(dir, f), 'utf8'));
})();

const INIT_TOML = 'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\n"policy.rego" = \'\'\'\n'
  + 'package agent_policy\ndefault AllowRequestsFailingPolicy := false\n\'\'\'\n';

// Base requests of each family: [method, path, query object, body (object or string), admin?]
const FAMILIES = {
  attestation: [
    ...ATTEST_SEEDS.map((b) => ['POST', '/v1/attestation', {}, b, false]),
    ...ATTEST_SEEDS.map((b) => ['POST', '/attestation', {}, b, false]),
    ['POST', '/v1/attestation', {}, { verification_requests: [{ tee: 'tdx', evidence: 'e30', init_data: { init_data_toml: INIT_TOML } }], policy_ids: ['default'] }, false],
    ['POST', '/v1/attestation', {}, { tee: 'sgx', evidence: 'AAAA', runtime_data: { raw: 'AA', structured: { a: 1 } } }, false],
  ],
  challenge: [
    ['POST', '/challenge', {}, { tee: 'tdx', tee_params: {} }, false],
    ['POST', '/challenge', {}, '', false],
  ],
  pccs: [
    ['GET', '/sgx/certification/v4/pckcert', { qeid: '0'.repeat(32), cpusvn: '0'.repeat(32), pcesvn: '0b00', pceid: '0000' }, null, false],
    ['GET', '/sgx/certification/v3/pckcert', { encrypted_ppid: 'ab'.repeat(384), cpusvn: 'F'.repeat(32), pcesvn: 'FFFF', pceid: 'ffff' }, null, false],
    ['GET', '/sgx/certification/v4/tcb', { fmspc: '00906ED50000', update: 'standard' }, null, false],
    ['GET', '/sgx/certification/v3/tcb', { fmspc: '00906ED50000' }, null, false],
    ['GET', '/tdx/certification/v4/tcb', { fmspc: '00806F050000', update: 'early' }, null, false],
    ['GET', '/sgx/certification/v4/pckcrl', { ca: 'processor', encoding: 'der' }, null, false],
    ['GET', '/sgx/certification/v3/pckcrl', { ca: 'platform' }, null, false],
    ['GET', '/sgx/certification/v4/qe/identity', { update: 'standard' }, null, false],
    ['GET', '/tdx/certification/v4/qe/identity', {}, null, false],
    ['GET', '/sgx/certification/v4/rootcacrl', {}, null, false],
    ['POST', '/admin/collateral', {}, { tcbInfo: { fmspc: '00906ED50000' }, signature: 'ab' }, true],
  ],
  rim: [
    ['GET', '/v1/rim/NV_GPU_DRIVER_GH100_535.86.06', {}, null, false],
    ['POST', '/admin/rim', { name: 'NV_GPU_DRIVER_GH100_535.86.06' }, { id: 'NV_GPU_DRIVER_GH100_535.86.06', rim: 'PD94bWw=', sha256: '00', rim_format: 'SWID' }, true],
    ['DELETE', '/admin/rim/NV_GPU_DRIVER_GH100_535.86.06', {}, null, true],
  ],
  policy: [
    ['POST', '/policy', {}, { policy_id: 'p1', type: 'rego', policy: Buffer.from('package policy\ndefault allow := false\n').toString('base64url') }, true],
    ['GET', '/policy/default', {}, null, true],
    ['DELETE', '/policy/nope', {}, null, true],
  ],
  'reference-value': [
    ['POST', '/reference-value', {}, { name: 'svn', values: ['1', '2'], expires_at: '2030-01-01T00:00:00Z' }, true],
    ['POST', '/reference-value', {}, { version: '0.1.0', type: 'sample', payload: Buffer.from('{"a":["1"]}').toString('base64') }, true],
    ['GET', '/reference-value/svn', {}, null, true],
    ['DELETE', '/reference-value/nope', {}, null, true],
  ],
  admin: [
    ['GET', '/admin/keys', {}, null, true],
    ['POST', '/admin/keys/rotate', {}, { alg: 7 }, true],
  ],
  'oidc-jwks-metadata': [
    ['GET', '/.well-known/openid-configuration', {}, null, false],
    ['GET', '/jwks.json', {}, null, false],
    ['GET', '/.well-known/jwks.json', {}, null, false],
    ['GET', '/jwks', {}, null, false],
    ['GET', '/authorize', { client_id: 'x' }, null, false],
    ['POST', '/token', {}, 'grant_type=client_credentials', false],
    ['GET', '/userinfo', {}, null, false],
    ['GET', '/healthz', {}, null, false],
  ],
};

const BAD_ESCAPES = ['%', '%z', '%zz', '%ff', '%00', '%c0%af', '%ed%a0%80', '%2f', '%25', '%%', '%0a', '%0d%0a', '%u0041', '%fe%ff'];
const HUGE_NUMBERS = ['1e999999', '-1e999999', '9223372036854775808', '-9223372036854775809',
  '18446744073709551616', '9'.repeat(400), '-0', '0.' + '0'.repeat(300) + '1', '1e-400', '123456789012345678901234567890'];
const WRONG_TYPES = ['null', 'true', 'false', '0', '-1', '""', '[]', '{}', '[[]]', '{"":{}}', '"\\u0000"', '"\\ud800"', '"\\udfff\\ud800"'];

function mutatePath(r, path) {
  const segs = path.split('/');
  switch (r.int(9)) {
    case 0: return path + r.pick(BAD_ESCAPES);
    case 1: segs[segs.length - 1] = r.pick(BAD_ESCAPES) + segs[segs.length - 1]; return segs.join('/');
    case 2: return path + '/' + 'A'.repeat(500 + r.int(2500));
    case 3: return path.replace(/\//g, () => (r.int(3) === 0 ? '//' : '/'));
    case 4: return path + r.pick(['/..', '/.', '/../..', '/%2e%2e', '/']);
    case 5: segs[segs.length - 1] = Array.from({ length: 1 + r.int(40) }, () => '%' + r.int(256).toString(16).padStart(2, '0')).join(''); return segs.join('/');
    case 6: return path.toUpperCase();
    case 7: segs[segs.length - 1] = '%41'.repeat(200 + r.int(400)); return segs.join('/');
    default: return path + '%00' + 'junk';
  }
}

function mutateQuery(r, q) {
  const entries = Object.entries(q).map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)]);
  const keys = entries.length ? entries.map(([k]) => k) : ['x'];
  for (let n = 1 + r.int(3); n > 0; n--) {
    switch (r.int(8)) {
      case 0: entries.push([r.pick(keys), r.pick(BAD_ESCAPES)]); break;
      case 1: if (entries.length) r.pick(entries)[1] = r.pick(BAD_ESCAPES) + r.pick(entries)[1]; break;
      case 2: if (entries.length) r.pick(entries)[1] = '0'.repeat(1000 + r.int(15000)); break;
      case 3: entries.unshift([r.pick(keys), 'f'.repeat(r.int(5000))]); break;
      case 4: if (entries.length) r.pick(entries)[1] = ''; break;
      case 5: entries.push([r.pick(keys), null]); break;
      case 6: if (entries.length) r.pick(entries)[1] += '%00' + 'z'.repeat(r.int(3000)); break;
      default: if (entries.length) entries.splice(r.int(entries.length), 1); break;
    }
  }
  return entries.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(r.int(6) === 0 ? '&&' : '&');
}

function mutateJsonText(r, text) {
  switch (r.int(10)) {
    case 0: return text.slice(0, r.int(text.length));
    case 1: {
      const b = Buffer.from(text);
      for (let n = 1 + r.int(8); n > 0 && b.length; n--) b[r.int(b.length)] = r.int(256);
      return b;
    }
    case 2: { const d = 1000 + r.int(30000); return '['.repeat(d) + ']'.repeat(r.int(2) ? d : 0); }
    case 3: { const d = 500 + r.int(5000); return '{"a":'.repeat(d) + '1' + '}'.repeat(d); }
    case 4: return text.replace(/:\s*("[^"]*"|-?\d+(\.\d+)?|true|false|null)/, () => ':' + r.pick(HUGE_NUMBERS));
    case 5: return text.replace(/"(?:[^"\\]|\\.)*"\s*(?=[,}\]])/g, (m) => (r.int(3) === 0 ? r.pick(WRONG_TYPES) : m));
    case 6: return text.replace(/\{/, () => '{"' + 'k'.repeat(r.int(100)) + '":1,"tee":' + r.pick(WRONG_TYPES) + ',');
    case 7: return text.replace(/"([A-Za-z0-9+/=_-]{8,})"/, () => '"' + 'A'.repeat(100000 + r.int(100000)) + '"');
    case 8: return Buffer.concat([Buffer.from(text.slice(0, text.length >> 1)), Buffer.from([0xff, 0xfe, 0x00, 0xc3]), Buffer.from(text.slice(text.length >> 1))]);
    default: return r.pick(['', ' ', 'null', '[]', '"x"', '{', '}', '{"a":1}{"b":2}', '\u0000', 'not json']);
  }
}

function mutateHeaders(r, headers, admin) {
  const h = headers.slice();
  switch (r.int(9)) {
    case 0: h.push(['Content-Type', r.pick(['text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', '', 'application/problem+json', '*/*'])]); break;
    case 1: h.push(['Content-Type', Buffer.from('application/json\0junk', 'latin1')]); break;
    case 2: h.push(['Authorization', 'Bearer ' + 'A'.repeat(4000 + r.int(8000))]); break;
    case 3: h.push(['Authorization', Buffer.from(`${AUTH}\0junk`, 'latin1')]); break;
    case 4: h.push(['Authorization', r.pick(['Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', AUTH.toLowerCase(), `${AUTH} extra`, `Bearer  ${ADMIN_TOKEN}`])]); break;
    case 5: h.push(['If-None-Match', '"' + 'e'.repeat(r.int(8000)) + '"']); break;
    case 6: for (let i = 0; i < 40; i++) h.push([`X-Pad-${i}`, 'v'.repeat(r.int(200))]); break;
    case 7: h.push(['Accept', Buffer.from([0xff, 0xfe, 0x80, 0x41])]); break;
    default: if (admin) h.push(['Authorization', AUTH]); break;
  }
  return h;
}

// One malformed request from a base: 1-3 mutations of path, query, headers, body.
function generate(r, base) {
  const [method, path, query, body, admin] = base;
  let p = path, q = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  let b = body === null ? null : typeof body === 'string' ? body : JSON.stringify(body);
  let headers = [];
  if (admin && r.int(4) !== 0) headers.push(['Authorization', AUTH]);
  if (b !== null) headers.push(['Content-Type', 'application/json']);
  const what = new Set();
  for (let n = 1 + r.int(3); n > 0; n--) what.add(r.pick(b !== null ? ['path', 'query', 'headers', 'body', 'body'] : ['path', 'query', 'query', 'headers']));
  if (what.has('path')) p = mutatePath(r, p);
  if (what.has('query')) q = mutateQuery(r, query);
  if (what.has('headers')) headers = mutateHeaders(r, headers, admin);
  if (what.has('body') && b !== null) b = mutateJsonText(r, b);
  return { method, target: q ? `${p}?${q}` : p, headers, body: b };
}

let srv;
before(async () => { srv = await startVouchd(); });
after(async () => { await srv?.stop(); });

// The library answers framing errors itself, in HTML; everything else is ours.
const libraryAnswer = (res) => /^\s*<html/i.test(res.text);

async function healthz(conn) {
  const h = await conn.send(buildRequest({ target: '/healthz' }));
  assert.equal(h.status, 200, `/healthz after a batch: ${h.status}\n${srv.log().slice(-3000)}`);
}

for (const [family, bases] of Object.entries(FAMILIES)) {
  test(`malformed ${family} requests: ${PER_FAMILY} of them, 4xx problems, the server stays up`, async (t) => {
    const r = prng(SEED ^ family.length * 0x9e3779b1 ^ family.charCodeAt(0));
    const reqs = Array.from({ length: PER_FAMILY }, (_, i) => generate(r, bases[i % bases.length]));
    const conns = Array.from({ length: CONCURRENCY }, () => new RawConnection(srv.port));
    const probe = new RawConnection(srv.port);
    const counts = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, library: 0 };
    try {
      for (let start = 0; start < reqs.length; start += BATCH) {
        const batch = reqs.slice(start, start + BATCH);
        await Promise.all(conns.map(async (c, k) => {
          for (let i = k; i < batch.length; i += CONCURRENCY) {
            const req = batch[i];
            const label = `${family} #${start + i}: ${req.method} ${req.target.slice(0, 120)}`;
            let res;
            try {
              res = await c.send(buildRequest(req), { isHead: req.method === 'HEAD' });
            } catch (e) {
              c.close();
              throw new Error(`${label}: ${e.message}\n${srv.log().slice(-3000)}`);
            }
            // 503: a dependency (the store)
            const ok = res.status < 500 || res.status === 503;
            assert.ok(ok, `${label}: ${res.status} ${res.text.slice(0, 300)}`);
            if (res.status >= 400) {
              if (libraryAnswer(res)) {
                counts.library++;
              } else if (res.headers['content-type'] === 'application/json;charset=UTF-8') {
                // the OAuth endpoints Vouch does not serve (docs/oidc.md): {error, error_description}
                counts.oauth = (counts.oauth ?? 0) + 1;
                assert.match(res.body?.error ?? '', /^(unsupported_response_type|unsupported_grant_type|invalid_token)$/, label);
                assert.equal(typeof res.body?.error_description, 'string', label);
              } else if (res.headers['content-type'] === 'application/json;charset=utf-8') {
                // the vTPM RPC style at "/" (docs/vtpm.md; the library cuts a path at a
                // %00, so "/%00x" lands there too): {RequestId, Code, ...}
                counts.rpc = (counts.rpc ?? 0) + 1;
                assert.equal(typeof res.body?.Code, 'string', label);
                assert.equal(typeof res.body?.RequestId, 'string', label);
              } else {
                assert.equal(res.headers['content-type'], 'application/problem+json', label);
                assert.equal(res.body?.status, res.status, `${label}: ${res.text.slice(0, 300)}`);
                assert.equal(typeof res.body?.code, 'string', label);
              }
            }
            counts[res.status >= 500 ? '5xx' : `${String(res.status)[0]}xx`]++;
          }
        }));
        await healthz(probe);
      }
    } finally {
      conns.forEach((c) => c.close());
      probe.close();
    }
    // The corpus is malformed: most requests are refused (the rest were left
    // well-formed by their mutation, e.g. a query parameter a route ignores).
    t.diagnostic(`${family}: ${JSON.stringify(counts)}`);
    assert.ok(counts['4xx'] + counts['5xx'] >= PER_FAMILY / 2, `${family}: ${JSON.stringify(counts)}`);
    assert.equal(srv.proc.exitCode, null, 'vouchd exited');
  });
}
