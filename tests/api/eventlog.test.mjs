// TDX event logs end to end against a real vouchd: real logs (GCP COS CCEL,
// dstack's JSON log, trustee's AA text log) posted with synthetic quotes from
// the DCAP test PKI (tests/tools/dcap_forge) whose RTMRs are the ones the
// real quotes of these logs carry, or ones this test replays itself.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as jose from 'jose';
import { startVouchd, vouch, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

const run = promisify(execFile);
const FORGE = process.env.DCAP_FORGE;
const V = '../vectors/tdx-eventlog';
const RTMR0 = 48 + 328;    // header + offset of RTMR0 in the TD report body

const gcpLog = readFileSync(join(V, 'go-tdx-guest/ccel_data.dat'));
const gcpQuote = readFileSync(join(V, 'go-tdx-guest/cos-113-tdx-quote.dat'));
const dstackLog = readFileSync(join(V, 'dstack/event_log.json'));
const dstackQuote = readFileSync(join(V, 'dstack/quote.bin'));
const aael = readFileSync(join(V, 'trustee/AAEL_data_1'), 'utf8');

const rtmrsOf = (quote) => Buffer.from(quote).subarray(RTMR0, RTMR0 + 4 * 48);
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const evidence = (quote, fields) => b64url(JSON.stringify({ quote: Buffer.from(quote).toString('base64'), ...fields }));
const sha384 = (...parts) => createHash('sha384').update(Buffer.concat(parts)).digest();

// trustee's AA log replay: s = INIT value; s = H(s || H(line)) for every line.
function aaelReplay(text) {
  const lines = text.split('\n').filter((l) => l.length);
  let s = Buffer.from(lines[0].split('/')[1], 'hex');
  for (const l of lines) s = sha384(s, sha384(Buffer.from(l)));
  return s;
}

// A forged quote with these RTMRs and a vouchd trusting its (fresh) test PKI.
async function forgedServer(rtmrs) {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-eventlog-'));
  const f = { quote: join(dir, 'q.bin'), collateral: join(dir, 'c.json'), root: join(dir, 'root.pem') };
  await run(FORGE, ['--quote', f.quote, '--collateral', f.collateral, '--root', f.root, '--rtmrs', rtmrs.toString('hex')]);
  await vouch(['collateral', 'import', '--db', `sqlite:${join(dir, 'vouch.db')}`, '--dcap-root', f.root, f.collateral]);
  const srv = await startVouchd({ dir, args: ['--dcap-root', f.root] });
  return {
    url: srv.url,
    quote: readFileSync(f.quote),
    stop: async () => { await srv.stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}

// Register reference values (an RVPS sample message).
async function registerRefs(url, values) {
  const payload = Buffer.from(JSON.stringify(values)).toString('base64');
  const r = await request(`${url}/reference-value`, {
    method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ version: '0.1.0', type: 'sample', payload }),
  });
  assert.equal(r.status, 200, r.text);
}

async function attestEar(url, ev, query = '', policyIds = []) {
  const r = await request(`${url}/attestation?token=ear${query}`, {
    method: 'POST',
    body: JSON.stringify({ verification_requests: [{ tee: 'tdx', evidence: ev }], policy_ids: policyIds }),
  });
  if (r.status !== 200) return { r };
  const cpu0 = jose.decodeJwt(r.text).submods.cpu0;
  return { r, tdx: cpu0['ear.veraison.annotated-evidence'].tdx, tv: cpu0['ear.trustworthiness-vector'] };
}

async function attestFlat(url, ev) {
  return request(`${url}/v1/attestation`, { method: 'POST', body: JSON.stringify({ tee: 'tdx', evidence: ev }) });
}

function assertProblem(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.body.code, code, r.text);
  if (field !== undefined) assert.equal(r.body.field, field, r.text);
}

