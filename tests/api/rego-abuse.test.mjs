// Rego an attacker controls, against a real vouchd: the kata agent policy
// carried in an attestation request's init data (no token needed) and an
// admin-uploaded policy.  Each request here once crashed vouchd or held a
// worker for seconds to minutes: the int64 edges of numbers.range,
// substring, durations and UUID times, and builtins whose work grew with
// their input (format_int, indexof).  Now: evidence is verified before the
// agent policy runs, builtins are charged for their work and every
// evaluation has a wall-clock budget.  vouchd answers 4xx (or 200 with the
// exact value) quickly and stays up.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startVouchd, vouch, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

const run = promisify(execFile);
const FORGE = process.env.DCAP_FORGE;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const evidenceOf = (quote) => b64url(JSON.stringify({ quote: Buffer.from(quote).toString('base64'), cc_eventlog: null }));

// 100,000 and 50,000 times "a", built in a few thousand steps.
const A100K = 'replace(sprintf("%10000s", [""]), " ", "aaaaaaaaaa")';
const A50K = 'replace(sprintf("%10000s", [""]), " ", "aaaaa")';

// The probe's reproducers, as Rego expressions.
const VARIANTS = {
  'numbers.range over all of int64': 'numbers.range(-9223372036854775808, 9223372036854775807)',
  'substring with a huge length': 'substring("hello", 1, 9223372036854775807)',
  'a duration just below 2^63 ns': 'time.parse_duration_ns("2562047h47m16.854775807s")',
  'the time of a version-1 UUID far from today': 'uuid.parse("ffffffff-ffff-1fff-bfff-ffffffffffff").time',
  'format_int of a 100,000-digit number': 'format_int(1e99999, 2)',
  'indexof on 100 KB strings': `indexof(${A100K}, concat("", [${A50K}, "b"]))`,
};

// init_data_toml whose agent policy's policy_data is `body` (Rego v1 rules).
function initData(body) {
  return ['algorithm = "sha384"', 'version = "0.1.0"', '', '[data]', '"policy.rego" = \'\'\'',
    'package agent_policy', 'import rego.v1', body, '\'\'\'', ''].join('\n');
}

async function attest(url, body, query = '') {
  const t0 = performance.now();
  const r = await request(`${url}/v1/attestation${query}`, {
    method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(20000),
  });
  r.ms = performance.now() - t0;
  return r;
}

async function assertAlive(srv) {
  assert.equal(srv.proc.exitCode, null, srv.log());
  assert.equal(srv.proc.signalCode, null, srv.log());
  const h = await request(`${srv.url}/healthz`, { signal: AbortSignal.timeout(5000) });
  assert.equal(h.status, 200);
}

function assertProblem(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.body.code, code, r.text);
  if (field !== undefined) assert.equal(r.body.field, field, r.text);
}

// A forged TDX quote whose MRCONFIGID is the digest of `toml`, and a vouchd
// trusting the forged PKI.
async function verifiedServer(toml, args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-rego-abuse-'));
  const f = { quote: join(dir, 'q.bin'), collateral: join(dir, 'c.json'), root: join(dir, 'root.pem') };
  await run(FORGE, ['--quote', f.quote, '--collateral', f.collateral, '--root', f.root,
    '--mr-config-id', createHash('sha384').update(toml).digest('hex')]);
  const db = `sqlite:${join(dir, 'vouch.db')}`;
  await vouch(['collateral', 'import', '--db', db, '--dcap-root', f.root, f.collateral]);
  const srv = await startVouchd({ dir, args: ['--dcap-root', f.root, ...args] });
  srv.evidence = evidenceOf(readFileSync(f.quote));
  const stop = srv.stop.bind(srv);
  srv.stop = async () => { await stop(); rmSync(dir, { recursive: true, force: true }); };
  return srv;
}

describe('anonymous: init data with evidence that does not verify runs no Rego', () => {
  // one vouchd each, so that each reproducer stands on its own
  for (const [name, expr] of Object.entries(VARIANTS)) {
    test(`${name}: a quick 4xx, vouchd stays up`, async () => {
      const srv = await startVouchd();
      try {
        const toml = initData(`policy_data := {"x": ${expr}}`);
        const r = await attest(srv.url, { verification_requests: [{ tee: 'tdx',
          evidence: evidenceOf(Buffer.alloc(1024, 7)), init_data: { init_data_toml: toml } }] });
        assert.ok(r.status >= 400 && r.status < 500, r.text);
        assert.equal(r.headers.get('content-type'), 'application/problem+json');
        assert.match(r.body.field, /^verification_requests\[0\]\.evidence/);
        assert.ok(r.ms < 1000, `${r.ms} ms`);
        await assertAlive(srv);
      } finally {
        await srv.stop();
      }
    });
  }
});

