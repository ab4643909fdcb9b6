// The vTPM service end to end with a software TPM: swtpm and tpm2-tools are
// the attester (not our agent), @alicloud/pop-core the client, a real vouchd
// the service.  Enrolment by credential activation, baseline, PCR drift and
// TrustEvents, incremental IMA across a vouchd restart, and a reboot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, X509Certificate, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVouchd, request, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { Swtpm, haveSwtpm, imaEntry } from './lib/swtpm.mjs';
import { SoftTpm } from './lib/softtpm.mjs';

const require = createRequire(import.meta.url);
const RPCClient = require('@alicloud/pop-core');
const VERSION = '2020-06-13';
const TPM_VECTORS = join(dirname(fileURLToPath(import.meta.url)), '../vectors/tpm');
const skip = haveSwtpm() ? false : 'swtpm or tpm2-tools not installed';

let srv, dir, tpm, key, client, akCertPem;
const uuid = 'e2e-instance-1';

async function newKey(account) {
  const r = await request(`${srv.url}/admin/accesskeys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ account }),
  });
  assert.equal(r.status, 201, r.text);
  return { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
}

function connect() {
  client = new RPCClient({ accessKeyId: key.id, accessKeySecret: key.secret, endpoint: srv.url,
    apiVersion: VERSION });
}

const call = (action, params) => client.request(action, params, { method: 'POST' });

async function failure(promise) {
  try { await promise; } catch (e) { return { code: e.code, data: e.data }; }
  assert.fail('the call succeeded');
}

async function startService() {
  srv = await startVouchd({ dir, db: srv?.db, args: ['--vtpm-ek-roots', tpm.ekRoots] });
  if (key) connect();
}

// Quote a fresh nonce and build FileData (docs/vtpm.md) with optional IMA entries.
async function report({ ima, start = 0, akCert } = {}) {
  const { data } = await call('GenerateNonce', { PropertyUuid: uuid });
  const q = tpm.quote(data.Nonce);
  const doc = { version: 1, nonce: data.Nonce, quote: q.msg.toString('base64'),
    signature: q.sig.toString('base64'), pcrs: q.pcrs };
  if (ima) doc.ima = { start, log: Buffer.concat(ima.map((e) => e.bytes)).toString('base64') };
  if (akCert) doc.ak_cert = akCert;
  const FileData = Buffer.from(JSON.stringify(doc)).toString('base64');
  return call('PutMessage', { PropertyUuid: uuid, FileData });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'vouch-vtpm-e2e-'));
  tpm = new Swtpm(dir);
  await tpm.manufacture();
  await tpm.start();
  await startService();
  key = await newKey('e2e');
  connect();
});

after(async () => {
  await srv?.stop({ keep: true });
  await tpm?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('enrolment, baseline, drift, trust, incremental IMA, restart, reboot', { skip }, async () => {
  await call('RegisterMessage', { PropertyUuid: uuid, PropertyName: 'e2e', InstanceId: 'i-e2e' });
  const keys = tpm.createKeys();
  // Before enrolment a report is refused.
  const early = await failure(report());
  assert.equal(early.code, 'Forbidden.AkNotEnrolled');

  // ProduceAikcert: MakeCredential to the EK, the AK certificate encrypted under its secret.
  const produce = { PropertyUuid: uuid, EkPubKey: keys.ekPub.toString('base64'),
    EkCert: keys.ekCert.toString('base64'), AikName: keys.akName.toString('hex'),
    CertRequest: keys.akPub.toString('base64'), IncludeCertChain: 'true' };
  const { EkCert: _, ...withoutCert } = produce;
  const noCert = await failure(call('ProduceAikcert', withoutCert));
  assert.equal(noCert.code, 'MissingParameter');
  const wrongName = await failure(call('ProduceAikcert', { ...produce,
    AikName: '000b' + 'ab'.repeat(32) }));
  assert.equal(wrongName.code, 'InvalidParameter');
  // An EK certificate of another TPM (it chains, but not to this EK), and one that does not
  // chain to --vtpm-ek-roots (Alibaba Cloud's vTPM EK CA, tests/vectors/tpm): both refused.
  const otherEk = await failure(call('ProduceAikcert', { ...produce,
    EkPubKey: new SoftTpm().ekPub.toString('base64') }));
  assert.equal(otherEk.code, 'InvalidParameter.EkCert', otherEk.data?.Message);
  const alien = new X509Certificate(readFileSync(join(TPM_VECTORS, 'keylime/Alibaba_Cloud_vTPM_EK.pem')))
    .raw.toString('base64');
  const unchained = await failure(call('ProduceAikcert', { ...produce, EkCert: alien }));
  assert.equal(unchained.code, 'InvalidParameter.EkCert', unchained.data?.Message);
  const { Data } = await call('ProduceAikcert', produce);
  const credFile = join(dir, 'cred.bin');
  writeFileSync(credFile, Buffer.concat([Buffer.from('badcc0de00000001', 'hex'),
    Buffer.from(Data.KeyCredentialBlob, 'base64')]));
  const secret = tpm.activate(credFile);
  assert.equal(secret.length, 16);
  const blob = Buffer.from(Data.DataCredentialBlob, 'base64');
  const ctLen = blob.readUInt32BE(0);
  assert.equal(blob.length, 4 + 16 + ctLen);
  const d = createDecipheriv('aes-128-cbc', secret, blob.subarray(4, 20));
  const pem = Buffer.concat([d.update(blob.subarray(20)), d.final()]).toString('utf8');
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g);
  assert.equal(certs.length, 2, 'the AK certificate, then the CA certificate');
  const akCert = new X509Certificate(certs[0]);
  const caCert = new X509Certificate(certs[1]);
  assert.match(akCert.subject, new RegExp(`CN=${uuid}`));
  assert.ok(akCert.verify(caCert.publicKey));
  assert.ok(akCert.checkIssued(caCert));
  akCertPem = certs[0];

  // A pending AK needs its certificate in the first report.
  const pending = await failure(report());
  assert.equal(pending.code, 'InvalidParameter');
  assert.match(pending.data.Message, /ak_cert/);

  // First report: the baseline is created, trusted, PCR0-9 as tpm2_pcrread shows them.
  const first = await report({ akCert: akCertPem });
  assert.equal(first.data.systemVerificationResult.status, 1);
  assert.equal(first.data.systemVerificationResult.code, 'TrustedStatus');
  assert.equal(first.data.programVerificationResult.status, 4);
  assert.equal(first.data.kmoduleVerificationResult.status, 4);
  assert.equal(first.data.nextClientIMAIndex, 0);
  const read = tpm.pcrread();
  let inst = await call('DescribeInstance', { PropertyUuid: uuid });
  assert.equal(inst.SystemTrustStatus, 1);
  assert.equal(inst.OnlineStatus, 1);
  assert.ok(inst.SystemWhiteListId > 0);
  assert.equal(inst.ProgramTrustStatus, 4);
  assert.equal(inst.ProgramWhiteListId, -1);
  assert.ok(Math.abs(inst.GmtRecentReport - Date.now()) < 60000);
  const detail = JSON.parse(inst.SystemTrustDetail);
  for (let i = 0; i < 10; i++) assert.equal(detail[`pcr${i}`], read.sha256[String(i)], `pcr${i}`);
  // Later reports may leave the certificate out; a replayed nonce is refused.
  await report();

  // Extend PCR 5: untrusted, one event, Extensions.pcr5 = the reported value.
  tpm.extend(5, createHash('sha1').update('grub.cfg v2').digest('hex'),
    createHash('sha256').update('grub.cfg v2').digest('hex'));
  const drift = await report();
  assert.equal(drift.data.systemVerificationResult.status, 2);
  assert.equal(drift.data.systemVerificationResult.code, 'UntrustedStatus');
  const pcr5 = tpm.pcrread('sha256:5').sha256['5'];
  inst = await call('DescribeInstance', { PropertyUuid: uuid });
  assert.equal(inst.SystemTrustStatus, 2);
  assert.equal(inst.SystemExceptionNum, 1);
  assert.equal(JSON.parse(inst.Extensions).pcr5, pcr5);
  assert.equal(JSON.parse(inst.SystemTrustDetail).pcr5, read.sha256['5'], 'baseline unchanged');
  const boot = await call('DescribeBoot', { PropertyUuid: uuid });
  assert.equal(boot.Id, inst.SystemWhiteListId);
  assert.equal(boot.LastReport.Pcrs.pcr5.match, false);
  assert.equal(boot.LastReport.Pcrs.pcr5.reported, pcr5);
  assert.equal(boot.LastReport.Pcrs.pcr4.match, true);
  const events = await call('DescribeEvents', { PropertyUuid: uuid, EventStatus: 1 });
  assert.equal(events.TotalCount, 1);
  const ev = events.Items[0];
  assert.equal(ev.Suspect, 'pcr5');
  assert.equal(ev.SuspectSig, pcr5);
  assert.equal(ev.EventType, '1');
  assert.equal(ev.PropertyName, 'e2e');
  // The same drift again counts on the same event.
  await report();
  const again = await call('DescribeEvents', { PropertyUuid: uuid, EventStatus: 1 });
  assert.equal(again.TotalCount, 1);
  assert.equal(again.Items[0].Accumulation, '2');

  // TrustEvents: the reported value becomes the baseline, trusted again.
  const trust = await call('TrustEvents', { EventUuids: ev.EventUuid });
  assert.equal(trust.Code, undefined);
  inst = await call('DescribeInstance', { PropertyUuid: uuid });
  assert.equal(inst.SystemTrustStatus, 1);
  assert.equal(inst.SystemExceptionNum, 0);
  assert.equal(JSON.parse(inst.SystemTrustDetail).pcr5, pcr5);
  assert.equal((await report()).data.systemVerificationResult.status, 1);
  const twice = await failure(call('TrustEvents', { EventUuids: ev.EventUuid }));
  assert.equal(twice.code, 'IncorrectStatus.EventHandled');

  // Incremental IMA: three reports append entries; PCR 10 extended to match.
  const entries = [];
  const appendIma = (n) => {
    const fresh = [];
    for (let i = 0; i < n; i++) {
      const e = imaEntry(`/usr/bin/tool-${entries.length}`, randomBytes(16));
      tpm.extend(10, e.sha1, e.sha256);
      entries.push(e);
      fresh.push(e);
    }
    return fresh;
  };
  let next = 0;
  for (const [round, n] of [[1, 3], [2, 2], [3, 4]]) {
    const fresh = appendIma(n);
    const r = await report({ ima: fresh, start: next });
    assert.equal(r.data.nextClientIMAIndex, next + n, `round ${round}`);
    next += n;
    if (round === 2) {
      // Restart vouchd: the IMA state is durable, the log continues incrementally.
      await srv.stop({ keep: true });
      await startService();
    }
  }
  // A log from the wrong index names the expected one.
  const more = appendIma(1);
  const wrong = await failure(report({ ima: more, start: next + 5 }));
  assert.equal(wrong.code, 'InvalidParameter.IMAIndex');
  assert.equal(wrong.data.NextClientIMAIndex, next);
  assert.equal((await report({ ima: more, start: next })).data.nextClientIMAIndex, next + 1);
  next += 1;
  // An entry the quoted PCR 10 does not cover is not counted: the next
  // report must bring it again, from the same index.
  const forged = imaEntry('/usr/bin/forged', randomBytes(16));
  assert.equal((await report({ ima: [forged], start: next })).data.nextClientIMAIndex, next);
  // A log that contradicts the quoted PCR 10 is refused.
  const [real] = appendIma(1);
  const bad = await failure(report({ ima: [forged, real], start: next }));
  assert.equal(bad.code, 'InvalidParameter.Evidence');
  assert.equal((await report({ ima: [real], start: next })).data.nextClientIMAIndex, next + 1);
  next += 1;

  // Reboot: resetCount moves and PCRs restart; the IMA log is expected from 0 again.
  await tpm.stop();
  await tpm.start();
  const e0 = appendIma(1);
  const stale = await failure(report({ ima: e0, start: next }));
  assert.equal(stale.code, 'InvalidParameter.IMAIndex');
  assert.equal(stale.data.NextClientIMAIndex, 0);
  const rebooted = await report({ ima: e0, start: 0 });
  assert.equal(rebooted.data.nextClientIMAIndex, 1);
  // PCR 5 lost its extension: the trusted baseline differs again.
  assert.equal(rebooted.data.systemVerificationResult.status, 2);
});

test('another account cannot see or change the instance', { skip }, async () => {
  const other = await newKey('e2e-other');
  const mallory = new RPCClient({ accessKeyId: other.id, accessKeySecret: other.secret,
    endpoint: srv.url, apiVersion: VERSION });
  for (const [action, params] of [['DescribeBoot', { PropertyUuid: uuid }],
    ['PutMessage', { PropertyUuid: uuid, FileData: 'e30=' }],
    ['DescribeEvents', { PropertyUuid: uuid }]]) {
    const e = await failure(mallory.request(action, params, { method: 'POST' }));
    assert.equal(e.code, 'Forbidden.NotOwner', action);
  }
  const mine = await call('DescribeEvents', {});
  assert.ok(mine.TotalCount >= 1);
  const theirs = await mallory.request('DescribeEvents', {}, { method: 'POST' });
  assert.equal(theirs.TotalCount, 0);
  const e = await failure(mallory.request('IgnoreEvents', { EventUuids: mine.Items[0].EventUuid },
    { method: 'POST' }));
  assert.equal(e.code, 'InvalidEventUuid.NotFound');
});

// Program whitelist (IMA) on the enrolled instance: a file outside the whitelist and one
// whose digest differs each open a program event; TrustEvents adds the digest to the
// whitelist, IgnoreEvents closes; the next report with the same file is trusted.
test('program whitelist: unknown and mismatching files, trust and ignore', { skip }, async () => {
  const sha = (s) => createHash('sha256').update(s).digest('hex');
  const w = await call('CreateProgramWhiteList', { Name: 'e2e programs', Content:
    `${sha('good')}  /usr/bin/good\n${sha('old')}  /usr/bin/changed\n` });
  await call('AssignProgramWhiteList', { WhiteListId: w.WhiteListId, Properties: uuid });
  const append = (path, content) => {
    const e = imaEntry(path, content);
    tpm.extend(10, e.sha1, e.sha256);
    return e;
  };
  const idle = await report({});
  let next = idle.data.nextClientIMAIndex;
  const fresh = [append('/usr/bin/good', Buffer.from('good')),
    append('/usr/bin/evil', Buffer.from('evil')), append('/usr/bin/changed', Buffer.from('new'))];
  const r = await report({ ima: fresh, start: next });
  next += 3;
  assert.equal(r.data.nextClientIMAIndex, next);
  assert.equal(r.data.programVerificationResult.status, 2);
  assert.equal(r.data.programVerificationResult.code, 'UntrustedStatus');
  let d = await call('DescribeInstance', { PropertyUuid: uuid });
  assert.equal(d.ProgramTrustStatus, 2);
  assert.equal(d.ProgramExceptionNum, 2);
  assert.equal(d.ProgramWhiteListId, w.WhiteListId);
  assert.equal(d.ProgramWhiteListName, 'e2e programs');
  assert.equal(JSON.parse(d.ProgramTrustDetail).UnknownFiles, 2);
  const events = await call('DescribeEvents', { PropertyUuid: uuid, EventType: 2, EventStatus: 1 });
  assert.equal(events.TotalCount, 2);
  const evil = events.Items.find((e) => e.Suspect === '/usr/bin/evil');
  const changed = events.Items.find((e) => e.Suspect === '/usr/bin/changed');
  assert.equal(evil.SuspectSig, `sha256:${sha('evil')}`);
  assert.equal(evil.SuspectWhiteList, '[]');
  assert.deepEqual(JSON.parse(changed.SuspectWhiteList), [sha('old')]);
  await call('TrustEvents', { EventUuids: evil.EventUuid });
  const doc = JSON.parse((await call('DescribeProgramWhiteList', { WhiteListId: w.WhiteListId,
    IncludeContent: true })).Content);
  assert.deepEqual(doc.digests['/usr/bin/evil'], [sha('evil')]);
  d = await call('DescribeInstance', { PropertyUuid: uuid });
  assert.equal(d.ProgramTrustStatus, 2);
  assert.equal(d.ProgramExceptionNum, 1);
  await call('IgnoreEvents', { EventUuids: changed.EventUuid });
  d = await call('DescribeInstance', { PropertyUuid: uuid });
  assert.equal(d.ProgramTrustStatus, 1);
  assert.equal(d.ProgramExceptionNum, 0);
  // the trusted file again: no new event
  const again = await report({ ima: [append('/usr/bin/evil', Buffer.from('evil'))], start: next });
  assert.equal(again.data.programVerificationResult.status, 1);
  assert.equal((await call('DescribeEvents', { PropertyUuid: uuid, EventType: 2, EventStatus: 1 }))
    .TotalCount, 0);
  // unassigned: not evaluated
  await call('UnassignProgramWhiteList', { Properties: uuid });
  assert.equal((await call('DescribeInstance', { PropertyUuid: uuid })).ProgramTrustStatus, 4);
});
