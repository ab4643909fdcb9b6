// The PCCS-compatible collateral API: byte-exact bodies and Intel's
// headers from a real vouchd loaded with real collateral, verified
// imports, and npm @phala/dcap-qvl fetching collateral from us.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startVouchd, vouch, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

const require = createRequire(import.meta.url);
const qvl = require('@phala/dcap-qvl');

const V2 = '../vectors/dcap/dcap-qvl/sample';
const P = '../vectors/pccs';
const coll = JSON.parse(readFileSync(join(V2, 'tdx_quote_collateral.json'), 'utf8'));
const quote = readFileSync(join(V2, 'tdx_quote'));
const capture = (f) => JSON.parse(readFileSync(join(P, f), 'utf8'));
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
let srv, dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vouch-pccs-'));
  const db = `sqlite:${join(dir, 'vouch.db')}`;
  // teepot's PCS captures (2025-05-27) first, then dcap-qvl's newer set.
  await vouch(['collateral', 'import', '--db', db, '--at', '2025-05-28T00:00:00Z', P]);
  await vouch(['collateral', 'import', '--db', db, join(V2, 'tdx_quote_collateral.json')]);
  srv = await startVouchd({ dir, args: ['--fixed-time', '2025-07-19T10:00:34Z'] });
});
after(async () => { await srv?.stop(); rmSync(dir, { recursive: true, force: true }); });

const get = (path, headers = {}) => request(`${srv.url}${path}`, { headers });

test('TDX v4 tcb: the exact signed bytes and the URL-encoded issuer chain', async () => {
  const r = await get('/tdx/certification/v4/tcb?fmspc=b0c06f000000');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.text, `{"tcbInfo":${coll.tcb_info},"signature":"${coll.tcb_info_signature}"}`);
  const chain = r.headers.get('tcb-info-issuer-chain');
  assert.match(chain, /^-----BEGIN%20CERTIFICATE-----%0A/);
  assert.equal(decodeURIComponent(chain), coll.tcb_info_issuer_chain);
});

test('SGX tcb: TCB Info v2 on the v3 path, v3 on the v4 path, each byte for byte', async () => {
  const v2 = capture('sgx_tcb_info_v3.json');   // API v3 capture: tcbInfo version 2
  const v3 = capture('sgx_tcb_info_alt.json');  // API v4 capture: tcbInfo version 3
  const fmspc = JSON.parse(v2.tcb_info_json).tcbInfo.fmspc;
  const a = await get(`/sgx/certification/v3/tcb?fmspc=${fmspc}`);
  assert.equal(a.status, 200, a.text);
  assert.equal(a.text, v2.tcb_info_json);
  assert.equal(decodeURIComponent(a.headers.get('sgx-tcb-info-issuer-chain')), v2.issuer_chain);
  const b = await get(`/sgx/certification/v4/tcb?fmspc=${fmspc}&update=standard`);
  assert.equal(b.status, 200, b.text);
  assert.equal(b.text, v3.tcb_info_json);
  assert.equal(decodeURIComponent(b.headers.get('tcb-info-issuer-chain')), v3.issuer_chain);
});

test('identities: QE, QVE and TD_QE (the newer import kept)', async () => {
  for (const [path, body] of [
    ['/sgx/certification/v4/qe/identity', capture('sgx_qe_identity.json').enclave_identity_json],
    ['/sgx/certification/v3/qve/identity', capture('sgx_qve_identity.json').enclave_identity_json],
    ['/tdx/certification/v4/qe/identity', `{"enclaveIdentity":${coll.qe_identity},"signature":"${coll.qe_identity_signature}"}`],
  ]) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.equal(r.text, body, path);
    assert.ok(r.headers.get('sgx-enclave-identity-issuer-chain').startsWith('-----BEGIN%20CERTIFICATE'));
  }
});

test('pckcrl: DER with encoding=der, hex text without (as PCCS does); rootcacrl as hex', async () => {
  const der = await fetch(`${srv.url}/sgx/certification/v4/pckcrl?ca=platform&encoding=der`);
  assert.equal(der.status, 200);
  assert.equal(der.headers.get('content-type'), 'application/pkix-crl');
  assert.equal(Buffer.from(await der.arrayBuffer()).toString('hex'), coll.pck_crl);
  assert.equal(decodeURIComponent(der.headers.get('sgx-pck-crl-issuer-chain')), coll.pck_crl_issuer_chain);
  const hex = await get('/sgx/certification/v3/pckcrl?ca=PLATFORM');
  assert.equal(hex.text, coll.pck_crl);
  const proc = await get('/sgx/certification/v4/pckcrl?ca=processor');
  assert.equal(proc.text, Buffer.from(capture('pck_crl_processor_der.json').crl_data_base64, 'base64').toString('hex'));
  const root = await get('/sgx/certification/v4/rootcacrl');
  assert.equal(root.text, coll.root_ca_crl);
});

