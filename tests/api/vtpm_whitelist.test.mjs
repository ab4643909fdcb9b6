// vTPM program whitelists through Alibaba's own npm clients against a real
// vouchd: import from keylime runtime policies and digest lists (in a POST
// form body and in the URL query), assign to instances, list, describe,
// delete; errors that name the parameter and the place in the document;
// another account refused; the size limits and their answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startVouchd, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

const require = createRequire(import.meta.url);
const RPCClient = require('@alicloud/pop-core');
const OpenApi = require('@alicloud/openapi-client');
const TeaUtil = require('@alicloud/tea-util');

const VERSION = '2020-06-13';
const KEYLIME = '../vectors/tpm/keylime';
let srv, alice, bob;

async function newKey(server, account) {
  const r = await request(`${server.url}/admin/accesskeys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ account }),
  });
  assert.equal(r.status, 201, r.text);
  return { id: r.body.AccessKeyId, secret: r.body.AccessKeySecret };
}

// pop-core POST: every parameter in an application/x-www-form-urlencoded body.
function popPost(key, server = srv) {
  const c = new RPCClient({ accessKeyId: key.id, accessKeySecret: key.secret,
    endpoint: server.url, apiVersion: VERSION, opts: { timeout: 60000 } });
  return (action, params) => c.request(action, params, { method: 'POST', timeout: 60000 });
}

// openapi-client as the trusted-server SDKs use it: every parameter in the URL query.
function queryClient(key, { v3 = false, server = srv } = {}) {
  const config = new OpenApi.Config({ accessKeyId: key.id, accessKeySecret: key.secret,
    endpoint: `127.0.0.1:${server.port}`, protocol: 'http', readTimeout: 60000, connectTimeout: 60000,
    ...(v3 ? {} : { signatureAlgorithm: 'v2' }) });
  const client = new OpenApi.default(config);
  return async (action, query) => {
    const params = new OpenApi.Params({ action, version: VERSION, protocol: 'HTTP', pathname: '/',
      method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
    const r = await client.callApi(params, new OpenApi.OpenApiRequest({ query }),
      new TeaUtil.RuntimeOptions({ readTimeout: 60000, connectTimeout: 60000 }));
    return r.body;
  };
}

async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return { code: e.code, data: e.data, message: e.message };
  }
  assert.fail('the call succeeded');
}

// A digest list of n files, as sha256sum prints it.
function digestList(n, tag = '') {
  const lines = [];
  for (let i = 0; i < n; i++) {
    const d = createHash('sha256').update(`${tag}${i}`).digest('hex');
    lines.push(`${d}  /usr/lib/x86_64-linux-gnu/pkg-${i % 97}/lib${i}.so.${i % 7}`);
  }
  return lines.join('\n') + '\n';
}

before(async () => {
  srv = await startVouchd();
  alice = await newKey(srv, 'alice');
  bob = await newKey(srv, 'bob');
});

after(async () => { await srv?.stop(); });

test('every client creates, lists, describes and deletes a digest-list whitelist', async () => {
  const clients = {
    'pop-core POST': popPost(alice),
    'openapi-client v1': queryClient(alice),
    'openapi-client v3': queryClient(alice, { v3: true }),
  };
  for (const [name, call] of Object.entries(clients)) {
    const created = await call('CreateProgramWhiteList', { Name: `small ${name}`,
      Content: digestList(50, name) });
    assert.equal(created.Code, undefined, name);
    assert.equal(created.ContentFormat, 'digests');
    assert.equal(created.DigestNum, 50);
    assert.equal(created.PathNum, 50);
    assert.equal(created.WhiteListName, `small ${name}`);
    assert.ok(Number.isInteger(created.WhiteListId) && created.WhiteListId > 0);
    assert.ok(Math.abs(created.GmtCreate - Date.now()) < 60000);
    const list = await call('DescribeProgramWhiteLists', { PageSize: 100 });
    assert.ok(list.WhiteLists.some((w) => w.WhiteListId === created.WhiteListId), name);
    const one = await call('DescribeProgramWhiteList', { WhiteListId: created.WhiteListId,
      IncludeContent: 'true' });
    assert.equal(one.InstanceNum, 0);
    const doc = JSON.parse(one.Content);
    assert.equal(Object.keys(doc.digests).length, 50);
    assert.deepEqual(doc.excludes, []);
    assert.equal((await call('DescribeProgramWhiteList', { WhiteListId: created.WhiteListId }))
      .Content, undefined);
    await call('DeleteProgramWhiteList', { WhiteListId: created.WhiteListId });
    const gone = await failure(call('DescribeProgramWhiteList', { WhiteListId: created.WhiteListId }));
    assert.equal(gone.code, 'InvalidWhiteListId.NotFound', name);
  }
});

test('a real keylime runtime policy is imported whole', async () => {
  const call = popPost(alice);
  const text = readFileSync(`${KEYLIME}/runtime-policy-test.json`, 'utf8');
  const created = await call('CreateProgramWhiteList', { Name: 'keylime', Content: text });
  assert.equal(created.ContentFormat, 'keylime');
  assert.equal(created.DigestNum, 21);
  assert.equal(created.ExcludeNum, 0);
  const one = await call('DescribeProgramWhiteList', { WhiteListId: created.WhiteListId,
    IncludeContent: 'true' });
  assert.deepEqual(JSON.parse(one.Content), JSON.parse(text));
  // keylime's legacy allow-list of the same files, "%keyring:" line included
  const legacy = await call('CreateProgramWhiteList', { Name: 'keylime legacy', ContentFormat: 'digests',
    Content: readFileSync(`${KEYLIME}/ima-allowlist-short.txt`, 'utf8') });
  assert.equal(legacy.PathNum, 21);
  const ld = JSON.parse((await call('DescribeProgramWhiteList', { WhiteListId: legacy.WhiteListId,
    IncludeContent: 'true' })).Content);
  assert.deepEqual(ld.keyrings, JSON.parse(text).keyrings);
});

test('20,000 digests: in a form body, and in the query when the head allows it', async (t) => {
  const content = digestList(20000, 'big');
  const t0 = Date.now();
  const created = await popPost(alice)('CreateProgramWhiteList', { Name: 'big', Content: content });
  const ms = Date.now() - t0;
  assert.equal(created.DigestNum, 20000);
  t.diagnostic(`20,000-digest import over pop-core POST: ${ms} ms`);
  // In the query: over the default 32 KiB head the HTTP library refuses the request line
  // (414); with --max-request-head raised it goes through.
  const r = await request(`${srv.url}/?Action=CreateProgramWhiteList&Content=${'a'.repeat(300000)}`);
  assert.equal(r.status, 414);
  const wide = await startVouchd({ args: ['--max-request-head', String(8 << 20)] });
  try {
    const key = await newKey(wide, 'carol');
    const big = await queryClient(key, { server: wide })('CreateProgramWhiteList',
      { Name: 'big in the query', Content: content });
    assert.equal(big.DigestNum, 20000);
  } finally {
    await wide.stop();
  }
});

test('a body over --vtpm-max-request: 413 with an RPC Code pop-core reports', async () => {
  const small = await startVouchd({ args: ['--vtpm-max-request', '1048576'] });
  try {
    const key = await newKey(small, 'dave');
    const f = await failure(popPost(key, small)('CreateProgramWhiteList',
      { Name: 'too big', Content: digestList(12000) }));
    assert.equal(f.code, 'InvalidParameter.TooLarge');
    assert.match(f.data.Message, /1048576 bytes/);
    // under the cap it works, and other routes keep --max-body
    const ok = await popPost(key, small)('CreateProgramWhiteList', { Name: 'fits',
      Content: digestList(3000) });
    assert.equal(ok.DigestNum, 3000);
  } finally {
    await small.stop();
  }
});

test('bad documents and parameters: the error names the parameter and the place', async () => {
  const call = popPost(alice);
  const cases = [
    [{ Name: 'x', Content: '{"digests": {"/bin/sh": ["zz"]}}' }, 'InvalidParameter',
      /Content: IMA policy: digests\["\/bin\/sh"\]\[0\] is not a hex digest/],
    [{ Name: 'x', Content: '{"digests": {}, "excludes": ["("]}' }, 'InvalidParameter',
      /Content: IMA policy: exclude '\('/],
    [{ Name: 'x', Content: '{"digests": {},\n"x": }' }, 'InvalidParameter', /Content: .*line 2/],
    [{ Name: 'x', Content: '{"release": 0}' }, 'InvalidParameter', /"digests" is missing/],
    [{ Name: 'x', Content: `${'0'.repeat(64)}  /a\nnot-hex /b\n` }, 'InvalidParameter',
      /Content: allow-list line 2/],
    [{ Name: 'x', ContentFormat: 'xml', Content: '<x/>' }, 'InvalidParameter', /ContentFormat must be/],
    [{ Name: 'x' }, 'MissingParameter', /Content/],
    [{ Content: '00 /a' }, 'MissingParameter', /Name/],
    [{ Name: 'x'.repeat(129), Content: '00 /a' }, 'InvalidParameter', /Name/],
  ];
  for (const [params, code, message] of cases) {
    const f = await failure(call('CreateProgramWhiteList', params));
    assert.equal(f.code, code, JSON.stringify(params).slice(0, 80));
    assert.match(f.data.Message, message);
  }
  await call('CreateProgramWhiteList', { Name: 'twice', Content: '00 /a' });
  const dup = await failure(call('CreateProgramWhiteList', { Name: 'twice', Content: '00 /a' }));
  assert.equal(dup.code, 'InvalidWhiteListName.Duplicate');
  for (const id of ['abc', '-1', '1e3', '']) {
    const f = await failure(call('DescribeProgramWhiteList', { WhiteListId: id }));
    assert.ok(['InvalidParameter', 'MissingParameter'].includes(f.code), id);
  }
});

test('assign, unassign, delete: DescribeInstance follows; delete waits for unassign', async () => {
  const call = popPost(alice);
  for (const u of ['wl-i1', 'wl-i2']) await call('RegisterMessage', { PropertyUuid: u });
  const w = await call('CreateProgramWhiteList', { Name: 'servers', Content: digestList(10) });
  await call('AssignProgramWhiteList', { WhiteListId: w.WhiteListId, Properties: 'wl-i1,wl-i2' });
  for (const u of ['wl-i1', 'wl-i2']) {
    const d = await call('DescribeInstance', { PropertyUuid: u });
    assert.equal(d.ProgramWhiteListId, w.WhiteListId);
    assert.equal(d.ProgramWhiteListName, 'servers');
    assert.equal(d.ProgramTrustStatus, 4);
  }
  assert.equal((await call('DescribeProgramWhiteList', { WhiteListId: w.WhiteListId })).InstanceNum, 2);
  const busy = await failure(call('DeleteProgramWhiteList', { WhiteListId: w.WhiteListId }));
  assert.equal(busy.code, 'OperationDenied.WhiteListInUse');
  const missing = await failure(call('AssignProgramWhiteList', { WhiteListId: w.WhiteListId,
    Properties: '["wl-i1","wl-nope"]' }));
  assert.equal(missing.code, 'InvalidPropertyUuid.NotFound');
  await call('UnassignProgramWhiteList', { Properties: '["wl-i1","wl-i2"]' });
  const d = await call('DescribeInstance', { PropertyUuid: 'wl-i1' });
  assert.equal(d.ProgramWhiteListId, -1);
  assert.equal(d.ProgramWhiteListName, '');
  assert.equal(d.ProgramTrustStatus, 4);
  await call('DeleteProgramWhiteList', { WhiteListId: w.WhiteListId });
});

test("another account's whitelists and instances are refused", async () => {
  const a = popPost(alice);
  const b = popPost(bob);
  await a('RegisterMessage', { PropertyUuid: 'alice-host' });
  await b('RegisterMessage', { PropertyUuid: 'bob-host' });
  const aw = await a('CreateProgramWhiteList', { Name: 'alice list', Content: digestList(3) });
  const bw = await b('CreateProgramWhiteList', { Name: 'bob list', Content: digestList(3) });
  for (const [action, params] of [
    ['AssignProgramWhiteList', { WhiteListId: aw.WhiteListId, Properties: 'bob-host' }],
    ['AssignProgramWhiteList', { WhiteListId: bw.WhiteListId, Properties: 'alice-host' }],
    ['UnassignProgramWhiteList', { Properties: 'alice-host' }],
    ['DescribeProgramWhiteList', { WhiteListId: aw.WhiteListId, IncludeContent: 'true' }],
    ['DeleteProgramWhiteList', { WhiteListId: aw.WhiteListId }],
  ]) {
    const f = await failure(b(action, params));
    assert.equal(f.code, 'Forbidden.NotOwner', `${action} ${JSON.stringify(params)}`);
  }
  const list = await b('DescribeProgramWhiteLists', { PageSize: 100 });
  assert.ok(!list.WhiteLists.some((w) => w.WhiteListId === aw.WhiteListId));
  assert.ok(list.WhiteLists.some((w) => w.WhiteListId === bw.WhiteListId));
  // nothing changed on alice's side
  const d = await a('DescribeInstance', { PropertyUuid: 'alice-host' });
  assert.equal(d.ProgramWhiteListId, -1);
  assert.equal((await a('DescribeProgramWhiteList', { WhiteListId: aw.WhiteListId })).InstanceNum, 0);
});
