// bench/agent/run.sh: vouch-agent's report round and idle RSS (see there).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startVouchd, newAccessKey } from '../../tests/api/lib/vouchd.mjs';
import { Swtpm } from '../../tests/api/lib/swtpm.mjs';
import { Machine, tctiOf } from '../../tests/api/lib/tpmsim.mjs';

const AGENT = resolve(process.env.VOUCH_AGENT);
const rounds = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'vouch-bench-agent-'));
let tpm, srv, daemon;

function agent(key, args) {
  return new Promise((res, rej) => execFile(AGENT, ['--once', '--server', srv.url,
    '--access-key-id', key.id, '--access-key-secret', key.secret, '--tcti', tctiOf(tpm),
    '--state-dir', join(dir, 'state'), '--eventlog', '', '--ima-log', join(dir, 'ima.log'),
    '--boot-id-file', join(dir, 'boot_id'), '--uuid', 'bench', ...args],
  { env: { ...process.env, TSS2_LOG: 'all+NONE' } },
  (err, stdout, stderr) => (err ? rej(new Error(stderr)) : res({ stdout, stderr }))));
}

try {
  writeFileSync(join(dir, 'boot_id'), 'b\n');
  mkdirSync(join(dir, 'tpm'));
  tpm = new Swtpm(join(dir, 'tpm'));
  await tpm.manufacture();
  await tpm.start();
  mkdirSync(join(dir, 'vouchd'));
  srv = await startVouchd({ dir: join(dir, 'vouchd'), args: ['--max-body', String(16 << 20)] });
  const key = await newAccessKey(srv, 'bench');
  const m = new Machine(tpm, join(dir, 'ima.log'));
  await m.boot(Array.from({ length: 10 }, (_, i) => [i, `fw ${i}`]));
  await agent(key, []);                       // enrolment and the first report
  const times = [];
  for (let i = 0; i < rounds; i++) {
    await m.measure(Array.from({ length: 1000 }, (_, k) => `/usr/lib/bench/r${i}/f${k}.so`));
    const t0 = process.hrtime.bigint();
    const out = await agent(key, []);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (!/ima_sent=1000 /.test(out.stderr)) throw new Error(`not 1000 entries:\n${out.stderr}`);
  }
  times.sort((a, b) => a - b);
  console.log(`round_ms median=${times[times.length >> 1].toFixed(0)} min=${times[0].toFixed(0)} ` +
    `max=${times[times.length - 1].toFixed(0)} rounds=${rounds} ima_entries=1000`);
  // the daemon between rounds: after its first report, asleep for --interval
  daemon = spawn(AGENT, ['--server', srv.url, '--access-key-id', key.id, '--access-key-secret',
    key.secret, '--tcti', tctiOf(tpm), '--state-dir', join(dir, 'state'), '--eventlog', '',
    '--ima-log', join(dir, 'ima.log'), '--boot-id-file', join(dir, 'boot_id'), '--uuid', 'bench',
    '--interval', '1'], { env: { ...process.env, TSS2_LOG: 'all+NONE' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 100 && !log.includes('report accepted'); i++)
    await new Promise((res) => setTimeout(res, 100));
  if (!log.includes('report accepted')) throw new Error(`the daemon did not report:\n${log}`);
  daemon.kill('SIGSTOP');                      // asleep, as between two rounds
  // the daemon itself (each round runs in a child process that has exited by now)
  const roll = readFileSync(`/proc/${daemon.pid}/smaps_rollup`, 'utf8');
  const kb = (k) => new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(roll)[1];
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))[1];
  console.log(`idle_rss_kb=${kb('Rss')} idle_pss_kb=${kb('Pss')} ` +
    `idle_private_dirty_kb=${kb('Private_Dirty')} peak_rss_kb=${hwm}`);
  daemon.kill('SIGKILL');
} finally {
  if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
  if (tpm) await tpm.stop();
  if (srv) await srv.stop();
  rmSync(dir, { recursive: true, force: true });
}
