// AMD SEV-SNP collateral through a real vouchd: POST /admin/collateral and
// `vouch collateral import` with what AMD's KDS answers (a VCEK in DER,
// AMD's Milan CRL, a cert_chain), the KDS-compatible endpoints that serve
// them back byte for byte, and tee=snp evidence that carries no VCEK
// (trustee's own e2e document) verified with the stored one.  Vectors:
// tests/vectors/snp (PROVENANCE.md).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startVouchd, request, vouch, VOUCH, ADMIN_TOKEN } from './lib/vouchd.mjs';

const V = '../vectors/snp';
const AT = '2025-06-15T00:00:00Z';
const CHIP = 'c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f'
  + '8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e';
const SPLS = 'blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const vcek = readFileSync(join(V, 'test-vcek.der'));
const milanCrl = readFileSync(join(V, 'amd-milan-crl.der'));
// trustee's document as it is: no cert_chain, so the VCEK must come from the store.
const evidence = Buffer.from(readFileSync(join(V, 'trustee-e2e-evidence.json'))).toString('base64url');

async function getBytes(url, headers = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

function importBody(srv, body, type = 'application/octet-stream', headers = admin) {
  return request(`${srv.url}/admin/collateral`, {
    method: 'POST', headers: { ...headers, 'content-type': type }, body,
  });
}

function attest(srv) {
  return request(`${srv.url}/v1/attestation`, {
    method: 'POST', body: JSON.stringify({ tee: 'snp', evidence }),
  });
}

function assertProblem(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.code, code, r.text);
  if (field !== undefined) assert.equal(r.body.field, field, r.text);
}

// The certificates of a PEM text, as DER.
function pemCerts(text) {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)]
    .map((m) => new X509Certificate(m[0]).raw);
}

