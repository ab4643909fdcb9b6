// Input that once crashed vouchd or drew a 5xx: the PCCS pckcert stack
// overflow (a query value copied before its length was checked) and its
// variants, route ids that are not text or too long, %-decoding edges and
// the admin token compare.  Every answer is a 400 problem naming the input,
// and the server keeps answering.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startVouchd, request, vouch, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { rawRequest } from './lib/rawhttp.mjs';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const Z = (n) => '0'.repeat(n);
const PCK = '/sgx/certification/v4/pckcert';
const OK = { qeid: Z(32), cpusvn: Z(32), pcesvn: '0b00', pceid: '0000' };
let srv;

before(async () => { srv = await startVouchd(); });
after(async () => { await srv?.stop(); });

async function alive() {
  const r = await request(`${srv.url}/healthz`);
  assert.equal(r.status, 200, `vouchd stopped answering:\n${srv.log().slice(-2000)}`);
}

function assertProblem(r, status, field, what) {
  assert.equal(r.status, status, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
  assert.equal(r.headers.get ? r.headers.get('content-type') : r.headers['content-type'],
    'application/problem+json', what);
  assert.equal(r.body.status, status, what);
  if (field !== undefined) assert.equal(r.body.field, field, `${what}: ${r.text.slice(0, 300)}`);
}

const qs = (o) => Object.entries(o).map(([k, v]) => `${k}=${v}`).join('&');

test('PCCS crash reproducer: a 4,000-character qeid is a 400 naming qeid', async () => {
  const r = await request(`${srv.url}${PCK}?qeid=${Z(4000)}`);
  assertProblem(r, 400, 'qeid', 'qeid of 4000');
  await alive();
});

test('PCCS crash reproducer: an 11-digit pcesvn is a 400 naming pcesvn', async () => {
  const r = await request(`${srv.url}${PCK}?qeid=${Z(32)}&cpusvn=${Z(32)}&pcesvn=99999999999&pceid=0000`);
  assertProblem(r, 400, 'pcesvn', 'pcesvn 99999999999');
  await alive();
});

test('PCCS pckcert: every parameter too long, odd, empty or not hex is a 400 naming it', async () => {
  const cases = [
    // [what, query, field]
    ['qeid one past its buffer', { ...OK, qeid: Z(262) }, 'qeid'],
    ['qeid 64 KiB', { ...OK, qeid: Z(16000) }, 'qeid'],
    ['encrypted_ppid one past', { ...OK, encrypted_ppid: Z(770) }, 'encrypted_ppid'],
    ['encrypted_ppid 16000', { ...OK, encrypted_ppid: 'a'.repeat(16000) }, 'encrypted_ppid'],
    ['cpusvn 34', { ...OK, cpusvn: Z(34) }, 'cpusvn'],
    ['cpusvn 4000', { ...OK, cpusvn: Z(4000) }, 'cpusvn'],
    ['pcesvn 6', { ...OK, pcesvn: Z(6) }, 'pcesvn'],
    ['pcesvn 4000', { ...OK, pcesvn: '9'.repeat(4000) }, 'pcesvn'],
    ['pceid 6', { ...OK, pceid: Z(6) }, 'pceid'],
    ['pceid 4000', { ...OK, pceid: 'f'.repeat(4000) }, 'pceid'],
    ['qeid odd', { ...OK, qeid: Z(31) }, 'qeid'],
    ['qeid not hex', { ...OK, qeid: 'zz'.repeat(16) }, 'qeid'],
    ['qeid not hex past its buffer', { ...OK, qeid: 'g'.repeat(4000) }, 'qeid'],
    ['cpusvn not hex', { ...OK, cpusvn: 'g' + Z(31) }, 'cpusvn'],
    ['pcesvn negative', { ...OK, pcesvn: '-001' }, 'pcesvn'],
    ['pcesvn huge decimal', { ...OK, pcesvn: '18446744073709551616' }, 'pcesvn'],
    ['qeid empty', { ...OK, qeid: '' }, 'qeid'],
    ['cpusvn empty', { ...OK, cpusvn: '' }, 'cpusvn'],
    ['pceid empty', { ...OK, pceid: '' }, 'pceid'],
    ['cpusvn missing', { qeid: Z(32), pcesvn: '0000', pceid: '0000' }, 'cpusvn'],
    ['qeid bad escape', { ...OK, qeid: `%zz${Z(4000)}` }, 'qeid'],
    ['no platform id', { cpusvn: Z(32), pcesvn: '0000', pceid: '0000' }, 'qeid'],
  ];
  for (const [what, q, field] of cases) {
    const r = await request(`${srv.url}${PCK}?${qs(q)}`);
    assertProblem(r, 400, field, what);
  }
  // A %00 ends the value where the library decodes it: "00" is a well-formed
  // qeid (nothing imported: 404), and the 4,000 bytes after it are never copied.
  assert.equal((await request(`${srv.url}${PCK}?${qs({ ...OK, qeid: `00%00${Z(4000)}` })}`)).status, 404);
  // Repeated names: the first one counts, a long second one is never copied.
  const rep = await request(`${srv.url}${PCK}?qeid=${Z(32)}&qeid=${Z(4000)}&cpusvn=${Z(32)}&cpusvn=${Z(4000)}&pcesvn=0000&pcesvn=99999999999&pceid=0000`);
  assert.equal(rep.status, 404, rep.text);  // well-formed, nothing imported
  const rep2 = await request(`${srv.url}${PCK}?qeid=${Z(4000)}&qeid=${Z(32)}`);
  assertProblem(rep2, 400, 'qeid', 'long qeid first');
  // Same on the v3 path.
  assertProblem(await request(`${srv.url}/sgx/certification/v3/pckcert?qeid=${Z(4000)}`), 400,
    'qeid', 'v3 qeid 4000');
  await alive();
});

test('PCCS: the other query parameters, too long or wrong, are 400s naming them', async () => {
  const cases = [
    ['/sgx/certification/v4/tcb?fmspc=' + 'A'.repeat(5000), 'fmspc'],
    ['/tdx/certification/v4/tcb?fmspc=00906ED5000G', 'fmspc'],
    ['/tdx/certification/v4/tcb?fmspc=', 'fmspc'],
    ['/sgx/certification/v3/tcb?fmspc=00906ED50000&update=' + 'x'.repeat(5000), 'update'],
    ['/sgx/certification/v4/qe/identity?update=%00', 'update'],
    ['/sgx/certification/v4/pckcrl?ca=' + 'p'.repeat(5000), 'ca'],
    ['/sgx/certification/v4/pckcrl?ca=platform&encoding=' + 'd'.repeat(5000), 'encoding'],
  ];
  for (const [path, field] of cases) assertProblem(await request(`${srv.url}${path}`), 400, field, path.slice(0, 80));
  await alive();
});

test('GET /v1/rim/%ff (not UTF-8) is a 400 naming id, not a 500', async () => {
  for (const id of ['%ff', '%c3', '%c0%af', '%ed%a0%80', 'a%01b', 'a%7f', '%c2%85']) {
    assertProblem(await request(`${srv.url}/v1/rim/${id}`), 400, 'id', `rim ${id}`);
  }
  // Text ids are looked up: a bad escape is a literal, not an error.
  assert.equal((await request(`${srv.url}/v1/rim/%25zz`)).status, 404);
  assert.equal((await rawRequest(srv.port, { target: '/v1/rim/%zz' })).status, 404);
  await alive();
});

test('ids over 512 bytes on /v1/rim, /admin/rim, /policy and /reference-value are 400 naming id', async () => {
  const long = 'a'.repeat(513);
  const cases = [
    ['GET', `/v1/rim/${long}`, {}],
    ['DELETE', `/admin/rim/${long}`, admin],
    ['GET', `/policy/${long}`, admin],
    ['DELETE', `/policy/${long}`, admin],
    ['GET', `/reference-value/${long}`, admin],
    ['DELETE', `/reference-value/${long}`, admin],
    ['GET', `/reference-value/${'é'.repeat(300)}`, admin],
    ['GET', `/policy/${'x'.repeat(1800)}`, admin],
  ];
  for (const [method, path, headers] of cases) {
    assertProblem(await request(`${srv.url}${path}`, { method, headers }), 400, 'id', `${method} ${path.slice(0, 30)}`);
  }
  // 512 bytes is still an id: looked up, not found.
  assert.equal((await request(`${srv.url}/v1/rim/${'a'.repeat(512)}`)).status, 404);
  assert.equal((await request(`${srv.url}/reference-value/${'a'.repeat(512)}`, { headers: admin })).status, 404);
  await alive();
});

test('%-decoding edges in paths: NUL, bad escapes, encoded slashes, overlong paths', async () => {
  const cases = [
    ['/v1/rim/a%00b', [404]],        // the library cuts the path at the NUL
    ['/v1/rim/%', [404]],
    ['/v1/rim/%2', [404]],
    ['/v1/rim/a%2fb', [404]],
    ['/policy/%2e%2e', [401]],
    ['/%68ealthz', [200]],
    ['/healthz%00junk', [200]],
    ['/v1/rim/' + '%41'.repeat(3000), [404]],
    ['/' + 'a'.repeat(3000), [404]],
  ];
  for (const [target, want] of cases) {
    const r = await rawRequest(srv.port, { target });
    assert.ok(want.includes(r.status), `${target.slice(0, 40)}: ${r.status} ${r.text.slice(0, 200)}`);
    if (r.status >= 400) assert.equal(r.headers['content-type'], 'application/problem+json', target);
  }
  await alive();
});

test('admin token: wrong, truncated, extended, oversized or hidden behind a NUL is refused', async () => {
  const bad = [
    `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
    `Bearer ${ADMIN_TOKEN}x`,
    `Bearer ${ADMIN_TOKEN.slice(0, 8)}\0${ADMIN_TOKEN.slice(8)}`,
    `Bearer \0${ADMIN_TOKEN}`,
    `\0Bearer ${ADMIN_TOKEN}`,
    `Bearer ${'A'.repeat(8000)}`,
    'Bearer',
    `Basic ${ADMIN_TOKEN}`,
  ];
  for (const auth of bad) {
    const r = await rawRequest(srv.port, { target: '/admin/keys', headers: [['Authorization', Buffer.from(auth, 'latin1')]] });
    assertProblem(r, 401, undefined, JSON.stringify(auth.slice(0, 40)));
  }
  const ok = await rawRequest(srv.port, { target: '/admin/keys', headers: [['Authorization', `Bearer ${ADMIN_TOKEN}`]] });
  assert.equal(ok.status, 200);
  await alive();
});

test('vouch verify-token: iat beyond the leeway is refused; exp = 2^63-1 does not wrap', async () => {
  const now = Math.floor(Date.now() / 1000);
  const sign = async (name, claims) => {
    const file = join(srv.dir, `${name}.json`);
    writeFileSync(file, claims);
    return (await vouch(['token', 'sign', '--db', srv.db, file])).stdout.trim();
  };
  const verify = (tok) => vouch(['verify-token', tok, '--issuer', srv.url]);
  // iat an hour ahead: refused; 30 s ahead (inside the 60 s leeway): accepted.
  const future = await sign('future', `{"iss":"${srv.url}","iat":${now + 3600},"nbf":${now},"exp":${now + 7200}}`);
  await assert.rejects(verify(future), (e) => /issued in the future/.test(e.stderr));
  const skew = await sign('skew', `{"iss":"${srv.url}","iat":${now + 30},"nbf":${now},"exp":${now + 7200}}`);
  await verify(skew);
  // exp at the top of the int64 range: exp + leeway used to wrap to "expired".
  const forever = await sign('forever', `{"iss":"${srv.url}","iat":${now},"nbf":${now},"exp":9223372036854775807}`);
  const ok = await verify(forever);
  assert.match(ok.stderr, /token verified/);
  // nbf at the top of the range: not yet valid, not wrapped into validity.
  const later = await sign('later', `{"iss":"${srv.url}","iat":${now},"nbf":9223372036854775807,"exp":9223372036854775807}`);
  await assert.rejects(verify(later), (e) => /not valid before/.test(e.stderr));
});

test('vouch verify-token --audience: aud may be an array of strings (RFC 7519 4.1.3)', async () => {
  const now = Math.floor(Date.now() / 1000);
  const sign = async (name, aud) => {
    const file = join(srv.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ iss: srv.url, aud, iat: now, nbf: now, exp: now + 3600 }));
    return (await vouch(['token', 'sign', '--db', srv.db, file])).stdout.trim();
  };
  const verify = (tok, aud) => vouch(['verify-token', tok, '--issuer', srv.url, '--audience', aud]);
  const rejected = (e) => /token rejected: aud is not sts\.example/.test(e.stderr);
  // an array holding the audience, wherever it stands
  const many = await sign('aud-many', ['other.example', 'sts.example']);
  assert.match((await verify(many, 'sts.example')).stderr, /token verified/);
  assert.match((await verify(many, 'other.example')).stderr, /token verified/);
  assert.match((await verify(await sign('aud-one', ['sts.example']), 'sts.example')).stderr,
    /token verified/);
  // an array without it, an empty one, one with a non-string member, a prefix
  await assert.rejects(verify(many, 'sts'), (e) => /aud is not sts /.test(e.stderr));
  await assert.rejects(verify(await sign('aud-none', ['other.example']), 'sts.example'), rejected);
  await assert.rejects(verify(await sign('aud-empty', []), 'sts.example'), rejected);
  await assert.rejects(verify(await sign('aud-mixed', ['sts.example', 7]), 'sts.example'), rejected);
  await assert.rejects(verify(await sign('aud-nested', [['sts.example']]), 'sts.example'), rejected);
  // a string aud as before; a number is no audience
  assert.match((await verify(await sign('aud-str', 'sts.example'), 'sts.example')).stderr,
    /token verified/);
  await assert.rejects(verify(await sign('aud-num', 7), '7'), (e) => /aud is not 7 /.test(e.stderr));
});

test('vouch verify-token: a token with no kid, or no token at all, is refused with the reason', async () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const nokid = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: srv.url, iat: now, exp: now + 60 })}.c2ln`;
  const verify = (tok) => vouch(['verify-token', tok, '--issuer', srv.url]);
  await assert.rejects(verify(nokid), (e) => /the token's header has no kid naming its key/.test(e.stderr));
  await assert.rejects(verify('not-a-token'), (e) => /^vouch: not a token: \S/m.test(e.stderr));
  // the iss compare is the whole string: a prefix of the issuer is not the issuer
  const file = join(srv.dir, 'iss-prefix.json');
  writeFileSync(file, JSON.stringify({ iss: srv.url.slice(0, -1), iat: now, nbf: now, exp: now + 60 }));
  const tok = (await vouch(['token', 'sign', '--db', srv.db, file])).stdout.trim();
  await assert.rejects(verify(tok), (e) => /iss is not/.test(e.stderr));
});
