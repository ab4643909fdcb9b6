// bench/vtpm/http_replay (the load generator of bench/vtpm/run.sh and
// describe.sh) against a real vouchd: it sends every line once, counts the
// answers other than 200, sends a key's lines in file order (vouchd's
// request log, one line per answered request, shows the X-Request-Id
// bench<KEY>x<LINE> it sent), opens a new connection when vouchd closes
// one (a body over --vtpm-max-request: 413 and Connection: close), and
// fails clearly on a missing file or a refused connection.  With --rate it
// paces the run and counts each latency from when the request was due, and
// --warmup leaves the first lines out of the summary.
// HTTP_REPLAY names the binary (bench/meson.build).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd } from './lib/vouchd.mjs';
import { newAccessKey, signedQuery } from './lib/vtpmclient.mjs';

const HTTP_REPLAY = process.env.HTTP_REPLAY;
const KEYS = 10;
const CAP = 1 << 20;              // --vtpm-max-request: the least it may be
const TOO_LARGE = CAP + 4096;     // a body this long is refused: 413, connection closed
let srv, dir;

function replay(args) {
  return new Promise((resolve) => {
    execFile(HTTP_REPLAY, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

function summary(stdout) {
  const m = /^bodies=(\d+) non200=(\d+) seconds=([\d.]+) per_second=\d+ p50_ms=([\d.]+) p99_ms=([\d.]+) spare=0$/m
    .exec(stdout);
  assert.ok(m, stdout);
  assert.match(stdout, /^client_cpu_us_per_request=[\d.]+$/m);
  return { bodies: Number(m[1]), non200: Number(m[2]), seconds: Number(m[3]),
    p50: Number(m[4]), p99: Number(m[5]) };
}

// A server that answers each request after `delayMs`.
async function slowServer(delayMs) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('ok'), delayMs));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

before(async () => {
  assert.ok(HTTP_REPLAY, 'set HTTP_REPLAY to the built bench/http_replay (meson test does)');
  srv = await startVouchd({ args: ['--vtpm-max-request', String(CAP)] });
  dir = mkdtempSync(join(tmpdir(), 'vouch-replay-'));
});

after(async () => {
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('sends every line once, counts non-200 answers, keeps each key in file order', async () => {
  const key = await newAccessKey(srv.url, 'replay');
  const lines = [], perKey = new Map(), tooLarge = [];
  for (let i = 1; i <= 300; i++) {
    if (i % 100 === 1) {                                   // 413, connection closed
      const k = i % KEYS;
      lines.push(`${k}\tAction=DescribeInstances&Pad=${'a'.repeat(TOO_LARGE)}`);
      tooLarge.push(`bench${k}x${i}`);
    } else if (i % 3 === 0) {
      lines.push('Action=DescribeInstances');               // unsigned: 400
    } else {
      const k = i % KEYS;
      lines.push(`${k}\t${signedQuery(key, { Action: 'DescribeInstances' }, { method: 'POST' })}`);
      perKey.set(String(k), [...(perKey.get(String(k)) ?? []), i]);
    }
  }
  const file = join(dir, 'bodies.txt');
  writeFileSync(file, lines.join('\n') + '\n');
  const r = await replay(['-c', '4', '-t', '2', `${srv.url}/`, file]);
  assert.equal(r.code, 0, r.stderr);
  const { bodies, non200 } = summary(r.stdout);
  assert.deepEqual({ bodies, non200 }, { bodies: 300, non200: 102 });
  // The first two answers other than 200, their bodies on stderr.
  assert.equal(r.stderr.match(/"Code":"[A-Za-z.]+"/g)?.length, 2, r.stderr);
  // Each request once, and a key's in file order (one connection, one
  // outstanding).  vouchd logs a 413 only once it has drained the body, maybe
  // after the key's next requests, so those are checked apart.
  const seen = new Map(), log = srv.log();
  for (const m of log.matchAll(/request_id=bench(\d*)x(\d+) .*status=200/g)) {
    seen.set(m[1], [...(seen.get(m[1]) ?? []), Number(m[2])]);
  }
  assert.deepEqual(seen, perKey);
  assert.deepEqual([...log.matchAll(/request_id=(bench\d+x\d+) .*status=413/g)].map((m) => m[1]).sort(),
    tooLarge.sort());
  assert.equal([...log.matchAll(/request_id=benchx\d+ .*status=400/g)].length, 99);
});

test('--rate sends line I at I/R s and charges a slow server for the queue; --warmup leaves lines out', async () => {
  const file = join(dir, 'paced.txt');
  writeFileSync(file, 'x=1\n'.repeat(20));
  // A prompt server: the run lasts at least until line 19 is due (0.19 s).
  let server = await slowServer(0);
  let r = await replay(['-c', '4', '--rate', '100', `http://127.0.0.1:${server.address().port}/`, file]);
  server.close();
  assert.equal(r.code, 0, r.stderr);
  assert.ok(summary(r.stdout).seconds >= 0.19, r.stdout);
  // One connection to a server taking 40 ms an answer, 10 ms apart: answer K
  // comes at (K + 1) * 40 ms at the earliest, so line 19 (due at 190 ms) waits
  // at least 610 ms; without the pacing each would count about 40 ms.
  server = await slowServer(40);
  r = await replay(['-c', '1', '--rate', '100', `http://127.0.0.1:${server.address().port}/`, file]);
  server.close();
  assert.equal(r.code, 0, r.stderr);
  const s = summary(r.stdout);
  assert.ok(s.p99 >= 610, r.stdout);
  assert.ok(s.p50 >= 40 + 30 * 9, r.stdout);
  // --warmup 10: lines 0-9 are sent alike but left out: the median is line 14's.
  server = await slowServer(40);
  r = await replay(['-c', '1', '--rate', '100', '--warmup', '10',
    `http://127.0.0.1:${server.address().port}/`, file]);
  server.close();
  assert.equal(r.code, 0, r.stderr);
  const w = summary(r.stdout);
  assert.equal(w.bodies, 10);
  assert.ok(w.p50 >= 40 + 30 * 14, r.stdout);
  r = await replay(['--warmup', '20', `${srv.url}/`, file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--warmup 20: .* has only 20 requests/);
  r = await replay(['--rate', '0', `${srv.url}/`, file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /rate: "0" is not a number from 1 to/);
});

test('fails clearly on a missing file and a refused connection', async () => {
  let r = await replay([`${srv.url}/`, join(dir, 'missing.txt')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing\.txt: No such file/);
  const file = join(dir, 'one.txt');
  writeFileSync(file, 'Action=DescribeInstances\n');
  const other = await startVouchd();
  const { port } = other;
  await other.stop();
  r = await replay([`http://127.0.0.1:${port}/`, file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /connect to 127\.0\.0\.1:\d+: Connection refused/);
  r = await replay(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^usage: http_replay /);
});
