// The web console in a real browser: Debian's chromium, headless, driven by
// npm puppeteer-core (no browser download), against a real vouchd whose
// instances are registered through the real RPC API (@alicloud/pop-core),
// one of them reporting from swtpm through tpm2-tools, and whose TDX
// attestation is a real POST /v1/attestation; an SEV-SNP attestation makes
// vouchd fetch its chip's VCEK from a KDS on loopback.  Any console error,
// failed request or request to anywhere but this vouchd fails the test.
// Screenshots of every page go to $CONSOLE_SCREENSHOTS (default: a temporary
// directory named in the output).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { createDecipheriv, createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import puppeteer from 'puppeteer-core';
import { Swtpm, haveSwtpm } from './lib/swtpm.mjs';
import { startVouchd, vouch, request, freshPostgresDb, PG_BASE, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { EV, eventLog, eventDigests } from './lib/eventlog.mjs';

const require = createRequire(import.meta.url);
const RPCClient = require('@alicloud/pop-core');
const run = promisify(execFile);

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS || mkdtempSync(join(tmpdir(), 'vouch-console-shots-'));
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const b64url = (buf) => Buffer.from(buf).toString('base64url');

let srv, browser, work, page, tpm, kds;
const kdsPaths = [];          // what vouchd asked the loopback KDS for
const problems = [];          // console errors, failed or foreign requests
const expectedFailures = [];  // {method, path, status} the test provokes on purpose
const keys = {};
const noTpm = haveSwtpm() ? false : 'swtpm or tpm2-tools not installed';
const missing = new Set();    // vTPM actions this server does not offer yet

async function newKey(account) {
  const r = await request(`${srv.url}/admin/accesskeys`, { method: 'POST', headers: admin,
    body: JSON.stringify({ account }) });
  assert.equal(r.status, 201, r.text);
  return { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
}

// A KDS on loopback that knows one chip: AMD's answers for trustee's SNP test
// report (tests/vectors/snp), as https://kdsintf.amd.com serves them.
const SNP = '../vectors/snp';
const SNP_CHIP = 'c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f'
  + '8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e';
function startKds() {
  const vcek = readFileSync(join(SNP, 'test-vcek.der'));
  const crl = readFileSync(join(SNP, 'amd-milan-crl.der'));
  const server = createServer((req, res) => {
    kdsPaths.push(req.url);
    const body = req.url === '/vcek/v1/Milan/crl' ? crl
      : req.url.startsWith(`/vcek/v1/Milan/${SNP_CHIP}?`) ? vcek : null;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/octet-stream' });
    res.end(body ?? '');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const pop = (key) => new RPCClient({ accessKeyId: key.id, accessKeySecret: key.secret,
  endpoint: srv.url, apiVersion: '2020-06-13' });

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: scripts/bootstrap installs Debian's chromium`);
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'vouch-console-'));
  // A synthetic TDX quote and collateral from the DCAP test PKI, valid now.
  const q = join(work, 'q.bin'), col = join(work, 'c.json'), root = join(work, 'root.pem');
  await run(process.env.DCAP_FORGE, ['--quote', q, '--collateral', col, '--root', root]);
  const db = PG_BASE ? await freshPostgresDb() : `sqlite:${join(work, 'vouch.db')}`;
  await vouch(['collateral', 'import', '--db', db, '--dcap-root', root, col]);
  kds = await startKds();
  const args = ['--dcap-root', root, '--amd-kds-url', `http://127.0.0.1:${kds.address().port}`];
  if (!noTpm) {
    tpm = new Swtpm(mkdtempSync(join(tmpdir(), 'vouch-console-tpm-')));
    await tpm.manufacture();
    await tpm.start();
    args.push('--vtpm-ek-roots', tpm.ekRoots);
  }
  srv = await startVouchd({ dir: work, db, args });
  keys.alice = await newKey('alice');
  keys.bob = await newKey('bob');
  for (const [key, uuid, name] of [[keys.alice, 'uuid-alice-1', 'web-1'], [keys.alice, 'uuid-alice-2', 'db-1'],
    [keys.bob, 'uuid-bob-1', 'bob-vm']])
    await pop(key).request('RegisterMessage', { PropertyUuid: uuid, PropertyName: name,
      InstanceId: 'i-' + uuid, PropertyPrivateIp: '10.0.0.1' }, { method: 'POST' });
  for (const action of ['DescribeBoot', 'DescribeEvents']) {
    try {
      await pop(keys.alice).request(action, { PropertyUuid: 'uuid-alice-1' }, { method: 'POST' });
    } catch (e) {
      if (e.code === 'InvalidAction.NotFound') missing.add(action);
    }
  }
  // First trustee's SEV-SNP evidence carries no VCEK: vouchd fetches it (and the CRL) from the KDS.
  const snp = await request(`${srv.url}/v1/attestation`, { method: 'POST', body: JSON.stringify({ tee: 'snp',
    evidence: Buffer.from(readFileSync(join(SNP, 'trustee-e2e-evidence.json'))).toString('base64url') }) });
  assert.ok(kdsPaths.some((p) => p.startsWith(`/vcek/v1/Milan/${SNP_CHIP}?`)), `${snp.status} ${snp.text} ${kdsPaths}`);
  const evidence = b64url(JSON.stringify({ quote: readFileSync(q).toString('base64'), cc_eventlog: null }));
  const r = await request(`${srv.url}/v1/attestation`, { method: 'POST',
    body: JSON.stringify({ tee: 'tdx', evidence, policy_ids: [] }) });
  assert.equal(r.status, 200, r.text);

  browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true, userDataDir: join(work, 'profile'),
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions', '--metrics-recording-only',
      '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    if (!req.url().startsWith(srv.url + '/')) {
      problems.push(`request outside vouchd: ${req.url()}`);
      req.abort();
    } else {
      req.continue();
    }
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push({ console: msg.text(), at: msg.location()?.url });
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (resp) => {
    if (resp.status() < 400) return;
    const path = new URL(resp.url()).pathname;
    const i = expectedFailures.findIndex((f) => f.path === path && f.status === resp.status() &&
      f.method === resp.request().method());
    if (i >= 0) expectedFailures.splice(i, 1);
    else problems.push(`HTTP ${resp.status()} for ${resp.request().method()} ${path}`);
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop({ keep: true });
  await new Promise((resolve) => (kds ? kds.close(resolve) : resolve()));
  await tpm?.stop();
  if (tpm) rmSync(tpm.dir, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

// The console logs failed fetches as errors; the ones the test provokes are expected.
function expectFailure(method, path, status) {
  expectedFailures.push({ method, path, status });
}

function noProblems() {
  const real = problems.filter((p) => !(p.console && /status of 4\d\d/.test(p.console) &&
    p.at && expectedConsole.has(new URL(p.at).pathname)));
  assert.deepEqual(real, []);
}
const expectedConsole = new Set();

// A screenshot of the page, which must not show a value the script failed to fill in.
async function shot(name) {
  const text = await page.$eval('main', (m) => m.textContent);
  assert.doesNotMatch(text, /\b(null|undefined|NaN|\[object Object\])\b/, `${name}: ${text}`);
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });
}

async function goto(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}

async function loginWithKey(key) {
  await page.goto(`${srv.url}/console`, { waitUntil: 'domcontentloaded' });
  await page.evaluate(() => sessionStorage.clear());
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#ak-id');
  await page.type('#ak-id', key.id);
  await page.type('#ak-secret', key.secret);
  await page.click('#ak-login');
  await page.waitForSelector('table[aria-label="Instances"] tbody tr');
}

async function logout() {
  await page.click('#logout');
  await page.waitForSelector('#ak-id');
}

const rowUuids = () => page.$$eval('tr[data-uuid]', (rows) => rows.map((r) => r.dataset.uuid));

test("an account's AccessKey: its own instances, signed in the page, no secret outside the tab", async () => {
  await loginWithKey(keys.alice);
  assert.deepEqual((await rowUuids()).sort(), ['uuid-alice-1', 'uuid-alice-2']);
  // Registered, never reported: the whole bar grey, with the last report time.
  const states = await page.$$eval('tr[data-uuid="uuid-alice-1"] .stage', (s) => s.map((x) => x.dataset.state));
  assert.deepEqual(states, ['none', 'none', 'none', 'none', 'none']);
  const note = await page.$eval('tr[data-uuid="uuid-alice-1"] .stagenote', (n) => n.textContent);
  assert.match(note, /Unmeasured · last report never/);
  assert.match(await page.$eval('tr[data-uuid="uuid-alice-1"]', (r) => r.textContent), /Not evaluated/);
  // The secret lives in sessionStorage only: no cookie, nothing in localStorage.
  const stored = await page.evaluate(() => ({ cookie: document.cookie, local: localStorage.length,
    session: sessionStorage.getItem('vouch.console') }));
  assert.equal(stored.cookie, '');
  assert.equal(stored.local, 0);
  assert.equal(JSON.parse(stored.session).secret, keys.alice.secret);
  await shot('instances');
  await page.setViewport({ width: 390, height: 844, isMobile: true });
  await shot('instances-phone');
  await page.setViewport({ width: 1280, height: 860 });
  noProblems();
});

test('filters by trust and online status, and the instance detail', async () => {
  // The previous test's isMobile viewport change reloads the page: wait for the list again.
  await page.waitForSelector('#f-status');
  await page.waitForSelector('tr[data-uuid="uuid-alice-2"]');
  await page.select('#f-status', '1');
  await page.waitForFunction(() => /No instance matches/.test(document.querySelector('main').textContent));
  await page.select('#f-status', '4');
  await page.waitForSelector('tr[data-uuid="uuid-alice-2"]');
  await page.select('#f-online', '1');
  await page.waitForFunction(() => /No instance matches/.test(document.querySelector('main').textContent));
  await page.select('#f-online', '0');
  await page.waitForSelector('tr[data-uuid="uuid-alice-2"]');
  // An instance that never reported has no baseline: DescribeBoot answers 404 (as it does
  // on a server without the action); DescribeEvents fails only where it does not exist.
  expectFailure('POST', '/', 404);
  if (missing.has('DescribeEvents')) expectFailure('POST', '/', 404);
  expectedConsole.add('/');
  await page.click('tr[data-uuid="uuid-alice-2"] a');
  await page.waitForSelector('table[aria-label="PCRs"]');
  const text = await page.$eval('main', (m) => m.textContent);
  assert.match(text, /uuid-alice-2/);
  assert.match(text, /db-1/);
  assert.match(text, /nextClientIMAIndex/);
  assert.equal(await page.$$eval('table[aria-label="PCRs"] tbody tr', (r) => r.length), 10);
  await shot('instance');
  noProblems();
});

test('boot stages: the first failing stage red, the later ones grey', async () => {
  const got = await page.evaluate(async () => {
    const m = await import('/console/app.js');
    const on = { OnlineStatus: 1 };
    return {
      trusted: m.stageStates({ ...on, SystemTrustStatus: 1 }),
      pcr5: m.stageStates({ ...on, SystemTrustStatus: 2, Extensions: '{"pcr5":"ab"}' }),
      pcr0and8: m.stageStates({ ...on, SystemTrustStatus: 2, Extensions: { pcr8: 'x', pcr0: 'y' } }),
      offline: m.stageStates({ OnlineStatus: 0, SystemTrustStatus: 1 }),
      stages: m.STAGES.map((s) => s.pcrs),
    };
  });
  assert.deepEqual(got.stages, [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]);
  assert.deepEqual(got.trusted, ['ok', 'ok', 'ok', 'ok', 'ok']);
  assert.deepEqual(got.pcr5, ['ok', 'ok', 'bad', 'none', 'none']);
  assert.deepEqual(got.pcr0and8, ['bad', 'none', 'none', 'none', 'none']);
  assert.deepEqual(got.offline, ['none', 'none', 'none', 'none', 'none']);
});

test('the events page answers, and a second account does not see the first one\'s instances', async () => {
  if (missing.has('DescribeEvents')) expectFailure('POST', '/', 404);
  await goto('#/events');
  await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Events' &&
    !/Loading/.test(document.querySelector('main').textContent));
  await shot('events');
  await logout();
  await loginWithKey(keys.bob);
  assert.deepEqual(await rowUuids(), ['uuid-bob-1']);
  // bob's key cannot open alice's instance
  await goto('#/instance/uuid-alice-1');
  expectFailure('POST', '/', 403);
  expectedConsole.add('/');
  await page.waitForSelector('main [role="alert"]');
  assert.match(await page.$eval('main [role="alert"]', (a) => a.textContent), /Forbidden\.NotOwner/);
  await logout();
  noProblems();
});

test('a wrong secret is refused at login with what happened', async () => {
  await page.type('#ak-id', keys.alice.id);
  await page.type('#ak-secret', 'not-the-secret');
  expectFailure('POST', '/', 400);
  await page.click('#ak-login');
  await page.waitForSelector('.login [role="alert"] .alert');
  assert.match(await page.$eval('.login [role="alert"]', (a) => a.textContent), /SignatureDoesNotMatch/);
  noProblems();
});

// --- an instance reporting from swtpm (tpm2-tools as the agent, pop-core as its client)

const TPM_UUID = 'uuid-alice-tpm';
const call = (action, params) => pop(keys.alice).request(action, params, { method: 'POST' });
let akCertPem;
const firmwareEvents = [];    // what the "firmware" measured since the TPM started: the event log

// Measure one event as firmware does: extend its PCR, append it to the log.
function measure(ev) {
  const d = eventDigests(ev);
  tpm.extend(ev.pcr, d.sha1, d.sha256);
  firmwareEvents.push(ev);
}

// ProduceAikcert by credential activation in the TPM (docs/vtpm.md), as vtpm_e2e does.
async function enroll() {
  await call('RegisterMessage', { PropertyUuid: TPM_UUID, PropertyName: 'tpm-vm', InstanceId: 'i-tpm' });
  const k = tpm.createKeys();
  const { Data } = await call('ProduceAikcert', { PropertyUuid: TPM_UUID,
    EkPubKey: k.ekPub.toString('base64'), EkCert: k.ekCert.toString('base64'),
    AikName: k.akName.toString('hex'), CertRequest: k.akPub.toString('base64') });
  const credFile = join(tpm.dir, 'cred.bin');
  writeFileSync(credFile, Buffer.concat([Buffer.from('badcc0de00000001', 'hex'),
    Buffer.from(Data.KeyCredentialBlob, 'base64')]));
  const secret = tpm.activate(credFile);
  const blob = Buffer.from(Data.DataCredentialBlob, 'base64');
  const d = createDecipheriv('aes-128-cbc', secret, blob.subarray(4, 20));
  const pem = Buffer.concat([d.update(blob.subarray(20)), d.final()]).toString('utf8');
  akCertPem = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/)[0];
}

