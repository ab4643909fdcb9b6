// vTPM load preparation for bench/vtpm/run.sh: against a running vouchd,
// INSTANCES instances enrol with a software TPM (RSA-2048 EK and AK,
// credential activation), then REPORTS reports each are prepared
// (GenerateNonce, ENTRIES new IMA entries extended into PCR 10, quote) and
// written as signed PutMessage bodies (signature v1, docs/vtpm.md), with
// DESCRIBE signed DescribeInstance bodies, into $VTPM_BENCH_DIR.  run.sh's
// client sends them (bench/vtpm/http_replay.c, or wrk with
// bench/vtpm/bodies.lua); only the sending is timed.  Each account
// first imports a program whitelist of WHITELIST digests (a sha256sum-style
// list holding every file the reports measure, the rest other library
// paths; 0: none) and assigns it to its instances, so every report's IMA
// entries are appraised against it.
//   node bench/vtpm/load.mjs URL ADMIN_TOKEN [INSTANCES] [REPORTS] [ENTRIES] [DESCRIBE] [WHITELIST]
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { SoftTpm, imaEntries, fileData } from '../../tests/api/lib/softtpm.mjs';

const [url, adminToken, nInst = '64', nRep = '40', nEnt = '50', nDesc = '150000', nWl = '20000'] =
  process.argv.slice(2);
const INSTANCES = Number(nInst), REPORTS = Number(nRep), ENTRIES = Number(nEnt), DESCRIBE_REQUESTS = Number(nDesc);
const WHITELIST = Number(nWl);
const { hostname, port } = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function signed(key, params) {
  const all = { ...params, Version: '2020-06-13', Format: 'JSON', AccessKeyId: key.id,
    SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
  const canon = Object.keys(all).sort().map((k) => `${enc(k)}=${enc(String(all[k]))}`).join('&');
  const sig = createHmac('sha1', `${key.secret}&`).update(`POST&%2F&${enc(canon)}`).digest('base64');
  return `${canon}&Signature=${enc(sig)}`;
}

function post(path, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method: 'POST', agent, headers: {
      'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...headers } },
    (res) => { const chunks = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }); }); });
    req.on('error', reject);
    req.end(body);
  });
}

