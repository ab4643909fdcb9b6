// A TPM in software, for load and crash tests that need many quotes fast
// (swtpm makes a few dozen a second).  It holds an RSA-2048 EK and AK in
// node crypto, builds their TPM2B_PUBLIC as TPM 2.0 Part 2 lays them out,
// answers ProduceAikcert's credential like TPM2_ActivateCredential (Part 1
// 24.6: RSA-OAEP seed with label "IDENTITY", KDFa "STORAGE"/"INTEGRITY",
// AES-128-CFB), and signs TPMS_ATTEST quotes with RSASSA-SHA256.  The
// end-to-end test (vtpm_e2e.test.mjs) checks the service against the real
// tools; this one only has to agree with them.
import { createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, createSign,
  generateKeyPairSync, privateDecrypt, constants } from 'node:crypto';

const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
const tpm2b = (b) => Buffer.concat([u16(b.length), b]);
const sha1 = (b) => createHash('sha1').update(b).digest();
const sha256 = (b) => createHash('sha256').update(b).digest();

// The TCG EK Credential Profile's default EK policy (PolicySecret(TPM_RH_ENDORSEMENT)).
const EK_POLICY = Buffer.from('837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa', 'hex');
const ALG = { rsa: 0x0001, sha1: 0x0004, aes: 0x0006, sha256: 0x000b, null: 0x0010, rsassa: 0x0014, cfb: 0x0043 };

// An RSA-2048 key pair as KeyObjects of their own.  Node 20 can deadlock
// exporting a key that generateKeyPairSync returned as a KeyObject: the
// export holds the key's mutex while it allocates, and a garbage collection
// then may destroy the finished key-generation job, whose destructor takes
// the same mutex (seen as load.mjs hanging in KeyObjectHandle::ExportJWK
// under ~KeyGenJob).  Generated as PEM and imported, the keys share nothing
// with the job.
function rsaKeyPair() {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  return { publicKey: createPublicKey(pem.publicKey), privateKey: createPrivateKey(pem.privateKey) };
}

function modulus(publicKey) {
  return Buffer.from(publicKey.export({ format: 'jwk' }).n, 'base64url');
}

function rsaPublic(key, attributes, policy, symmetric, scheme) {
  return Buffer.concat([u16(ALG.rsa), u16(ALG.sha256), u32(attributes), tpm2b(policy), symmetric,
    scheme, u16(2048), u32(0), tpm2b(modulus(key))]);
}

// KDFa (Part 1, 11.4.10.2) with SHA-256.
function kdfa(key, label, contextU, contextV, bits) {
  const out = [];
  for (let i = 1, n = 0; n < bits / 8; i++, n += 32) {
    out.push(createHmac('sha256', key).update(Buffer.concat([u32(i), Buffer.from(`${label}\0`),
      contextU, contextV, u32(bits)])).digest());
  }
  return Buffer.concat(out).subarray(0, bits / 8);
}

export const QUOTE_BANKS = ['sha1', 'sha256'];
export const QUOTE_PCRS = 11;     // PCR 0..10 in each bank

export class SoftTpm {
  // `keysOf`: another SoftTpm whose EK and AK to share (load tests).
  constructor(keysOf) {
    this.ek = keysOf?.ek ?? rsaKeyPair();
    this.ak = keysOf?.ak ?? rsaKeyPair();
    // fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt
    this.ekPublicArea = rsaPublic(this.ek.publicKey, 0x000300b2, EK_POLICY,
      Buffer.concat([u16(ALG.aes), u16(128), u16(ALG.cfb)]), u16(ALG.null));
    // fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign
    this.akPublicArea = rsaPublic(this.ak.publicKey, 0x00050072, Buffer.alloc(0), u16(ALG.null),
      Buffer.concat([u16(ALG.rsassa), u16(ALG.sha256)]));
    this.akName = Buffer.concat([u16(ALG.sha256), sha256(this.akPublicArea)]);
    this.resetCount = 1;
    this.pcrs = {};
    for (const bank of QUOTE_BANKS) {
      this.pcrs[bank] = Array.from({ length: QUOTE_PCRS }, () => Buffer.alloc(bank === 'sha1' ? 20 : 32));
    }
  }

  get ekPub() { return tpm2b(this.ekPublicArea); }
  get akPub() { return tpm2b(this.akPublicArea); }

  extend(pcr, digests) {
    for (const bank of QUOTE_BANKS) {
      const h = bank === 'sha1' ? sha1 : sha256;
      this.pcrs[bank][pcr] = h(Buffer.concat([this.pcrs[bank][pcr], Buffer.from(digests[bank], 'hex')]));
    }
  }

