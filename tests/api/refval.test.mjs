// Reference values: trustee's RVPS message and Vouch's simpler forms,
// behind the admin token, with expiry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVouchd, request, ADMIN_TOKEN } from './lib/vouchd.mjs';

let srv;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

before(async () => { srv = await startVouchd(); });
after(async () => { await srv?.stop(); });

test('an RVPS sample message is stored and read back', async () => {
  const payload = Buffer.from(JSON.stringify({ mr_td: ['aa', 'bb'], xfam: ['e702060000000000'] })).toString('base64');
  const r = await request(`${srv.url}/reference-value`, {
    method: 'POST', headers: auth,
    body: JSON.stringify({ version: '0.1.0', type: 'sample', payload }),
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.stored.map((s) => s.name).sort(), ['mr_td', 'xfam']);
  const g = await request(`${srv.url}/reference-value/mr_td`, { headers: auth });
  assert.equal(g.status, 200);
  assert.deepEqual(g.body.values, ['aa', 'bb']);
  assert.equal(g.body.expired, false);
  const l = await request(`${srv.url}/reference-value`, { headers: auth });
  assert.deepEqual(l.body.reference_values.map((v) => v.name), ['mr_td', 'xfam']);
});

test('expiry is kept and reported', async () => {
  const r = await request(`${srv.url}/reference-value`, {
    method: 'POST', headers: auth,
    body: JSON.stringify({ name: 'old', values: [1], expires_at: '2020-01-01T00:00:00Z' }),
  });
  assert.equal(r.status, 200, r.text);
  const g = await request(`${srv.url}/reference-value/old`, { headers: auth });
  assert.equal(g.body.expires_at, '2020-01-01T00:00:00Z');
  assert.equal(g.body.expired, true);
});

test('bad uploads name the field; nothing is stored', async () => {
  for (const [body, field] of [
    [{ name: 'x', values: 'not-an-array' }, 'values'],
    [{ reference_values: { 'bad name': [] } }, 'reference_values'],
    [{ name: 'x', values: [], expires_at: 'tomorrow' }, 'expires_at'],
    [{ type: 'sample', payload: '%%%' }, 'payload'],
  ]) {
    const r = await request(`${srv.url}/reference-value`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.equal(r.body.field, field);
  }
  const g = await request(`${srv.url}/reference-value/x`, { headers: auth });
  assert.equal(g.status, 404);
  assert.equal(g.body.code, 'VOUCH.REFERENCE_VALUE.NOT_FOUND');
});

test('delete, and the admin token is required', async () => {
  const noauth = await request(`${srv.url}/reference-value/mr_td`);
  assert.equal(noauth.status, 401);
  const d = await request(`${srv.url}/reference-value/xfam`, { method: 'DELETE', headers: auth });
  assert.equal(d.status, 204);
  const again = await request(`${srv.url}/reference-value/xfam`, { method: 'DELETE', headers: auth });
  assert.equal(again.status, 404);
});
