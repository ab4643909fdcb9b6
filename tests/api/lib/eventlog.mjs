// A TCG crypto-agile event log (binary_bios_measurements, TCG PC Client PFP
// 10.2) made in the test: a Spec ID Event03 naming sha1 and sha256, then
// TCG_PCR_EVENT2 records with both digests.  Each event's digests are what
// the test extends into its TPM's PCR, so the log replays to the quote.
// Event data helpers build a UEFI_VARIABLE_DATA and a UEFI_IMAGE_LOAD_EVENT
// with a file-path device path (UEFI 2.10, 10.3.4.4).
import { createHash } from 'node:crypto';

export const EV = { NO_ACTION: 0x3, SEPARATOR: 0x4, IPL: 0xd, EFI_VARIABLE_DRIVER_CONFIG: 0x80000001,
  EFI_BOOT_SERVICES_APPLICATION: 0x80000003, EFI_ACTION: 0x80000007 };
const ALG_SHA1 = 0x0004;
const ALG_SHA256 = 0x000b;
// EFI_GLOBAL_VARIABLE, as the bytes of an EFI_GUID (mixed-endian)
export const EFI_GLOBAL_VARIABLE = Buffer.from('61dfe48bca93d211aa0d00e098032b8c', 'hex');

const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const utf16 = (s) => Buffer.from(s, 'utf16le');
const hash = (alg, data) => createHash(alg).update(data).digest();

// UEFI_VARIABLE_DATA of variable `name` with `data`.
export function variableData(name, data, guid = EFI_GLOBAL_VARIABLE) {
  return Buffer.concat([guid, u64(name.length), u64(data.length), utf16(name), data]);
}

// UEFI_IMAGE_LOAD_EVENT of an image at `path` (\EFI\...): one file-path node, then the end node.
export function imageLoadData(path) {
  const file = Buffer.concat([utf16(path), Buffer.alloc(2)]);
  const dp = Buffer.concat([Buffer.from([4, 4]), u16(4 + file.length), file, Buffer.from([0x7f, 0xff, 4, 0])]);
  return Buffer.concat([u64(0x7e000000), u64(0x1a000), u64(0), u64(dp.length), dp]);
}

function specIdEvent() {
  const body = Buffer.concat([Buffer.from('Spec ID Event03\0'), u32(0), Buffer.from([0, 2, 0, 2]),
    u32(2), u16(ALG_SHA1), u16(20), u16(ALG_SHA256), u16(32), Buffer.from([0])]);
  return Buffer.concat([u32(0), u32(EV.NO_ACTION), Buffer.alloc(20), u32(body.length), body]);
}

// An event: {pcr, type, data, measured?}; the digests are of `measured` (default: data).
export function eventDigests(ev) {
  const m = ev.measured ?? ev.data;
  return { sha1: hash('sha1', m).toString('hex'), sha256: hash('sha256', m).toString('hex') };
}

// The binary log of `events`, in order.
export function eventLog(events) {
  return Buffer.concat([specIdEvent(), ...events.map((ev) => {
    const d = eventDigests(ev);
    return Buffer.concat([u32(ev.pcr), u32(ev.type), u32(2), u16(ALG_SHA1), Buffer.from(d.sha1, 'hex'),
      u16(ALG_SHA256), Buffer.from(d.sha256, 'hex'), u32(ev.data.length), ev.data]);
  })]);
}
