// Abuse vouchd must survive, from anonymous clients on loopback: connection
// floods and slow clients, request rates, failed admin logins, endless
// bodies and framing tricks.  Every server here runs with small limits so
// counts and times stay bounded; a second client address (127.0.0.2, any
// 127/8 address is local) stands for everyone else.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startVouchd, ADMIN_TOKEN, VOUCHD } from './lib/vouchd.mjs';

const OTHER = '127.0.0.2';

// One raw HTTP/1.1 exchange: resolves { status, headers, body, text, ms }
// once the response is complete (Content-Length) or the server closes.
function exchange(port, raw, { localAddress, timeoutMs = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const sock = net.connect({ host: '127.0.0.1', port, localAddress });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer in ${timeoutMs} ms`)); }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(parse(buf, Date.now() - t0));
    };
    sock.on('connect', () => sock.write(raw));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parse(buf, 0);
      if (r && r.complete) finish();
    });
    sock.on('error', () => {});
    sock.on('close', finish);
  });
}

function parse(buf, ms) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: null, text, ms, complete: false };
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const bodyText = text.slice(end + 4);
  const len = Number(headers['content-length'] ?? -1);
  let body = null;
  try { body = JSON.parse(bodyText); } catch { /* not JSON (yet) */ }
  return {
    status: Number(statusLine.split(' ')[1]), headers, body, text, ms,
    complete: len >= 0 && Buffer.byteLength(bodyText, 'latin1') >= len,
  };
}

const get = (path, extra = '') => `GET ${path} HTTP/1.1\r\nHost: vouch\r\n${extra}\r\n`;

function assertProblem(r, status, code, what = '') {
  assert.equal(r.status, status, `${what}: ${r.text.slice(0, 500)}`);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.body.status, status);
  assert.equal(r.body.code, code);
}

// Open `n` connections from 127.0.0.1 that send the start of a request and
// stop.  Resolves once all have connected or failed; `open()` counts those
// the server has not closed.
async function slowClients(port, n, { localAddress } = {}) {
  const socks = [];
  await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    s.gone = false;
    s.on('connect', () => { s.write('GET /healthz HTTP/1.1\r\nHost: vouch\r\nX-Slow: '); resolve(); });
    s.on('error', () => { s.gone = true; resolve(); });
    s.on('close', () => { s.gone = true; resolve(); });
    socks.push(s);
  })));
  return {
    socks,
    open: () => socks.filter((s) => !s.gone).length,
    destroy: () => socks.forEach((s) => s.destroy()),
  };
}

describe('one address holding many connections', () => {
  let srv;
  before(async () => { srv = await startVouchd({ args: ['--max-connections-per-ip', '8'] }); });
  after(async () => { await srv?.stop(); });

  test('its connections stop at --max-connections-per-ip; others still get in', async () => {
    const flood = await slowClients(srv.port, 20);
    await sleep(500);
    assert.equal(flood.open(), 8);
    const r = await exchange(srv.port, get('/healthz'), { localAddress: OTHER });
    assert.equal(r.status, 200);
    flood.destroy();
  });

  test('4,096 slow connections from it: another address gets /healthz within 1 s', async () => {
    const flood = await slowClients(srv.port, 4096);
    const r = await exchange(srv.port, get('/healthz'), { localAddress: OTHER, timeoutMs: 5000 });
    assert.equal(r.status, 200);
    assert.ok(r.ms < 1000, `took ${r.ms} ms`);
    await sleep(300);
    assert.equal(flood.open(), 8);
    flood.destroy();
  });
});

test('all addresses together stop at --max-connections', async () => {
  const srv = await startVouchd({
    args: ['--max-connections', '16', '--max-connections-per-ip', '64', '--threads', '1'],
  });
  try {
    const flood = await slowClients(srv.port, 16);
    await sleep(300);
    assert.equal(flood.open(), 16);
    // The 17th, from elsewhere, is not served while the 16 hold their slots.
    await assert.rejects(exchange(srv.port, get('/healthz'), { localAddress: OTHER, timeoutMs: 1000 })
      .then((r) => { if (r.status === 0) throw new Error('closed unanswered'); return r; }));
    flood.destroy();
    await sleep(300);
    const r = await exchange(srv.port, get('/healthz'), { localAddress: OTHER });
    assert.equal(r.status, 200);
  } finally {
    await srv.stop();
  }
});

// Start vouchd under a shell's open-files limit; resolves its pid and log
// once it listens (or its log if it exits).
function underUlimit(ulimit, args) {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-api-'));
  const proc = spawn('bash', ['-c', `${ulimit} && exec "$0" "$@"`, VOUCHD, '--listen', '127.0.0.1:0',
    '--db', `sqlite:${join(dir, 'v.db')}`, '--admin-token', ADMIN_TOKEN, ...args],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve) => {
    const finish = (up) => {
      const limits = up ? readFileSync(`/proc/${proc.pid}/limits`, 'utf8') : '';
      proc.kill('SIGTERM');
      proc.on('exit', () => { rmSync(dir, { recursive: true, force: true }); resolve({ up, log, limits }); });
    };
    proc.stderr.on('data', (d) => { log += d; if (/msg=listening/.test(log)) finish(true); });
    proc.on('exit', (code) => { if (!/msg=listening/.test(log)) { rmSync(dir, { recursive: true, force: true }); resolve({ up: false, log, code }); } });
  });
}

test('the open-files limit is raised to fit --max-connections, or the cap lowered to fit it', async () => {
  const raised = await underUlimit('ulimit -Sn 1024', ['--max-connections', '2000']);
  assert.ok(raised.up, raised.log);
  assert.match(raised.limits, /Max open files\s+2256\s/);
  const lowered = await underUlimit('ulimit -n 400', ['--max-connections', '2000']);
  assert.ok(lowered.up, lowered.log);
  assert.match(lowered.log, /open-files limit is below --max-connections.*max_connections=144/);
  const refused = await underUlimit('ulimit -n 200', []);
  assert.equal(refused.up, false);
  assert.match(refused.log, /fewer than 16 connections/);
});

// Send `head`, then one byte every 200 ms; resolves the seconds until the
// server closed the connection (or null if it never did within `maxS`).
function trickle(port, head, byte, maxS) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect({ host: '127.0.0.1', port });
    let timer;
    const done = (v) => { clearInterval(timer); s.destroy(); resolve(v); };
    s.on('connect', () => {
      s.write(head);
      timer = setInterval(() => {
        if (Date.now() - t0 > maxS * 1000) done(null);
        else s.write(byte);
      }, 200);
    });
    s.on('error', () => done((Date.now() - t0) / 1000));
    s.on('close', () => done((Date.now() - t0) / 1000));
  });
}

describe('slow clients', () => {
  let srv;
  before(async () => { srv = await startVouchd({ args: ['--request-timeout', '2'] }); });
  after(async () => { await srv?.stop(); });

  test('--request-timeout is a deadline: slow headers and slow bodies are cut off', async () => {
    const [headers, body] = await Promise.all([
      trickle(srv.port, 'GET /healthz HTTP/1.1\r\nHost: vouch\r\nX-Slow: ', 'a', 6),
      trickle(srv.port, 'POST /v1/attestation HTTP/1.1\r\nHost: vouch\r\nContent-Length: 100000\r\n\r\n{', ' ', 6),
    ]);
    assert.ok(headers !== null && headers >= 1.9 && headers < 3.5, `headers: closed after ${headers} s`);
    assert.ok(body !== null && body >= 1.9 && body < 3.5, `body: closed after ${body} s`);
  });

  test('the deadline is per request: a keep-alive connection outlives it', async () => {
    const s = net.connect({ host: '127.0.0.1', port: srv.port });
    let got = '';
    s.on('data', (d) => { got += d; });
    await new Promise((resolve) => s.on('connect', resolve));
    for (let i = 0; i < 5; i++) {
      s.write(get('/healthz'));
      await sleep(600);
    }
    assert.equal(got.match(/HTTP\/1.1 200 OK/g)?.length, 5);
    s.destroy();
  });
});

test('--rate-limit: 429 problem+json with Retry-After; another address is not affected', async () => {
  const srv = await startVouchd({ args: ['--rate-limit', '1', '--rate-burst', '5'] });
  try {
    for (let i = 0; i < 5; i++) assert.equal((await exchange(srv.port, get('/healthz'))).status, 200);
    const r = await exchange(srv.port, get('/healthz'));
    assertProblem(r, 429, 'VOUCH.REQUEST.RATE_LIMITED');
    assert.ok(Number(r.headers['retry-after']) >= 1, r.headers['retry-after']);
    assert.match(r.body.detail, /this address/);
    // A refused request with a body is answered after it, so an ordinary client reads the 429.
    const post = await fetch(`${srv.url}/v1/attestation`, { method: 'POST', body: '{"x":"'.padEnd(200000, 'y') + '"}' });
    assert.equal(post.status, 429);
    assert.equal(post.headers.get('content-type'), 'application/problem+json');
    assert.equal((await exchange(srv.port, get('/healthz'), { localAddress: OTHER })).status, 200);
  } finally {
    await srv.stop();
  }
});

test('--rate-limit also counts per credential, across addresses', async () => {
  const srv = await startVouchd({ args: ['--rate-limit', '1', '--rate-burst', '4'] });
  try {
    const auth = `Authorization: Bearer ${ADMIN_TOKEN}\r\n`;
    for (const localAddress of ['127.0.0.1', '127.0.0.1', OTHER, OTHER]) {
      assert.equal((await exchange(srv.port, get('/admin/keys', auth), { localAddress })).status, 200);
    }
    const r = await exchange(srv.port, get('/admin/keys', auth), { localAddress: '127.0.0.3' });
    assertProblem(r, 429, 'VOUCH.REQUEST.RATE_LIMITED');
    assert.match(r.body.detail, /credential/);
    assert.equal((await exchange(srv.port, get('/healthz'), { localAddress: '127.0.0.3' })).status, 200);
  } finally {
    await srv.stop();
  }
});

test('failed admin authentication is throttled per address', async () => {
  const srv = await startVouchd({ args: ['--admin-auth-failures', '3'] });
  try {
    const wrong = get('/admin/keys', 'Authorization: Bearer wrong-wrong-wrong-wrong\r\n');
    const right = get('/admin/keys', `Authorization: Bearer ${ADMIN_TOKEN}\r\n`);
    for (let i = 0; i < 3; i++) assertProblem(await exchange(srv.port, wrong), 401, 'VOUCH.AUTH.UNAUTHORIZED');
    const r = await exchange(srv.port, wrong);
    assertProblem(r, 429, 'VOUCH.REQUEST.RATE_LIMITED');
    assert.ok(Number(r.headers['retry-after']) >= 10, r.headers['retry-after']);
    // Even the right token waits at that address; another address is unaffected.
    assertProblem(await exchange(srv.port, right), 429, 'VOUCH.REQUEST.RATE_LIMITED');
    assert.equal((await exchange(srv.port, right, { localAddress: OTHER })).status, 200);
    assert.equal((await exchange(srv.port, get('/healthz'))).status, 200);
  } finally {
    await srv.stop();
  }
});

// Stream up to `total` bytes of body after `head`, 64 KiB a millisecond, as
// a client does that reads while it sends; resolves how many bytes
// the socket took before the server closed it, and what the server answered.
function stream(port, head, total, frame) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const piece = Buffer.alloc(64 * 1024, 0x61);
    let written = 0, got = Buffer.alloc(0), ended = false;
    const done = () => {
      if (ended) return;
      ended = true;
      s.destroy();
      resolve({ written, response: parse(got, 0) });
    };
    const pump = () => {
      if (ended || written >= total) return;
      s.write(frame(piece), (err) => {
        if (err) return done();
        written += piece.length;
        setTimeout(pump, 1);
      });
    };
    s.on('connect', () => { s.write(head); pump(); });
    s.on('data', (d) => { got = Buffer.concat([got, d]); });
    s.on('error', done);
    s.on('close', done);
    setTimeout(done, 20000);
  });
}

describe('bodies and framing', () => {
  let srv;
  before(async () => { srv = await startVouchd({ args: ['--max-body', '65536'] }); });
  after(async () => { await srv?.stop(); });

  test('a body is cut off at --max-body with 413 problem+json, chunked or not', async () => {
    const total = 64 << 20;
    const chunked = await stream(srv.port,
      'POST /v1/attestation HTTP/1.1\r\nHost: vouch\r\nTransfer-Encoding: chunked\r\n\r\n', total,
      (p) => Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]));
    assert.ok(chunked.written < 24 << 20, `the server took ${chunked.written} bytes`);
    assertProblem(chunked.response, 413, 'VOUCH.REQUEST.TOO_LARGE');
    const sized = await stream(srv.port,
      `POST /v1/attestation HTTP/1.1\r\nHost: vouch\r\nContent-Length: ${total}\r\n\r\n`, total, (p) => p);
    assert.ok(sized.written < 24 << 20, `the server took ${sized.written} bytes`);
    assertProblem(sized.response, 413, 'VOUCH.REQUEST.TOO_LARGE');
    assert.equal((await exchange(srv.port, get('/healthz'))).status, 200);
  });

  test('ambiguous body framing gets problem+json; what libmicrohttpd answers itself still closes', async () => {
    const post = (extra, body = '') => `POST /v1/attestation HTTP/1.1\r\nHost: vouch\r\n${extra}\r\n${body}`;
    const ours = [
      [post('Content-Length: 2\r\nContent-Length: 3\r\n', '{}'), 400, 'Content-Length'],
      [post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), 400, 'Content-Length'],
      [post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), 400, 'Transfer-Encoding'],
      [post('Transfer-Encoding: gzip\r\n'), 501, 'Transfer-Encoding'],
    ];
    for (const [raw, status, field] of ours) {
      const r = await exchange(srv.port, raw);
      assertProblem(r, status, 'VOUCH.REQUEST.BAD_FRAMING', raw);
      assert.equal(r.body.field, field);
      assert.equal(r.headers.connection, 'close');
    }
    // Answered by the library (documented in docs/api.md): a status, then the connection closes.
    const library = [
      [post('Content-Length: abc\r\n'), 400],
      [post('Content-Length: +2\r\n', '{}'), 400],
      [post(`Content-Length: ${'9'.repeat(25)}\r\n`), 413],
      [post('Transfer-Encoding: chunked\r\n', 'zz\r\n\r\n'), 400],
      ['GET /healthz HTTP/1.1\r\nHost: vouch\r\nno colon here\r\n\r\n', 400],
      ['GET /healthz HTTP/9.9\r\nHost: vouch\r\n\r\n', 505],
    ];
    for (const [raw, status] of library) {
      const r = await exchange(srv.port, raw);
      assert.equal(r.status, status, r.text.slice(0, 300));
    }
    assert.equal((await exchange(srv.port, get('/healthz'))).status, 200);
  });
});
