// kill -9 vouchd during a burst of PutMessage from several instances: after
// a restart every acknowledged report is there (GmtRecentReport, the IMA
// index, the event count, the history) and the one in flight is there
// entirely or not at all.  And a request that changes state, answered just
// before a kill -9, cannot be replayed after the restart.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startVouchd, request, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { SoftTpm, imaEntries, fileData } from './lib/softtpm.mjs';
import { signedQuery } from './lib/vtpmclient.mjs';

const require = createRequire(import.meta.url);
const RPCClient = require('@alicloud/pop-core');
const CLIENTS = 4;
const ENTRIES = 5;               // IMA entries per report
const BURST_MS = 2500;
const DRIFT = Buffer.alloc(32, 0x5a);

let srv;
after(async () => { await srv?.stop(); });

function clientFor(key) {
  return new RPCClient({ accessKeyId: key.id, accessKeySecret: key.secret, endpoint: srv.url,
    apiVersion: '2020-06-13', opts: { timeout: 10000 } });
}

// One instance: enrolled, first report accepted; then reports in a loop.
class Attester {
  constructor(uuid) {
    this.uuid = uuid;
    this.tpm = new SoftTpm();
    this.log = [];              // every IMA entry extended so far
    this.acked = { reports: 0, next: 0, drifts: 0, time: 0 };
    this.inflight = null;
  }

  async enrol(client) {
    this.client = client;
    await this.call('RegisterMessage', { PropertyUuid: this.uuid });
    const { Data } = await this.call('ProduceAikcert', { PropertyUuid: this.uuid,
      EkPubKey: this.tpm.ekPub.toString('base64'), AikName: this.tpm.akName.toString('hex'),
      CertRequest: this.tpm.akPub.toString('base64'), IncludeCertChain: 'false' });
    const secret = this.tpm.activate(Buffer.from(Data.KeyCredentialBlob, 'base64'));
    this.akCert = SoftTpm.decryptData(secret, Buffer.from(Data.DataCredentialBlob, 'base64'));
    await this.report(false, { akCert: this.akCert });
  }

  call(action, params) { return this.client.request(action, params, { method: 'POST' }); }

  // A report with ENTRIES new IMA entries (and PCR 5 drifted or not).
  async report(drift, { akCert } = {}) {
    this.tpm.pcrs.sha256[5] = drift ? DRIFT : Buffer.alloc(32);
    const fresh = akCert ? [] : [imaEntries(this.tpm, this.log.length, ENTRIES)];
    for (const e of fresh) this.log.push(e);
    const start = this.acked.next;
    const next = this.log.length * ENTRIES;
    this.inflight = { drift, next };
    const { data } = await this.call('GenerateNonce', { PropertyUuid: this.uuid });
    const q = this.tpm.quote(Buffer.from(data.Nonce, 'hex'));
    const imaLog = Buffer.concat(this.log.slice(start / ENTRIES));
    const r = await this.call('PutMessage', { PropertyUuid: this.uuid,
      FileData: fileData(data.Nonce, q, { akCert, imaStart: start, imaLog: akCert ? undefined : imaLog }) });
    assert.equal(r.data.nextClientIMAIndex, akCert ? 0 : next);
    this.acked = { reports: this.acked.reports + 1, next: r.data.nextClientIMAIndex,
      drifts: this.acked.drifts + (drift ? 1 : 0), time: Date.now() };
    this.inflight = null;
  }
}

test('kill -9 during a PutMessage burst loses no acknowledged report', async () => {
  srv = await startVouchd();
  const r = await request(`${srv.url}/admin/accesskeys`, { method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ account: 'crash' }) });
  const key = { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
  const attesters = Array.from({ length: CLIENTS }, (_, i) => new Attester(`crash-${i}`));
  for (const a of attesters) await a.enrol(clientFor(key));

  // The burst: every attester reports as fast as it can; vouchd dies mid-way.
  let stop = false;
  const loops = attesters.map(async (a, i) => {
    for (let n = 0; !stop; n++) {
      try { await a.report((n + i) % 3 === 1); } catch { return; }
    }
  });
  await new Promise((res) => setTimeout(res, BURST_MS));
  srv.proc.kill('SIGKILL');
  stop = true;
  await Promise.all(loops);
  await srv.exited;
  const total = attesters.reduce((s, a) => s + a.acked.reports, 0);
  assert.ok(total > CLIENTS * 2, `the burst acknowledged ${total} reports`);

  srv = await startVouchd({ dir: srv.dir, db: srv.db });
  for (const a of attesters) {
    a.client = clientFor(key);
    const boot = await a.call('DescribeBoot', { PropertyUuid: a.uuid });
    // The in-flight report is there entirely, or not at all.
    const committed = boot.Reports === a.acked.reports + 1;
    assert.ok(boot.Reports === a.acked.reports || (committed && a.inflight),
      `${a.uuid}: ${boot.Reports} reports stored, ${a.acked.reports} acknowledged`);
    const next = committed ? a.inflight.next : a.acked.next;
    assert.equal(boot.LastReport.Ima.Next, next, a.uuid);
    const drifts = a.acked.drifts + (committed && a.inflight.drift ? 1 : 0);
    const ev = await a.call('DescribeEvents', { PropertyUuid: a.uuid, EventStatus: 1 });
    assert.equal(ev.TotalCount, drifts ? 1 : 0, a.uuid);
    if (drifts) assert.equal(ev.Items[0].Accumulation, String(drifts), a.uuid);
    const inst = await a.call('DescribeInstance', { PropertyUuid: a.uuid });
    assert.ok(inst.GmtRecentReport >= Math.floor(a.acked.time / 1000) * 1000 - 1000, a.uuid);
    assert.equal(inst.SystemExceptionNum, drifts ? 1 : 0, a.uuid);
    // The next report continues from the stored index.
    a.acked.next = next;
    await a.report(false);
  }
});

test('kill -9 right after a state-changing call: its SignatureNonce is still used', async () => {
  await srv?.stop();
  srv = await startVouchd();
  const r = await request(`${srv.url}/admin/accesskeys`, { method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ account: 'crash-nonce' }) });
  const key = { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
  for (let round = 0; round < 3; round++) {
    const q = signedQuery(key, { Action: 'RegisterMessage', PropertyUuid: `nonce-${round}` });
    const first = await request(`${srv.url}/?${q}`);
    assert.equal(first.status, 200, first.text);
    srv.proc.kill('SIGKILL');   // well within the 100 ms the batched records wait
    await srv.exited;
    srv = await startVouchd({ dir: srv.dir, db: srv.db });
    const again = await request(`${srv.url}/?${q}`);
    assert.equal(again.body?.Code, 'SignatureNonceUsed', `round ${round}: ${again.text}`);
  }
});