test('ETag and Cache-Control; a matching If-None-Match gets 304', async () => {
  const r = await get('/tdx/certification/v4/tcb?fmspc=B0C06F000000');
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  assert.ok(r.headers.get('cache-control'));
  const again = await get('/tdx/certification/v4/tcb?fmspc=B0C06F000000', { 'if-none-match': etag });
  assert.equal(again.status, 304);
});

test('an unknown FMSPC is 404; malformed parameters are 400 problem+json', async () => {
  const cases = [
    ['/sgx/certification/v4/tcb?fmspc=FFFFFFFFFFFF', 404, 'VOUCH.COLLATERAL.NOT_FOUND', undefined],
    ['/sgx/certification/v4/tcb?fmspc=00606A', 400, 'VOUCH.REQUEST.INVALID_ARGUMENT', 'fmspc'],
    ['/sgx/certification/v4/tcb?fmspc=zz606A000000', 400, 'VOUCH.REQUEST.INVALID_ARGUMENT', 'fmspc'],
    ['/sgx/certification/v4/tcb', 400, 'VOUCH.REQUEST.INVALID_ARGUMENT', 'fmspc'],
    ['/sgx/certification/v4/tcb?fmspc=00606A000000&update=late', 400, 'VOUCH.REQUEST.INVALID_ARGUMENT', 'update'],
    ['/sgx/certification/v4/pckcrl?ca=root', 400, 'VOUCH.REQUEST.INVALID_ARGUMENT', 'ca'],
    ['/sgx/certification/v4/pckcrl?ca=platform&encoding=base64', 400, 'VOUCH.REQUEST.INVALID_ARGUMENT', 'encoding'],
  ];
  for (const [path, status, code, field] of cases) {
    const r = await get(path);
    assert.equal(r.status, status, path);
    assert.equal(r.headers.get('content-type'), 'application/problem+json', path);
    assert.equal(r.body.code, code, path);
    if (field) assert.equal(r.body.field, field, path);
  }
});

test('fmspcs lists what the store holds', async () => {
  const r = await get('/sgx/certification/v4/fmspcs');
  const list = r.body.map((e) => e.fmspc);
  assert.ok(list.includes('B0C06F000000'));
  assert.ok(list.includes('00806F050000'));
});

test('admin import: tampered documents are rejected and the stored copy stays as it was', async () => {
  const before = await get('/tdx/certification/v4/tcb?fmspc=B0C06F000000');
  const noauth = await request(`${srv.url}/admin/collateral`, { method: 'POST', body: JSON.stringify(coll) });
  assert.equal(noauth.status, 401);
  const sig = coll.tcb_info_signature;
  const flipped = { ...coll, tcb_info_signature: (sig[0] === '0' ? '1' : '0') + sig.slice(1) };
  const wrongChain = { ...coll, tcb_info_issuer_chain: coll.pck_crl_issuer_chain };
  for (const bad of [flipped, wrongChain]) {
    const r = await request(`${srv.url}/admin/collateral`, { method: 'POST', headers: admin, body: JSON.stringify(bad) });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.code, 'VOUCH.COLLATERAL.INVALID');
    assert.match(r.body.detail, /nothing stored/);
  }
  const after = await get('/tdx/certification/v4/tcb?fmspc=B0C06F000000');
  assert.equal(after.text, before.text);
  const ok = await request(`${srv.url}/admin/collateral`, { method: 'POST', headers: admin, body: JSON.stringify(coll) });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(ok.body.documents.every((d) => d.action === 'unchanged'));
});

test('interop: npm @phala/dcap-qvl fetches collateral from us and agrees with our verdict', async () => {
  const fetched = await qvl.getCollateral(`${srv.url}/sgx/certification/v4`, quote);
  const theirs = qvl.verify(quote, fetched, 1752919234);
  assert.equal(theirs.status, 'UpToDate');
  const ev = Buffer.from(JSON.stringify({ quote: quote.toString('base64') })).toString('base64url');
  const r = await request(`${srv.url}/v1/attestation`, { method: 'POST', body: JSON.stringify({ tee: 'tdx', evidence: ev }) });
  assert.equal(r.status, 200, r.text);
  const payload = JSON.parse(Buffer.from(r.text.split('.')[1], 'base64url'));
  assert.equal(JSON.parse(payload['tcb-status'])['tdx.tcb_status'], theirs.status);
});