  // TPM2_ActivateCredential of KeyCredentialBlob (TPM2B_ID_OBJECT || TPM2B_ENCRYPTED_SECRET).
  activate(keyBlob) {
    let off = 0;
    const take = () => { const n = keyBlob.readUInt16BE(off); const b = keyBlob.subarray(off + 2, off + 2 + n); off += 2 + n; return b; };
    const idObject = take();
    const encSecret = take();
    const seed = privateDecrypt({ key: this.ek.privateKey, oaepHash: 'sha256',
      padding: constants.RSA_PKCS1_OAEP_PADDING, oaepLabel: Buffer.from('IDENTITY\0') }, encSecret);
    const hmacLen = idObject.readUInt16BE(0);
    const integrity = idObject.subarray(2, 2 + hmacLen);
    const encIdentity = idObject.subarray(2 + hmacLen);
    const hmacKey = kdfa(seed, 'INTEGRITY', Buffer.alloc(0), Buffer.alloc(0), 256);
    const want = createHmac('sha256', hmacKey).update(Buffer.concat([encIdentity, this.akName])).digest();
    if (!want.equals(integrity)) throw new Error('credential integrity check failed');
    const symKey = kdfa(seed, 'STORAGE', this.akName, Buffer.alloc(0), 128);
    const d = createDecipheriv('aes-128-cfb', symKey, Buffer.alloc(16));
    const cv = Buffer.concat([d.update(encIdentity), d.final()]);
    return cv.subarray(2, 2 + cv.readUInt16BE(0));
  }

  // The AK certificate chain from DataCredentialBlob, with the activated secret.
  static decryptData(secret, dataBlob) {
    const n = dataBlob.readUInt32BE(0);
    const d = createDecipheriv('aes-128-cbc', secret, dataBlob.subarray(4, 20));
    return Buffer.concat([d.update(dataBlob.subarray(20, 20 + n)), d.final()]).toString('utf8');
  }

  // TPM2_Quote over sha1:0-10+sha256:0-10: {attest, signature, pcrs (FileData's shape)}.
  // unselected: {bank: [PCR, ...]} left out of the quote, but still in pcrs (a forgery).
  quote(nonce, { unselected = {} } = {}) {
    const mask = (bank) => (unselected[bank] || []).reduce((m, i) => m & ~(1 << i), 0x7ff);
    const sel = (bank) => Buffer.from([3, mask(bank) & 0xff, mask(bank) >> 8, 0x00]);
    const select = Buffer.concat([u32(2), u16(ALG.sha1), sel('sha1'), u16(ALG.sha256), sel('sha256')]);
    const quoted = (bank) => this.pcrs[bank].filter((_, i) => mask(bank) >> i & 1);
    const values = Buffer.concat([...quoted('sha1'), ...quoted('sha256')]);
    const attest = Buffer.concat([u32(0xff544347), u16(0x8018), tpm2b(this.akName), tpm2b(nonce),
      u64(Date.now()), u32(this.resetCount), u32(0), Buffer.from([1]), u64(0x2023),
      select, tpm2b(sha256(values))]);
    const sig = createSign('sha256').update(attest).sign(this.ak.privateKey);
    const signature = Buffer.concat([u16(ALG.rsassa), u16(ALG.sha256), tpm2b(sig)]);
    const pcrs = {};
    for (const bank of QUOTE_BANKS) {
      pcrs[bank] = {};
      this.pcrs[bank].forEach((v, i) => { pcrs[bank][String(i)] = v.toString('hex'); });
    }
    return { attest, signature, pcrs };
  }
}

// Binary IMA entries (ima-ng), and extend the soft TPM's PCR 10 by them.
export function imaEntries(tpm, first, n) {
  const le = (x) => { const b = Buffer.alloc(4); b.writeUInt32LE(x); return b; };
  const out = [];
  for (let i = 0; i < n; i++) {
    const dng = Buffer.concat([Buffer.from('sha256:\0'), sha256(Buffer.from(`file ${first + i}`))]);
    const nng = Buffer.from(`/usr/lib/bench/file-${first + i}\0`);
    const data = Buffer.concat([le(dng.length), dng, le(nng.length), nng]);
    const th = sha1(data);
    tpm.extend(10, { sha1: th.toString('hex'), sha256: sha256(data).toString('hex') });
    out.push(Buffer.concat([le(10), th, le(6), Buffer.from('ima-ng'), le(data.length), data]));
  }
  return Buffer.concat(out);
}

// FileData (docs/vtpm.md) of a quote, optional IMA log and AK certificate.
export function fileData(nonceHex, q, { imaStart, imaLog, akCert } = {}) {
  const doc = { version: 1, nonce: nonceHex, quote: q.attest.toString('base64'),
    signature: q.signature.toString('base64'), pcrs: q.pcrs };
  if (imaLog) doc.ima = { start: imaStart, log: imaLog.toString('base64') };
  if (akCert) doc.ak_cert = akCert;
  return Buffer.from(JSON.stringify(doc)).toString('base64');
}
