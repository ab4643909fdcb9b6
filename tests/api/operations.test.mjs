// Operating vouchd: Prometheus metrics (checked by promtool and scraped by a
// real Prometheus), request ids, /readyz, JSON logs, and no secret in any log.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startVouchd, vouch, request, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { RawConnection, buildRequest } from './lib/rawhttp.mjs';

const run = promisify(execFile);
const V2 = '../vectors/dcap/dcap-qvl/sample';
const FIXED = '2025-07-04T10:24:15Z';
const METRICS_TOKEN = 'metrics-token-7f3a9c1d2e4b';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const evidenceOf = (quote) => b64url(JSON.stringify({ quote: Buffer.from(quote).toString('base64'), cc_eventlog: null }));

// promtool check metrics on `text`: resolves { code, out } (promtool reads stdin).
function promtoolCheck(text) {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, out }));
    p.stdin.end(text);
  });
}

// A free TCP port on 127.0.0.1 (bound, then released for the child to take).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// A vouchd with the real TDX quote's Intel collateral imported, at the quote's time.
async function serverWithCollateral(args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-ops-'));
  const db = `sqlite:${join(dir, 'vouch.db')}`;
  await vouch(['collateral', 'import', '--db', db, join(V2, 'tdx_quote_collateral.json')]);
  const srv = await startVouchd({ dir, args: ['--fixed-time', FIXED, ...args] });
  const stop = srv.stop.bind(srv);
  srv.stop = async () => { const r = await stop(); rmSync(dir, { recursive: true, force: true }); return r; };
  return srv;
}