describe('AMD KDS collateral: import, serve, verify with it', () => {
  let srv;
  before(async () => { srv = await startVouchd({ args: ['--fixed-time', AT] }); });
  after(async () => { await srv?.stop(); });

  test('before any import: no VCEK to serve, none to verify with', async () => {
    const g = await request(`${srv.url}/vcek/v1/Milan/${CHIP}?${SPLS}`);
    assertProblem(g, 404, 'VOUCH.COLLATERAL.NOT_FOUND');
    assertProblem(await attest(srv), 422, 'VOUCH.COLLATERAL.MISSING');
    assertProblem(await request(`${srv.url}/vcek/v1/Milan/crl`), 404, 'VOUCH.COLLATERAL.NOT_FOUND');
  });

  test('a forged VCEK and a VLEK are refused, and need the admin token', async () => {
    const bad = await importBody(srv, readFileSync(join(V, 'test-vcek-invalid-legacy.der')));
    assertProblem(bad, 422, 'VOUCH.COLLATERAL.INVALID');
    assert.match(bad.body.detail, /signature|VEK chain/);
    const vlek = await importBody(srv, readFileSync(join(V, 'test-vlek.der')));
    assertProblem(vlek, 422, 'VOUCH.COLLATERAL.INVALID');
    assert.match(vlek.body.detail, /VLEK/);
    const noauth = await importBody(srv, vcek, 'application/octet-stream', {});
    assert.equal(noauth.status, 401);
    assert.equal((await request(`${srv.url}/vcek/v1/Milan/${CHIP}?${SPLS}`)).status, 404);
  });

  test('the VCEK as KDS sends it (DER): stored, served back, used for evidence without one', async () => {
    const r = await importBody(srv, vcek, 'application/pkix-cert');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.documents[0].id, `amd/vcek/Milan/${CHIP}/3-0-8-115`);
    assert.equal(r.body.documents[0].action, 'stored');
    const g = await getBytes(`${srv.url}/vcek/v1/Milan/${CHIP}?${SPLS}`);
    assert.equal(g.status, 200);
    assert.ok(g.bytes.equals(vcek));
    // trustee pads SPLs to two digits; an upper-case hwID is the same chip.
    const padded = await getBytes(`${srv.url}/vcek/v1/Milan/${CHIP.toUpperCase()}?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115`);
    assert.equal(padded.status, 200);
    assert.ok(padded.bytes.equals(vcek));
    const cached = await getBytes(`${srv.url}/vcek/v1/Milan/${CHIP}?${SPLS}`,
      { 'if-none-match': g.headers.get('etag') });
    assert.equal(cached.status, 304);
    // Another TCB of the same chip is not stored.
    assert.equal((await request(`${srv.url}/vcek/v1/Milan/${CHIP}?blSPL=3&teeSPL=0&snpSPL=9&ucodeSPL=115`)).status, 404);
    const a = await attest(srv);
    assert.equal(a.status, 200, a.text);
  });

  test("AMD's Milan CRL: stored, served on the vcek and vlek paths, checked on every report", async () => {
    const r = await importBody(srv, milanCrl, 'application/pkix-crl');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.documents.map((d) => [d.id, d.action]), [['amd/crl/Milan', 'stored']]);
    for (const path of ['/vcek/v1/Milan/crl', '/vlek/v1/Milan/crl']) {
      const g = await getBytes(`${srv.url}${path}`);
      assert.equal(g.status, 200);
      assert.equal(g.headers.get('content-type'), 'application/pkix-crl');
      assert.ok(g.bytes.equals(milanCrl));
    }
    const again = await importBody(srv, milanCrl);
    assert.equal(again.body.documents[0].action, 'unchanged');
    assert.equal((await attest(srv)).status, 200);
  });

  test('cert_chain: the pinned ASK or ASVK, then the ARK; an imported chain is checked against them', async () => {
    const want = pemCerts(readFileSync(join(V, 'amd-genoa-cert-chain.pem'), 'utf8'));
    const g = await request(`${srv.url}/vcek/v1/Genoa/cert_chain`);
    assert.equal(g.status, 200);
    const got = pemCerts(g.text);
    assert.equal(got.length, 2);
    assert.ok(got[0].equals(want[0]) && got[1].equals(want[1]));
    const vlek = pemCerts((await request(`${srv.url}/vlek/v1/Milan/cert_chain`)).text);
    assert.match(new X509Certificate(vlek[0]).subject, /CN=SEV-VLEK-Milan/);
    const r = await importBody(srv, readFileSync(join(V, 'amd-milan-cert-chain.pem')), 'application/x-pem-file');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.documents.map((d) => d.action), ['pinned', 'pinned']);
  });

  test('hostile paths and queries: 400 naming the parameter, never a crash', async () => {
    const cases = [
      [`/vcek/v1/Rome/crl`, 400, 'product'],
      [`/vcek/v1/milan/crl`, 400, 'product'],
      [`/vcek/v1/Milan/${CHIP.slice(2)}?${SPLS}`, 400, 'hwid'],
      [`/vcek/v1/Milan/${'zz'.repeat(64)}?${SPLS}`, 400, 'hwid'],
      [`/vcek/v1/Turin/${CHIP}?${SPLS}&fmcSPL=0`, 400, 'hwid'],
      [`/vcek/v1/Milan/${CHIP}?teeSPL=0&snpSPL=8&ucodeSPL=115`, 400, 'blSPL'],
      [`/vcek/v1/Milan/${CHIP}?blSPL=256&teeSPL=0&snpSPL=8&ucodeSPL=115`, 400, 'blSPL'],
      [`/vcek/v1/Milan/${CHIP}?blSPL=-1&teeSPL=0&snpSPL=8&ucodeSPL=115`, 400, 'blSPL'],
      [`/vcek/v1/Milan/${CHIP}?blSPL=3&teeSPL=0x&snpSPL=8&ucodeSPL=115`, 400, 'teeSPL'],
      [`/vcek/v1/Turin/1e550a8ee5cf9f4d?blSPL=0&teeSPL=0&snpSPL=0&ucodeSPL=9`, 400, 'fmcSPL'],
      [`/vlek/v1/Milan/${CHIP}?${SPLS}`, 404, undefined],
    ];
    for (const [path, status, field] of cases) {
      const r = await request(`${srv.url}${path}`);
      assert.equal(r.status, status, `${path}: ${r.text}`);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      if (field) assert.equal(r.body.field, field, path);
    }
    const junk = await importBody(srv, Buffer.from('-----BEGIN JUNK-----\nAA==\n-----END JUNK-----\n'));
    assertProblem(junk, 422, 'VOUCH.COLLATERAL.INVALID');
  });
});

