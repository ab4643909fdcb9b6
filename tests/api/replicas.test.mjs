// Several vouchd replicas on one PostgreSQL database (tests/pg/with-postgres.sh,
// meson test api_pg_replicas): singleton jobs (the PCCS refresh, the vTPM
// online-status sweep and report retention) run on one replica at a time,
// and another takes over within the lease bound when the holder is killed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVouchd, vouch, freshPostgresDb, PG_BASE } from './lib/vouchd.mjs';
import { newAccessKey, rpcClient, rpc, SoftAttester } from './lib/vtpmclient.mjs';

const skip = !PG_BASE && 'needs tests/pg/with-postgres.sh';
const V2 = '../vectors/dcap/dcap-qvl/sample';
// The refresh lease with --pccs-refresh 1: 3 s, renewed every second
// (src/server/refresh.h), so a dead holder is replaced within 4 s.
const TAKEOVER_BOUND_MS = 4000;

async function until(fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const refreshLines = (log) => (log.match(/msg="collateral refresh(ed| failed)/g) ?? []).length;
const tookLease = (log) => /msg="collateral refresh lease taken"/.test(log);

test('the PCCS upstream refresh runs on one replica; another takes over when it is killed',
  { skip }, async () => {
    const upDir = mkdtempSync(join(tmpdir(), 'vouch-up-'));
    await vouch(['collateral', 'import', '--db', `sqlite:${join(upDir, 'vouch.db')}`, join(V2, 'tdx_quote_collateral.json')]);
    const db = await freshPostgresDb();
    await vouch(['collateral', 'import', '--db', db, '--at', '2025-05-28T00:00:00Z', '../vectors/pccs']);
    const up = await startVouchd({ dir: upDir });
    const args = ['--pccs-upstream', up.url, '--pccs-refresh', '1'];
    const replicas = [await startVouchd({ db, args }), await startVouchd({ db, args })];
    try {
      assert.ok(await until(async () => replicas.some((r) => tookLease(r.log())), 10000),
        'one replica takes the lease');
      // Three more periods: still exactly one refreshes.
      await new Promise((r) => setTimeout(r, 3000));
      const holder = replicas.findIndex((r) => tookLease(r.log()));
      const other = replicas[1 - holder];
      assert.ok(refreshLines(replicas[holder].log()) > 0, replicas[holder].log());
      assert.equal(refreshLines(other.log()), 0, other.log());
      assert.equal(tookLease(other.log()), false);
      // The holder dies without releasing: the other takes over within the bound.
      replicas[holder].proc.kill('SIGKILL');
      await replicas[holder].exited;
      const killed = Date.now();
      assert.ok(await until(async () => tookLease(other.log()), 15000), other.log());
      const takeover = Date.now() - killed;
      console.log(`# refresh lease taken over ${takeover} ms after the holder was killed`);
      assert.ok(takeover <= TAKEOVER_BOUND_MS + 1000, `take-over took ${takeover} ms`);
      assert.ok(await until(async () => refreshLines(other.log()) > 0, 10000), other.log());
    } finally {
      for (const r of replicas) await r.stop();
      await up.stop();
      rmSync(upDir, { recursive: true, force: true });
    }
  });

// The vTPM lease with --vtpm-report-interval 1: 3 s (the minimum), renewed
// and swept every second (src/server/vtpm_jobs.h): a dead holder is
// replaced within 4 s.
const sweptLines = (log) => (log.match(/msg="vtpm sweep: instances unmeasured"/g) ?? []).length;
const tookSweep = (log) => /msg="vtpm sweep lease taken"/.test(log);

test('the vTPM sweep runs on one replica, stores "unmeasured", and moves when its replica is killed',
  { skip }, async () => {
    const db = await freshPostgresDb();
    const args = ['--vtpm-report-interval', '1'];
    const replicas = [await startVouchd({ db, args }), await startVouchd({ db, args })];
    try {
      assert.ok(await until(async () => replicas.some((r) => tookSweep(r.log())), 10000),
        'one replica takes the lease');
      const holder = replicas.findIndex((r) => tookSweep(r.log()));
      const other = replicas[1 - holder];
      const key = await newAccessKey(other.url, 'sweep');
      const client = rpcClient(other.url, key);
      const unmeasured = async () => (await rpc(client, 'DescribeInstances',
        { SystemTrustStatus: 3 })).TotalCount;
      // An instance reports once and falls silent: after 2 s it reads offline at
      // once (computed on read), and the holder's sweep stores status 3.
      const a = new SoftAttester('sweep-1');
      await a.enrol(client);
      assert.equal((await rpc(client, 'DescribeInstance', { PropertyUuid: a.uuid })).SystemTrustStatus, 1);
      assert.ok(await until(async () => await unmeasured() === 1, 10000), 'the sweep marks it');
      const inst = await rpc(client, 'DescribeInstance', { PropertyUuid: a.uuid });
      assert.equal(inst.OnlineStatus, 0);
      assert.equal(inst.SystemTrustStatus, 3);
      // the status shown is computed on read at once; the holder's sweep stores it
      assert.ok(await until(async () => sweptLines(replicas[holder].log()) >= 1, 10000),
        replicas[holder].log());
      assert.equal(sweptLines(other.log()), 0);
      assert.equal(tookSweep(other.log()), false);
      // A report brings it back; then the holder dies without releasing.
      await a.report(client);
      assert.equal(await unmeasured(), 0);
      replicas[holder].proc.kill('SIGKILL');
      await replicas[holder].exited;
      const killed = Date.now();
      assert.ok(await until(async () => tookSweep(other.log()), 15000), other.log());
      const takeover = Date.now() - killed;
      console.log(`# vtpm sweep lease taken over ${takeover} ms after the holder was killed`);
      assert.ok(takeover <= TAKEOVER_BOUND_MS + 1000, `take-over took ${takeover} ms`);
      // The new holder sweeps: the instance, silent again, is marked by it.
      assert.ok(await until(async () => await unmeasured() === 1, 10000), 'shown unmeasured');
      assert.ok(await until(async () => sweptLines(other.log()) >= 1, 10000), other.log());
    } finally {
      for (const r of replicas) await r.stop();
    }
  });
