// vouchd as a process: --help, bad flags, graceful SIGTERM, --fixed-time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startVouchd, VOUCHD, VOUCH, request } from './lib/vouchd.mjs';

const run = promisify(execFile);

test('--help lists every contract flag', async () => {
  const { stdout } = await run(VOUCHD, ['--help']);
  for (const flag of ['--listen', '--db', '--issuer', '--admin-token', '--config',
    '--token-lifetime', '--max-body', '--fixed-time']) {
    assert.match(stdout, new RegExp(`${flag} `), flag);
  }
  assert.match(stdout, /VOUCH_MAX_BODY/);
});

test('--help of vouchd and vouch fits in 79 columns', async () => {
  for (const bin of [VOUCHD, VOUCH]) {
    const { stdout } = await run(bin, ['--help']);
    for (const line of stdout.split('\n')) {
      assert.ok(line.length <= 79, `${bin}: ${line.length} columns: ${line}`);
    }
  }
});

test('a bad flag exits 2 naming the flag', async () => {
  await assert.rejects(run(VOUCHD, ['--token-lifetime', 'forever']), (e) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr, /--token-lifetime/);
    return true;
  });
  await assert.rejects(run(VOUCHD, ['--listen', 'example.com:80']), (e) => e.code === 2);
});

test('environment variables configure vouchd', async () => {
  const srv = await startVouchd({ env: { VOUCH_ISSUER: 'https://attest.example.test' } });
  try {
    const r = await request(`${srv.url}/.well-known/openid-configuration`);
    assert.equal(r.body.issuer, 'https://attest.example.test');
  } finally {
    await srv.stop();
  }
});

test('--fixed-time is logged loudly and shown by healthz', async () => {
  const srv = await startVouchd({ args: ['--fixed-time', '2025-07-04T10:24:15Z'] });
  try {
    assert.match(srv.log(), /level=warn msg="FIXED TIME.*fixed_time=2025-07-04T10:24:15Z/);
    const r = await request(`${srv.url}/healthz`);
    assert.equal(r.body.fixed_time, true);
  } finally {
    await srv.stop();
  }
});

test('SIGTERM lets a request in flight finish, then exits 0', async () => {
  const srv = await startVouchd();
  // Start a slow upload, then signal while it is in flight.
  const { default: http } = await import('node:http');
  const done = new Promise((resolve, reject) => {
    const req = http.request(`${srv.url}/admin/keys/rotate`, { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.write('{"alg":');
    setTimeout(() => { srv.proc.kill('SIGTERM'); }, 200);
    setTimeout(() => req.end('"RS256"}'), 600);
  });
  assert.equal(await done, 401);
  const { code } = await srv.stop();
  assert.equal(code, 0);
  assert.match(srv.log(), /msg="shutting down"/);
  assert.match(srv.log(), /msg=stopped/);
});
