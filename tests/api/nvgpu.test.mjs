// NVIDIA GPUs through the attestation API, against a real vouchd:
//  - tee=nvgpu with a real Hopper report (nvtrust v1.0 sample) and NVIDIA's
//    test RIMs, at 2024-06-01 when its RIM certificates were valid;
//  - the RIM store: `vouch rim import`, the admin API, and one vouchd filling
//    another through --nvgpu-rim-url (the NVIDIA RIM service's shape);
//  - tee=acstdxnvgpu: a TD quote from the DCAP test PKI whose REPORT_DATA
//    starts with the GPU's nonce, with the real GPU report in gpu_evidence.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as jose from 'jose';
import { startVouchd, vouch, request, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { subjectOf } from './lib/subject.mjs';

const run = promisify(execFile);
const FORGE = process.env.DCAP_FORGE;
const V = '../vectors/nvgpu';
const AT = '2024-06-01T00:00:00Z';
const NONCE = '4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e';
const DRIVER_RIM = 'NV_GPU_DRIVER_GH100_545.00';
const VBIOS_RIM = 'NV_GPU_VBIOS_1010_0200_882_96005E0001';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const reportHex = readFileSync(join(V, 'v1.0_attestationReport.txt'), 'utf8').replace(/\s+/g, '');
const report = Buffer.from(reportHex, 'hex');
const chainPem = readFileSync(join(V, 'v1.0_gpuAkCertChain.txt'));

// trustee's tee=nvgpu document
const nvgpuEvidence = (n = 1) => b64url(JSON.stringify({
  device_evidence_list: Array.from({ length: n }, (_, i) => ({
    arch: 'HOPPER', uuid: `GPU-${i}`, evidence: report.toString('base64'),
    certificate: chainPem.toString('base64'),
  })),
}));

// Alibaba's gpu_evidence member of a TDX evidence document
const gpuEntry = (index, extra = {}) => ({
  index, uuid: `GPU-${index}`, name: 'NVIDIA H100 80GB HBM3', driver_version: '545.00',
  vbios_version: '96.00.5E.00.01', attestation_report: report.toString('base64'),
  certificate: chainPem.toString('base64'), cc_enabled: true, ...extra,
});

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

// A vouchd at 2024-06-01 whose store holds the test RIMs (imported with the CLI).
async function serverWithRims(args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-nvgpu-'));
  const db = `sqlite:${join(dir, 'vouch.db')}`;
  await vouch(['rim', 'import', '--db', db, '--at', AT, join(V, 'rims')]).catch((e) => {
    // the directory also holds a RIM not valid yet in 2024: the others are stored
    if (!/rejected/.test(e.stderr)) throw e;
  });
  const srv = await startVouchd({ dir, args: ['--fixed-time', AT, ...args] });
  const stop = srv.stop.bind(srv);
  srv.stop = async () => { await stop(); rmSync(dir, { recursive: true, force: true }); };
  return srv;
}

describe('tee=nvgpu: a real Hopper report with NVIDIA test RIMs at 2024-06-01', () => {
  let srv;
  before(async () => { srv = await serverWithRims(); });
  after(async () => { await srv?.stop(); });

  test('verified: a flat token with the GPU claims; runtime_data is the SPDM nonce', async () => {
    const r = await attest(srv.url, { tee: 'nvgpu', evidence: nvgpuEvidence(),
      runtime_data: { raw: Buffer.from(NONCE, 'hex').toString('base64') } });
    assert.equal(r.status, 200, r.text);
    const p = await claimsOf(srv.url, r.text);
    assert.equal(p.tee, 'nvgpu');
    const tcb = JSON.parse(p['tcb-status']);
    assert.equal(tcb['nvgpu.measres'], 'success');
    assert.equal(tcb['nvgpu.x-nvidia-gpu-attestation-report-signature-verified'], true);
    assert.equal(tcb['nvgpu.x-nvidia-gpu-attestation-report-nonce-match'], true);
    assert.equal(tcb['nvgpu.x-nvidia-gpu-driver-rim-signature-verified'], true);
    assert.equal(tcb['nvgpu.x-nvidia-gpu-vbios-rim-signature-verified'], true);
    assert.equal(tcb['nvgpu.x-nvidia-gpu-attestation-report-cert-chain.x-nvidia-cert-ocsp-status'], 'unknown');
    assert.equal(tcb['nvgpu.x-nvidia-gpu-driver-version'], '545.00');
    assert.equal(tcb.report_data, NONCE);
  });

  test('two GPUs: EAR submodules gpu0 and gpu1, each appraised by the default GPU policy', async () => {
    const r = await attest(srv.url, { tee: 'nvgpu', evidence: nvgpuEvidence(2),
      runtime_data: { raw: Buffer.from(NONCE, 'hex').toString('base64') } }, '?token=ear');
    assert.equal(r.status, 200, r.text);
    const p = await claimsOf(srv.url, r.text);
    assert.deepEqual(Object.keys(p.submods).sort(), ['gpu0', 'gpu1']);
    for (const [name, sub] of Object.entries(p.submods)) {
      assert.equal(sub['ear.status'], 'affirming', name);
      const tv = sub['ear.trustworthiness-vector'];
      assert.equal(tv.hardware, 2);
      assert.equal(tv.configuration, 2);
      assert.equal(tv.executables, 2);
      assert.equal(sub['ear.veraison.annotated-evidence'].nvgpu.uuid, `GPU-${name.slice(3)}`);
    }
    // sub: the first GPU's measurement records (docs/oidc.md)
    const gpu0 = p.submods.gpu0['ear.veraison.annotated-evidence'].nvgpu;
    assert.ok(gpu0.measurements && Object.keys(gpu0.measurements).length > 0);
    assert.equal(p.sub, subjectOf('nvgpu', gpu0));
  });

  test('other runtime_data: 422 binding mismatch, no token', async () => {
    const other = Buffer.from(NONCE, 'hex');
    other[0] ^= 1;
    const r = await attest(srv.url, { tee: 'nvgpu', evidence: nvgpuEvidence(),
      runtime_data: { raw: other.toString('base64') } });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'runtime_data');
    assert.match(r.body.detail, /gpu0: nonce/);
  });

  test('a report with a flipped signature byte fails at the signature step', async () => {
    const bad = Buffer.from(report);
    bad[bad.length - 5] ^= 0x40;
    const ev = b64url(JSON.stringify({ device_evidence_list: [{ arch: 'HOPPER',
      evidence: bad.toString('base64'), certificate: chainPem.toString('base64') }] }));
    const r = await attest(srv.url, { tee: 'nvgpu', evidence: ev });
    assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED');
    assert.match(r.body.detail, /gpu0: .*signature/i);
  });

  test('a malformed document names the field', async () => {
    const ev = b64url(JSON.stringify({ device_evidence_list: [{ arch: 'HOPPER', evidence: '@@',
      certificate: chainPem.toString('base64') }] }));
    const r = await attest(srv.url, { tee: 'nvgpu', evidence: ev });
    assertProblem(r, 400, 'VOUCH.EVIDENCE.INVALID_FORMAT', 'evidence.device_evidence_list[0].evidence');
  });
});

