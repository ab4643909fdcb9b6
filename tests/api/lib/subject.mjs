// docs/oidc.md's `sub` rule, written apart from Vouch's C code, for the
// tests to compute the subject a token must carry: "<tee>:" and the hex
// SHA-256 of the RFC 8785 canonical JSON of {claim path: value}.
import { createHash } from 'node:crypto';

// RFC 8785: members sorted by UTF-16 code units (JS's default sort), no
// blanks, strings and numbers as ECMAScript's JSON.stringify writes them.
export function jcs(v) {
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

const at = (claims, path) => path.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), claims);

export const SUBJECT_CLAIMS = {
  tdx: ['quote.body.mr_td', 'quote.body.rtmr_0', 'quote.body.rtmr_1', 'quote.body.rtmr_2', 'quote.body.rtmr_3'],
  sgx: ['body.mr_enclave'],
  snp: ['measurement'],
  nvgpu: ['measurements'],
};

// The subject of a device of `tee` whose claims (without the "<tee>." prefix) are `claims`.
export function subjectOf(tee, claims) {
  const picked = Object.fromEntries(SUBJECT_CLAIMS[tee].map((p) => [p, at(claims, p) ?? null]));
  return `${tee}:${createHash('sha256').update(jcs(picked)).digest('hex')}`;
}
