// Firmware and kernel of a test machine around a software TPM (Swtpm of
// lib/swtpm.mjs), for vouch-agent's end-to-end test and bench: "firmware"
// extends PCRs 0-9 at each boot; the "kernel" keeps a binary ima-ng log,
// boot_aggregate first, and extends PCR 10 with each entry.  The agent
// reads the TPM through the swtpm TCTI, tpm2-tools play the platform.
import { createHash } from 'node:crypto';
import { writeFileSync, appendFileSync } from 'node:fs';
import { imaEntry } from './swtpm.mjs';

const sha = (alg, data) => createHash(alg).update(data).digest();

// The TCTI string of a started Swtpm.
export const tctiOf = (tpm) => `swtpm:host=127.0.0.1,port=${tpm.port}`;

// "PCR:sha1=H1(text),sha256=H256(text)" for tpm2_pcrextend.
export function pcrExtendSpec(pcr, text) {
  return `${pcr}:sha1=${sha('sha1', text).toString('hex')},sha256=${sha('sha256', text).toString('hex')}`;
}

export class Machine {
  constructor(tpm, logPath) {
    this.tpm = tpm;
    this.log = logPath;
    this.entries = 0;
  }

  // firmware: [[pcr, text], ...] extended in order on a TPM just powered on
  async boot(firmware) {
    this.tpm.tools(['tpm2_pcrextend', ...firmware.map(([pcr, text]) => pcrExtendSpec(pcr, text))]);
    const pcr = Array.from({ length: 10 }, () => Buffer.alloc(32));
    for (const [i, text] of firmware) pcr[i] = sha('sha256', Buffer.concat([pcr[i], sha('sha256', text)]));
    const agg = imaEntry('boot_aggregate', null, sha('sha256', Buffer.concat(pcr)));
    writeFileSync(this.log, agg.bytes);
    this.tpm.tools(['tpm2_pcrextend', `10:sha1=${agg.sha1},sha256=${agg.sha256}`]);
    this.entries = 1;
  }

  // the kernel measures files: log entries, extend PCR 10 (8 entries per tpm2_pcrextend)
  async measure(paths) {
    const es = paths.map((p, i) => imaEntry(p, `contents of ${p} ${this.entries + i}`));
    appendFileSync(this.log, Buffer.concat(es.map((e) => e.bytes)));
    for (let i = 0; i < es.length; i += 8)
      this.tpm.tools(['tpm2_pcrextend', ...es.slice(i, i + 8).map((e) => `10:sha1=${e.sha1},sha256=${e.sha256}`)]);
    this.entries += paths.length;
  }
}
