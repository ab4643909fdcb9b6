// vouch-agent end to end: the real agent binary, a software TPM (swtpm)
// and a real vouchd.  tpm2-tools play the firmware and the kernel (they
// extend PCRs); the agent itself talks to the TPM through ESYS only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, request, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { haveSwtpm, makeTpm, startTpm } from './lib/tpmsim.mjs';

const AGENT = process.env.VOUCH_AGENT;
if (!AGENT) throw new Error('set VOUCH_AGENT to the built vouch-agent (meson test does)');

const skip = !(await haveSwtpm()) && 'swtpm or tpm2-tools not installed';
let dir, srv, tpm, key;

async function newKey(account) {
  const r = await request(`${srv.url}/admin/accesskeys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ account }),
  });
  assert.equal(r.status, 201, r.text);
  return { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
}

// Run vouch-agent --once; resolves { code, stdout, stderr } whatever the exit status.
function agent(args, { k = key, stateDir = join(dir, 'agent-state'), tcti = tpm.tcti } = {}) {
  const argv = ['--once', '--server', srv.url, '--access-key-id', k.id,
    '--access-key-secret', k.secret, '--tcti', tcti, '--state-dir', stateDir,
    '--eventlog', '', '--ima-log', '', '--boot-id-file', join(dir, 'boot_id'), ...args];
  return new Promise((resolve) => {
    execFile(AGENT, argv, { env: { ...process.env, TSS2_LOG: 'all+NONE' } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'vouch-agent-'));
  writeFileSync(join(dir, 'boot_id'), 'boot-1\n');
  await makeTpm(join(dir, 'tpm'));
  tpm = await startTpm(join(dir, 'tpm'));
  mkdirSync(join(dir, 'vouchd'));
  srv = await startVouchd({ dir: join(dir, 'vouchd') });
  key = await newKey('agent-e2e');
});

after(async () => {
  if (tpm) await tpm.stop();
  if (srv) await srv.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a wrong AccessKey secret: exit 1 with the service\'s Code', { skip }, async () => {
  const r = await agent(['--uuid', 'wrong-secret'], { k: { id: key.id, secret: 'not-the-secret' },
    stateDir: join(dir, 'wrong-secret') });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /RegisterMessage: SignatureDoesNotMatch/);
  const unknown = await agent(['--uuid', 'wrong-id'], { k: { id: 'VKnosuchkey', secret: 'x' },
    stateDir: join(dir, 'wrong-id') });
  assert.equal(unknown.code, 1, unknown.stderr);
  assert.match(unknown.stderr, /InvalidAccessKeyId\.NotFound/);
});

test('an unreachable TPM: exit 3 and a line that says so', { skip }, async () => {
  const r = await agent(['--uuid', 'no-tpm'], { tcti: `swtpm:host=127.0.0.1,port=${tpm.port + 2}`,
    stateDir: join(dir, 'no-tpm') });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /TPM unreachable through TCTI 'swtpm:host=127\.0\.0\.1,port=\d+'/);
});

test('the state directory is made mode 0700; a config file others can read is refused', { skip },
  async () => {
    const stateDir = join(dir, 'perm-state');
    await agent(['--uuid', 'perm'], { tcti: `swtpm:host=127.0.0.1,port=${tpm.port + 2}`, stateDir });
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
    const conf = join(dir, 'agent.toml');
    writeFileSync(conf, `server = "${srv.url}"\naccess_key_id = "${key.id}"\n` +
      `access_key_secret = "${key.secret}"\n`);
    chmodSync(conf, 0o644);
    const loose = await new Promise((resolve) => execFile(AGENT, ['--once', '--config', conf],
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr })));
    assert.equal(loose.code, 2);
    assert.match(loose.stderr, /readable by its owner only/);
  });