describe('vouch collateral import with KDS files, then vouchd serves them', () => {
  let dir;
  let srv;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'vouch-amd-cli-')); });
  after(async () => { await srv?.stop(); rmSync(dir, { recursive: true, force: true }); });

  test('a VCEK chain (PEM) and a CRL (DER) from the command line', async () => {
    const db = `sqlite:${join(dir, 'vouch.db')}`;
    const a = await vouch(['collateral', 'import', '--db', db, '--at', AT,
      join(V, 'az-milan-vcek-chain.pem'), join(V, 'amd-genoa-crl.der')]);
    assert.match(a.stdout, /^stored +amd\/vcek\/Milan\/19752a44/m);
    assert.match(a.stdout, /^pinned +amd\/ask\/Milan/m);
    assert.match(a.stdout, /^stored +amd\/crl\/Genoa/m);
    await assert.rejects(vouch(['collateral', 'import', '--db', db, '--at', AT,
      join(V, 'test-vcek-invalid-new.der')]), (e) => e.code === 1 && /nothing stored/.test(e.stderr));
    srv = await startVouchd({ dir, args: ['--fixed-time', AT] });
    const g = await getBytes(`${srv.url}/vcek/v1/Genoa/crl`);
    assert.equal(g.status, 200);
    assert.ok(g.bytes.equals(readFileSync(join(V, 'amd-genoa-crl.der'))));
  });

  test('vouch inspect snp: offline, with the VCEK, chain and CRL as KDS sends them', async () => {
    const args = ['inspect', 'snp', join(V, 'az-milan-v2-report.bin'), '--vcek',
      join(V, 'az-milan-vcek-chain.pem'), '--chain', join(V, 'amd-milan-cert-chain.pem'),
      '--crl', join(V, 'amd-milan-crl.der'), '--at', AT];
    const ok = JSON.parse((await vouch(args)).stdout);
    assert.equal(ok.verified, true);
    assert.equal(ok.report.version, 2);
    assert.match(ok.claims.chip_id, /^19752a44/);
    // "-" reads the report from stdin, with the same outcome.
    const piped = execFileSync(VOUCH, ['inspect', 'snp', '-', ...args.slice(3)],
      { input: readFileSync(join(V, 'az-milan-v2-report.bin')) });
    assert.deepEqual(JSON.parse(piped.toString()), ok);
    // The same report with trustee's test VCEK (another chip): exit 1, the reason shown.
    await assert.rejects(vouch(['inspect', 'snp', join(V, 'az-milan-v2-report.bin'), '--vcek',
      join(V, 'test-vcek.der'), '--at', AT]), (e) => e.code === 1
      && JSON.parse(e.stdout).verified === false && /CHIP_ID/.test(JSON.parse(e.stdout).error));
    // A CRL of another product is not issued by this report's ARK.
    await assert.rejects(vouch([...args.slice(0, -4), '--crl', join(V, 'amd-genoa-crl.der'),
      '--at', AT]), (e) => e.code === 1 && /not issued by the ARK/.test(JSON.parse(e.stdout).error));
  });
});

describe('--amd-kds-url: one vouchd fetches what it lacks from another one\'s KDS paths', () => {
  let a;
  let b;
  before(async () => {
    a = await startVouchd({ args: ['--fixed-time', AT] });
    b = await startVouchd({ args: ['--fixed-time', AT, '--amd-kds-url', `${a.url}/`] });
  });
  after(async () => { await a?.stop(); await b?.stop(); });

  test('the upstream lacks the VCEK too: 503, the KDS named', async () => {
    const r = await attest(b);
    assertProblem(r, 503, 'VOUCH.DEPENDENCY.UNAVAILABLE');
  });

  test('imported upstream: fetched, verified, stored and served here too', async () => {
    assert.equal((await importBody(a, vcek)).status, 200);
    assert.equal((await importBody(a, milanCrl)).status, 200);
    const r = await attest(b);
    assert.equal(r.status, 200, r.text);
    const g = await getBytes(`${b.url}/vcek/v1/Milan/${CHIP}?${SPLS}`);
    assert.equal(g.status, 200);
    assert.ok(g.bytes.equals(vcek));
    const c = await getBytes(`${b.url}/vcek/v1/Milan/crl`);
    assert.ok(c.bytes.equals(milanCrl));
  });
});