describe('verified init data: the agent policy runs, exact at the edges', () => {
  let srv;
  // Each value on its own rule: a builtin error leaves the rule undefined.
  const toml = initData([
    'default uuid_time := "undefined"',
    `uuid_time := ${VARIANTS['the time of a version-1 UUID far from today']}`,
    'policy_data := {',
    `  "substring": ${VARIANTS['substring with a huge length']},`,
    `  "duration": format_int(${VARIANTS['a duration just below 2^63 ns']}, 10),`,
    '  "duration_min": format_int(time.parse_duration_ns("-2562047h47m16.854775808s"), 10),',
    '  "uuid_time": uuid_time,',
    '  "decimal_digits": count(format_int(1e99999, 10)),',
    `  "indexof": ${VARIANTS['indexof on 100 KB strings']},`,
    '}',
  ].join('\n'));
  // a generous budget: this server shows the values, not the time limit
  before(async () => { srv = await verifiedServer(toml, ['--rego-initdata-timeout', '2000']); });
  after(async () => { await srv?.stop(); });

  test('200, each value as Go would compute it, in well under a second', async () => {
    const r = await attest(srv.url, { verification_requests: [{ tee: 'tdx', evidence: srv.evidence,
      init_data: { init_data_toml: toml } }], policy_ids: [] }, '?token=ear');
    assert.equal(r.status, 200, r.text);
    assert.ok(r.ms < 1000, `${r.ms} ms`);
    const payload = JSON.parse(Buffer.from(r.text.split('.')[1], 'base64url'));
    const claims = payload.submods.cpu0['ear.veraison.annotated-evidence'].init_data_claims;
    assert.deepEqual(claims.agent_policy_claims, {
      substring: 'ello',
      duration: '9223372036854775807',
      duration_min: '-9223372036854775808',
      uuid_time: 'undefined',
      decimal_digits: 100000,
      indexof: -1,
    });
    await assertAlive(srv);
  });

  test('an admin policy calling numbers.range over int64: 422, vouchd stays up', async () => {
    const rego = 'package policy\nimport rego.v1\ndefault allow := false\n' +
      'allow if count(numbers.range(-9223372036854775808, 9223372036854775807)) > 0\n';
    const up = await request(`${srv.url}/policy`, { method: 'POST', headers: admin,
      body: JSON.stringify({ policy_id: 'range', policy: b64url(rego) }) });
    assert.ok(up.status === 200 || up.status === 201, up.text);
    const r = await attest(srv.url, { verification_requests: [{ tee: 'tdx', evidence: srv.evidence,
      init_data: { init_data_toml: toml } }], policy_ids: ['range'] });
    assertProblem(r, 422, 'VOUCH.POLICY.EVALUATION_FAILED');
    assert.match(r.body.detail, /step limit exceeded/);
    assert.ok(r.ms < 1000, `${r.ms} ms`);
    await assertAlive(srv);
  });

  test('an admin policy walking every path of a complete graph: cut in bounded time', async () => {
    const rego = 'package policy\nimport rego.v1\ndefault allow := false\n' +
      'g := {x: [y | some y in numbers.range(0, 13)] | some x in numbers.range(0, 13)}\n' +
      'allow if count(graph.reachable_paths(g, {0})) > 0\n';
    const up = await request(`${srv.url}/policy`, { method: 'POST', headers: admin,
      body: JSON.stringify({ policy_id: 'paths', policy: b64url(rego) }) });
    assert.ok(up.status === 200 || up.status === 201, up.text);
    const r = await attest(srv.url, { verification_requests: [{ tee: 'tdx', evidence: srv.evidence,
      init_data: { init_data_toml: toml } }], policy_ids: ['paths'] });
    assertProblem(r, 422, 'VOUCH.POLICY.EVALUATION_FAILED');
    assert.match(r.body.detail, /(step|time) limit exceeded/);
    assert.ok(r.ms < 1000, `${r.ms} ms`);
    await assertAlive(srv);
  });
});

describe('verified init data over the limits', () => {
  test('numbers.range over int64: 422 naming init_data_toml, vouchd stays up', async () => {
    const toml = initData(`policy_data := {"x": ${VARIANTS['numbers.range over all of int64']}}`);
    const srv = await verifiedServer(toml);
    try {
      const r = await attest(srv.url, { verification_requests: [{ tee: 'tdx', evidence: srv.evidence,
        init_data: { init_data_toml: toml } }] });
      assertProblem(r, 422, 'VOUCH.POLICY.EVALUATION_FAILED',
        'verification_requests[0].init_data.init_data_toml');
      assert.match(r.body.detail, /policy\.rego.*step limit exceeded \(100000\)/);
      assert.ok(r.ms < 1000, `${r.ms} ms`);
      await assertAlive(srv);
    } finally {
      await srv.stop();
    }
  });

  test('an expensive agent policy is cut by the time budget', async () => {
    // ~65,000 steps of real work: well under the step limit (100,000), and
    // several milliseconds on any build, so a 2 ms budget is what stops it
    // (the default 10 ms is about what 100,000 steps take on a fast build)
    const toml = initData('policy_data := {"n": count([s | some i in numbers.range(1, 10000); ' +
      'j := i * 2; j > 3; s := sprintf("%d", [j])])}');
    const srv = await verifiedServer(toml, ['--rego-initdata-timeout', '2']);
    try {
      const r = await attest(srv.url, { verification_requests: [{ tee: 'tdx', evidence: srv.evidence,
        init_data: { init_data_toml: toml } }] });
      assertProblem(r, 422, 'VOUCH.POLICY.EVALUATION_FAILED',
        'verification_requests[0].init_data.init_data_toml');
      assert.match(r.body.detail, /time limit exceeded \(2 ms\)/);
      assert.ok(r.ms < 1000, `${r.ms} ms`);
      await assertAlive(srv);
    } finally {
      await srv.stop();
    }
  });
});