async function rpc(key, action, params) {
  const r = await post('/', signed(key, { Action: action, ...params }));
  if (r.status !== 200) throw new Error(`${action}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function newKey(account) {
  const r = await new Promise((resolve, reject) => {
    const body = JSON.stringify({ account });
    const req = http.request({ hostname, port, path: '/admin/accesskeys', method: 'POST', agent,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' } },
    (res) => { let t = ''; res.on('data', (c) => { t += c; }); res.on('end', () => resolve(JSON.parse(t))); });
    req.on('error', reject);
    req.end(body);
  });
  return { id: r.AccessKeyId, secret: r.AccessKeySecret };
}

async function enrol(key, uuid, tpm) {
  const { Data } = await rpc(key, 'ProduceAikcert', { PropertyUuid: uuid,
    EkPubKey: tpm.ekPub.toString('base64'), AikName: tpm.akName.toString('hex'),
    CertRequest: tpm.akPub.toString('base64') });
  const secret = tpm.activate(Buffer.from(Data.KeyCredentialBlob, 'base64'));
  const akCert = SoftTpm.decryptData(secret, Buffer.from(Data.DataCredentialBlob, 'base64'));
  const { data } = await rpc(key, 'GenerateNonce', { PropertyUuid: uuid });
  await rpc(key, 'PutMessage', { PropertyUuid: uuid,
    FileData: fileData(data.Nonce, tpm.quote(Buffer.from(data.Nonce, 'hex')), { akCert }) });
}

// A digest list (sha256sum style) of `n` files: first the files the
// reports measure (softtpm.mjs imaEntries: /usr/lib/bench/file-I holds
// "file I"), then other library paths.
function whitelistContent(n) {
  const lines = [];
  const measured = Math.min(n, REPORTS * ENTRIES);
  for (let i = 0; i < measured; i++) {
    const d = createHash('sha256').update(`file ${i}`).digest('hex');
    lines.push(`${d}  /usr/lib/bench/file-${i}`);
  }
  for (let i = measured; i < n; i++) {
    const d = createHash('sha256').update(`other ${i}`).digest('hex');
    lines.push(`${d}  /usr/lib/x86_64-linux-gnu/pkg-${i % 97}/lib${i}.so.${i % 7}`);
  }
  return lines.join('\n') + '\n';
}

// Each account's whitelist, assigned to that account's instances.
async function assignWhitelists(keys, inst) {
  const content = whitelistContent(WHITELIST);
  for (const key of keys) {
    const { WhiteListId } = await rpc(key, 'CreateProgramWhiteList', { Name: 'bench',
      Content: content });
    const mine = inst.filter((x) => x.key === key).map((x) => x.uuid);
    for (let i = 0; i < mine.length; i += 100)
      await rpc(key, 'AssignProgramWhiteList', { WhiteListId,
        Properties: mine.slice(i, i + 100).join(',') });
  }
}

// The signed bodies of one instance's next `n` reports, in order.
async function prepare(key, uuid, tpm, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const start = i * ENTRIES;
    const imaLog = imaEntries(tpm, start, ENTRIES);
    const { data } = await rpc(key, 'GenerateNonce', { PropertyUuid: uuid });
    const fd = fileData(data.Nonce, tpm.quote(Buffer.from(data.Nonce, 'hex')), { imaStart: start, imaLog });
    out.push(signed(key, { Action: 'PutMessage', PropertyUuid: uuid, FileData: fd }));
  }
  return out;
}

// Enrol the instances and write the signed request bodies, one per line:
// PutMessage round-robin over the instances, each line "INSTANCE<TAB>BODY"
// (both clients send an instance's reports in order, one at a time),
// DescribeInstance likewise without the instance.
async function prepareAll(outDir) {
  const keys = [];
  for (let k = 0; k < Math.ceil(INSTANCES / 16); k++) keys.push(await newKey(`bench-${k}`));
  const first = new SoftTpm();
  const inst = Array.from({ length: INSTANCES }, (_, i) => ({ uuid: `bench-${process.pid}-${i}`,
    key: keys[i % keys.length], tpm: i ? new SoftTpm(first) : first }));
  // 32 at a time: vouchd takes 64 connections per client address by default
  const each = async (fn) => { for (let i = 0; i < inst.length; i += 32) await Promise.all(inst.slice(i, i + 32).map(fn)); };
  await each((x) => rpc(x.key, 'RegisterMessage', { PropertyUuid: x.uuid }));
  // assigned before the first (untimed) reports, which compile it into the cache
  if (WHITELIST > 0) await assignWhitelists(keys, inst);
  await each((x) => enrol(x.key, x.uuid, x.tpm));
  for (let i = 0; i < inst.length; i += 8) {
    await Promise.all(inst.slice(i, i + 8).map(async (x) => { x.bodies = await prepare(x.key, x.uuid, x.tpm, REPORTS); }));
  }
  const put = [];
  for (let r = 0; r < REPORTS; r++) inst.forEach((x, i) => put.push(`${i}\t${x.bodies[r]}`));
  writeFileSync(`${outDir}/putmessage.txt`, put.join('\n') + '\n');
  const desc = [];
  for (let i = 0; i < DESCRIBE_REQUESTS; i++) {
    const x = inst[i % inst.length];
    desc.push(signed(x.key, { Action: 'DescribeInstance', PropertyUuid: x.uuid }));
  }
  writeFileSync(`${outDir}/describe.txt`, desc.join('\n') + '\n');
  console.log(JSON.stringify({ prepared: put.length, describe: desc.length, instances: INSTANCES,
    ima_entries: ENTRIES, whitelist_digests: WHITELIST }));
}

await prepareAll(process.env.VTPM_BENCH_DIR);
agent.destroy();