// The value of one series in exposition text, or undefined.
function series(text, name, labels) {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const want = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (want) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('GET /metrics', () => {
  let srv;
  const quote = readFileSync(join(V2, 'tdx_quote'));
  before(async () => {
    srv = await serverWithCollateral();
    await request(`${srv.url}/healthz`);
    const ok = await request(`${srv.url}/v1/attestation`, { method: 'POST', body: JSON.stringify({ tee: 'tdx', evidence: evidenceOf(quote), policy_ids: [] }) });
    assert.equal(ok.status, 200, ok.text);
    const bad = await request(`${srv.url}/v1/attestation`, { method: 'POST', body: JSON.stringify({ tee: 'tdx', evidence: evidenceOf(quote.subarray(0, 100)), policy_ids: [] }) });
    assert.equal(bad.status >= 400, true);
    await request(`${srv.url}/policy/secret-looking-id-123`, { headers: admin });
    await request(`${srv.url}/no/such/path/xyz-987`);
  });
  after(async () => { await srv?.stop(); });

  test('passes promtool check metrics, lint included', async () => {
    const r = await request(`${srv.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const { code, out } = await promtoolCheck(r.text);
    assert.equal(out, '', `promtool said:\n${out}`);
    assert.equal(code, 0);
  });

  test('counts requests by route pattern, verifications, policy, caches, collateral, process', async () => {
    const { text } = await request(`${srv.url}/metrics`);
    assert.equal(series(text, 'vouch_http_requests_total', { route: '/healthz', method: 'GET', status: '200' }), 1);
    assert.equal(series(text, 'vouch_http_requests_total', { route: '/policy/{id}', method: 'GET', status: '404' }), 1);
    assert.equal(series(text, 'vouch_http_requests_total', { route: 'unmatched', status: '404' }), 1);
    // the raw path never becomes a label value
    assert.doesNotMatch(text, /secret-looking-id-123|xyz-987/);
    assert.equal(series(text, 'vouch_http_request_duration_seconds_count', { route: '/v1/attestation', method: 'POST' }), 2);
    assert.equal(series(text, 'vouch_verifications_total', { tee: 'tdx', result: 'ok' }), 1);
    assert.equal(series(text, 'vouch_verification_duration_seconds_count', { tee: 'tdx' }) >= 1, true);
    assert.equal(series(text, 'vouch_policy_evaluations_total', { result: 'allow' }), 1);
    assert.equal(series(text, 'vouch_policy_evaluation_duration_seconds_count', {}), 1);
    assert.equal(series(text, 'vouch_cache_misses_total', { cache: 'collateral_docs' }) >= 1, true);
    assert.notEqual(series(text, 'vouch_cache_entries', { cache: 'policies' }), undefined);
    // Intel's TCB info of the sample carries its FMSPC; nextUpdate is long past by the real clock
    const fmspc = /vouch_collateral_next_update_seconds\{document="tcb\/[a-z]+\/([0-9A-Fa-f]{12})\/v\d",fmspc="\1"\} (-?\d+)/.exec(text);
    assert.ok(fmspc, text);
    assert.ok(Number(fmspc[2]) < 0);
    assert.match(text, /^vouch_collateral_next_update_timestamp_seconds\{document="tcb\//m);
    // store latency: the policy and collateral reads of the attestations went through the store
    assert.ok(series(text, 'vouch_store_operation_duration_seconds_count', { op: 'doc_get' }) >= 1, text);
    assert.equal(series(text, 'vouch_store_operation_errors_total', { op: 'doc_get' }) >= 0, true);
    assert.equal(series(text, 'vouch_open_connections', {}) >= 1, true);
    assert.equal(series(text, 'vouch_rate_limited_requests_total', { limit: 'address' }), 0);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'process_start_time_seconds']) {
      assert.ok(series(text, name, {}) > 0, name);
    }
  });
});

describe('--metrics-token', () => {
  let srv;
  before(async () => { srv = await startVouchd({ args: ['--metrics-token', METRICS_TOKEN, '--rate-limit', '1000'] }); });
  after(async () => { await srv?.stop(); });

  test('only the exact bearer token opens /metrics', async () => {
    for (const headers of [{}, admin, { authorization: `Bearer ${METRICS_TOKEN}x` },
      { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` }, { authorization: METRICS_TOKEN }]) {
      const r = await request(`${srv.url}/metrics`, { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(r.body.code, 'VOUCH.AUTH.UNAUTHORIZED');
    }
    // a token hidden behind a NUL byte is not the token
    const c = new RawConnection(srv.port);
    await c.open();
    const nul = await c.send(buildRequest({ target: '/metrics', headers: [['Authorization', Buffer.from(`Bearer ${METRICS_TOKEN.slice(0, 8)}\0${METRICS_TOKEN.slice(8)}`, 'latin1')]] }));
    c.close();
    assert.equal(nul.status, 401);
    const ok = await request(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /^# TYPE vouch_http_requests_total counter$/m);
  });
});

describe('a real Prometheus scrapes vouchd', () => {
  test('scrapes with the metrics token and answers a query for a vouchd series', { timeout: 90000 }, async () => {
    const srv = await startVouchd({ args: ['--metrics-token', METRICS_TOKEN] });
    const dir = mkdtempSync(join(tmpdir(), 'vouch-prom-'));
    let prom = null;
    let plog = '';
    try {
      const port = await freePort();
      writeFileSync(join(dir, 'prometheus.yml'), [
        'global:', '  scrape_interval: 1s', '  scrape_timeout: 1s',
        'scrape_configs:', '  - job_name: vouchd', '    authorization:',
        `      credentials: ${METRICS_TOKEN}`,
        '    static_configs:', `      - targets: ['127.0.0.1:${srv.port}']`, ''].join('\n'));
      prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] });
      prom.stdout.on('data', (d) => { plog += d; });
      prom.stderr.on('data', (d) => { plog += d; });
      await request(`${srv.url}/healthz`);
      const q = encodeURIComponent('vouch_http_requests_total{job="vouchd",route="/healthz",status="200"}');
      const deadline = Date.now() + 60000;
      let found = null;
      while (!found && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        try {
          const r = await request(`http://127.0.0.1:${port}/api/v1/query?query=${q}`);
          if (r.status === 200 && r.body?.data?.result?.length) found = r.body.data.result;
        } catch { /* not up yet */ }
      }
      assert.ok(found, `no series came back; prometheus said:\n${plog.slice(-4000)}`);
      assert.equal(found[0].metric.method, 'GET');
      assert.ok(Number(found[0].value[1]) >= 1);
      const up = await request(`http://127.0.0.1:${port}/api/v1/query?query=up%7Bjob%3D%22vouchd%22%7D`);
      assert.equal(up.body.data.result[0].value[1], '1');
    } finally {
      if (prom && prom.exitCode === null) {
        const gone = new Promise((r) => prom.once('exit', r));
        prom.kill('SIGTERM');
        const t = setTimeout(() => prom.kill('SIGKILL'), 10000);
        await gone;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
      await srv.stop();
    }
  });
});

