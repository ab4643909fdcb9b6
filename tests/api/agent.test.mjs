// vouch-agent end to end: the real agent binary, a software TPM (swtpm)
// and a real vouchd.  tpm2-tools play the firmware and the kernel (they
// extend PCRs); the agent itself talks to the TPM through ESYS only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  mkdtempSync, rmSync, mkdirSync, writeFileSync, chmodSync, statSync, readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, newAccessKey } from './lib/vouchd.mjs';
import { Swtpm, haveSwtpm } from './lib/swtpm.mjs';
import { Machine, pcrExtendSpec, tctiOf } from './lib/tpmsim.mjs';

const require = createRequire(import.meta.url);
const RPCClient = require('@alicloud/pop-core');

const AGENT = process.env.VOUCH_AGENT;
if (!AGENT) throw new Error('set VOUCH_AGENT to the built vouch-agent (meson test does)');

const skip = !haveSwtpm() && 'swtpm or tpm2-tools not installed';
let dir, srv, tpm, key;


// Run vouch-agent --once; resolves { code, stdout, stderr } whatever the exit status.
function agent(args, { k = key, stateDir = join(dir, 'agent-state'), tcti = tpm && tctiOf(tpm) } = {}) {
  const argv = ['--once', '--server', srv.url, '--access-key-id', k.id,
    '--access-key-secret', k.secret, '--tcti', tcti, '--state-dir', stateDir,
    '--eventlog', '', '--ima-log', '', '--boot-id-file', join(dir, 'boot_id'), ...args];
  return new Promise((resolve) => {
    execFile(AGENT, argv, { env: { ...process.env, TSS2_LOG: 'all+NONE' } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'vouch-agent-'));
  writeFileSync(join(dir, 'boot_id'), 'boot-1\n');
  mkdirSync(join(dir, 'tpm'));
  tpm = new Swtpm(join(dir, 'tpm'));
  await tpm.manufacture();
  await tpm.start();
  mkdirSync(join(dir, 'vouchd'));
  srv = await startVouchd({ dir: join(dir, 'vouchd') });
  key = await newAccessKey(srv, 'agent-e2e');
});

after(async () => {
  if (tpm) await tpm.stop();
  if (srv) await srv.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a wrong AccessKey secret: exit 1 with the service\'s Code', { skip }, async () => {
  const r = await agent(['--uuid', 'wrong-secret'], { k: { id: key.id, secret: 'not-the-secret' },
    stateDir: join(dir, 'wrong-secret') });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /RegisterMessage: SignatureDoesNotMatch/);
  const unknown = await agent(['--uuid', 'wrong-id'], { k: { id: 'VKnosuchkey', secret: 'x' },
    stateDir: join(dir, 'wrong-id') });
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /InvalidAccessKeyId\.NotFound/);
});

test('an unreachable TPM: exit 3 and a line that says so', { skip }, async () => {
  const r = await agent(['--uuid', 'no-tpm'], { tcti: `swtpm:host=127.0.0.1,port=${tpm.port + 2}`,
    stateDir: join(dir, 'no-tpm') });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /TPM unreachable through TCTI 'swtpm:host=127\.0\.0\.1,port=\d+'/);
});

