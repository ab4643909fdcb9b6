// bench/dcap/eventlog_e2e.mjs: POST /v1/attestation (tdx, flat token, default policy) with
// and without an event log, interleaved, against one vouchd trusting a forged quote whose
// RTMRs are those of the log's real quote.  Prints the mean of each and the difference.
// usage (from tests/api, after npm ci; VOUCHD, VOUCH, DCAP_FORGE as for the API tests):
//   node ../../bench/dcap/eventlog_e2e.mjs LOG QUOTE N [QUERY]
// LOG and QUOTE relative to tests/vectors/tdx-eventlog (or absolute), e.g.
//   node ../../bench/dcap/eventlog_e2e.mjs dstack/event_log.json dstack/quote.bin 150
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startVouchd, vouch, request } from '../../tests/api/lib/vouchd.mjs';
const run = promisify(execFile);
const V = new URL('../../tests/vectors/tdx-eventlog', import.meta.url).pathname;
const logName = process.argv[2], quoteName = process.argv[3], n = +process.argv[4];
const log = readFileSync(logName.startsWith('/') ? logName : join(V, logName)), rq = readFileSync(join(V, quoteName));
const dir = mkdtempSync(join(tmpdir(), 'vouch-e2e-'));
const f = { quote: join(dir, 'q.bin'), collateral: join(dir, 'c.json'), root: join(dir, 'root.pem') };
await run(process.env.DCAP_FORGE, ['--quote', f.quote, '--collateral', f.collateral, '--root', f.root, '--rtmrs', rq.subarray(376, 376 + 192).toString('hex')]);
await vouch(['collateral', 'import', '--db', `sqlite:${join(dir, 'vouch.db')}`, '--dcap-root', f.root, f.collateral]);
const srv = await startVouchd({ dir, args: ['--dcap-root', f.root] });
const q = readFileSync(f.quote).toString('base64');
const body = (withLog) => JSON.stringify({ tee: 'tdx', evidence: Buffer.from(JSON.stringify({ quote: q, cc_eventlog: withLog ? log.toString('base64') : null })).toString('base64url') });
const t = { with: 0n, without: 0n };
for (let i = 0; i < n + 5; i++) for (const k of ['without', 'with']) {
  const s = process.hrtime.bigint();
  const r = await request(`${srv.url}/v1/attestation${process.argv[5] || ''}`, { method: 'POST', body: body(k === 'with') });
  if (r.status !== 200) throw new Error(r.text);
  if (i >= 5) t[k] += process.hrtime.bigint() - s;
}
console.log(`${logName}: without ${Number(t.without / BigInt(n)) / 1000} us, with ${Number(t.with / BigInt(n)) / 1000} us, +${(100 * (Number(t.with) / Number(t.without) - 1)).toFixed(1)}%`);
await srv.stop();
