// A software TPM (swtpm) on 127.0.0.1 driven by tpm2-tools, for the vTPM
// end-to-end tests: the attester side is the real tools, not our agent.
// The EK certificate comes from a local CA of the test's own (no write
// access to /var/lib/swtpm-localca needed).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const EK_HANDLE = '0x81010101';
export const AK_HANDLE = '0x81010103';
export const QUOTE_SELECTION = 'sha1:0,1,2,3,4,5,6,7,8,9,10+sha256:0,1,2,3,4,5,6,7,8,9,10';

// Whether swtpm and tpm2-tools are installed.  With VOUCH_TEST_REQUIRE_TOOLS
// set (make test sets it, having installed them) a missing one throws, so the
// test file fails instead of passing with its cases skipped.
export function haveSwtpm() {
  for (const p of ['swtpm', 'swtpm_setup', 'swtpm_localca', 'tpm2_quote', 'tpm2_activatecredential']) {
    try { execFileSync('sh', ['-c', `command -v ${p}`], { stdio: 'ignore' }); } catch {
      if (process.env.VOUCH_TEST_REQUIRE_TOOLS) {
        throw new Error(`${p} not found, and VOUCH_TEST_REQUIRE_TOOLS is set (scripts/bootstrap installs it)`);
      }
      return false;
    }
  }
  return true;
}

async function tryListen(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.on('error', () => resolve(0));
    s.listen(port, '127.0.0.1', () => { const got = s.address().port; s.close(() => resolve(got)); });
  });
}

// A free port whose successor is free too (the swtpm TCTI's control port is PORT+1).
async function freePortPair() {
  for (;;) {
    const p = await tryListen(0);
    if (p && p < 65535 && await tryListen(p + 1)) return p;
  }
}

export class Swtpm {
  constructor(dir) { this.dir = dir; this.proc = null; }

  tools(args, opts = {}) {
    return execFileSync(args[0], args.slice(1), { cwd: this.dir, encoding: opts.encoding ?? 'utf8',
      env: { ...process.env, TPM2TOOLS_TCTI: `swtpm:host=127.0.0.1,port=${this.port}` },
      stdio: ['ignore', 'pipe', 'pipe'] });
  }

  // Manufacture the TPM (EK certificate from our CA, sha1 and sha256 banks).
  async manufacture() {
    const ca = join(this.dir, 'localca');
    mkdirSync(ca, { recursive: true });
    mkdirSync(join(this.dir, 'state'), { recursive: true });
    writeFileSync(join(this.dir, 'localca.conf'), `statedir = ${ca}\nsigningkey = ${ca}/signkey.pem\n` +
      `issuercert = ${ca}/issuercert.pem\ncertserial = ${ca}/certserial\n`);
    writeFileSync(join(this.dir, 'localca.options'), '--platform-manufacturer Vouch\n');
    writeFileSync(join(this.dir, 'setup.conf'), `create_certs_tool = swtpm_localca\n` +
      `create_certs_tool_config = ${this.dir}/localca.conf\n` +
      `create_certs_tool_options = ${this.dir}/localca.options\n`);
    execFileSync('swtpm_setup', ['--tpm2', '--tpmstate', join(this.dir, 'state'), '--config',
      join(this.dir, 'setup.conf'), '--create-ek-cert', '--pcr-banks', 'sha1,sha256', '--overwrite'],
    { stdio: 'ignore' });
    // The roots an EK certificate chains to: the local CA's root and issuer.
    this.ekRoots = join(this.dir, 'ek-roots.pem');
    writeFileSync(this.ekRoots, readFileSync(join(ca, 'swtpm-localca-rootca-cert.pem'), 'utf8') +
      readFileSync(join(ca, 'issuercert.pem'), 'utf8'));
  }