// PCK certificates: the real PCK chain inside the dcap-qvl sample quote,
// imported for a platform named by its QE id (PCCS's key) and a stand-in
// encrypted PPID (PCS's key: 768 hex; real ones are RSA-3072 ciphertexts
// only Intel can open, so any value works as a lookup key).
const certsOf = (buf) => buf.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g);
const [pckLeaf, ...pckChain] = certsOf(quote);
const QEID = quote.subarray(28, 44).toString('hex').toUpperCase();
const EPPID = 'ab'.repeat(384);

test('pckcert: an imported PCK certificate, selected by raw TCB, with Intel headers', async () => {
  const imp = await request(`${srv.url}/admin/collateral`, { method: 'POST', headers: admin,
    body: JSON.stringify({ pck_cert: pckLeaf, issuer_chain: pckChain.join(''), qeid: QEID.toLowerCase(),
      encrypted_ppid: EPPID }) });
  assert.equal(imp.status, 200, imp.text);
  assert.match(imp.body.documents[0].id, /^pckcert\/0000\/[0-9A-F]{32}\/[0-9A-F]{36}$/);
  const top = 'ff'.repeat(16);
  const r = await get(`/sgx/certification/v4/pckcert?qeid=${QEID}&cpusvn=${top}&pcesvn=ffff&pceid=0000`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('content-type'), 'application/x-pem-file');
  assert.equal(r.text, pckLeaf);
  assert.equal(decodeURIComponent(r.headers.get('sgx-pck-certificate-issuer-chain')), pckChain.join(''));
  assert.equal(r.headers.get('sgx-fmspc'), 'B0C06F000000');
  assert.match(r.headers.get('sgx-pck-certificate-ca-type'), /^(processor|platform)$/);
  const tcbm = r.headers.get('sgx-tcbm');
  assert.match(tcbm, /^[0-9A-F]{36}$/);
  // the certificate's own TCB selects it too, through PCS's key on the v3 path
  const exact = await get(`/sgx/certification/v3/pckcert?encrypted_ppid=${EPPID}&cpusvn=${tcbm.slice(0, 32)}&pcesvn=${tcbm.slice(32)}&pceid=0000`);
  assert.equal(exact.status, 200, exact.text);
  assert.equal(exact.text, pckLeaf);
  // a raw TCB below the certificate's: nothing to serve
  const low = await get(`/sgx/certification/v4/pckcert?qeid=${QEID}&cpusvn=${'00'.repeat(16)}&pcesvn=0000&pceid=0000`);
  assert.equal(low.status, 404, low.text);
  // unknown platform, malformed parameters
  assert.equal((await get(`/sgx/certification/v4/pckcert?qeid=00&cpusvn=${top}&pcesvn=ffff&pceid=0000`)).status, 404);
  const bad = await get(`/sgx/certification/v4/pckcert?qeid=${QEID}&cpusvn=xyz&pcesvn=ffff&pceid=0000`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'cpusvn');
  const none = await get(`/sgx/certification/v4/pckcert?cpusvn=${top}&pcesvn=ffff&pceid=0000`);
  assert.equal(none.status, 400);
  assert.equal(none.body.field, 'qeid');
});

test('pckcert imports: Intel pckcerts bodies (URL-encoded, "Not available" skipped); tampering refused', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vouch-pck-'));
  try {
    const db = `sqlite:${join(tmp, 'v.db')}`;
    const file = join(tmp, 'pckcerts.json');
    writeFileSync(file, JSON.stringify({ qeid: QEID, issuer_chain: pckChain.join(''), pckcerts: [
      { tcb: {}, tcbm: '00'.repeat(18), cert: 'Not available' },
      { tcb: {}, tcbm: 'x', cert: encodeURIComponent(pckLeaf) },
    ] }));
    const out = await vouch(['collateral', 'import', '--db', db, '--at', '2025-07-19T10:00:34Z', file]);
    assert.match(out.stdout, /stored +pckcert\/0000\//);
    // one flipped byte in the certificate's signature: rejected, nothing stored
    const b64 = pckLeaf.split('\n').slice(1, -2).join('');
    const der = Buffer.from(b64, 'base64');
    der[der.length - 10] ^= 1;
    const tampered = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    writeFileSync(file, JSON.stringify({ qeid: '00', pck_cert: tampered, issuer_chain: pckChain.join('') }));
    const r = await vouch(['collateral', 'import', '--db', db, '--at', '2025-07-19T10:00:34Z', file]).catch((e) => e);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pck_cert/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
