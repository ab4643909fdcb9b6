// The vTPM service's RPC-style API driven by Alibaba's own npm clients:
// @alicloud/pop-core 1.8.0 (signature v1, GET and POST) and
// @alicloud/openapi-client 0.4.15 (v1 as the trusted-server SDKs configure
// it, signatureAlgorithm "v2", and its default v3), against a real vouchd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, vouch, request, freshPostgresDb, ADMIN_TOKEN, PG_BASE } from './lib/vouchd.mjs';
import { SoftTpm, imaEntries, fileData } from './lib/softtpm.mjs';

const require = createRequire(import.meta.url);
const RPCClient = require('@alicloud/pop-core');
const OpenApi = require('@alicloud/openapi-client');
const TeaUtil = require('@alicloud/tea-util');

const VERSION = '2020-06-13';
let srv;

async function newKey(account) {
  const r = await request(`${srv.url}/admin/accesskeys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ account }),
  });
  assert.equal(r.status, 201, r.text);
  return { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
}

function popClient(key, url = srv.url) {
  return new RPCClient({ accessKeyId: key.id, accessKeySecret: key.secret, endpoint: url,
    apiVersion: VERSION });
}

// openapi-client as the trusted-server SDKs use it (v1), or with its default (v3).
function openApiClient(key, { v3 = false, port = srv.port } = {}) {
  const config = new OpenApi.Config({ accessKeyId: key.id, accessKeySecret: key.secret,
    endpoint: `127.0.0.1:${port}`, protocol: 'http', ...(v3 ? {} : { signatureAlgorithm: 'v2' }) });
  const client = new OpenApi.default(config);
  return async (action, query) => {
    const params = new OpenApi.Params({ action, version: VERSION, protocol: 'HTTP', pathname: '/',
      method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
    const req = new OpenApi.OpenApiRequest({ query });
    const r = await client.callApi(params, req, new TeaUtil.RuntimeOptions({}));
    return r.body;
  };
}

// Every client, as a function (action, params) -> body.
function clients(key) {
  const pop = popClient(key);
  return {
    'pop-core GET': (a, p) => pop.request(a, p),
    'pop-core POST': (a, p) => pop.request(a, p, { method: 'POST' }),
    'openapi-client v1': openApiClient(key),
    'openapi-client v3': openApiClient(key, { v3: true }),
  };
}

// The error an SDK call throws, as { code, status }.
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return { code: e.code, data: e.data, message: e.message };
  }
  assert.fail('the call succeeded');
}

// Signature v1 computed here, independently of the SDKs: the recipe of docs/vtpm.md.
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function signedQuery(key, params, { method = 'GET', nonce = randomUUID(), time = new Date() } = {}) {
  const all = { ...params, Version: VERSION, Format: 'JSON', AccessKeyId: key.id,
    SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: nonce,
    Timestamp: time.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  const canon = Object.keys(all).sort().map((k) => `${enc(k)}=${enc(all[k])}`).join('&');
  const sts = `${method}&${enc('/')}&${enc(canon)}`;
  const sig = createHmac('sha1', `${key.secret}&`).update(sts).digest('base64');
  return `${canon}&Signature=${enc(sig)}`;
}

let alice, bob;

before(async () => {
  srv = await startVouchd();
  alice = await newKey('alice');
  bob = await newKey('bob');
});

after(async () => { await srv?.stop(); });

test('every client registers, describes, lists, nonces and unregisters', async () => {
  for (const [name, call] of Object.entries(clients(alice))) {
    const uuid = `uuid-${name.replace(/\W+/g, '-')}-b*c~d+e/f%`;
    const reg = await call('RegisterMessage', { PropertyUuid: uuid, InstanceId: 'i-123',
      InstanceType: 'ecs.g7t.large', PropertyName: 'web 1 *~+/&=%é', PropertyPrivateIp: '10.0.0.7',
      PropertyPublicIp: '203.0.113.9', PropertyAffiliation: 2, Extensions: '{"zone":"a"}' });
    assert.match(reg.RequestId, /^[A-Za-z0-9._-]{1,64}$/, name);
    assert.equal(reg.Code, undefined, name);
    const d = await call('DescribeInstance', { PropertyUuid: uuid });
    assert.equal(d.PropertyUuid, uuid, name);
    assert.equal(d.PropertyName, 'web 1 *~+/&=%é');
    assert.equal(d.PropertyPrivateIp, '10.0.0.7');
    assert.equal(d.PropertyPublicIp, '203.0.113.9');
    assert.equal(d.PropertyAffiliation, 2);
    assert.equal(d.SystemTrustStatus, 4);
    assert.equal(d.ProgramTrustStatus, 4);
    assert.equal(d.SystemWhiteListId, -1);
    assert.equal(d.ProgramWhiteListId, -1);
    assert.equal(d.ProgramWhiteListName, '');
    assert.equal(d.SystemExceptionNum, 0);
    assert.equal(d.ProgramExceptionNum, 0);
    assert.equal(d.OnlineStatus, 0);
    assert.equal(d.GmtRecentReport, 0);
    assert.equal(d.SystemTrustDetail, '{}');
    assert.equal(d.Extensions, '{"zone":"a"}');
    assert.ok(Math.abs(Number(d.GmtCreate) - Date.now()) < 60000, `GmtCreate ${d.GmtCreate} is epoch ms`);
    const n1 = await call('GenerateNonce', { PropertyUuid: uuid });
    const n2 = await call('GenerateNonce', { PropertyUuid: uuid });
    assert.match(n1.data.Nonce, /^[0-9a-f]{64}$/);
    assert.notEqual(n1.data.Nonce, n2.data.Nonce);
    const list = await call('DescribeInstances', { PageSize: 100 });
    assert.ok(list.Instances.some((i) => i.PropertyUuid === uuid));
    await call('UnregisterMessage', { Properties: uuid });
    const gone = await failure(call('DescribeInstance', { PropertyUuid: uuid }));
    assert.equal(gone.code, 'InvalidPropertyUuid.NotFound', name);
  }
});

test('DescribeInstances pages and filters; an account sees only its own', async () => {
  const key = await newKey('pager');
  const call = openApiClient(key);
  for (let i = 0; i < 7; i++) await call('RegisterMessage', { PropertyUuid: `pg-${i}` });
  const p1 = await call('DescribeInstances', { PageSize: 3, PageNumber: 1 });
  const p3 = await call('DescribeInstances', { PageSize: 3, PageNumber: 3 });
  assert.equal(p1.TotalCount, 7);
  assert.deepEqual(p1.Instances.map((i) => i.PropertyUuid), ['pg-0', 'pg-1', 'pg-2']);
  assert.deepEqual(p3.Instances.map((i) => i.PropertyUuid), ['pg-6']);
  // DescribeEvents' spelling of the page number is taken too; both, differing, are refused.
  const p3alias = await call('DescribeInstances', { PageSize: 3, CurrentPage: 3 });
  assert.equal(p3alias.PageNumber, 3);
  assert.deepEqual(p3alias.Instances.map((i) => i.PropertyUuid), ['pg-6']);
  const mixed = await failure(call('DescribeInstances', { PageSize: 3, PageNumber: 1, CurrentPage: 2 }));
  assert.equal(mixed.code, 'InvalidParameter');
  assert.match(mixed.message, /PageNumber and CurrentPage differ/);
  const untrusted = await call('DescribeInstances', { SystemTrustStatus: 2 });
  assert.equal(untrusted.TotalCount, 0);
  const unmeasured = await call('DescribeInstances', { SystemTrustStatus: 4, OnlineStatus: 0 });
  assert.equal(unmeasured.TotalCount, 7);
  const bad = await failure(call('DescribeInstances', { PageSize: 0 }));
  assert.equal(bad.code, 'InvalidParameter');
  assert.equal(bad.data.statusCode, 400);
  // /metrics counts every account's instances: these seven never reported
  const metrics = (await request(`${srv.url}/metrics`)).text;
  const m = /^vouch_vtpm_instances\{online="false",status="not_evaluated"\} (\d+)$/m.exec(metrics);
  assert.ok(m && Number(m[1]) >= 7, metrics);
  assert.match(metrics, /^vouch_vtpm_instances\{online="true",status="trusted"\} 0$/m);
});

test('another account cannot see or change an instance', async () => {
  const a = popClient(alice);
  const b = popClient(bob);
  await a.request('RegisterMessage', { PropertyUuid: 'owned-by-alice', PropertyName: 'a' }, { method: 'POST' });
  for (const [action, params] of [
    ['DescribeInstance', { PropertyUuid: 'owned-by-alice' }],
    ['GenerateNonce', { PropertyUuid: 'owned-by-alice' }],
    ['RegisterMessage', { PropertyUuid: 'owned-by-alice', PropertyName: 'stolen' }],
    ['UnregisterMessage', { Properties: 'owned-by-alice' }],
  ]) {
    const f = await failure(b.request(action, params, { method: 'POST' }));
    assert.equal(f.code, 'Forbidden.NotOwner', action);
  }
  const listed = await b.request('DescribeInstances', {});
  assert.ok(!listed.Instances.some((i) => i.PropertyUuid === 'owned-by-alice'));
  const d = await a.request('DescribeInstance', { PropertyUuid: 'owned-by-alice' });
  assert.equal(d.PropertyName, 'a');
});

test('wrong secret, unknown key, replayed nonce, stale timestamp: the right Code', async () => {
  for (const [name, call] of Object.entries(clients({ id: alice.id, secret: 'not-the-secret' }))) {
    const f = await failure(call('DescribeInstances', {}));
    assert.equal(f.code, 'SignatureDoesNotMatch', name);
  }
  for (const [name, call] of Object.entries(clients({ id: 'VKnosuchkey', secret: 'x' }))) {
    const f = await failure(call('DescribeInstances', {}));
    assert.equal(f.code, 'InvalidAccessKeyId.NotFound', name);
    if (f.data?.statusCode) assert.equal(f.data.statusCode, 404);
  }
  // A replay: the same signed request twice.
  const q = signedQuery(alice, { Action: 'DescribeInstances' });
  const first = await request(`${srv.url}/?${q}`);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.Code, undefined);
  const again = await request(`${srv.url}/?${q}`);
  assert.equal(again.status, 400);
  assert.equal(again.body.Code, 'SignatureNonceUsed');
  for (const k of ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']) assert.ok(again.body[k], k);
  // The same nonce under another key is a different request.
  const other = await request(`${srv.url}/?${signedQuery(bob, { Action: 'DescribeInstances' }, { nonce: 'n-shared' })}`);
  const mine = await request(`${srv.url}/?${signedQuery(alice, { Action: 'DescribeInstances' }, { nonce: 'n-shared' })}`);
  assert.equal(other.status, 200);
  assert.equal(mine.status, 200);
  // Stale: 16 minutes off either way.
  for (const skew of [-16, 16]) {
    const stale = await request(`${srv.url}/?${signedQuery(alice, { Action: 'DescribeInstances' },
      { time: new Date(Date.now() + skew * 60000) })}`);
    assert.equal(stale.body.Code, 'InvalidTimeStamp.Expired', `skew ${skew}`);
  }
  // A form body signed together with the query.
  const body = signedQuery(alice, { Action: 'DescribeInstances', PageSize: '5' }, { method: 'POST' });
  const form = await request(`${srv.url}/`, { method: 'POST', body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.status, 200, form.text);
  assert.equal(form.body.PageSize, 5);
});

test('a SignatureNonce stays used across a restart: a clean stop, and kill -9 after the writer saved it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-replay-'));
  const db = PG_BASE ? await freshPostgresDb() : `sqlite:${join(dir, 'vouch.db')}`;
  let one = await startVouchd({ dir, db });
  try {
    const r = await request(`${one.url}/admin/accesskeys`, { method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ account: 'restart' }) });
    const key = { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
    const q1 = signedQuery(key, { Action: 'DescribeInstances' });
    assert.equal((await request(`${one.url}/?${q1}`)).status, 200);
    await one.stop({ keep: true });
    one = await startVouchd({ dir, db });
    assert.equal((await request(`${one.url}/?${q1}`)).body.Code, 'SignatureNonceUsed');
    // Saved within the writer's period (100 ms): a crash after it forgets nothing.
    const q2 = signedQuery(key, { Action: 'DescribeInstances' });
    assert.equal((await request(`${one.url}/?${q2}`)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 600));
    one.proc.kill('SIGKILL');
    await one.exited;
    one = await startVouchd({ dir, db });
    for (const q of [q1, q2])
      assert.equal((await request(`${one.url}/?${q}`)).body.Code, 'SignatureNonceUsed');
    assert.equal((await request(`${one.url}/?${signedQuery(key, { Action: 'DescribeInstances' })}`)).status, 200);
  } finally {
    await one.stop({ keep: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--vtpm-replay-per-key bounds one key\'s live SignatureNonce records: Throttling.User', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-replay-cap-'));
  const db = PG_BASE ? await freshPostgresDb() : `sqlite:${join(dir, 'vouch.db')}`;
  const one = await startVouchd({ dir, db, args: ['--vtpm-replay-per-key', '1000'] });
  try {
    const mk = async (account) => {
      const r = await request(`${one.url}/admin/accesskeys`, { method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ account }) });
      return { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
    };
    const busy = await mk('busy');
    for (let i = 0; i < 1000; i += 8) {
      const batch = await Promise.all(Array.from({ length: 8 }, () =>
        request(`${one.url}/?${signedQuery(busy, { Action: 'DescribeInstances' })}`)));
      for (const r of batch) assert.equal(r.status, 200, r.text);
    }
    const over = await request(`${one.url}/?${signedQuery(busy, { Action: 'DescribeInstances' })}`);
    assert.equal(over.body.Code, 'Throttling.User', over.text);
    // another key is not held back by the busy one
    const other = await mk('other');
    assert.equal((await request(`${one.url}/?${signedQuery(other, { Action: 'DescribeInstances' })}`)).status, 200);
  } finally {
    await one.stop({ keep: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--rate-limit on the RPC endpoint: 429 Throttling, which the SDKs throw', async () => {
  const limited = await startVouchd({ args: ['--rate-limit', '1', '--rate-burst', '3'] });
  try {
    const r = await request(`${limited.url}/admin/accesskeys`, { method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ account: 'limited' }) });
    const key = { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
    const pop = popClient(key, limited.url);
    // pop-core reads the body only: without a Code it would return the refusal as an answer.
    let refusal;
    for (let i = 0; i < 5 && !refusal; i++)
      refusal = await pop.request('DescribeInstances', {}).then(() => null, (e) => e);
    assert.ok(refusal, 'no call was refused');
    assert.equal(refusal.code, 'Throttling');
    assert.match(refusal.data.RequestId, /./);
    assert.match(refusal.data.Message, /too many requests from this address; retry after \d+ s/);
    const v3 = await failure(openApiClient(key, { v3: true, port: limited.port })('DescribeInstances', {}));
    assert.equal(v3.code, 'Throttling');
    const raw = await request(`${limited.url}/?Action=DescribeInstances`);
    assert.equal(raw.status, 429);
    assert.match(raw.headers.get('retry-after'), /^\d+$/);
    assert.equal(raw.body.Code, 'Throttling');
  } finally {
    await limited.stop();
  }
});

test('another method on the RPC endpoint: 405 UnsupportedHTTPMethod in the RPC shape', async () => {
  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    const r = await request(`${srv.url}/?Action=DescribeInstances`, { method });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.get('allow'), 'GET, POST', method);
    assert.match(r.headers.get('content-type'), /^application\/json/, method);
    assert.equal(r.body.Code, 'UnsupportedHTTPMethod', method);
    assert.match(r.body.RequestId, /^[A-Za-z0-9._-]{1,64}$/, method);
    assert.match(r.body.Message, new RegExp(`${method}; allowed: GET, POST`), method);
  }
  // Other paths keep problem+json.
  const other = await request(`${srv.url}/healthz`, { method: 'PUT' });
  assert.equal(other.status, 405);
  assert.match(other.headers.get('content-type'), /^application\/problem\+json/);
});

test('stale timestamps from the SDKs against a pinned clock', async () => {
  const old = await startVouchd({ args: ['--fixed-time', '2020-01-01T00:00:00Z'] });
  try {
    const r = await request(`${old.url}/admin/accesskeys`, { method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ account: 'late' }) });
    const key = { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
    const pop = popClient(key, old.url);
    let f = await failure(pop.request('DescribeInstances', {}));
    assert.equal(f.code, 'InvalidTimeStamp.Expired');
    f = await failure(openApiClient(key, { port: old.port, v3: true })('DescribeInstances', {}));
    assert.equal(f.code, 'InvalidTimeStamp.Expired');
  } finally {
    await old.stop();
  }
});

test('missing and unknown parameters and actions', async () => {
  const pop = popClient(alice);
  let f = await failure(pop.request('DescribeInstance', {}));
  assert.equal(f.code, 'MissingParameter');
  assert.match(f.message, /PropertyUuid/);
  f = await failure(pop.request('NoSuchAction', {}));
  assert.equal(f.code, 'InvalidAction.NotFound');
  f = await failure(pop.request('RegisterMessage', { PropertyUuid: 'x', Extensions: 'not json' }));
  assert.equal(f.code, 'InvalidParameter');
  const unsigned = await request(`${srv.url}/?Action=DescribeInstances&Version=${VERSION}`);
  assert.equal(unsigned.status, 400);
  assert.equal(unsigned.body.Code, 'MissingParameter');
  // RequestId is the exchange's X-Request-Id: the client's when well-formed
  assert.equal(unsigned.body.RequestId, unsigned.headers.get('x-request-id'));
  const traced = await request(`${srv.url}/?Action=DescribeInstances&Version=${VERSION}`,
    { headers: { 'X-Request-Id': 'trace-0123.abc' } });
  assert.equal(traced.body.RequestId, 'trace-0123.abc');
  assert.equal(traced.headers.get('x-request-id'), 'trace-0123.abc');
});

test('access keys: list without secrets, disable, the CLI', async () => {
  const list = await request(`${srv.url}/admin/accesskeys?account=alice`,
    { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.accesskeys.map((k) => k.AccessKeyId), [alice.id]);
  assert.ok(!list.text.includes(alice.secret));
  const noauth = await request(`${srv.url}/admin/accesskeys`, { method: 'POST', body: '{"account":"x"}' });
  assert.equal(noauth.status, 401);
  const bad = await request(`${srv.url}/admin/accesskeys`, { method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: '{"account":"no spaces"}' });
  assert.equal(bad.status, 400);
  const key = await newKey('temp');
  await popClient(key).request('DescribeInstances', {});
  const del = await request(`${srv.url}/admin/accesskeys/${key.id}`, { method: 'DELETE',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(del.status, 204);
  const f = await failure(popClient(key).request('DescribeInstances', {}));
  assert.equal(f.code, 'InvalidAccessKeyId.NotFound');
  // The CLI on the server's database.
  const { stdout } = await vouch(['accesskey', 'create', '--db', srv.db, 'cli-account']);
  const made = JSON.parse(stdout);
  assert.match(made.AccessKeyId, /^VK[0-9A-Za-z]{22}$/);
  const r = await popClient({ id: made.AccessKeyId, secret: made.AccessKeySecret }).request('DescribeInstances', {});
  assert.equal(r.TotalCount, 0);
  const listed = await vouch(['accesskey', 'list', '--db', srv.db, '--account', 'cli-account']);
  assert.match(listed.stdout, new RegExp(`${made.AccessKeyId} +cli-account +enabled`));
  assert.ok(!listed.stdout.includes(made.AccessKeySecret));
  await vouch(['accesskey', 'disable', '--db', srv.db, made.AccessKeyId]);
  const disabled = Date.now();
  // Disabled behind vouchd's back: refused within its keys' 1 s in memory (docs/vtpm.md),
  // plus a call's time.
  const cli = popClient({ id: made.AccessKeyId, secret: made.AccessKeySecret });
  let code;
  while (!code) {
    code = await cli.request('DescribeInstances', {}).then(() => null, (e) => e.code);
    if (!code) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(code, 'InvalidAccessKeyId.NotFound');
  // 1 s in memory, plus a loaded (sanitizer) machine's call and poll time
  assert.ok(Date.now() - disabled <= 1000 + 2000, `refused ${Date.now() - disabled} ms after`);
  const after = await vouch(['accesskey', 'list', '--db', srv.db, '--account', 'cli-account']);
  assert.match(after.stdout, /disabled/);
});

// ---- reports, baseline, events (a software TPM: tests/api/lib/softtpm.mjs) ----

// Enrol `uuid` with a software TPM through `call`; returns { tpm, akCert }.
async function enrolSoft(call, uuid) {
  const tpm = new SoftTpm();
  await call('RegisterMessage', { PropertyUuid: uuid, PropertyName: 'soft', Extensions: '{"zone":"z1"}' });
  const r = await call('ProduceAikcert', { PropertyUuid: uuid, EkPubKey: tpm.ekPub.toString('base64'),
    AikName: tpm.akName.toString('hex'), CertRequest: tpm.akPub.toString('base64'),
    IncludeCertChain: 'false' });
  const secret = tpm.activate(Buffer.from(r.Data.KeyCredentialBlob, 'base64'));
  const akCert = SoftTpm.decryptData(secret, Buffer.from(r.Data.DataCredentialBlob, 'base64'));
  assert.match(akCert, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(akCert.match(/BEGIN CERTIFICATE/g).length, 1, 'no chain unless asked');
  return { tpm, akCert };
}

async function softReport(call, uuid, tpm, opts = {}) {
  const { data } = await call('GenerateNonce', { PropertyUuid: uuid });
  return call('PutMessage', { PropertyUuid: uuid,
    FileData: fileData(data.Nonce, tpm.quote(Buffer.from(data.Nonce, 'hex')), opts) });
}

test('another account cannot enrol an AK for, nor trust or ignore the events of, an instance', async () => {
  const a = openApiClient(alice, { v3: true });
  const b = openApiClient(bob, { v3: true });
  const uuid = 'soft-owned-events';
  const { tpm, akCert } = await enrolSoft(a, uuid);
  await softReport(a, uuid, tpm, { akCert });
  tpm.pcrs.sha256[5] = Buffer.alloc(32, 5);
  assert.equal((await softReport(a, uuid, tpm)).data.systemVerificationResult.status, 2);
  const { Items } = await a('DescribeEvents', { PropertyUuid: uuid, EventStatus: 1 });
  assert.equal(Items.length, 1);
  const stranger = new SoftTpm();
  const enrol = await failure(b('ProduceAikcert', { PropertyUuid: uuid,
    EkPubKey: stranger.ekPub.toString('base64'), AikName: stranger.akName.toString('hex'),
    CertRequest: stranger.akPub.toString('base64') }));
  assert.equal(enrol.code, 'Forbidden.NotOwner');
  for (const action of ['TrustEvents', 'IgnoreEvents']) {
    const f = await failure(b(action, { EventUuids: Items[0].EventUuid }));
    assert.equal(f.code, 'InvalidEventUuid.NotFound', action);
  }
  // Untouched: the event is open, the instance untrusted, the AK still alice's.
  const still = await a('DescribeEvents', { PropertyUuid: uuid, EventStatus: 1 });
  assert.equal(still.Items[0].EventUuid, Items[0].EventUuid);
  assert.equal((await a('DescribeInstance', { PropertyUuid: uuid })).SystemTrustStatus, 2);
  assert.equal((await softReport(a, uuid, tpm)).data.systemVerificationResult.status, 2);
});

test('every client: enrol, report, drift, DescribeBoot, events, ignore and trust', async () => {
  for (const [name, call] of Object.entries(clients(alice))) {
    const uuid = `soft-${name.replace(/\W+/g, '-')}`;
    const { tpm, akCert } = await enrolSoft(call, uuid);
    const first = await softReport(call, uuid, tpm, { akCert });
    assert.equal(first.data.systemVerificationResult.code, 'TrustedStatus', name);
    assert.equal(first.data.kmoduleVerificationResult.code, 'NotEvaluated', name);
    // IMA entries from 0, then more from where the service says.
    const r1 = await softReport(call, uuid, tpm, { imaStart: 0, imaLog: imaEntries(tpm, 0, 4) });
    assert.equal(r1.data.nextClientIMAIndex, 4, name);
    const wrong = await failure(softReport(call, uuid, tpm, { imaStart: 9, imaLog: imaEntries(tpm, 4, 1) }));
    assert.equal(wrong.code, 'InvalidParameter.IMAIndex', name);
    assert.equal(wrong.data.NextClientIMAIndex, 4, name);
    // Drift PCR 7 and PCR 8: two events, Extensions shows both next to the registration's.
    tpm.pcrs.sha256[7] = Buffer.alloc(32, 7);
    tpm.pcrs.sha256[8] = Buffer.alloc(32, 8);
    const drift = await softReport(call, uuid, tpm);
    assert.equal(drift.data.systemVerificationResult.status, 2, name);
    const inst = await call('DescribeInstance', { PropertyUuid: uuid });
    assert.equal(inst.SystemTrustStatus, 2);
    assert.equal(inst.SystemExceptionNum, 2);
    assert.deepEqual(JSON.parse(inst.Extensions), { zone: 'z1', pcr7: '07'.repeat(32), pcr8: '08'.repeat(32) });
    const boot = await call('DescribeBoot', { PropertyUuid: uuid });
    assert.equal(boot.Id, inst.SystemWhiteListId);
    assert.equal(boot.Reports, 3);
    assert.equal(typeof boot.GmtCreate, 'string');
    assert.equal(boot.LastReport.Pcrs.pcr7.match, false);
    assert.equal(boot.LastReport.Pcrs.pcr0.match, true);
    const ev = await call('DescribeEvents', { PropertyUuid: uuid, EventStatus: 1, PageSize: 1 });
    assert.equal(ev.TotalCount, 2);
    assert.equal(ev.Items.length, 1);
    // Page 2 by DescribeEvents' own CurrentPage, and by the other lists' PageNumber.
    const page2 = { PropertyUuid: uuid, EventStatus: 1, PageSize: 1 };
    const p2 = await call('DescribeEvents', { ...page2, CurrentPage: 2 });
    const p2alias = await call('DescribeEvents', { ...page2, PageNumber: 2 });
    assert.deepEqual([p2.CurrentPage, p2alias.CurrentPage], [2, 2]);
    assert.equal(p2alias.Items[0].EventUuid, p2.Items[0].EventUuid);
    assert.notEqual(p2.Items[0].EventUuid, ev.Items[0].EventUuid);
    const all = await call('DescribeEvents', { PropertyUuid: uuid, EventStatus: 1 });
    const byPcr = Object.fromEntries(all.Items.map((i) => [i.Suspect, i]));
    // Ignore pcr7 (baseline kept), trust pcr8 (baseline moves): trusted again.
    await call('IgnoreEvents', { EventUuids: byPcr.pcr7.EventUuid });
    assert.equal((await call('DescribeInstance', { PropertyUuid: uuid })).SystemTrustStatus, 2);
    await call('TrustEvents', { EventUuids: JSON.stringify([byPcr.pcr8.EventUuid]) });
    const after = await call('DescribeInstance', { PropertyUuid: uuid });
    assert.equal(after.SystemTrustStatus, 1, name);
    assert.equal(JSON.parse(after.SystemTrustDetail).pcr8, '08'.repeat(32));
    assert.equal(JSON.parse(after.SystemTrustDetail).pcr7, '00'.repeat(32));
    assert.equal(JSON.parse(after.Extensions).pcr7, undefined);
    // PCR 7 still differs: the next report opens a new event for it.
    const again = await softReport(call, uuid, tpm);
    assert.equal(again.data.systemVerificationResult.status, 2);
    const ignored = await call('DescribeEvents', { PropertyUuid: uuid, EventStatus: 3 });
    assert.equal(ignored.TotalCount, 1);
    assert.equal(ignored.Items[0].HandleType, '2');
    assert.ok(ignored.Items[0].GmtHandle > 0);
  }
});

test('PutMessage refuses what does not verify, and stores nothing', async () => {
  const call = openApiClient(alice, { v3: true });
  const uuid = 'soft-refusals';
  const { tpm, akCert } = await enrolSoft(call, uuid);
  const bad = async (fd) => (await failure(call('PutMessage', { PropertyUuid: uuid, FileData: fd }))).code;
  assert.equal(await bad('not base64!'), 'InvalidParameter');
  assert.equal(await bad(Buffer.from('{"version":2}').toString('base64')), 'InvalidParameter');
  // Pending AK: the certificate is needed, and must be the issued one.
  const { data } = await call('GenerateNonce', { PropertyUuid: uuid });
  const q = tpm.quote(Buffer.from(data.Nonce, 'hex'));
  assert.equal(await bad(fileData(data.Nonce, q)), 'InvalidParameter');
  const lines = akCert.split('\n');
  lines[2] = lines[2].split('').reverse().join('');
  assert.equal(await bad(fileData(data.Nonce, q, { akCert: lines.join('\n') })), 'InvalidParameter');
  // A nonce the quote was not made over; a quote signed by another key; a nonce never issued.
  const other = 'cd'.repeat(32);
  assert.equal(await bad(fileData(other, q, { akCert })), 'InvalidParameter.Evidence');
  const stranger = new SoftTpm();
  assert.equal(await bad(fileData(data.Nonce, stranger.quote(Buffer.from(data.Nonce, 'hex')), { akCert })),
    'InvalidParameter.Evidence');
  assert.equal(await bad(fileData(other, tpm.quote(Buffer.from(other, 'hex')), { akCert })), 'InvalidParameter.Nonce');
  // PCR values that do not hash to the quote's digest.
  const forged = tpm.quote(Buffer.from(data.Nonce, 'hex'));
  forged.pcrs.sha256['3'] = 'ff'.repeat(32);
  assert.equal(await bad(fileData(data.Nonce, forged, { akCert })), 'InvalidParameter.Evidence');
  // A value the quote does not select: the signature does not cover it, so it cannot become
  // the baseline (the quote leaves sha256 PCR 5 out, FileData still carries a made-up one).
  const partial = tpm.quote(Buffer.from(data.Nonce, 'hex'), { unselected: { sha256: [5] } });
  partial.pcrs.sha256['5'] = 'ee'.repeat(32);
  const refusal = await failure(call('PutMessage', { PropertyUuid: uuid,
    FileData: fileData(data.Nonce, partial, { akCert }) }));
  assert.equal(refusal.code, 'InvalidParameter.Evidence');
  assert.match(refusal.message, /sha256 PCR 5 has a value but the quote does not select it/);
  // Nothing of that was stored: no baseline, no report; the nonce still works.
  const inst = await call('DescribeInstance', { PropertyUuid: uuid });
  assert.equal(inst.SystemTrustStatus, 4);
  assert.equal(inst.GmtRecentReport, 0);
  assert.equal((await failure(call('DescribeBoot', { PropertyUuid: uuid }))).code, 'InvalidReport.NotFound');
  const ok = await call('PutMessage', { PropertyUuid: uuid, FileData: fileData(data.Nonce, q, { akCert }) });
  assert.equal(ok.data.systemVerificationResult.status, 1);
  // ... once.
  assert.equal(await bad(fileData(data.Nonce, q)), 'InvalidParameter.Nonce');
  // Another account's key sees none of it.
  const e = await failure(openApiClient(bob)('DescribeBoot', { PropertyUuid: uuid }));
  assert.equal(e.code, 'Forbidden.NotOwner');
  assert.equal((await failure(openApiClient(bob)('TrustEvents', { EventUuids: 'nope' }))).code,
    'InvalidEventUuid.NotFound');
});

test('PutMessage in the URL query: a report fits the default head; a longer one gets 414, the log names --max-request-head, the form body takes it', async () => {
  const query = openApiClient(alice);            // every parameter in the URL query
  const form = (a, p) => popClient(alice).request(a, p, { method: 'POST' });   // a form body
  const uuid = 'soft-query-size';
  const { tpm, akCert } = await enrolSoft(query, uuid);
  // 100 IMA entries: a request line of about 24 KB, under the default 32 KiB head.
  const log100 = imaEntries(tpm, 0, 100);
  const { data } = await query('GenerateNonce', { PropertyUuid: uuid });
  const fd = fileData(data.Nonce, tpm.quote(Buffer.from(data.Nonce, 'hex')), { akCert, imaStart: 0, imaLog: log100 });
  assert.ok(fd.length > 20000 && fd.length < 30000, `FileData of ${fd.length} characters`);
  const first = await query('PutMessage', { PropertyUuid: uuid, FileData: fd });
  assert.equal(first.data.nextClientIMAIndex, 100);
  // 400 more: about 100 KB of query.  libmicrohttpd refuses the request line itself (414,
  // before vouchd sees it); vouchd's log says which flag sets the limit.
  const log400 = imaEntries(tpm, 100, 400);
  const refused = await failure(softReport(query, uuid, tpm, { imaStart: 100, imaLog: log400 }));
  assert.match(refused.message, /"<html>/, 'the SDK cannot parse the library\'s HTML answer');
  const raw = await request(`${srv.url}/?Action=PutMessage&FileData=${'A'.repeat(100000)}`, { method: 'POST' });
  assert.equal(raw.status, 414);
  assert.match(srv.log(), /hint="the request line and headers must fit in --max-request-head \(32768 bytes\); send large parameters in a form body"/);
  // The same entries in a form body go through (its cap is --vtpm-max-request).
  const ok = await softReport(form, uuid, tpm, { imaStart: 100, imaLog: log400 });
  assert.equal(ok.data.nextClientIMAIndex, 500);
});

test('--vtpm-report-interval: a silent instance turns unmeasured (3) and offline', async () => {
  const quick = await startVouchd({ args: ['--vtpm-report-interval', '1'] });
  try {
    const r = await request(`${quick.url}/admin/accesskeys`, { method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ account: 'quick' }) });
    const call = openApiClient({ id: r.body.AccessKeyId, secret: r.body.AccessKeySecret },
      { port: quick.port });
    const { tpm, akCert } = await enrolSoft(call, 'quick-1');
    await call('RegisterMessage', { PropertyUuid: 'quick-never' });
    await softReport(call, 'quick-1', tpm, { akCert });
    const uuids = async (p) => (await call('DescribeInstances', p)).Instances.map((i) => i.PropertyUuid);
    assert.deepEqual(await uuids({ SystemTrustStatus: 1 }), ['quick-1']);
    assert.deepEqual(await uuids({ SystemTrustStatus: 3 }), []);
    await new Promise((res) => setTimeout(res, 3100));
    const inst = await call('DescribeInstance', { PropertyUuid: 'quick-1' });
    assert.equal(inst.SystemTrustStatus, 3);
    assert.equal(inst.OnlineStatus, 0);
    assert.deepEqual(await uuids({ SystemTrustStatus: 3 }), ['quick-1']);
    assert.deepEqual(await uuids({ SystemTrustStatus: 1 }), []);
    assert.deepEqual(await uuids({ SystemTrustStatus: 3, OnlineStatus: 1 }), []);
    assert.deepEqual(await uuids({ SystemTrustStatus: 4 }), ['quick-never']);
    // The next report brings the verdict back.
    await softReport(call, 'quick-1', tpm);
    assert.equal((await call('DescribeInstance', { PropertyUuid: 'quick-1' })).SystemTrustStatus, 1);
  } finally {
    await quick.stop();
  }
});