describe('--nvgpu-ocsp against an unreachable responder', () => {
  // port 9 on 127.0.0.1: nothing listens, the connection is refused at once
  for (const [mode, ok] of [['soft', true], ['require', false]]) {
    test(`${mode}: ${ok ? 'the GPU passes with status unknown' : 'no token: 503, try again'}`, async () => {
      const srv = await serverWithRims(['--nvgpu-ocsp', mode, '--nvgpu-ocsp-url', 'http://127.0.0.1:9/']);
      try {
        const r = await attest(srv.url, { tee: 'nvgpu', evidence: nvgpuEvidence(),
          runtime_data: { raw: Buffer.from(NONCE, 'hex').toString('base64') } });
        if (ok) {
          assert.equal(r.status, 200, r.text);
          const tcb = JSON.parse((await claimsOf(srv.url, r.text))['tcb-status']);
          assert.equal(tcb['nvgpu.x-nvidia-gpu-attestation-report-cert-chain.x-nvidia-cert-ocsp-status'], 'unknown');
        } else {
          // not a verdict on the GPU: the check could not be made, so 503 and retry
          assertProblem(r, 503, 'VOUCH.DEPENDENCY.UNAVAILABLE');
          assert.equal(r.headers.get('retry-after'), '5');
          assert.match(r.body.detail, /gpu0: certificate chain OCSP/);
        }
      } finally {
        await srv.stop();
      }
    });
  }
});

