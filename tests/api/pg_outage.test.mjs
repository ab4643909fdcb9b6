// PostgreSQL goes away under load and comes back: while it is down vouchd
// answers 503 VOUCH.DEPENDENCY.UNAVAILABLE with Retry-After (never a crash
// or a hang), and within seconds of its return every request succeeds
// again.  No write acknowledged with 2xx is lost.  Runs on the throwaway
// cluster of tests/pg/with-postgres.sh (meson test api_pg_outage), which it
// stops and starts, so it has that cluster to itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVouchd, request, freshPostgresDb, ADMIN_TOKEN } from './lib/vouchd.mjs';
import { PG_DIR, stopPostgres, startPostgres, freezableProxy } from './lib/pg.mjs';

const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const POLICY = Buffer.from('package policy\ndefault allow := false\n').toString('base64url');
const WORKERS = 4;
const REQUEST_TIMEOUT_MS = 10000;

// One write and one read; returns the statuses and the 503 answer, if any.
async function step(url, id) {
  const post = await request(`${url}/policy`, {
    method: 'POST', headers: AUTH, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    body: JSON.stringify({ policy_id: id, type: 'rego', policy: POLICY }),
  });
  const read = post.status < 300 ? id : 'default';
  const get = await request(`${url}/policy/${read}`, {
    headers: AUTH, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await new Promise((r) => setTimeout(r, 20));
  return { post, get };
}

test('a PostgreSQL restart under load: 503 with Retry-After while down, full service after',
  { skip: !PG_DIR && 'needs tests/pg/with-postgres.sh' }, async () => {
    const d = await startVouchd();
    const acked = new Set();
    const unavailable = [];
    const other = [];
    let phase = 'up', n = 0, stop = false, lastFailure = 0;
    const worker = async (w) => {
      while (!stop) {
        const id = `load-${w}-${n++}`;
        const { post, get } = await step(d.url, id);
        if (post.status === 201 || post.status === 200) acked.add(id);
        for (const r of [post, get]) {
          if (r.status < 300) continue;
          lastFailure = Date.now();
          if (r.status === 503) unavailable.push(r);
          else other.push(`${phase}: ${r.status} ${r.text}`);
        }
      }
    };
    try {
      const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(unavailable.length, 0, 'no 503 before the outage');
      phase = 'down';
      await stopPostgres();
      await new Promise((r) => setTimeout(r, 3000));
      const down = unavailable.length;
      phase = 'back';
      await startPostgres();
      const back = Date.now();
      // Full service: two seconds in a row without a failed request.
      while (Date.now() - Math.max(lastFailure, back) < 2000) {
        assert.ok(Date.now() - back < 15000, 'service did not recover within 15 s of the database');
        await new Promise((r) => setTimeout(r, 100));
      }
      const recovered = Math.max(0, lastFailure - back);
      stop = true;
      await load;
      console.log(`# 503 answers while down: ${down}; last failure ${recovered} ms after the ` +
        `database was back; writes acknowledged: ${acked.size}`);
      assert.ok(down > 0, 'requests during the outage got 503');
      assert.deepEqual(other, [], 'no answer other than 2xx or 503');
      for (const r of unavailable) {
        assert.equal(r.body?.code, 'VOUCH.DEPENDENCY.UNAVAILABLE', r.text);
        assert.ok(r.headers.get('retry-after'), 'Retry-After on every 503');
      }
      assert.equal(d.proc.exitCode, null, `vouchd still runs:\n${d.log()}`);
      // Every acknowledged write is stored.
      const list = await request(`${d.url}/policy`, { headers: AUTH });
      assert.equal(list.status, 200);
      const stored = new Set(JSON.stringify(list.body).match(/load-\d+-\d+/g));
      const lost = [...acked].filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], 'acknowledged policies are all stored');
    } finally {
      stop = true;
      await startPostgres().catch(() => {});
      await d.stop();
    }
  });

// The store drops a connection whose answer has not come within 15 s
// (QUERY_TIMEOUT_MS in src/store/pg.c) and a new one must connect within 5 s.
test('a database that stops answering without closing: 503 within the query timeout, never a hang',
  { skip: !PG_DIR && 'needs tests/pg/with-postgres.sh' }, async () => {
    const proxy = await freezableProxy();
    const url = new URL(await freshPostgresDb());
    url.port = String(proxy.port);
    const d = await startVouchd({ db: url.href });
    const write = (id) => request(`${d.url}/policy`, {
      method: 'POST', headers: AUTH, signal: AbortSignal.timeout(60000),
      body: JSON.stringify({ policy_id: id, type: 'rego', policy: POLICY }),
    });
    try {
      assert.equal((await write('before')).status, 200);
      proxy.freeze();
      let t = Date.now();
      const stuck = await write('frozen-1');
      const waited = Date.now() - t;
      console.log(`# a request on a frozen connection answered ${stuck.status} after ${waited} ms`);
      assert.equal(stuck.status, 503, stuck.text);
      assert.equal(stuck.body.code, 'VOUCH.DEPENDENCY.UNAVAILABLE');
      assert.ok(waited < 20000, `${waited} ms`);
      t = Date.now();
      const again = await write('frozen-2');
      assert.equal(again.status, 503, again.text);
      assert.ok(Date.now() - t < 20000);
      proxy.thaw();
      let ok = false;
      const end = Date.now() + 15000;
      while (!ok && Date.now() < end) {
        ok = (await write('after')).status === 200;
        if (!ok) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(ok, `no recovery:\n${d.log()}`);
      assert.equal(d.proc.exitCode, null);
    } finally {
      await d.stop();
      await proxy.close();
    }
  });
