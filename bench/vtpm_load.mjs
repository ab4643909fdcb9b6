// vTPM report load for bench/cluster.sh: N software-TPM instances
// (tests/api/lib/vtpmclient.mjs) enrol, then each loops GenerateNonce +
// PutMessage with 5 new IMA entries for SECONDS.  Prints wrk's summary
// lines so cluster.sh reads both the same way; a "request" is one report.
//   usage: VOUCHD=... VOUCH=... node bench/vtpm_load.mjs URL ADMIN_TOKEN N SECONDS
import { rpcClient, SoftAttester } from '../tests/api/lib/vtpmclient.mjs';

const [url, token, n = '16', seconds = '15'] = process.argv.slice(2);
const r = await fetch(`${url}/admin/accesskeys`, { method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ account: `bench-${process.pid}` }) });
const body = await r.json();
if (r.status !== 201) throw new Error(`POST /admin/accesskeys: ${r.status}`);
const client = rpcClient(url, { id: body.AccessKeyId, secret: body.AccessKeySecret });
const attesters = Array.from({ length: Number(n) }, (_, i) => new SoftAttester(`bench-${process.pid}-${i}`, 5));
await Promise.all(attesters.map((a) => a.enrol(client)));
let ok = 0, failed = 0, stop = false;
const start = process.hrtime.bigint();
setTimeout(() => { stop = true; }, Number(seconds) * 1000);
await Promise.all(attesters.map(async (a) => {
  while (!stop) {
    try { await a.report(client); ok++; } catch { failed++; }
  }
}));
const secs = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`  ${ok} requests in ${secs.toFixed(2)}s`);
console.log(`Requests/sec: ${(ok / secs).toFixed(2)}`);
if (failed) console.log(`  Non-2xx or socket errors: ${failed}`);
