// A software TPM for the agent's end-to-end tests: swtpm on a free
// 127.0.0.1 port pair, manufactured by swtpm_setup with sha1 and sha256
// banks and an EK certificate from a throw-away local CA (all in `dir`), and
// tpm2-tools through the swtpm TCTI to play the kernel (extend PCR 10 for
// IMA entries).  stop() kills only the swtpm this module started.
import { spawn, execFile } from 'node:child_process';
import { writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomInt, createHash } from 'node:crypto';

const execFileP = promisify(execFile);

export async function haveSwtpm() {
  for (const prog of ['swtpm', 'swtpm_setup', 'swtpm_localca', 'tpm2_pcrextend', 'tpm2_startup']) {
    try {
      await execFileP('sh', ['-c', `command -v ${prog}`]);
    } catch {
      return false;
    }
  }
  return true;
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

// Manufacture a TPM in dir/state (EK certificate in NV 0x01c00002).
export async function makeTpm(dir) {
  const ca = join(dir, 'localca');
  mkdirSync(ca, { recursive: true });
  mkdirSync(join(dir, 'state'), { recursive: true });
  writeFileSync(join(dir, 'localca.conf'), `statedir = ${ca}\nsigningkey = ${ca}/signkey.pem\n` +
    `issuercert = ${ca}/issuercert.pem\ncertserial = ${ca}/certserial\n`);
  writeFileSync(join(dir, 'localca.options'), '--platform-manufacturer Vouch\n');
  writeFileSync(join(dir, 'setup.conf'), `create_certs_tool = swtpm_localca\n` +
    `create_certs_tool_config = ${dir}/localca.conf\n` +
    `create_certs_tool_options = ${dir}/localca.options\n`);
  await execFileP('swtpm_setup', ['--tpm2', '--tpmstate', join(dir, 'state'), '--config',
    join(dir, 'setup.conf'), '--create-ek-cert', '--pcr-banks', 'sha1,sha256', '--overwrite']);
}

// Start swtpm on dir/state; { port, tcti, stop(), reset() }.
export async function startTpm(dir) {
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = 20000 + 2 * randomInt(20000);
    if (!(await portFree(port)) || !(await portFree(port + 1))) continue;
    const proc = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${join(dir, 'state')}`,
      '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      '--flags', 'not-need-init,startup-clear'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    let up = false;
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      if (await portOpen(port)) { up = true; break; }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
      continue;
    }
    const tcti = `swtpm:host=127.0.0.1,port=${port}`;
    return {
      port, tcti, proc,
      async stop() {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        await exited;
      },
      // tpm2-tools against this TPM (the tests play firmware and kernel with them)
      tools(prog, args) {
        return execFileP(prog, ['-T', tcti, ...args]);
      },
    };
  }
  throw new Error('swtpm did not start');
}

const sha = (alg, data) => createHash(alg).update(data).digest();

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

// "PCR:sha1=H1(text),sha256=H256(text)" for tpm2_pcrextend.
export function pcrExtendSpec(pcr, text) {
  return `${pcr}:sha1=${sha('sha1', text).toString('hex')},sha256=${sha('sha256', text).toString('hex')}`;
}

// One binary ima-ng entry (little-endian lengths) and its PCR 10 extend spec.
export function imaEntry(path, digest) {
  const alg = Buffer.from('sha256:\0');
  const name = Buffer.from(`${path}\0`);
  const data = Buffer.concat([u32(alg.length + 32), alg, digest, u32(name.length), name]);
  const entry = Buffer.concat([u32(10), sha('sha1', data), u32(6), Buffer.from('ima-ng'),
    u32(data.length), data]);
  return { entry, spec: `10:sha1=${sha('sha1', data).toString('hex')},` +
    `sha256=${sha('sha256', data).toString('hex')}` };
}

// Firmware and kernel of a machine with this TPM: PCRs 0-9 at boot, an IMA
// log in `logPath` whose entries are extended into PCR 10 as the kernel does.
export class Machine {
  constructor(tpm, logPath) {
    this.tpm = tpm;
    this.log = logPath;
    this.entries = 0;
  }

  // firmware: [[pcr, text], ...] extended in order (on a TPM just reset)
  async boot(firmware) {
    await this.tpm.tools('tpm2_pcrextend', firmware.map(([pcr, text]) => pcrExtendSpec(pcr, text)));
    const pcr = Array.from({ length: 10 }, () => Buffer.alloc(32));
    for (const [i, text] of firmware) pcr[i] = sha('sha256', Buffer.concat([pcr[i], sha('sha256', text)]));
    const agg = imaEntry('boot_aggregate', sha('sha256', Buffer.concat(pcr)));
    writeFileSync(this.log, agg.entry);
    await this.tpm.tools('tpm2_pcrextend', [agg.spec]);
    this.entries = 1;
  }

  // the kernel measures files: log entries, extend PCR 10 (in batches of 8)
  async measure(paths) {
    const es = paths.map((p, i) => imaEntry(p, sha('sha256', `contents of ${p} ${this.entries + i}`)));
    appendFileSync(this.log, Buffer.concat(es.map((e) => e.entry)));
    for (let i = 0; i < es.length; i += 8)
      await this.tpm.tools('tpm2_pcrextend', es.slice(i, i + 8).map((e) => e.spec));
    this.entries += paths.length;
  }
}
