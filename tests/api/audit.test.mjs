// The audit log: state-changing admin requests, signed vTPM calls and CLI
// commands are recorded with who, what, the outcome and the request id,
// never a secret; read back with GET /admin/audit and `vouch audit`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, vouch, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

const require = createRequire(import.meta.url);
const RPCClient = require('@alicloud/pop-core');

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
let srv;

before(async () => { srv = await startVouchd(); });
after(async () => { await srv?.stop(); });

async function audit(query = '') {
  const r = await request(`${srv.url}/admin/audit${query}`, { headers: admin });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

const POLICY = 'package policy\nimport rego.v1\ndefault allow := true\n';

test('admin changes are recorded with target, outcome and request id; reads are not', async () => {
  const put = await request(`${srv.url}/policy`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json', 'x-request-id': 'audit-req-1' },
    body: JSON.stringify({ policy_id: 'audited', policy: Buffer.from(POLICY).toString('base64') }),
  });
  assert.equal(put.status, 200, put.text);
  await request(`${srv.url}/policy`, { headers: admin });        // a read: not audited
  const del = await request(`${srv.url}/policy/nope`, { method: 'DELETE', headers: admin });
  assert.equal(del.status, 404);
  const unauth = await request(`${srv.url}/policy/audited`, { method: 'DELETE' });
  assert.equal(unauth.status, 401);

  const { entries, total } = await audit();
  assert.equal(total, 2, JSON.stringify(entries));
  const [failed, posted] = entries;                            // newest first
  assert.equal(posted.actor, 'admin');
  assert.equal(posted.action, 'POST /policy');
  assert.equal(posted.target, 'audited');
  assert.equal(posted.status, 200);
  assert.equal(posted.code, '');
  assert.equal(posted.request_id, 'audit-req-1');
  assert.match(posted.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(failed.action, 'DELETE /policy/{id}');
  assert.equal(failed.target, 'nope');
  assert.equal(failed.status, 404);
  assert.equal(failed.code, 'VOUCH.POLICY.NOT_FOUND');
});

test('access keys and signed vTPM calls: the key id is the actor, never the secret', async () => {
  const r = await request(`${srv.url}/admin/accesskeys`, {
    method: 'POST', headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ account: 'audit-acct' }),
  });
  assert.equal(r.status, 201, r.text);
  const key = { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
  const pop = new RPCClient({ accessKeyId: key.id, accessKeySecret: key.secret,
    endpoint: srv.url, apiVersion: '2020-06-13' });
  await pop.request('RegisterMessage', { PropertyUuid: 'audit-i-1', PropertyName: 'web' },
    { method: 'POST' });
  await pop.request('DescribeInstance', { PropertyUuid: 'audit-i-1' });   // a read
  const created = await audit('?action=POST%20/admin/accesskeys');
  assert.equal(created.entries[0].target, `audit-acct/${key.id}`);
  const reg = await audit('?action=RegisterMessage');
  assert.equal(reg.total, 1);
  assert.equal(reg.entries[0].actor, `accesskey:${key.id}`);
  assert.equal(reg.entries[0].target, 'audit-i-1');
  assert.equal((await audit('?action=DescribeInstance')).total, 0);
  const everything = JSON.stringify(await audit('?limit=1000'));
  assert.ok(!everything.includes(key.secret), 'no secret in the audit log');
  assert.ok(!everything.includes(ADMIN_TOKEN), 'no admin token in the audit log');
});

test('filters, paging and bad query arguments', async () => {
  const all = await audit('?limit=1000');
  const page = await audit('?limit=1&offset=1');
  assert.equal(page.entries.length, 1);
  assert.equal(page.entries[0].id, all.entries[1].id);
  assert.equal(page.total, all.total);
  assert.equal((await audit('?actor=nobody')).total, 0);
  assert.equal((await audit('?since=2999-01-01T00:00:00Z')).total, 0);
  assert.equal((await audit('?until=2000-01-01T00:00:00Z')).total, 0);
  for (const [q, field] of [['?limit=abc', 'limit'], ['?limit=1001', 'limit'],
    ['?offset=-1', 'offset'], ['?since=yesterday', 'since'], ['?until=%00', 'until']]) {
    const r = await request(`${srv.url}/admin/audit${q}`, { headers: admin });
    assert.equal(r.status, 400, q);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.equal(r.body.field, field, q);
  }
  const anon = await request(`${srv.url}/admin/audit`);
  assert.equal(anon.status, 401);
});

test('the CLI records its own changes and reads the log', async () => {
  const { stdout } = await vouch(['accesskey', 'create', '--db', srv.db, 'cli-acct']);
  const id = JSON.parse(stdout).AccessKeyId;
  const lines = (await vouch(['audit', '--db', srv.db, '--json', '--action', 'cli accesskey create']))
    .stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.match(lines[0].actor, /^cli:/);
  assert.equal(lines[0].target, id);
  // The server's listing sees the CLI's entry too (one store).
  assert.equal((await audit('?action=cli%20accesskey%20create')).entries[0].target, id);
  const text = (await vouch(['audit', '--db', srv.db, '--limit', '2'])).stdout;
  assert.equal(text.trim().split('\n').length, 2);
  await assert.rejects(vouch(['audit', '--db', srv.db, '--since', 'yesterday']),
    (e) => e.code === 2 && /RFC 3339/.test(e.stderr));
});

test('vouch token sign is audited; commands that read or use the store refuse a missing one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-audit-cli-'));
  try {
    const claims = join(dir, 'claims.json');
    writeFileSync(claims, JSON.stringify({ sub: 'audited' }));
    const tok = (await vouch(['token', 'sign', '--db', srv.db, claims])).stdout.trim();
    assert.equal(tok.split('.').length, 3);
    const lines = (await vouch(['audit', '--db', srv.db, '--json', '--action', 'cli token sign']))
      .stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.match(lines[0].actor, /^cli:/);
    assert.equal(lines[0].target, claims);
    assert.equal(lines[0].status, 200);
    // A mistyped sqlite: path is not a new, empty database with fresh keys.
    const typo = join(dir, 'typo.db');
    const kek = join(dir, 'kek');
    writeFileSync(kek, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    for (const args of [['token', 'sign', claims], ['audit'], ['keys', 'list'], ['rim', 'list'],
      ['accesskey', 'list', '--account', 'a'], ['keys', 'rewrap', '--new-kek', kek]]) {
      const r = await vouch([...args, '--db', `sqlite:${typo}`]).catch((e) => e);
      assert.equal(r.code, 3, args.join(' '));
      assert.match(r.stderr, /no database at .*typo\.db/, args.join(' '));
      assert.equal(existsSync(typo), false, args.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