test('the daemon with its TPM away: a clear line each round, and it keeps retrying', { skip },
  async () => {
    const d = spawn(AGENT, ['--server', srv.url, '--access-key-id', key.id,
      '--access-key-secret', key.secret, '--tcti', `swtpm:host=127.0.0.1,port=${tpm.port + 2}`,
      '--state-dir', join(dir, 'daemon-state'), '--uuid', 'daemon', '--interval', '1'],
    { env: { ...process.env, TSS2_LOG: 'all+NONE' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    d.stderr.on('data', (b) => { log += b; });
    const exited = new Promise((resolve) => d.on('exit', resolve));
    const failures = () => (log.match(/msg="report failed".*TPM unreachable through TCTI/g) ?? []).length;
    for (let i = 0; i < 100 && failures() < 3; i++) await new Promise((r) => setTimeout(r, 100));
    d.kill('SIGTERM');
    assert.equal(await exited, 0, log);
    assert.ok(failures() >= 3, log);
    assert.match(log, /msg=retrying in_seconds=1/);
  });

test('the state directory is made mode 0700; a config file others can read is refused', { skip },
  async () => {
    const stateDir = join(dir, 'perm-state');
    const noTpm = `swtpm:host=127.0.0.1,port=${tpm.port + 2}`;
    await agent([], { tcti: noTpm, stateDir });
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
    // no --uuid: the DMI product UUID when readable, else a random one; the same next time
    const uuid = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).uuid;
    let dmi = '';
    try { dmi = readFileSync('/sys/class/dmi/id/product_uuid', 'utf8').trim().toLowerCase(); } catch { /* not root */ }
    if (/^[0-9a-f-]{36}$/.test(dmi) && !/^[0-]+$/.test(dmi) && !/^[f-]+$/.test(dmi)) assert.equal(uuid, dmi);
    else assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await agent([], { tcti: noTpm, stateDir });
    assert.equal(JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).uuid, uuid);
    const conf = join(dir, 'agent.toml');
    writeFileSync(conf, `server = "${srv.url}"\naccess_key_id = "${key.id}"\n` +
      `access_key_secret = "${key.secret}"\n`);
    chmodSync(conf, 0o644);
    const loose = await new Promise((resolve) => execFile(AGENT, ['--once', '--config', conf],
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr })));
    assert.equal(loose.code, 2);
    assert.match(loose.stderr, /readable by its owner only/);
  });

// ---- enrolment and reports against the vTPM service ----
//
// The test plays firmware and kernel (lib/tpmsim.mjs, Machine): "firmware"
// extends PCRs 0-9 with fixed digests at each boot; the "kernel" keeps a
// binary IMA log (ima-ng) and extends PCR 10 with each entry, boot_aggregate
// first.

const UUID = 'agent-e2e-instance';
const firmware = Array.from({ length: 10 }, (_, i) => [i, `firmware component ${i}`]);
let machine;

// A boot: PCRs 0-9 from the firmware list, a fresh IMA log holding boot_aggregate.
async function boot() {
  machine = new Machine(tpm, join(dir, 'ima.log'));
  await machine.boot(firmware);
}

const measure = (...paths) => machine.measure(paths);
const spec = pcrExtendSpec;

// vouch-agent --once for the instance; the verdict it printed and its log line's fields.
async function report(extra = []) {
  const r = await agent(['--uuid', UUID, '--ima-log', join(dir, 'ima.log'), ...extra]);
  assert.equal(r.code, 0, `vouch-agent failed:\n${r.stderr}`);
  const m = /^accepted: system (\d) (\S*), program (\d) (\S*), next IMA index (\d+)$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  const line = r.stderr.split('\n').find((l) => l.includes('msg="report accepted"'));
  const field = (k) => new RegExp(`${k}=(\\S+)`).exec(line)?.[1];
  return { system: Number(m[1]), program: Number(m[3]), next: Number(m[5]),
    enrolled: field('enrolled'), imaStart: Number(field('ima_start')),
    imaSent: Number(field('ima_sent')), stderr: r.stderr };
}

function rpc(action, params) {
  const client = new RPCClient({ accessKeyId: key.id, accessKeySecret: key.secret,
    endpoint: srv.url, apiVersion: '2020-06-13' });
  return client.request(action, params, { method: 'POST' });
}

test('enrolment, then the first report: accepted, trusted, AK certificate from the service CA',
  { skip }, async () => {
    await boot();
    await measure('/usr/bin/first', '/usr/lib/second.so');
    const r = await report();
    assert.equal(r.enrolled, 'now');
    assert.equal(r.system, 1, r.stderr);
    assert.equal(r.imaStart, 0);
    assert.equal(r.imaSent, 3);
    assert.equal(r.next, 3);
    const inst = await rpc('DescribeInstance', { PropertyUuid: UUID });
    assert.equal(inst.SystemTrustStatus, 1);
    // ak-chain.pem: the AK certificate, then the service's AK CA that signed it
    const pems = readFileSync(join(dir, 'agent-state', 'ak-chain.pem'), 'utf8')
      .match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
    assert.equal(pems.length, 2);
    const [ak, ca] = pems.map((p) => new X509Certificate(p));
    assert.ok(ak.checkIssued(ca));
    assert.ok(ak.verify(ca.publicKey));
    assert.match(ak.subject, new RegExp(`CN=${UUID}`));
    assert.equal(statSync(join(dir, 'agent-state', 'state.json')).mode & 0o777, 0o600);
  });