describe('TDX event logs against forged quotes with the real logs\' RTMRs', () => {
  let G, D, A;     // servers whose quotes carry the GCP log's, dstack's, GCP + AA log's RTMRs
  before(async () => {
    G = await forgedServer(rtmrsOf(gcpQuote));
    D = await forgedServer(rtmrsOf(dstackQuote));
    // the GCP firmware log's RTMR0..2, then the AA log on its (zero) RTMR3
    A = await forgedServer(Buffer.concat([rtmrsOf(gcpQuote).subarray(0, 3 * 48), aaelReplay(aael)]));
  });
  after(async () => { await G?.stop(); await D?.stop(); await A?.stop(); });

  test('a CCEL that replays to the quote: the kernel command line as claims, the event list only with ?verbose=true', async () => {
    const ev = evidence(G.quote, { cc_eventlog: gcpLog.toString('base64') });
    const { r, tdx } = await attestEar(G.url, ev);
    assert.equal(r.status, 200, r.text);
    assert.equal(tdx.eventlog.present, true);
    assert.equal(tdx.eventlog.format, 'ccel');
    assert.equal(tdx.eventlog.events, 44);      // the Spec ID header and 43 events
    assert.equal(tdx.ccel.kernel_parameters.root, '/dev/dm-0');
    assert.equal(tdx.ccel.kernel_parameters.ro, null);
    assert.match(tdx.ccel.kernel_cmdline, /^\/syslinux\/vmlinuz\.A init=/);
    assert.equal(tdx.uefi_event_logs, undefined, 'the default token leaves the per-event list out');
    assert.ok(r.text.length < 20000, `default EAR token is ${r.text.length} characters`);

    const full = await attestEar(G.url, ev, '&verbose=true');
    assert.equal(full.r.status, 200, full.r.text);
    assert.equal(full.tdx.uefi_event_logs.length, 43);
    assert.equal(full.tdx.uefi_event_logs[0].digests[0].alg, 'SHA-384');
    assert.deepEqual(full.tdx.ccel, tdx.ccel);
    assert.ok(full.r.text.length > r.text.length + 40000, 'the list is most of a verbose token');

    const terse = await attestEar(G.url, ev, '&verbose=false');
    assert.equal(terse.r.status, 200, terse.r.text);
    assert.equal(terse.tdx.uefi_event_logs, undefined);
    assert.equal(terse.tdx.ccel.kernel_parameters.root, '/dev/dm-0');

    const bad = await request(`${G.url}/v1/attestation?verbose=yes`, { method: 'POST', body: JSON.stringify({ tee: 'tdx', evidence: ev }) });
    assertProblem(bad, 400, 'VOUCH.REQUEST.INVALID_ARGUMENT', 'verbose');
  });

  test('a policy reading input.tdx.uefi_event_logs still sees every event with the default token', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    // trustee-style: find GRUB's kernel command line among the events, count the events
    const rego = `package policy
import rego.v1
default allow := false
cmdlines := [s | some ev in input.tdx.uefi_event_logs; s := ev.details.string; startswith(s, "kernel_cmdline: ")]
allow if {
  count(input.tdx.uefi_event_logs) == 43
  count(cmdlines) == 1
  input.tdx.uefi_event_logs[0].digests[0].alg == "SHA-384"
}
default events := 0
events := count(input.tdx.uefi_event_logs)
trust_claims := {"executables": 2, "hardware": 2} if allow
trust_claims := {"executables": 33, "hardware": events} if not allow
`;
    const up = await request(`${G.url}/policy`, { method: 'POST', headers: admin, body: JSON.stringify({ policy_id: 'events', policy: b64url(rego) }) });
    assert.equal(up.status, 200, up.text);
    const ev = evidence(G.quote, { cc_eventlog: gcpLog.toString('base64') });
    const { r, tdx, tv } = await attestEar(G.url, ev, '', ['events']);
    assert.equal(r.status, 200, r.text);
    assert.equal(tv.executables, 2, `the policy saw ${tv.hardware} events, not 43 with one kernel command line`);
    assert.equal(tdx.uefi_event_logs, undefined, 'read by the policy, still not in the default token');
    const flat = await request(`${G.url}/v1/attestation`, { method: 'POST', body: JSON.stringify({ tee: 'tdx', evidence: ev, policy_ids: ['events'] }) });
    assert.equal(flat.status, 200, flat.text);
    const eventKeys = (jwt) => Object.keys(JSON.parse(jose.decodeJwt(jwt)['tcb-status']))
      .filter((k) => k.startsWith('tdx.uefi_event_logs'));
    assert.deepEqual(eventKeys(flat.text), []);
    const flatFull = await request(`${G.url}/v1/attestation?verbose=true`, { method: 'POST', body: JSON.stringify({ tee: 'tdx', evidence: ev, policy_ids: ['events'] }) });
    assert.equal(flatFull.status, 200, flatFull.text);
    assert.ok(eventKeys(flatFull.text).length > 0, 'flat token with ?verbose=true carries the events');
    // the same policy on a quote without a log: no events, so it does not allow
    const none = await attestEar(G.url, evidence(G.quote, { cc_eventlog: null }), '', ['events']);
    assert.equal(none.r.status, 200, none.r.text);
    assert.notEqual(none.tv.executables, 2);
  });

  test('dstack\'s JSON log (base64 of the JSON): runtime events as claims', async () => {
    const { r, tdx } = await attestEar(D.url, evidence(D.quote, { cc_eventlog: dstackLog.toString('base64') }));
    assert.equal(r.status, 200, r.text);
    assert.equal(tdx.eventlog.format, 'dstack');
    assert.equal(tdx.runtime_events['app-id'], '3763bc34552cf3a27ff71ad5f7a90471562a1a2d');
    assert.equal(JSON.parse(tdx.runtime_events['key-provider']).name, 'local-sgx');
    assert.equal(tdx.ccel.initrd.length, 96);
  });

  test('the AA text log on RTMR3: tdx.aael claims', async () => {
    const { r, tdx } = await attestEar(A.url, evidence(A.quote, { cc_eventlog: gcpLog.toString('base64'), aa_eventlog: aael }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(tdx.aael['image-rs'].CreateContainer, ['docker.io/library/alpine']);
    assert.deepEqual(tdx.aael['image-rs/CreateContainer'], ['docker.io/library/alpine']);
    assert.equal(tdx.eventlog.aa_eventlog, true);
  });

  test('vouch attest --eventlog --aa-eventlog sends both logs with a quote file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vouch-attest-logs-'));
    try {
      const f = { quote: join(dir, 'quote.bin'), cc: join(dir, 'ccel.bin'), aa: join(dir, 'aael.txt') };
      writeFileSync(f.quote, A.quote);
      writeFileSync(f.cc, gcpLog);
      writeFileSync(f.aa, aael);
      const { stdout } = await vouch(['attest', '--tee', 'tdx', '--evidence', f.quote, '--eventlog', f.cc,
        '--aa-eventlog', f.aa, '--url', A.url, '--ear', '--raw']);
      const cpu0 = jose.decodeJwt(stdout.trim()).submods.cpu0;
      const tdx = cpu0['ear.veraison.annotated-evidence'].tdx;
      assert.equal(tdx.eventlog.format, 'ccel');
      assert.equal(tdx.eventlog.aa_eventlog, true);
      assert.deepEqual(tdx.aael['image-rs'].CreateContainer, ['docker.io/library/alpine']);
      // without the AA log RTMR3 does not replay: the server says so, and vouch exits non-zero
      await assert.rejects(vouch(['attest', '--tee', 'tdx', '--evidence', f.quote, '--eventlog', f.cc,
        '--url', A.url]), (e) => e.code !== 0 && /EVENTLOG_MISMATCH/.test(e.stdout + e.stderr));
      // the flags are for tdx
      await assert.rejects(vouch(['attest', '--tee', 'sgx', '--evidence', f.quote, '--eventlog', f.cc,
        '--url', A.url]), (e) => e.code === 2 && /--tee tdx/.test(e.stderr));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('no log is allowed, and a claim says so (flat token)', async () => {
    const r = await attestFlat(G.url, evidence(G.quote, { cc_eventlog: null }));
    assert.equal(r.status, 200, r.text);
    const tcb = JSON.parse(jose.decodeJwt(r.text)['tcb-status']);
    assert.equal(tcb['tdx.eventlog.present'], false);
  });

  test('a log that does not replay is 422 EVENTLOG_MISMATCH naming the RTMR', async () => {
    // another quote's log
    let r = await attestFlat(G.url, evidence(G.quote, { cc_eventlog: dstackLog.toString('base64') }));
    assertProblem(r, 422, 'VOUCH.EVIDENCE.EVENTLOG_MISMATCH', 'evidence.cc_eventlog');
    assert.match(r.body.detail, /RTMR0 \(CC MR index 1\)/);
    // one flipped digest byte in the first event after the Spec ID header (MR index 1)
    const flipped = Buffer.from(gcpLog);
    flipped[65 + 12 + 2 + 7] ^= 1;
    r = await attestFlat(G.url, evidence(G.quote, { cc_eventlog: flipped.toString('base64') }));
    assertProblem(r, 422, 'VOUCH.EVIDENCE.EVENTLOG_MISMATCH', 'evidence.cc_eventlog');
    // the AA log without the quote's RTMR3 having been extended
    r = await attestFlat(G.url, evidence(G.quote, { cc_eventlog: gcpLog.toString('base64'), aa_eventlog: aael }));
    assertProblem(r, 422, 'VOUCH.EVIDENCE.EVENTLOG_MISMATCH', 'evidence.aa_eventlog');
    assert.match(r.body.detail, /RTMR3 \(CC MR index 4\)/);
    // a dstack runtime event whose digest is not the hash of its content
    const tampered = dstackLog.toString().replace('"event_payload":"3763bc', '"event_payload":"4763bc');
    r = await attestFlat(D.url, evidence(D.quote, { cc_eventlog: Buffer.from(tampered).toString('base64') }));
    assertProblem(r, 422, 'VOUCH.EVIDENCE.EVENTLOG_MISMATCH');
    assert.match(r.body.detail, /app-id/);
  });

  test('a malformed log is 400 naming the field; the server keeps serving', async () => {
    const truncated = gcpLog.subarray(0, 65 + 30);
    const wrongIndex = Buffer.from(gcpLog);
    wrongIndex[65] = 5;
    const cases = [
      [{ cc_eventlog: 'not base64!' }, 'evidence.cc_eventlog'],
      [{ cc_eventlog: truncated.toString('base64') }, 'evidence.cc_eventlog'],
      [{ cc_eventlog: wrongIndex.toString('base64') }, 'evidence.cc_eventlog'],
      [{ cc_eventlog: Buffer.from('[{"imr":9}]').toString('base64') }, 'evidence.cc_eventlog[0]'],
      [{ cc_eventlog: null, aa_eventlog: 'INIT sha1/00' }, 'evidence.aa_eventlog'],
      [{ cc_eventlog: 42 }, 'evidence.cc_eventlog'],
    ];
    for (const [fields, field] of cases) {
      assertProblem(await attestFlat(G.url, evidence(G.quote, fields)), 400, 'VOUCH.EVIDENCE.INVALID_FORMAT', field);
      assert.equal((await request(`${G.url}/healthz`)).status, 200);
    }
  });

  test('GRUB command text that is not UTF-8 gives a token, never a 5xx', async () => {
    // The log's digests are left alone, so it still replays to the quote.
    const cases = [
      ['kernel_cmdline: /syslinux/vmlinuz.A init=', 'kernel_cmdline: /syslinux/vmlinuz.A in\xff='],
      ['rootwait ro', 'rootwait \xc3o'],
      ['grub_cmd: set timeout=0', 'grub_cmd: set timeout=\xe2'],
      ['grub_cmd: defaultA=2', 'grub_cmd: default\xed\xa0\x80'],
    ];
    for (const [from, to] of cases) {
      const log = Buffer.from(gcpLog);
      const at = log.indexOf(from, 0, 'latin1');
      assert.ok(at > 0, from);
      Buffer.from(to, 'latin1').copy(log, at);
      const { r, tdx } = await attestEar(G.url, evidence(G.quote, { cc_eventlog: log.toString('base64') }));
      assert.equal(r.status, 200, `${JSON.stringify(to)}: ${r.text}`);
      assert.equal(tdx.eventlog.format, 'ccel');
      if (tdx.ccel.kernel_cmdline !== undefined) assert.equal(typeof tdx.ccel.kernel_cmdline, 'string');
    }
    assert.equal((await request(`${G.url}/healthz`)).status, 200);
  });

  test('the default policy checks the RTMRs and the kernel command line against reference values', async () => {
    const ev = evidence(G.quote, { cc_eventlog: gcpLog.toString('base64') });
    let { tv } = await attestEar(G.url, ev);
    assert.equal(tv.executables ?? 0, 0, 'no reference values: not compared');
    const { tdx } = await attestEar(G.url, ev);
    await registerRefs(G.url, { rtmr_1: [tdx.quote.body.rtmr_1], kernel_cmdline: ['root=/dev/vda1 console=hvc0 rw'] });
    ({ tv } = await attestEar(G.url, ev));
    assert.equal(tv.executables, 33, 'another command line');
    await registerRefs(G.url, { kernel_cmdline: ['root=/dev/vda1 console=hvc0 rw', tdx.ccel.kernel_cmdline] });
    ({ tv } = await attestEar(G.url, ev));
    assert.equal(tv.executables, 2, 'the pinned command line and RTMR1');
    // GRUB's kernel and command-line digests (tdx.ccel.kernel, cmdline), for boots whose log
    // has no command line as text.
    assert.match(tdx.ccel.kernel, /^[0-9a-f]{96}$/);
    await registerRefs(G.url, { kernel_digest: [tdx.ccel.kernel], cmdline_digest: ['00'.repeat(48)] });
    ({ tv } = await attestEar(G.url, ev));
    assert.equal(tv.executables, 33, 'another command-line digest');
    await registerRefs(G.url, { cmdline_digest: [tdx.ccel.cmdline] });
    ({ tv } = await attestEar(G.url, ev));
    assert.equal(tv.executables, 2, 'the pinned kernel and command-line digests');
    ({ tv } = await attestEar(G.url, evidence(G.quote, { cc_eventlog: null })));
    assert.equal(tv.executables, 33, 'a pinned command line needs the event log');
  });
});
