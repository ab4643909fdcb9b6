// SPDX-License-Identifier: Apache-2.0
// Alibaba Cloud RPC signature version 1 (HMAC-SHA1), computed in the browser
// with WebCrypto.  docs/vtpm.md describes the scheme; docs/console.md how the
// console uses it.  The secret never leaves this tab.

// Alibaba's percent-encoding: keep A-Z a-z 0-9 - _ . ~, the rest %XX
// (upper-case hex) of the UTF-8 bytes; a space is %20, never '+'.
export function percentEncode(s) {
  return encodeURIComponent(String(s)).replace(/[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// The canonicalized query: names sorted, enc(name)=enc(value) joined by '&'.
export function canonicalQuery(params) {
  return Object.keys(params).sort()
    .map((k) => percentEncode(k) + '=' + percentEncode(params[k])).join('&');
}

export function stringToSign(method, params) {
  return method.toUpperCase() + '&' + percentEncode('/') + '&' +
    percentEncode(canonicalQuery(params));
}

function base64(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

// Base64(HMAC-SHA1(secret + "&", StringToSign)).
export async function signV1(secret, method, params) {
  if (!globalThis.crypto || !crypto.subtle)
    throw new Error('this page is not a secure context (use HTTPS or 127.0.0.1): ' +
                    'the browser offers no WebCrypto to sign with');
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret + '&'),
    { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  return base64(await crypto.subtle.sign('HMAC', key, enc.encode(stringToSign(method, params))));
}

function nonce() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// The form body of a signed POST: the action's parameters, the common ones
// and Signature, as @alicloud/pop-core sends them.
export async function signedBody(keyId, secret, action, version, params) {
  const all = {
    ...params,
    Action: action, Version: version, Format: 'JSON', AccessKeyId: keyId,
    SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: nonce(),
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const sig = await signV1(secret, 'POST', all);
  return canonicalQuery(all) + '&Signature=' + percentEncode(sig);
}