// GenerateNonce, tpm2_quote, FileData, PutMessage.
async function report() {
  const { data } = await call('GenerateNonce', { PropertyUuid: TPM_UUID });
  const q = tpm.quote(data.Nonce);
  const doc = { version: 1, nonce: data.Nonce, quote: q.msg.toString('base64'),
    signature: q.sig.toString('base64'), pcrs: q.pcrs };
  if (akCertPem) doc.ak_cert = akCertPem;
  if (firmwareEvents.length) doc.eventlog = eventLog(firmwareEvents).toString('base64');
  akCertPem = null;
  const r = await call('PutMessage', { PropertyUuid: TPM_UUID,
    FileData: Buffer.from(JSON.stringify(doc)).toString('base64') });
  return r.data.systemVerificationResult.status;
}

async function stagesOf(uuid) {
  await page.evaluate(() => document.getElementById('main').replaceChildren());
  await goto('#/instances?r=' + Date.now());
  await page.waitForSelector(`tr[data-uuid="${uuid}"] .stage`);
  return page.$$eval(`tr[data-uuid="${uuid}"] .stage`, (s) => s.map((x) => x.dataset.state));
}

test('swtpm: trusted; PCR 5 extended turns the boot loader stage red, Trust; PCR 8, Ignore', { skip: noTpm }, async () => {
  await enroll();
  assert.equal(await report(), 1);
  await loginWithKey(keys.alice);
  assert.deepEqual(await stagesOf(TPM_UUID), ['ok', 'ok', 'ok', 'ok', 'ok']);
  await shot('instances-trusted');

  // The boot loader hands over: two events extend PCR 5, and the report's event log has them.
  measure({ pcr: 5, type: EV.EFI_ACTION, data: Buffer.from('Exit Boot Services Invocation') });
  measure({ pcr: 5, type: EV.EFI_ACTION, data: Buffer.from('Exit Boot Services Returned with Success') });
  assert.equal(await report(), 2);
  // PCR 4 and 5 are the boot loader: firmware and UEFI drivers green, boot loader red, the rest grey.
  assert.deepEqual(await stagesOf(TPM_UUID), ['ok', 'ok', 'bad', 'none', 'none']);
  assert.match(await page.$eval(`tr[data-uuid="${TPM_UUID}"]`, (r) => r.textContent), /Exception/);
  await shot('instances-exception');

  // The detail: PCR 5 differs from the baseline, the others match; under it the two
  // events of the log that explain it; the timeline has both reports.
  await page.click(`tr[data-uuid="${TPM_UUID}"] a`);
  await page.waitForSelector('tr[data-pcr="5"].pcrbad');
  assert.equal(await page.$$eval('table[aria-label="PCRs"] tr.pcrbad', (r) => r.length), 1);
  assert.equal(await page.$eval('#next-ima', (e) => e.textContent), '0');
  const explained = await page.$$eval('tr[data-pcr-events="5"] tbody tr', (rows) => rows.map((r) =>
    [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(explained.map((c) => c.slice(0, 3)), [
    ['1', 'EV_EFI_ACTION', 'Exit Boot Services Invocation'],
    ['2', 'EV_EFI_ACTION', 'Exit Boot Services Returned with Success']]);
  assert.equal(explained[0][3], eventDigests({ data: Buffer.from('Exit Boot Services Invocation') }).sha256);
  assert.equal(await page.$$eval('tr[data-pcr-events]', (r) => r.length), 1, 'events only under the differing PCR');
  const timeline = await page.$$eval('ol.timeline [data-report]', (l) => l.map((x) => x.textContent));
  assert.equal(timeline.length, 2, timeline.join('|'));
  assert.match(timeline[0], /^report #2: .*Exception system, .*Not evaluated program · next IMA index 0 · differed: PCR5$/);
  assert.match(timeline[1], /^report #1: .*Trusted system.* · matched the baseline$/);
  await shot('instance-exception');

  // Events: the open PCR 5 event; Trust asks first, then shows the result.
  await goto('#/events');
  await page.waitForSelector('tr[data-event] button[data-action="trust"]');
  assert.match(await page.$eval('tr[data-event]', (r) => r.textContent), /pcr5/);
  await shot('events-open');
  await page.click('tr[data-event] button[data-action="trust"]');
  await page.waitForSelector('#confirm[open]');
  assert.match(await page.$eval('#confirm-text', (e) => e.textContent), /pcr5/);
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /Trust: event .* done \(pcr5 on tpm-vm\)/.test(document.querySelector('#event-result')?.textContent) &&
    /No open event/.test(document.querySelector('main').textContent));

  // After the next report the row is trusted again.
  assert.equal(await report(), 1);
  assert.deepEqual(await stagesOf(TPM_UUID), ['ok', 'ok', 'ok', 'ok', 'ok']);

  // PCR 8 (kernel command line): only the last stage red; Ignore closes the event and
  // keeps the whitelist, so the same drift is still an exception at the next report.
  tpm.extend(8, createHash('sha1').update('quiet splash').digest('hex'),
    createHash('sha256').update('quiet splash').digest('hex'));
  assert.equal(await report(), 2);
  assert.deepEqual(await stagesOf(TPM_UUID), ['ok', 'ok', 'ok', 'ok', 'bad']);
  await goto('#/events');
  await page.waitForSelector('tr[data-event] button[data-action="ignore"]');
  await page.click('tr[data-event] button[data-action="ignore"]');
  await page.waitForSelector('#confirm[open]');
  assert.match(await page.$eval('#confirm-text', (e) => e.textContent), /pcr8.*whitelist stays/);
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /Ignore: event .* done \(pcr8 on tpm-vm\)/.test(document.querySelector('#event-result')?.textContent) &&
    /No open event/.test(document.querySelector('main').textContent));
  const ignored = await call('DescribeEvents', { PropertyUuid: TPM_UUID, EventStatus: 3 });
  assert.equal(ignored.TotalCount, 1);
  assert.equal(await report(), 2);
  // Another account's key does not see it.
  await logout();
  await loginWithKey(keys.bob);
  assert.ok(!(await rowUuids()).includes(TPM_UUID));
  await logout();
  noProblems();
});

test('the admin token: every account, the attestations, collateral and policies', async () => {
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#admin-token');
  await page.type('#admin-token', ADMIN_TOKEN);
  await page.click('#admin-login');
  await page.waitForSelector('#account');
  await page.select('#account', 'alice');
  await page.waitForSelector('tr[data-uuid="uuid-alice-1"]');
  await page.select('#account', 'bob');
  await page.waitForSelector('tr[data-uuid="uuid-bob-1"]');

  await goto('#/attestations');
  await page.waitForSelector('table[aria-label="Attestations"] tr[data-id]');
  const att = await page.$eval('table[aria-label="Attestations"] tbody tr', (r) => r.textContent);
  assert.match(att, /tdx/);
  assert.match(att, /Allow/);
  assert.match(att, /UpToDate|OutOfDate|SWHardeningNeeded|ConfigurationNeeded/);
  const atts = await page.$$eval('table[aria-label="Attestations"] tbody tr', (rows) => rows.map((r) => r.cells[1].textContent));
  assert.deepEqual(atts, ['tdx', 'snp']);
  await shot('attestations');

  await goto('#/collateral');
  await page.waitForSelector('table[aria-label="FMSPCs"]');
  const fm = await page.$$eval('table[aria-label="FMSPCs"] tbody tr', (rows) => rows.map((r) => r.textContent));
  assert.ok(fm.length >= 1 && /[0-9A-F]{12}/.test(fm[0]), fm.join('|'));
  // The chip whose VCEK vouchd fetched for the SNP attestation: its TCB, the VCEK's expiry,
  // and the Milan CRL's nextUpdate (2026-05-12), past, so the row is marked expired.
  const chip = await page.$eval(`table[aria-label="AMD chips"] tr[data-chip="${SNP_CHIP}"]`, (r) =>
    ({ cls: r.className, cells: [...r.cells].map((c) => c.textContent) }));
  assert.equal(chip.cells[0], 'Milan');
  assert.equal(chip.cells[1], SNP_CHIP.slice(0, 16) + '\u2026');
  assert.equal(chip.cells[2], '3/0/8/115');
  assert.match(chip.cells[3], /2030/);
  const crlExpired = Date.parse('2026-05-12T00:00:00Z') < Date.now();
  assert.match(chip.cells[4], crlExpired ? /expired/ : /2026/);
  assert.equal(chip.cls, crlExpired ? 'expired' : Date.parse('2026-05-12T00:00:00Z') - Date.now() < 7 * 86400000 ? 'expiring' : '');
  await shot('collateral');

  await goto('#/policies');
  await page.waitForSelector('#p-text');
  await page.type('#p-id', 'broken');
  await page.type('#p-text', 'package policy\n\ndefault allow := false\nallow if {\n  input.x ==\n}\n');
  expectFailure('POST', '/policy', 400);
  expectedConsole.add('/policy');
  await page.click('#p-upload');
  await page.waitForSelector('.compile-error');
  const err = await page.$eval('.compile-error', (e) => e.textContent);
  assert.match(err, /^\d+:\d+: /);
  assert.match(await page.$eval('#policy-result', (e) => e.textContent), /Nothing was stored/);
  assert.ok(await page.$('#policy-result .errline'), 'the failing line is marked');
  await shot('policies-error');
  let r = await request(`${srv.url}/policy/broken`, { headers: admin });
  assert.equal(r.status, 404, 'nothing stored');
  await page.$eval('#p-text', (t) => { t.value = ''; });
  await page.type('#p-text', 'package policy\n\ndefault allow := true\n');
  await page.click('#p-upload');
  await page.waitForFunction(() => /Policy broken/.test(document.querySelector('main').textContent));
  r = await request(`${srv.url}/policy/broken`, { headers: admin });
  assert.equal(r.status, 200);
  await shot('policies');
  noProblems();
});

test('labels on every control, a skip link first, keyboard reachable', async () => {
  const unlabeled = await page.$$eval('input, select, textarea', (els) =>
    els.filter((e) => e.type !== 'hidden' && !e.labels?.length && !e.getAttribute('aria-label')).map((e) => e.id || e.outerHTML));
  assert.deepEqual(unlabeled, []);
  // From the page's content back to the header: Log out, by keyboard alone.
  await page.focus('main');
  await page.keyboard.down('Shift');
  await page.keyboard.press('Tab');
  await page.keyboard.up('Shift');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'logout');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#ak-id');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'ak-id');
  // The skip link comes first.
  await page.keyboard.down('Shift');
  await page.keyboard.press('Tab');
  await page.keyboard.up('Shift');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  assert.equal(await page.$eval('#nav', (n) => getComputedStyle(n).display), 'none', 'no pages before login');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'logging out forgets the credentials');
  noProblems();
  assert.deepEqual(expectedFailures, [], 'every provoked failure happened');
  test.diagnostic?.(`screenshots in ${SHOTS}`);
  console.log(`# screenshots in ${SHOTS}`);
});