test('IMA growth: three reports, each sends only the new entries', { skip }, async () => {
  let next = 3;
  for (let round = 1; round <= 3; round++) {
    await measure(...Array.from({ length: round }, (_, i) => `/opt/round${round}/file${i}`));
    const r = await report();
    assert.equal(r.enrolled, 'before');
    assert.equal(r.imaStart, next, r.stderr);
    assert.equal(r.imaSent, round);
    assert.equal(r.next, next + round);
    assert.equal(r.system, 1);
    next = r.next;
  }
});

test('a wrong IMA index in the state: the service\'s NextClientIMAIndex resyncs it', { skip },
  async () => {
    const path = join(dir, 'agent-state', 'state.json');
    const st = JSON.parse(readFileSync(path, 'utf8'));
    const expected = st.ima_next;
    st.ima_next = 1;                              // as if the agent had lost track
    writeFileSync(path, JSON.stringify(st));
    await measure('/usr/bin/after-resync');
    const r = await report();
    assert.match(r.stderr, /recovered=InvalidParameter\.IMAIndex/);  // the first try, refused
    assert.equal(r.imaStart, expected);           // the second, from the service's index
    assert.equal(r.imaSent, 1);
    assert.equal(r.next, expected + 1);
  });

test('a PCR change: untrusted with an event; TrustEvents: trusted on the next report', { skip },
  async () => {
    firmware.push([7, 'a new Secure Boot database']);       // the firmware changed for good
    tpm.tools(['tpm2_pcrextend', spec(7, 'a new Secure Boot database')]);
    const bad = await report();
    assert.equal(bad.system, 2, bad.stderr);
    const events = await rpc('DescribeEvents', { PropertyUuid: UUID, EventStatus: 1 });
    assert.ok(events.Items.length >= 1, JSON.stringify(events));
    await rpc('TrustEvents', { EventUuids: events.Items.map((e) => e.EventUuid).join(',') });
    const good = await report();
    assert.equal(good.system, 1, good.stderr);
  });

test('restarts of the agent and of vouchd: no re-enrolment, no full IMA resend', { skip },
  async () => {
    await measure('/usr/bin/after-agent-restart');
    const a = await report();                 // every --once run is a fresh agent process
    assert.equal(a.enrolled, 'before');
    assert.equal(a.imaSent, 1);
    await srv.stop();
    srv = await startVouchd({ dir: join(dir, 'vouchd') });
    await measure('/usr/bin/after-vouchd-restart');
    const b = await report();
    assert.equal(b.enrolled, 'before');
    assert.equal(b.imaStart, a.next);
    assert.equal(b.imaSent, 1);
    assert.equal(b.system, 1);
  });

test('a reboot (swtpm reset): IMA from 0, the AK and the baseline still hold', { skip },
  async () => {
    await tpm.stop();
    await tpm.start();                          // power on: TPM2_Startup(CLEAR), PCRs reset
    writeFileSync(join(dir, 'boot_id'), 'boot-2\n');
    await boot();
    await measure('/usr/bin/after-reboot');
    const r = await report();
    assert.equal(r.enrolled, 'before');
    assert.equal(r.imaStart, 0);
    assert.equal(r.imaSent, 2);
    assert.equal(r.next, 2);
    assert.equal(r.system, 1, r.stderr);
  });

test('the service lost the instance: the agent registers and enrols again', { skip }, async () => {
  await rpc('UnregisterMessage', { Properties: UUID });
  const r = await report();
  assert.match(r.stderr, /recovered=InvalidPropertyUuid\.NotFound/);
  assert.equal(r.enrolled, 'now', r.stderr);
  assert.equal(r.imaStart, 0);
  assert.equal(r.system, 1, r.stderr);
});
