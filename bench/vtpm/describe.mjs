// Signed DescribeInstance bodies for bench/vtpm/describe.sh: REQUESTS
// bodies (signature v1, docs/vtpm.md), each for an instance "bench-I" with
// I uniform in 1..INSTANCES, signed in turn by the keys of KEYS_JSON (an
// array of {id, secret}: one key may hold 100,000 live SignatureNonces).
//   node bench/vtpm/describe.mjs KEYS_JSON INSTANCES REQUESTS > bodies.txt
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [keysFile, nInst, nReq] = process.argv.slice(2);
const keys = JSON.parse(readFileSync(keysFile, 'utf8'));
const INSTANCES = Number(nInst), REQUESTS = Number(nReq);
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function signed(key, params) {
  const all = { ...params, Version: '2020-06-13', Format: 'JSON', AccessKeyId: key.id,
    SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: randomUUID(),
    Timestamp: time };
  const canon = Object.keys(all).sort().map((k) => `${enc(k)}=${enc(String(all[k]))}`).join('&');
  const sig = createHmac('sha1', `${key.secret}&`).update(`POST&%2F&${enc(canon)}`).digest('base64');
  return `${canon}&Signature=${enc(sig)}`;
}

const out = [];
for (let i = 0; i < REQUESTS; i++) {
  const n = 1 + Math.floor(Math.random() * INSTANCES);
  out.push(signed(keys[i % keys.length], { Action: 'DescribeInstance', PropertyUuid: `bench-${n}` }));
}
process.stdout.write(out.join('\n') + '\n');