describe('the RIM store', () => {
  let a, b;
  before(async () => {
    a = await startVouchd({ args: ['--fixed-time', AT] });
  });
  after(async () => { await b?.stop(); await a?.stop(); });

  test('--nvgpu-device-root replaces the pinned device root: another root refuses the chain', async () => {
    const c = await startVouchd({ args: ['--fixed-time', AT, '--nvgpu-device-root', resolve(V, 'verifier_RIM_root.pem')] });
    try {
      const r = await attest(c.url, { tee: 'nvgpu', evidence: nvgpuEvidence() });
      assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED');
      assert.match(r.body.detail, /gpu0: certificate chain/);
    } finally {
      await c.stop();
    }
  });

  test('without RIMs a GPU fails with the RIM named', async () => {
    const r = await attest(a.url, { tee: 'nvgpu', evidence: nvgpuEvidence() });
    assertProblem(r, 422, 'VOUCH.COLLATERAL.MISSING');
    assert.match(r.body.detail, new RegExp(DRIVER_RIM));
  });

  test('admin import: verified before stored; bad signatures and non-RIMs are refused', async () => {
    const post = (body, q = '') => request(`${a.url}/admin/rim${q}`, { method: 'POST', headers: admin, body });
    const unauth = await request(`${a.url}/admin/rim`, { method: 'POST', body: 'x' });
    assert.equal(unauth.status, 401);
    let r = await post(readFileSync(join(V, 'rims', 'Driver_RIM_test_no_gpu.swidtag')));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.id, DRIVER_RIM);
    assert.equal(r.body.kind, 'driver');
    // a VBIOS RIM does not name its project: the file name does
    r = await post(readFileSync(join(V, 'rims', '1010_0200_882_96005E0001_test_no_gpu.swidtag')),
      '?name=1010_0200_882_96005E0001_test_no_gpu.swidtag');
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.id, VBIOS_RIM);
    r = await post(readFileSync(join(V, 'rims-bad', 'incorrect_signature_driver_rim.xml')));
    assertProblem(r, 422, 'VOUCH.RIM.INVALID', 'body');
    r = await post('<not-a-rim/>');
    assertProblem(r, 422, 'VOUCH.RIM.INVALID', 'body');
    r = await request(`${a.url}/admin/rim`, { headers: admin });
    assert.deepEqual(r.body.rims.map((x) => x.id), [DRIVER_RIM, VBIOS_RIM]);
  });

  test('then the GPU verifies; GET /v1/rim/{id} serves it in the RIM service shape', async () => {
    const r = await attest(a.url, { tee: 'nvgpu', evidence: nvgpuEvidence() });
    assert.equal(r.status, 200, r.text);
    const g = await request(`${a.url}/v1/rim/${DRIVER_RIM}`);
    assert.equal(g.status, 200);
    assert.equal(g.body.id, DRIVER_RIM);
    assert.equal(Buffer.from(g.body.rim, 'base64').toString(),
      readFileSync(join(V, 'rims', 'Driver_RIM_test_no_gpu.swidtag'), 'utf8'));
    assertProblem(await request(`${a.url}/v1/rim/NV_GPU_DRIVER_GH100_1.0`), 404, 'VOUCH.RIM.NOT_FOUND');
  });

  test('a second vouchd with --nvgpu-rim-url fetches, verifies and keeps the RIMs it lacks', async () => {
    b = await startVouchd({ args: ['--fixed-time', AT, '--nvgpu-rim-url', `${a.url}/v1/rim/`] });
    const r = await attest(b.url, { tee: 'nvgpu', evidence: nvgpuEvidence() });
    assert.equal(r.status, 200, r.text);
    const l = await request(`${b.url}/admin/rim`, { headers: admin });
    assert.deepEqual(l.body.rims.map((x) => x.id), [DRIVER_RIM, VBIOS_RIM]);
  });

  test('delete removes a RIM from the store; deleting it again is 404', async () => {
    const d = await request(`${a.url}/admin/rim/${DRIVER_RIM}`, { method: 'DELETE', headers: admin });
    assert.equal(d.status, 204);
    const again = await request(`${a.url}/admin/rim/${DRIVER_RIM}`, { method: 'DELETE', headers: admin });
    assertProblem(again, 404, 'VOUCH.RIM.NOT_FOUND', 'id');
    const l = await request(`${a.url}/admin/rim`, { headers: admin });
    assert.deepEqual(l.body.rims.map((x) => x.id), [VBIOS_RIM]);
  });
});

