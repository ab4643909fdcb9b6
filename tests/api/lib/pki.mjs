// A throwaway PKI for the TLS tests, made with the openssl command: a CA
// and server certificates it signs for 127.0.0.1, written into `dir`.
import https from 'node:https';
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function makeCa(dir, name = 'Vouch Test CA') {
  const ca = { key: join(dir, 'ca.key'), cert: join(dir, 'ca.pem'), dir };
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', ca.key, '-out', ca.cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  ca.pem = readFileSync(ca.cert);
  return ca;
}

// A server certificate for 127.0.0.1 and localhost, with a fresh key of
// type `kind` ('ec' or 'rsa'); files <name>.pem and <name>.key (mode 0600).
export async function issueServerCert(ca, name, { cn = name, kind = 'ec', days = 1 } = {}) {
  const key = join(ca.dir, `${name}.key`), cert = join(ca.dir, `${name}.pem`);
  const csr = join(ca.dir, `${name}.csr`), ext = join(ca.dir, `${name}.ext`);
  const keyArgs = kind === 'rsa' ? ['-newkey', 'rsa:2048']
    : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  await run('openssl', ['req', ...keyArgs, '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' +
    'extendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key,
    '-CAcreateserial', '-out', cert, '-days', String(days), '-extfile', ext]);
  chmodSync(key, 0o600);
  return { key, cert, cn };
}

// The SHA-1 thumbprint AWS IAM asks for, of a PEM certificate (40 hex digits).
export async function sha1Thumbprint(certFile) {
  const { stdout } = await run('openssl', ['x509', '-in', certFile, '-fingerprint', '-sha1', '-noout']);
  return stdout.trim().split('=')[1].replaceAll(':', '').toLowerCase();
}

// A fetch for openid-client's customFetch that trusts `ca` (a PEM buffer),
// through node's https: the fetch built into node cannot be given a CA.
export function fetchTrusting(ca) {
  return (url, options) => new Promise((resolve, reject) => {
    const req = https.request(url, { method: options.method, headers: options.headers, ca }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks),
        { status: res.statusCode, headers: res.headers })));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
