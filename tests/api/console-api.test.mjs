// The JSON endpoints the web console reads, against a real vouchd: the
// attestation history (GET /admin/attestations, --keep-attestations), the
// operator's vTPM endpoint (/admin/vtpm/{account}), the collateral list
// (GET /admin/collateral) and the stored AMD chips (GET /admin/collateral/amd),
// the instance detail's UEFI events (DescribeBoot) and report history
// (DescribeReports), and how /console itself is served.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startVouchd, vouch, request, freshPostgresDb, PG_BASE, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { SoftTpm, fileData } from './lib/softtpm.mjs';
import { EV, eventLog, eventDigests, imageLoadData, variableData } from './lib/eventlog.mjs';

const require = createRequire(import.meta.url);
const RPCClient = require('@alicloud/pop-core');

const V2 = '../vectors/dcap/dcap-qvl/sample';
const FIXED = '2025-07-04T10:24:15Z';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const quote = readFileSync(join(V2, 'tdx_quote'));
const evidence = b64url(JSON.stringify({ quote: quote.toString('base64'), cc_eventlog: null }));

// A vouchd with the sample's Intel collateral imported before it starts.
async function serverWith(args, { fixed = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-console-api-'));
  const db = PG_BASE ? await freshPostgresDb() : `sqlite:${join(dir, 'vouch.db')}`;
  await vouch(['collateral', 'import', '--db', db, join(V2, 'tdx_quote_collateral.json')]);
  const srv = await startVouchd({ dir, db, args: [...(fixed ? ['--fixed-time', FIXED] : []), ...args] });
  const stop = srv.stop.bind(srv);
  srv.stop = async () => { await stop(); rmSync(dir, { recursive: true, force: true }); };
  return srv;
}

const attest = (srv, body) => request(`${srv.url}/v1/attestation`, { method: 'POST', body: JSON.stringify(body) });
const history = (srv, q = '') => request(`${srv.url}/admin/attestations${q}`, { headers: admin });

// Rows are written by a background writer: wait until the newest row is the
// one of request `rid` (at most 10 s).
async function historyWith(srv, rid) {
  for (let i = 0; i < 200; i++) {
    const h = await history(srv);
    if (h.body?.attestations?.[0]?.request_id === rid) return h;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`request ${rid} never reached the history`);
}

describe('attestation history', () => {
  let srv;
  before(async () => {
    srv = await serverWith(['--keep-attestations', '3']);
    const deny = b64url('package policy\ndefault allow := false\n');
    const r = await request(`${srv.url}/policy`, { method: 'POST', headers: admin,
      body: JSON.stringify({ policy_id: 'deny-all', policy: deny }) });
    assert.equal(r.status, 200, r.text);
  });
  after(async () => { await srv?.stop(); });

  test('an accepted TDX attestation: tee, policies, allow, TCB status; no token or evidence', async () => {
    const r = await attest(srv, { tee: 'tdx', evidence, policy_ids: [] });
    assert.equal(r.status, 200, r.text);
    const h = await historyWith(srv, r.headers.get('x-request-id'));
    assert.equal(h.status, 200, h.text);
    assert.equal(h.headers.get('cache-control'), 'no-store');
    assert.equal(h.body.keep, 3);
    const [row] = h.body.attestations;
    assert.deepEqual(Object.keys(row).sort(), ['allow', 'error_code', 'id', 'policy_ids', 'request_id',
      'status', 'tcb_status', 'tee', 'time', 'time_ms'].sort());
    assert.equal(row.tee, 'tdx');
    assert.deepEqual(row.policy_ids, []);
    assert.equal(row.allow, true);
    assert.equal(row.status, 200);
    assert.equal(row.error_code, null);
    assert.match(row.tcb_status, /^(UpToDate|SWHardeningNeeded|ConfigurationNeeded|ConfigurationAndSWHardeningNeeded|OutOfDate|OutOfDateConfigurationNeeded)$/);
    assert.equal(row.request_id, r.headers.get('x-request-id'));
    assert.ok(Math.abs(row.time_ms - Date.now()) < 60000, 'the wall-clock time, not --fixed-time');
    assert.ok(!h.text.includes(r.text.slice(0, 40)), 'the token is not kept');
    assert.ok(!h.text.includes(quote.toString('base64').slice(0, 40)), 'the evidence is not kept');
  });

  test('denied by policy, and rejected before appraisal, with their error codes', async () => {
    let r = await attest(srv, { tee: 'tdx', evidence, policy_ids: ['deny-all'] });
    assert.equal(r.status, 403, r.text);
    r = await attest(srv, { tee: 'tdx', evidence: b64url('not a quote'), policy_ids: ['x', 'y'] });
    assert.equal(r.status, 400, r.text);
    const [rejected, denied] = (await historyWith(srv, r.headers.get('x-request-id'))).body.attestations;
    assert.equal(denied.allow, false);
    assert.deepEqual(denied.policy_ids, ['deny-all']);
    assert.equal(denied.error_code, 'VOUCH.POLICY.REJECTED');
    assert.equal(denied.status, 403);
    assert.equal(rejected.allow, null);
    assert.deepEqual(rejected.policy_ids, ['x', 'y']);
    assert.equal(rejected.error_code, r.body.code);
    assert.equal(rejected.tcb_status, null);
    assert.equal(rejected.status, 400);
  });

  test('bounded to --keep-attestations, newest first, paged by id', async () => {
    const r = await request(`${srv.url}/v1/attestation`, { method: 'POST', body: '{not json' });
    assert.equal(r.status, 400);
    const all = (await historyWith(srv, r.headers.get('x-request-id'))).body.attestations;
    assert.equal(all.length, 3);
    assert.equal(all[0].error_code, 'VOUCH.REQUEST.INVALID_JSON');
    assert.equal(all[0].tee, '');
    assert.ok(all[0].id > all[1].id && all[1].id > all[2].id);
    const p1 = await history(srv, '?limit=2');
    assert.deepEqual(p1.body.attestations.map((a) => a.id), [all[0].id, all[1].id]);
    assert.equal(p1.body.next, all[1].id);
    const p2 = await history(srv, `?limit=2&before=${p1.body.next}`);
    assert.deepEqual(p2.body.attestations.map((a) => a.id), [all[2].id]);
    assert.equal(p2.body.next, null);
  });

  test('hostile queries are 400 naming the parameter; no token is 401', async () => {
    for (const [q, field] of [['?limit=0', 'limit'], ['?limit=501', 'limit'], ['?limit=-1', 'limit'],
      ['?limit=1e3', 'limit'], ['?before=abc', 'before'], ['?before=0', 'before'],
      ['?before=99999999999999999999', 'before'], ['?limit=%20%31', 'limit']]) {
      const r = await history(srv, q);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.field, field, q);
      assert.equal(r.body.code, 'VOUCH.REQUEST.INVALID_ARGUMENT', q);
    }
    const r = await request(`${srv.url}/admin/attestations`);
    assert.equal(r.status, 401);
  });
});