describe('tee=acstdxnvgpu: a TD and its GPUs in one token', () => {
  let srv, forged, other;
  const forge = async (reportData) => {
    const dir = mkdtempSync(join(tmpdir(), 'vouch-forge-'));
    const f = { quote: join(dir, 'q.bin'), collateral: join(dir, 'c.json'), root: join(dir, 'root.pem'), dir };
    await run(FORGE, ['--quote', f.quote, '--collateral', f.collateral, '--root', f.root,
      '--now', String(Date.parse('2024-05-31T12:00:00Z') / 1000), '--report-data', reportData]);
    f.bytes = readFileSync(f.quote);
    return f;
  };
  const evidence = (quote, gpus) => b64url(JSON.stringify({
    quote: Buffer.from(quote).toString('base64'), cc_eventlog: null,
    ...(gpus ? { gpu_evidence: { evidence_list: gpus, collection_time: AT } } : {}),
  }));

  before(async () => {
    forged = await forge(NONCE + '00'.repeat(32));
    other = await forge('11'.repeat(64));
    srv = await serverWithRims(['--dcap-root', forged.root]);
    await vouch(['collateral', 'import', '--db', srv.db, '--dcap-root', forged.root, '--at', AT,
      forged.collateral]);
  });
  after(async () => {
    await srv?.stop();
    for (const f of [forged, other]) if (f) rmSync(f.dir, { recursive: true, force: true });
  });

  test('verified together: EAR cpu0 + gpu0 + gpu1; flat tcb-status keeps GPUs apart', async () => {
    const body = { tee: 'acstdxnvgpu', evidence: evidence(forged.bytes, [gpuEntry(0), gpuEntry(1, { name: undefined })]),
      runtime_data: { raw: Buffer.from(NONCE + '00'.repeat(32), 'hex').toString('base64') } };
    let r = await attest(srv.url, body, '?token=ear');
    assert.equal(r.status, 200, r.text);
    let p = await claimsOf(srv.url, r.text);
    assert.deepEqual(Object.keys(p.submods).sort(), ['cpu0', 'gpu0', 'gpu1']);
    const cpu = p.submods.cpu0['ear.veraison.annotated-evidence'];
    assert.equal(cpu.tdx.tcb_status, 'UpToDate');
    assert.equal(cpu.report_data, NONCE + '00'.repeat(32));
    const gpu1 = p.submods.gpu1['ear.veraison.annotated-evidence'];
    assert.equal(gpu1.nvgpu.uuid, 'GPU-1');
    assert.equal(gpu1.nvgpu['x-nvidia-gpu-attestation-report-nonce-match'], true);
    assert.equal(p.submods.gpu1['ear.trustworthiness-vector'].executables, 2);
    assert.equal(gpu1.nvgpu.index, 1);
    assert.equal(gpu1.nvgpu.cc_enabled, true);
    // sub: the TD's, by tdx's rule (the first device is the TD)
    assert.equal(p.sub, subjectOf('tdx', cpu.tdx));
    assert.match(p.sub, /^tdx:[0-9a-f]{64}$/);

    r = await attest(srv.url, body);
    assert.equal(r.status, 200, r.text);
    p = await claimsOf(srv.url, r.text);
    assert.equal(p.tee, 'acstdxnvgpu');
    const tcb = JSON.parse(p['tcb-status']);
    assert.equal(tcb['tdx.tcb_status'], 'UpToDate');
    assert.equal(tcb['gpu0.nvgpu.uuid'], 'GPU-0');
    assert.equal(tcb['gpu1.nvgpu.uuid'], 'GPU-1');
    assert.equal(tcb['gpu1.nvgpu.measres'], 'success');
  });

  test("GPUs that did not sign this TD's REPORT_DATA: 422, not bound", async () => {
    // each forge run is its own test PKI: this TD needs a vouchd trusting its root
    const srv2 = await serverWithRims(['--dcap-root', other.root]);
    try {
      await vouch(['collateral', 'import', '--db', srv2.db, '--dcap-root', other.root, '--at', AT,
        other.collateral]);
      const r = await attest(srv2.url, { tee: 'acstdxnvgpu', evidence: evidence(other.bytes, [gpuEntry(0)]) });
      assertProblem(r, 422, 'VOUCH.EVIDENCE.BINDING_MISMATCH', 'evidence.gpu_evidence');
      assert.match(r.body.detail, /gpu0: nonce/);
      const td = await attest(srv2.url, { tee: 'tdx', evidence: evidence(other.bytes) });
      assert.equal(td.status, 200, td.text);
    } finally {
      await srv2.stop();
    }
  });

  test('one failing GPU fails the whole result', async () => {
    const r = await attest(srv.url, { tee: 'acstdxnvgpu',
      evidence: evidence(forged.bytes, [gpuEntry(0), gpuEntry(1, { cc_enabled: false })]) }, '?token=ear');
    assertProblem(r, 422, 'VOUCH.EVIDENCE.VERIFICATION_FAILED');
    assert.match(r.body.detail, /gpu1: confidential computing/);
  });

  test('no gpu_evidence: 400 naming it (a TD alone is tee=tdx)', async () => {
    const r = await attest(srv.url, { tee: 'acstdxnvgpu', evidence: evidence(forged.bytes) });
    assertProblem(r, 400, 'VOUCH.EVIDENCE.INVALID_FORMAT', 'evidence.gpu_evidence');
    const td = await attest(srv.url, { tee: 'tdx', evidence: evidence(forged.bytes) });
    assert.equal(td.status, 200, td.text);
  });

  test('a GPU entry without its certificate names the field', async () => {
    const { certificate, ...noCert } = gpuEntry(0);
    assert.ok(certificate);
    const r = await attest(srv.url, { tee: 'acstdxnvgpu', evidence: evidence(forged.bytes, [noCert]) });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.field, 'evidence.gpu_evidence.evidence_list[0].certificate');
  });
});