  // Power on (TPM2_Startup(CLEAR): a reboot, resetCount moves, PCRs restart).
  async start() {
    this.port = await freePortPair();
    this.ctrl = this.port + 1;
    this.proc = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${join(this.dir, 'state')}`,
      '--server', `type=tcp,port=${this.port},bindaddr=127.0.0.1`,
      '--ctrl', `type=tcp,port=${this.ctrl},bindaddr=127.0.0.1`,
      '--flags', 'not-need-init,startup-clear'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try { this.tools(['tpm2_getcap', 'properties-fixed']); return; } catch { await new Promise((r) => setTimeout(r, 50)); }
    }
    throw new Error('swtpm did not start');
  }

  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    const exited = new Promise((r) => p.on('exit', r));
    p.kill('SIGTERM');
    await exited;
  }

  // EK (RSA) at EK_HANDLE and an RSA-2048 RSASSA AK at AK_HANDLE, both persistent.
  createKeys() {
    this.tools(['tpm2_createek', '-c', EK_HANDLE, '-G', 'rsa', '-u', 'ek.pub', '-f', 'tss']);
    this.tools(['tpm2_flushcontext', '-t']);
    this.tools(['tpm2_nvread', '0x01c00002', '-o', 'ek_cert.der']);
    this.tools(['tpm2_createak', '-C', EK_HANDLE, '-c', 'ak.ctx', '-G', 'rsa', '-g', 'sha256', '-s',
      'rsassa', '-u', 'ak.pub', '-f', 'tss', '-n', 'ak.name']);
    this.tools(['tpm2_flushcontext', '-t']);
    this.tools(['tpm2_evictcontrol', '-C', 'o', '-c', 'ak.ctx', AK_HANDLE]);
    this.tools(['tpm2_flushcontext', '-t']);
    return {
      ekPub: readFileSync(join(this.dir, 'ek.pub')),
      ekCert: readFileSync(join(this.dir, 'ek_cert.der')),
      akPub: readFileSync(join(this.dir, 'ak.pub')),
      akName: readFileSync(join(this.dir, 'ak.name')),
    };
  }

  // TPM2_ActivateCredential of a tpm2_makecredential-format file; the secret.
  activate(credFile) {
    const out = join(this.dir, 'secret.bin');
    this.tools(['tpm2_startauthsession', '--policy-session', '-S', 'session.ctx']);
    this.tools(['tpm2_policysecret', '-S', 'session.ctx', '-c', 'e']);
    this.tools(['tpm2_activatecredential', '-c', AK_HANDLE, '-C', EK_HANDLE, '-i', credFile, '-o',
      out, '-P', 'session:session.ctx']);
    this.tools(['tpm2_flushcontext', 'session.ctx']);
    this.tools(['tpm2_flushcontext', '-t']);
    return readFileSync(out);
  }

  extend(pcr, sha1hex, sha256hex) {
    this.tools(['tpm2_pcrextend', `${pcr}:sha1=${sha1hex},sha256=${sha256hex}`]);
  }

  // PCR values {sha1: {"0": hex}, sha256: {...}} from tpm2-tools' YAML.
  static parsePcrs(yaml) {
    const out = {};
    let bank = null;
    for (const line of yaml.split('\n')) {
      const b = /^\s+(sha1|sha256):\s*$/.exec(line);
      if (b) { bank = b[1]; out[bank] = {}; continue; }
      const v = /^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)/.exec(line);
      if (v && bank) out[bank][String(Number(v[1]))] = v[2].toLowerCase();
    }
    return out;
  }

  pcrread(sel = QUOTE_SELECTION) {
    return Swtpm.parsePcrs(this.tools(['tpm2_pcrread', sel]));
  }

  // TPM2_Quote over QUOTE_SELECTION with the nonce (hex).
  quote(nonceHex) {
    const yaml = this.tools(['tpm2_quote', '-c', AK_HANDLE, '-l', QUOTE_SELECTION, '-q', nonceHex,
      '-m', 'q.msg', '-s', 'q.sig', '-o', 'q.pcrs', '-g', 'sha256']);
    this.tools(['tpm2_flushcontext', '-t']);
    return { msg: readFileSync(join(this.dir, 'q.msg')), sig: readFileSync(join(this.dir, 'q.sig')),
      pcrs: Swtpm.parsePcrs(yaml) };
  }
}

// One binary IMA entry, template ima-ng (kernel layout, little-endian),
// and the values it extends PCR 10 by in the sha1 and sha256 banks.  The
// file digest is SHA-256(content), or `digest` itself when given (the
// boot_aggregate entry).
export function imaEntry(path, content, digest = null) {
  const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  const fileDigest = digest ?? createHash('sha256').update(content).digest();
  const dng = Buffer.concat([Buffer.from('sha256:\0'), fileDigest]);
  const nng = Buffer.from(`${path}\0`);
  const data = Buffer.concat([u32(dng.length), dng, u32(nng.length), nng]);
  const sha1 = createHash('sha1').update(data).digest();
  const sha256 = createHash('sha256').update(data).digest();
  const name = Buffer.from('ima-ng');
  const bytes = Buffer.concat([u32(10), sha1, u32(name.length), name, u32(data.length), data]);
  return { bytes, sha1: sha1.toString('hex'), sha256: sha256.toString('hex') };
}

export { existsSync };