describe('request ids, readiness and JSON logs', () => {
  let srv;
  before(async () => { srv = await startVouchd({ args: ['--log-format', 'json'] }); });
  after(async () => { await srv?.stop(); });

  test('a well-formed X-Request-Id is kept, anything else replaced', async () => {
    const kept = await request(`${srv.url}/healthz`, { headers: { 'x-request-id': 'trace.AB_12-x' } });
    assert.equal(kept.headers.get('x-request-id'), 'trace.AB_12-x');
    const sixtyFour = 'a'.repeat(64);
    assert.equal((await request(`${srv.url}/healthz`, { headers: { 'x-request-id': sixtyFour } })).headers.get('x-request-id'), sixtyFour);
    for (const bad of ['a'.repeat(65), 'has space', 'semi;colon', 'a/b', '']) {
      const r = await request(`${srv.url}/healthz`, { headers: { 'x-request-id': bad } });
      assert.match(r.headers.get('x-request-id'), /^[0-9a-f]{32}$/, JSON.stringify(bad));
    }
    const a = await request(`${srv.url}/healthz`);
    const b = await request(`${srv.url}/healthz`);
    assert.match(a.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
    assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
  });

  test('problem bodies carry the request id, and so does the log line', async () => {
    const r = await request(`${srv.url}/policy`, { headers: { 'x-request-id': 'trace-401' } });
    assert.equal(r.status, 401);
    assert.equal(r.body.request_id, 'trace-401');
    const gen = await request(`${srv.url}/nope`, { method: 'DELETE' });
    assert.equal(gen.status, 404);
    assert.equal(gen.body.request_id, gen.headers.get('x-request-id'));
    // answers made before routing carry it too: ambiguous framing
    const c = new RawConnection(srv.port);
    await c.open();
    const framing = await c.send(buildRequest({ method: 'POST', target: '/challenge', headers: [['X-Request-Id', 'trace-framing'], ['Content-Length', '2'], ['Content-Length', '2']], body: null }));
    c.close();
    assert.equal(framing.status, 400);
    assert.equal(framing.headers['x-request-id'], 'trace-framing');
    assert.equal(framing.body.request_id, 'trace-framing');
    await new Promise((res) => setTimeout(res, 200));
    const lines = srv.log().trim().split('\n').map((l) => JSON.parse(l));
    const line = lines.find((l) => l.request_id === 'trace-401');
    assert.ok(line, srv.log());
    assert.equal(line.route, '/policy');
    assert.equal(line.status, 401);
  });

  test('every log line is one JSON object; request lines have the documented fields', async () => {
    await request(`${srv.url}/readyz`);
    await new Promise((res) => setTimeout(res, 200));
    const lines = srv.log().trim().split('\n');
    const objs = lines.map((l) => JSON.parse(l));
    assert.ok(objs.every((o) => typeof o.time === 'string' && typeof o.level === 'string' && typeof o.msg === 'string'));
    const req = objs.find((o) => o.msg === 'request' && o.path === '/readyz');
    assert.ok(req);
    assert.match(req.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(req.level, 'info');
    assert.match(req.request_id, /^[0-9a-f]{32}$/);
    assert.equal(req.route, '/readyz');
    assert.equal(req.status, 200);
    assert.equal(typeof req.us, 'number');
    assert.ok(req.bytes > 0);
    assert.equal(req.remote, '127.0.0.1');
  });

  test('/readyz names its checks and is open', async () => {
    const r = await request(`${srv.url}/readyz`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { status: 'ready', checks: { store: 'ok', keys: 'ok' } });
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });
});

describe('/readyz when not ready', () => {
  test('names the store when it does not answer, and the keys when none is active', { timeout: 60000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vouch-ops-ready-'));
    const srv = await startVouchd({ dir });
    const db = join(dir, 'vouch.db');
    try {
      assert.equal((await request(`${srv.url}/readyz`)).status, 200);
      // no active signing key: seen once the keyring is re-read (every 5 s)
      await run('sqlite3', ['-cmd', '.timeout 5000', db, 'DELETE FROM signing_keys']);
      let r;
      const deadline = Date.now() + 20000;
      do {
        await new Promise((res) => setTimeout(res, 500));
        r = await request(`${srv.url}/readyz`);
      } while (r.status === 200 && Date.now() < deadline);
      assert.equal(r.status, 503, r.text);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.body.code, 'VOUCH.HEALTH.NOT_READY');
      assert.equal(r.body.field, 'keys');
      assert.equal(r.body.request_id, r.headers.get('x-request-id'));
      // a store that fails its query
      await run('sqlite3', ['-cmd', '.timeout 5000', db, 'DROP TABLE schema_version']);
      r = await request(`${srv.url}/readyz`);
      assert.equal(r.status, 503, r.text);
      assert.equal(r.body.field, 'store');
    } finally {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('no secret in any log', () => {
  // text without a KEK (private keys stored in clear: check none of their
  // lines is logged), json with one (check the KEK itself is not)
  for (const [format, withKek] of [['text', false], ['json', true]]) {
    test(`a run of requests leaves no token or key material in the ${format} log`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vouch-ops-secrets-'));
      const kekRaw = randomBytes(32);
      const kekFile = join(dir, 'kek');
      writeFileSync(kekFile, `${kekRaw.toString('hex')}\n`, { mode: 0o600 });
      const srv = await startVouchd({ dir, args: [...(withKek ? ['--kek-file', kekFile] : []), '--metrics-token', METRICS_TOKEN, '--log-format', format] });
      const wrongBearer = `wrong-bearer-${randomBytes(12).toString('hex')}`;
      const challengeTokens = [];
      let exit = null;
      try {
        const u = srv.url;
        const policy = b64url('package policy\nimport rego.v1\ndefault allow := true\n');
        await request(`${u}/policy`, { method: 'POST', headers: admin, body: JSON.stringify({ policy_id: 'p1', policy }) });
        await request(`${u}/policy`, { headers: admin });
        await request(`${u}/admin/keys`, { headers: admin });
        await request(`${u}/admin/keys/rotate`, { method: 'POST', headers: admin });
        await request(`${u}/admin/keys`, { headers: { authorization: `Bearer ${wrongBearer}` } });
        await request(`${u}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        await request(`${u}/metrics`, { headers: { authorization: `Bearer ${wrongBearer}` } });
        const ch = await request(`${u}/challenge`, { method: 'POST', body: '{"tee":"tdx"}' });
        if (ch.body?.nonce) challengeTokens.push(ch.body.nonce);
        if (ch.body?.challenge_token) challengeTokens.push(ch.body.challenge_token);
        await request(`${u}/v1/attestation`, { method: 'POST', headers: { authorization: `Bearer ${wrongBearer}` }, body: JSON.stringify({ tee: 'tdx', evidence: 'AAAA', challenge_token: challengeTokens[0] ?? 'x', policy_ids: [] }) });
        await request(`${u}/jwks.json`);
      } finally {
        exit = await srv.stop({ keep: true });
      }
      const log = srv.log();
      try {
        assert.equal(exit.code, 0, log);
        assert.ok(log.includes('request'), log);
        const forbidden = {
          'admin token': ADMIN_TOKEN,
          'metrics token': METRICS_TOKEN,
          'a wrong bearer value': wrongBearer,
          'the KEK (hex)': kekRaw.toString('hex'),
          'the KEK (base64)': kekRaw.toString('base64'),
          'PEM material': '-----BEGIN',
          'a private key': 'PRIVATE KEY',
          'a bearer header': 'Bearer ',
        };
        for (const t of challengeTokens) if (t.length >= 16) forbidden['a challenge token'] = t;
        if (!withKek) {
          const pems = (await run('sqlite3', ['-cmd', '.timeout 5000', join(dir, 'vouch.db'), 'SELECT private_pem FROM signing_keys'])).stdout;
          const lines = pems.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
          assert.ok(lines.length > 4, pems.slice(0, 200));
          lines.forEach((l, i) => { forbidden[`line ${i} of a stored private key`] = l; });
        }
        for (const [what, s] of Object.entries(forbidden)) {
          assert.ok(!log.includes(s), `the log holds ${what}:\n${log}`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
