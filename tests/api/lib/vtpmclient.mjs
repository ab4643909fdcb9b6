// vTPM clients for tests that send one instance's calls to several
// endpoints (replicas, a load balancer): access keys, @alicloud/pop-core
// clients, a request signed here (signature v1) for replays, and an
// attester on the software TPM (softtpm.mjs) whose every call names the
// endpoint it goes to.
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { request, ADMIN_TOKEN } from './vouchd.mjs';
import { SoftTpm, imaEntries, fileData } from './softtpm.mjs';

const require = createRequire(import.meta.url);
const RPCClient = require('@alicloud/pop-core');
export const VERSION = '2020-06-13';

export async function newAccessKey(url, account) {
  const r = await request(`${url}/admin/accesskeys`, { method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ account }) });
  if (r.status !== 201) throw new Error(`POST /admin/accesskeys: ${r.status} ${r.text}`);
  return { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
}

export function rpcClient(url, key) {
  return new RPCClient({ accessKeyId: key.id, accessKeySecret: key.secret, endpoint: url,
    apiVersion: VERSION, opts: { timeout: 10000 } });
}

export const rpc = (client, action, params) => client.request(action, params, { method: 'POST' });

// The error code of a failing call.
export async function rpcFailure(promise) {
  try { await promise; } catch (e) { return e.code ?? String(e); }
  throw new Error('the call succeeded');
}

// Signature v1 computed here (docs/vtpm.md): a query string that can be sent twice.
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
export function signedQuery(key, params, { method = 'GET', nonce = randomUUID(), time = new Date() } = {}) {
  const all = { ...params, Version: VERSION, Format: 'JSON', AccessKeyId: key.id,
    SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: nonce,
    Timestamp: time.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  const canon = Object.keys(all).sort().map((k) => `${enc(k)}=${enc(all[k])}`).join('&');
  const sts = `${method}&${enc('/')}&${enc(canon)}`;
  const sig = createHmac('sha1', `${key.secret}&`).update(sts).digest('base64');
  return `${canon}&Signature=${enc(sig)}`;
}

// One instance on a SoftTpm: enrolled through one client, reporting through any.
export class SoftAttester {
  constructor(uuid, entries = 3) {
    this.uuid = uuid;
    this.entries = entries;     // new IMA entries per report
    this.tpm = new SoftTpm();
    this.log = [];              // every IMA entry extended so far, one buffer per report
    this.next = 0;              // the acknowledged nextClientIMAIndex
    this.reports = 0;           // acknowledged reports
  }

  async enrol(client) {
    await rpc(client, 'RegisterMessage', { PropertyUuid: this.uuid, PropertyName: this.uuid });
    const { Data } = await rpc(client, 'ProduceAikcert', { PropertyUuid: this.uuid,
      EkPubKey: this.tpm.ekPub.toString('base64'), AikName: this.tpm.akName.toString('hex'),
      CertRequest: this.tpm.akPub.toString('base64'), IncludeCertChain: 'false' });
    const secret = this.tpm.activate(Buffer.from(Data.KeyCredentialBlob, 'base64'));
    this.akCert = SoftTpm.decryptData(secret, Buffer.from(Data.DataCredentialBlob, 'base64'));
    const { data } = await rpc(client, 'GenerateNonce', { PropertyUuid: this.uuid });
    const q = this.tpm.quote(Buffer.from(data.Nonce, 'hex'));
    await rpc(client, 'PutMessage', { PropertyUuid: this.uuid,
      FileData: fileData(data.Nonce, q, { akCert: this.akCert }) });
    this.reports = 1;
  }

  async nonce(client) {
    return (await rpc(client, 'GenerateNonce', { PropertyUuid: this.uuid })).data.Nonce;
  }

  // FileData with `entries` new IMA entries from the acknowledged index, quoting `nonce`.
  fileData(nonce) {
    if (this.log.length * this.entries === this.next) this.log.push(imaEntries(this.tpm, this.next, this.entries));
    const q = this.tpm.quote(Buffer.from(nonce, 'hex'));
    return fileData(nonce, q, { imaStart: this.next,
      imaLog: Buffer.concat(this.log.slice(this.next / this.entries)) });
  }

  // GenerateNonce through `nonceClient`, PutMessage through `client`; the answer's data.
  async report(client, nonceClient = client) {
    const nonce = await this.nonce(nonceClient);
    const r = await rpc(client, 'PutMessage', { PropertyUuid: this.uuid, FileData: this.fileData(nonce) });
    this.next = r.data.nextClientIMAIndex;
    this.reports++;
    return { ...r.data, nonce };
  }
}
