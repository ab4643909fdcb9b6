// HTTPS: vouchd with --tls-cert/--tls-key from a CA made here with openssl,
// checked with curl, node's https and tls modules and openid-client
// discovery; TLS 1.2 and 1.3 only; SIGHUP reloads the pair while a request
// is in flight on the old one; a bad pair fails start or a reload cleanly.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as oidc from 'openid-client';
import { startVouchd, VOUCHD } from './lib/vouchd.mjs';
import { makeCa, issueServerCert, fetchTrusting } from './lib/pki.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// GET over HTTPS trusting only `ca`: { status, body, cn } (cn: the served certificate's).
function httpsGet(url, ca, { agent = false, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent, headers }, (res) => {
      const cn = res.socket.getPeerCertificate().subject?.CN;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, cn }));
    });
    req.on('error', reject);
  });
}

// A TLS connection to `port` with the given options; resolves the socket once set up.
function tlsConnect(port, opts) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: undefined, ...opts }, () => resolve(s));
    s.once('error', reject);
  });
}

// Bytes from `socket` until `done(text)` says the answer is complete.
function readUntil(socket, done, ms = 10000) {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no complete answer in ${ms} ms: ${text}`)), ms);
    const onData = (d) => {
      text += d;
      if (done(text)) { clearTimeout(timer); socket.off('data', onData); resolve(text); }
    };
    socket.on('data', onData);
    socket.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}
const completeHttp = (t) => {
  const m = /\r\nContent-Length: (\d+)\r\n/i.exec(t);
  const head = t.indexOf('\r\n\r\n');
  return m && head >= 0 && t.length >= head + 4 + Number(m[1]);
};

async function waitForLog(srv, re, ms = 5000) {
  const until = Date.now() + ms;
  while (!re.test(srv.log())) {
    if (Date.now() > until) throw new Error(`log never matched ${re}:\n${srv.log()}`);
    await sleep(20);
  }
}

describe('HTTPS from a CA made in the test', () => {
  let dir, ca, first, second, srv;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vouch-tls-'));
    ca = await makeCa(dir);
    first = await issueServerCert(ca, 'first');
    second = await issueServerCert(ca, 'second', { kind: 'rsa' });
    // the served files, which a reload reads again
    copyFileSync(first.cert, join(dir, 'served.pem'));
    copyFileSync(first.key, join(dir, 'served.key'));
    chmodSync(join(dir, 'served.key'), 0o600);
    srv = await startVouchd({
      args: ['--tls-cert', join(dir, 'served.pem'), '--tls-key', join(dir, 'served.key'),
        '--request-timeout', '60', '--max-body', '4096'],
    });
  });
  after(async () => { await srv?.stop(); rmSync(dir, { recursive: true, force: true }); });

  test('the default issuer is https:// and the log names the certificate', async () => {
    assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await httpsGet(`${srv.url}/.well-known/openid-configuration`, ca.pem);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).issuer, srv.url);
    assert.equal(JSON.parse(r.body).jwks_uri, `${srv.url}/jwks.json`);
    assert.match(srv.log(), /msg="serving HTTPS" subject="CN=first" sha256=[0-9a-f]{64} not_after=\S+Z chain=1/);
  });

  test('curl verifies the chain against the CA and gets an answer', async () => {
    const { stdout } = await run('curl', ['-sS', '--fail', '--cacert', ca.cert, `${srv.url}/healthz`]);
    assert.equal(JSON.parse(stdout).status, 'ok');
    // without the CA, curl refuses the certificate: the CA really is what makes it trusted
    await assert.rejects(run('curl', ['-sS', '--fail', `${srv.url}/healthz`]), /certificate/);
    // plain HTTP on the HTTPS port gets no HTTP answer
    await assert.rejects(run('curl', ['-sS', '--fail', '--max-time', '5',
      srv.url.replace('https:', 'http:') + '/healthz']));
  });

  test('TLS 1.3 and 1.2 are served; TLS 1.1 and 1.0 are refused', async () => {
    for (const v of ['TLSv1.3', 'TLSv1.2']) {
      const s = await tlsConnect(srv.port, { ca: ca.pem, minVersion: v, maxVersion: v });
      assert.equal(s.getProtocol(), v);
      s.destroy();
    }
    // The client below can speak TLS 1.1 (shown against openssl s_server), so the
    // refusal is vouchd's.
    const old = { rejectUnauthorized: false, ciphers: 'DEFAULT@SECLEVEL=0' };
    const control = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', first.cert,
      '-key', first.key, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0', '-naccept', '1'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const port = await new Promise((resolve, reject) => {
        let out = '';
        control.stdout.on('data', (d) => {
          out += d;
          const m = /ACCEPT\s+\S*?:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        control.on('exit', () => reject(new Error(`s_server exited: ${out}`)));
      });
      const s = await tlsConnect(port, { ...old, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' });
      assert.equal(s.getProtocol(), 'TLSv1.1');
      s.destroy();
    } finally {
      control.kill();
    }
    for (const v of ['TLSv1.1', 'TLSv1']) {
      await assert.rejects(tlsConnect(srv.port, { ...old, minVersion: v, maxVersion: v }),
        (e) => /ECONNRESET|protocol version|handshake failure|socket disconnected|alert/i.test(e.message),
        `${v} was accepted`);
    }
  });

  test('openid-client discovers the issuer over HTTPS, trusting the CA', async () => {
    const config = await oidc.discovery(new URL(srv.url), 'vouch-tls-test', undefined, undefined,
      { [oidc.customFetch]: fetchTrusting(ca.pem) });
    const md = config.serverMetadata();
    assert.equal(md.issuer, srv.url);
    assert.equal(md.jwks_uri, `${srv.url}/jwks.json`);
    // and not without it: discovery goes through TLS verification
    await assert.rejects(oidc.discovery(new URL(srv.url), 'vouch-tls-test'));
  });

  test('a body over --max-body still gets its 413 problem over TLS', async () => {
    const status = await new Promise((resolve, reject) => {
      const req = https.request(`${srv.url}/v1/attestation`, { method: 'POST', ca: ca.pem, agent: false },
        (res) => { res.resume(); res.on('end', () => resolve([res.statusCode, res.headers['content-type']])); });
      req.on('error', reject);
      req.end('x'.repeat(20000));   // chunked: the cap is found mid-body
    });
    assert.deepEqual(status, [413, 'application/problem+json']);
    // announced by Content-Length: answered once the body is in (TLS records, not raw bytes)
    const announced = await new Promise((resolve, reject) => {
      const req = https.request(`${srv.url}/v1/attestation`, {
        method: 'POST', ca: ca.pem, agent: false, headers: { 'content-length': 20000 },
      }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve([res.statusCode, JSON.parse(text).code]));
      });
      req.on('error', reject);
      req.end('y'.repeat(20000));
    });
    assert.deepEqual(announced, [413, 'VOUCH.REQUEST.TOO_LARGE']);
    const again = await httpsGet(`${srv.url}/healthz`, ca.pem);
    assert.equal(again.status, 200);
  });

  test('SIGHUP: a request in flight finishes on the old certificate, new connections get the new one', async () => {
    // A request whose body is half sent: it is in flight across the reload.
    const old = await tlsConnect(srv.port, { ca: ca.pem });
    assert.equal(old.getPeerCertificate().subject.CN, 'first');
    const body = JSON.stringify({ tee: 'no-such-tee', evidence: 'AAAA', pad: 'p'.repeat(600) });
    old.write(`POST /v1/attestation HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 300)}`);
    await sleep(200);

    copyFileSync(second.cert, join(dir, 'served.pem'));
    copyFileSync(second.key, join(dir, 'served.key'));
    srv.proc.kill('SIGHUP');
    await waitForLog(srv, /msg="SIGHUP: reloaded the TLS certificate" subject="CN=second"/);

    const fresh = await httpsGet(`${srv.url}/healthz`, ca.pem);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.cn, 'second');

    // Past a few reaper ticks (which free pairs no open connection holds),
    // the old connection finishes its request, then makes another on it.
    await sleep(700);
    old.write(body.slice(300));
    const answer = await readUntil(old, completeHttp);
    assert.match(answer, /^HTTP\/1\.1 400 /, answer);
    assert.match(answer, /VOUCH\.REQUEST\.UNSUPPORTED_TEE/);
    old.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const second2 = await readUntil(old, completeHttp);
    assert.match(second2, /^HTTP\/1\.1 200 /, second2);
    assert.equal(old.getPeerCertificate().subject.CN, 'first', 'the old connection kept its certificate');
    old.destroy();
    assert.equal(srv.proc.exitCode, null);
  });

  test('reloads under load: clients on new and kept-alive connections see no error', async () => {
    const keep = new https.Agent({ ca: ca.pem, keepAlive: true, maxSockets: 4 });
    let stop = false, ok = 0;
    const errors = [];
    const client = async (agent) => {
      while (!stop) {
        try {
          const r = await httpsGet(`${srv.url}/healthz`, ca.pem, { agent });
          if (r.status === 200) ok++; else errors.push(`status ${r.status}`);
        } catch (e) { errors.push(e.message); }
      }
    };
    const clients = [client(keep), client(keep), client(false), client(false)];
    const pairs = [first, second];
    for (let i = 0; i < 6; i++) {
      copyFileSync(pairs[i % 2].cert, join(dir, 'served.pem'));
      copyFileSync(pairs[i % 2].key, join(dir, 'served.key'));
      const before = (srv.log().match(/SIGHUP: reloaded/g) ?? []).length;
      srv.proc.kill('SIGHUP');
      await waitForLog(srv, new RegExp(`(SIGHUP: reloaded[\\s\\S]*){${before + 1}}`));
      await sleep(150);
    }
    stop = true;
    await Promise.all(clients);
    keep.destroy();
    assert.deepEqual(errors, []);
    assert.ok(ok > 20, `only ${ok} requests`);
  });

  test('SIGHUP with a key that is not the certificate\'s keeps the pair in service', async () => {
    const before = (await httpsGet(`${srv.url}/healthz`, ca.pem)).cn;
    copyFileSync(first.key, join(dir, 'served.key'));   // served.pem is still `second`
    srv.proc.kill('SIGHUP');
    await waitForLog(srv, /level=error msg="SIGHUP: the TLS certificate was not reloaded; the previous one stays in service" error="--tls-key \S+served\.key is not the key of the certificate in --tls-cert"/);
    const after = await httpsGet(`${srv.url}/healthz`, ca.pem);
    assert.equal(after.status, 200);
    assert.equal(after.cn, before);
    // an unreadable certificate file: the same
    rmSync(join(dir, 'served.pem'));
    srv.proc.kill('SIGHUP');
    await waitForLog(srv, /not reloaded.*error="--tls-cert: \S+served\.pem: No such file/);
    assert.equal((await httpsGet(`${srv.url}/healthz`, ca.pem)).cn, before);
  });
});

describe('a bad certificate or key fails start with a clear message', () => {
  let dir, ca, a, b;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vouch-tls-bad-'));
    ca = await makeCa(dir);
    a = await issueServerCert(ca, 'a');
    b = await issueServerCert(ca, 'b');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function startFails(args) {
    const r = await run(VOUCHD, ['--listen', '127.0.0.1:0', '--db', `sqlite:${join(dir, 'v.db')}`,
      '--admin-token', 'test-admin-token-0123456789', ...args]).then(() => ({ code: 0, stderr: '' }), (e) => e);
    assert.notEqual(r.code, 0, 'vouchd started');
    return r.stderr;
  }

  test('the key of another certificate', async () => {
    const err = await startFails(['--tls-cert', a.cert, '--tls-key', b.key]);
    assert.match(err, /cannot start.*--tls-key \S+b\.key is not the key of the certificate in --tls-cert/);
  });
  test('a missing certificate file', async () => {
    const err = await startFails(['--tls-cert', join(dir, 'nope.pem'), '--tls-key', a.key]);
    assert.match(err, /--tls-cert: \S+nope\.pem: No such file/);
  });
  test('a certificate file that is not PEM', async () => {
    const err = await startFails(['--tls-cert', a.key, '--tls-key', a.key]);
    assert.match(err, /--tls-cert \S+a\.key: not a PEM certificate chain/);
  });
  test('a key file others may read', async () => {
    const loose = join(dir, 'loose.key');
    copyFileSync(a.key, loose);
    chmodSync(loose, 0o644);
    const err = await startFails(['--tls-cert', a.cert, '--tls-key', loose]);
    assert.match(err, /--tls-key: \S+loose\.key is accessible to group or others/);
  });
  test('one of the pair alone', async () => {
    const err = await startFails(['--tls-cert', a.cert]);
    assert.match(err, /--tls-cert and --tls-key go together: --tls-key is missing/);
  });
});