test('vouch rim list shows what rim import stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-rimcli-'));
  try {
    const db = `sqlite:${join(dir, 'v.db')}`;
    const files = readdirSync(join(V, 'rims')).filter((f) => f.includes('test_no_gpu'));
    const out = await vouch(['rim', 'import', '--db', db, '--at', AT, ...files.map((f) => join(V, 'rims', f))]);
    assert.match(out.stdout, new RegExp(`stored +${DRIVER_RIM}`));
    const bad = await vouch(['rim', 'import', '--db', db, '--at', AT,
      join(V, 'rims-bad', 'incorrect_signature_driver_rim.xml')]).catch((e) => e);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /rejected/);
    // --rim-root replaces the pinned RIM root: NVIDIA's own root file verifies, another refuses
    await vouch(['rim', 'import', '--db', db, '--at', AT, '--rim-root', join(V, 'verifier_RIM_root.pem'),
      join(V, 'rims', 'Driver_RIM_test_no_gpu.swidtag')]);
    const wrong = await vouch(['rim', 'import', '--db', db, '--at', AT, '--rim-root',
      join(V, 'verifier_device_root.pem'), join(V, 'rims', 'Driver_RIM_test_no_gpu.swidtag')]).catch((e) => e);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /certificate chain/);
    const missing = await vouch(['rim', 'import', '--db', db, '--rim-root', join(dir, 'none.pem'),
      join(V, 'rims', 'Driver_RIM_test_no_gpu.swidtag')]).catch((e) => e);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /--rim-root: .*none\.pem/);
    const list = await vouch(['rim', 'list', '--db', db]);
    assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]), [DRIVER_RIM, VBIOS_RIM]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