test('--keep-attestations 0 records nothing', async () => {
  const srv = await serverWith(['--keep-attestations', '0']);
  try {
    const r = await attest(srv, { tee: 'tdx', evidence, policy_ids: [] });
    assert.equal(r.status, 200, r.text);
    await new Promise((res) => setTimeout(res, 500));
    const h = await history(srv);
    assert.equal(h.status, 200);
    assert.deepEqual(h.body.attestations, []);
    assert.equal(h.body.keep, 0);
  } finally {
    await srv.stop();
  }
});

describe('the operator and the console', () => {
  let srv;
  before(async () => { srv = await serverWith([], { fixed: false }); });
  after(async () => { await srv?.stop(); });

  async function newKey(account) {
    const r = await request(`${srv.url}/admin/accesskeys`, { method: 'POST', headers: admin,
      body: JSON.stringify({ account }) });
    assert.equal(r.status, 201, r.text);
    return new RPCClient({ accessKeyId: r.body.AccessKeyId, accessKeySecret: r.body.AccessKeySecret,
      endpoint: srv.url, apiVersion: '2020-06-13' });
  }

  test("/admin/vtpm/{account} runs the account's actions with the admin token only", async () => {
    const alice = await newKey('alice');
    await newKey('bob');
    await alice.request('RegisterMessage', { PropertyUuid: 'console-api-1', PropertyName: 'web-1' },
      { method: 'POST' });
    const as = (account, q, headers = admin) => request(`${srv.url}/admin/vtpm/${account}?${q}`, { headers });
    let r = await as('alice', 'Action=DescribeInstances&Version=2020-06-13');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.TotalCount, 1);
    assert.equal(r.body.Instances[0].PropertyName, 'web-1');
    assert.ok(r.body.RequestId);
    r = await request(`${srv.url}/admin/vtpm/alice`, { method: 'POST', headers: { ...admin,
      'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeInstance&Version=2020-06-13&PropertyUuid=console-api-1' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.PropertyUuid, 'console-api-1');
    r = await as('bob', 'Action=DescribeInstance&Version=2020-06-13&PropertyUuid=console-api-1');
    assert.equal(r.body.Code, 'Forbidden.NotOwner');
    r = await as('bob', 'Action=DescribeInstances&Version=2020-06-13');
    assert.equal(r.body.TotalCount, 0);
    r = await as('alice', 'Action=Nope&Version=2020-06-13');
    assert.equal(r.body.Code, 'InvalidAction.NotFound');
    r = await as('bad%20name', 'Action=DescribeInstances&Version=2020-06-13');
    assert.equal(r.status, 400);
    assert.equal(r.body.Code, 'InvalidParameter');
    // The operator's changes are audited as "admin" on ACCOUNT:SUBJECT; reads are not.
    r = await request(`${srv.url}/admin/vtpm/alice`, { method: 'POST', headers: { ...admin,
      'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=RegisterMessage&Version=2020-06-13&PropertyUuid=console-api-2' });
    assert.equal(r.status, 200, r.text);
    const audit = await request(`${srv.url}/admin/audit?actor=admin`, { headers: admin });
    assert.equal(audit.status, 200, audit.text);
    const vtpm = audit.body.entries.filter((e) => !e.action.startsWith('POST /admin/accesskeys'));
    assert.deepEqual(vtpm.map((e) => [e.action, e.target, e.status]),
      [['RegisterMessage', 'alice:console-api-2', 200]]);
    r = await as('alice', 'Action=DescribeInstances&Version=2020-06-13', {});
    assert.equal(r.status, 401);
    r = await as('alice', 'Action=DescribeInstances&Version=2020-06-13', { authorization: 'Bearer wrong-token-0123456789' });
    assert.equal(r.status, 401);
  });

  test('GET /admin/collateral lists stored documents with their nextUpdate, no bodies', async () => {
    const r = await request(`${srv.url}/admin/collateral`, { headers: admin });
    assert.equal(r.status, 200, r.text);
    const tcb = r.body.documents.filter((d) => d.id.startsWith('tcb/'));
    assert.ok(tcb.length >= 1, r.text);
    for (const d of r.body.documents) {
      assert.deepEqual(Object.keys(d).sort(), ['id', 'issue_date', 'next_update', 'updated_at']);
      assert.match(d.next_update, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    assert.equal((await request(`${srv.url}/admin/collateral`)).status, 401);
  });

  test('/console: the page and its files with a strict CSP; nothing else', async () => {
    const page = await request(`${srv.url}/console`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    const csp = page.headers.get('content-security-policy');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(!csp.includes('unsafe'), csp);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.ok(!/<script>|<style>| style=| on[a-z]+=/.test(page.text), 'no inline script or style');
    assert.ok(!/https?:\/\//.test(page.text.replace('http://www.w3.org', '')), 'nothing from elsewhere');
    for (const f of ['app.js', 'sign.js', 'app.css', 'favicon.svg']) {
      const r = await request(`${srv.url}/console/${f}`);
      assert.equal(r.status, 200, f);
      assert.ok(r.headers.get('content-security-policy'), f);
      const again = await request(`${srv.url}/console/${f}`, { headers: { 'if-none-match': r.headers.get('etag') } });
      assert.equal(again.status, 304, f);
    }
    for (const bad of ['nope.js', '..%2Findex.html', '%00', 'app.js.map', 'INDEX.HTML'])
      assert.equal((await request(`${srv.url}/console/${bad}`)).status, 404, bad);
    assert.equal((await request(`${srv.url}/console`, { method: 'POST' })).status, 405);
    assert.equal(page.headers.get('set-cookie'), null);
  });
});

test('--console=false turns the console off', async () => {
  const srv = await startVouchd({ args: ['--console=false'] });
  try {
    const r = await request(`${srv.url}/console`);
    assert.equal(r.status, 404);
    assert.equal((await request(`${srv.url}/console/app.js`)).status, 404);
  } finally {
    await srv.stop();
  }
});

test('rows still queued when vouchd stops are written before it exits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-console-stop-'));
  const db = PG_BASE ? await freshPostgresDb() : `sqlite:${join(dir, 'vouch.db')}`;
  let srv = await startVouchd({ dir, db });
  try {
    const answers = await Promise.all(Array.from({ length: 40 }, () =>
      request(`${srv.url}/v1/attestation`, { method: 'POST', body: '{"tee": 7}' })));
    assert.ok(answers.every((a) => a.status === 400));
    const { code } = await srv.stop();
    assert.equal(code, 0);
    srv = await startVouchd({ dir, db });
    const h = await request(`${srv.url}/admin/attestations?limit=100`, { headers: admin });
    assert.equal(h.body.attestations.length, 40);
    assert.deepEqual(new Set(h.body.attestations.map((a) => a.request_id)),
      new Set(answers.map((a) => a.headers.get('x-request-id'))));
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the instance detail: the UEFI events of a differing PCR, the report history', () => {
  let srv, alice, bob;
  const UUID = 'console-api-tpm';
  const tpm = new SoftTpm();
  const events = [];
  let akCert;
  before(async () => {
    srv = await serverWith([], { fixed: false });
    const key = async (account) => {
      const r = await request(`${srv.url}/admin/accesskeys`, { method: 'POST', headers: admin,
        body: JSON.stringify({ account }) });
      return new RPCClient({ accessKeyId: r.body.AccessKeyId, accessKeySecret: r.body.AccessKeySecret,
        endpoint: srv.url, apiVersion: '2020-06-13' });
    };
    alice = await key('alice');
    bob = await key('bob');
    await alice.request('RegisterMessage', { PropertyUuid: UUID, PropertyName: 'tpm-1' }, { method: 'POST' });
    const { Data } = await alice.request('ProduceAikcert', { PropertyUuid: UUID,
      EkPubKey: tpm.ekPub.toString('base64'), AikName: tpm.akName.toString('hex'),
      CertRequest: tpm.akPub.toString('base64') }, { method: 'POST' });
    const secret = tpm.activate(Buffer.from(Data.KeyCredentialBlob, 'base64'));
    akCert = SoftTpm.decryptData(secret, Buffer.from(Data.DataCredentialBlob, 'base64'));
  });
  after(async () => { await srv?.stop(); });

  // Firmware measures `evs` (into the soft TPM and its log), then a report with the whole log.
  async function report(evs) {
    for (const ev of evs) {
      tpm.extend(ev.pcr, eventDigests(ev));
      events.push(ev);
    }
    const { data } = await alice.request('GenerateNonce', { PropertyUuid: UUID }, { method: 'POST' });
    const doc = JSON.parse(Buffer.from(fileData(data.Nonce, tpm.quote(Buffer.from(data.Nonce, 'hex')),
      { akCert }), 'base64'));
    doc.eventlog = eventLog(events).toString('base64');
    akCert = undefined;
    const r = await alice.request('PutMessage', { PropertyUuid: UUID,
      FileData: Buffer.from(JSON.stringify(doc)).toString('base64') }, { method: 'POST' });
    return r.data.systemVerificationResult.status;
  }

  test('DescribeBoot: the events that extended each differing PCR, decoded; none for the others', async () => {
    assert.equal(await report([
      { pcr: 7, type: EV.EFI_VARIABLE_DRIVER_CONFIG, data: variableData('SecureBoot', Buffer.from([1])) },
      { pcr: 4, type: EV.EFI_BOOT_SERVICES_APPLICATION, data: imageLoadData('\\EFI\\BOOT\\BOOTX64.EFI'),
        measured: Buffer.from('shim 15.8') },
    ]), 1);
    let boot = await alice.request('DescribeBoot', { PropertyUuid: UUID }, { method: 'POST' });
    assert.ok(Object.values(boot.LastReport.Pcrs).every((p) => p.match && !p.Events), JSON.stringify(boot));
    // A new boot loader and a changed Secure Boot variable: PCR 4 and 7 differ.
    assert.equal(await report([
      { pcr: 4, type: EV.EFI_BOOT_SERVICES_APPLICATION, data: imageLoadData('\\EFI\\ubuntu\\grubx64.efi'),
        measured: Buffer.from('grub 2.12') },
      { pcr: 7, type: EV.EFI_VARIABLE_DRIVER_CONFIG, data: variableData('dbx', Buffer.from('new dbx')) },
      { pcr: 5, type: EV.EFI_ACTION, data: Buffer.from('Exit Boot Services Invocation') },
    ]), 2);
    boot = await alice.request('DescribeBoot', { PropertyUuid: UUID }, { method: 'POST' });
    const pcrs = boot.LastReport.Pcrs;
    assert.deepEqual(Object.keys(pcrs).filter((k) => !pcrs[k].match).sort(), ['pcr4', 'pcr5', 'pcr7']);
    assert.deepEqual(pcrs.pcr4.Events.map((e) => [e.EventNum, e.Type]),
      [[2, 'EV_EFI_BOOT_SERVICES_APPLICATION'], [3, 'EV_EFI_BOOT_SERVICES_APPLICATION']]);
    assert.match(pcrs.pcr4.Events[1].Description, /\\EFI\\ubuntu\\grubx64\.efi/);
    assert.equal(pcrs.pcr4.Events[1].Digest, eventDigests({ data: Buffer.from('grub 2.12') }).sha256);
    assert.deepEqual(pcrs.pcr7.Events.map((e) => e.Description), ['SecureBoot', 'dbx']);
    assert.deepEqual(pcrs.pcr5.Events.map((e) => [e.Type, e.Description]),
      [['EV_EFI_ACTION', 'Exit Boot Services Invocation']]);
    assert.equal(pcrs.pcr5.EventsOmitted, 0);
    for (const k of ['pcr0', 'pcr1', 'pcr6', 'pcr8']) assert.equal(pcrs[k].Events, undefined, k);
  });

  test('DescribeReports: the kept reports newest first, paged, with what differed; only the owner', async () => {
    let r = await alice.request('DescribeReports', { PropertyUuid: UUID }, { method: 'POST' });
    assert.equal(r.TotalCount, 2);
    assert.deepEqual(r.Reports.map((x) => [x.Seq, x.SystemTrustStatus, x.ProgramTrustStatus, x.DifferingPcrs]),
      [[2, 2, 4, [4, 5, 7]], [1, 1, 4, []]]);
    assert.equal(r.Reports[0].NextClientIMAIndex, 0);
    assert.equal(r.Reports[0].Reboot, false);
    assert.ok(r.Reports[0].GmtReport >= r.Reports[1].GmtReport && r.Reports[1].GmtReport > 0);
    r = await alice.request('DescribeReports', { PropertyUuid: UUID, PageSize: 1, PageNumber: 2 }, { method: 'POST' });
    assert.deepEqual([r.TotalCount, r.PageNumber, r.PageSize, r.Reports.map((x) => x.Seq)], [2, 2, 1, [1]]);
    // The operator's endpoint as alice; bob's own key and bob's account are refused.
    const as = (account) => request(`${srv.url}/admin/vtpm/${account}?Action=DescribeReports&Version=2020-06-13&PropertyUuid=${UUID}`,
      { headers: admin });
    r = await as('alice');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.Reports.length, 2);
    r = await as('bob');
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.Code, 'Forbidden.NotOwner');
    await assert.rejects(bob.request('DescribeReports', { PropertyUuid: UUID }, { method: 'POST' }),
      (e) => e.code === 'Forbidden.NotOwner');
    await assert.rejects(bob.request('DescribeBoot', { PropertyUuid: UUID }, { method: 'POST' }),
      (e) => e.code === 'Forbidden.NotOwner');
    await assert.rejects(alice.request('DescribeReports', { PropertyUuid: UUID, PageSize: 101 }, { method: 'POST' }),
      (e) => e.code === 'InvalidParameter');
    await assert.rejects(alice.request('DescribeReports', {}, { method: 'POST' }),
      (e) => e.code === 'MissingParameter');
    await assert.rejects(alice.request('DescribeReports', { PropertyUuid: 'nope' }, { method: 'POST' }),
      (e) => e.code === 'InvalidPropertyUuid.NotFound');
  });
});

describe('GET /admin/collateral/amd: the AMD chips stored, with expiry', () => {
  const SNP = '../vectors/snp';
  const CHIP = 'c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f'
    + '8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e';
  let srv;
  before(async () => { srv = await serverWith([]); });
  after(async () => { await srv?.stop(); });

  test('none, then the imported VCEK with its TCB and expiry and the Milan CRL; admin only', async () => {
    const amd = () => request(`${srv.url}/admin/collateral/amd`, { headers: admin });
    let r = await amd();
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { chips: [], crls: [] });
    for (const f of ['test-vcek.der', 'amd-milan-crl.der']) {
      const imp = await request(`${srv.url}/admin/collateral`, { method: 'POST',
        headers: { ...admin, 'content-type': 'application/octet-stream' }, body: readFileSync(join(SNP, f)) });
      assert.equal(imp.status, 200, imp.text);
    }
    r = await amd();
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual(r.body.chips, [{ id: `amd/vcek/Milan/${CHIP}/3-0-8-115`, product: 'Milan', hwid: CHIP,
      tcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 }, not_after: '2030-01-24T17:58:26Z',
      crl_next_update: r.body.crls[0].next_update }]);
    assert.equal(r.body.crls.length, 1);
    assert.equal(r.body.crls[0].product, 'Milan');
    assert.equal(r.body.crls[0].crl_number, 6);
    assert.match(r.body.crls[0].next_update, /^2026-05-12T/);
    assert.equal((await request(`${srv.url}/admin/collateral/amd`)).status, 401);
    assert.equal((await request(`${srv.url}/admin/collateral/amd`,
      { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
  });
});
