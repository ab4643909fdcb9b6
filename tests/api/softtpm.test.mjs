// The software TPM of the load and crash tests (lib/softtpm.mjs) must not
// hang its process.  Built from keys that generateKeyPairSync returned as
// KeyObjects, it did, in node 20: exporting such a key (the EK and AK
// modulus, exported for every instance that shares them) could take a
// garbage collection that destroyed the key-generation job, whose
// destructor waited for the mutex the export held.  bench/vtpm/load.mjs
// hung that way in 2 of about 40 preparations.  Before the keys were
// imported from PEM, one run of this workload (8 key pairs, 300 instances
// sharing each) hung within two seconds in about two runs of three, so four
// run side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const WORKLOAD = `
const { SoftTpm } = await import(${JSON.stringify(new URL('./lib/softtpm.mjs', import.meta.url).href)});
const keep = [];
for (let i = 0; i < 8; i++) {
  const first = new SoftTpm();
  for (let j = 0; j < 300; j++) {
    keep.push(new SoftTpm(first));
    if (keep.length > 1000) keep.length = 0;
  }
}
process.stdout.write('done');
`;

// One run of the workload in its own process: its exit code, signal and output.
function runWorkload() {
  const child = spawn(process.execPath, ['--input-type=module', '-e', WORKLOAD],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, out });
  }));
}

test('SoftTpm instances sharing keys never deadlock the process', async () => {
  const runs = await Promise.all([1, 2, 3, 4].map(runWorkload));
  for (const r of runs)
    assert.deepEqual(r, { code: 0, signal: null, out: 'done' },
      'a run did not finish within 90 s (deadlocked)');
});
