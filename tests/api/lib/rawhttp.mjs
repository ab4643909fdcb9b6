// A small HTTP/1.1 client over node:net that sends request bytes exactly as
// given (NUL bytes in headers, raw %-escapes, any method), keeps connections
// alive, and parses the answer (status, headers, Content-Length body).
import net from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

// Build request bytes.  `headers` is a list of [name, value] (value: string or Buffer).
export function buildRequest({ method = 'GET', target = '/', headers = [], body = null }) {
  const parts = [Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n`, 'latin1')];
  const b = body == null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body);
  for (const [n, v] of headers) {
    parts.push(Buffer.from(`${n}: `, 'latin1'), Buffer.isBuffer(v) ? v : Buffer.from(v, 'latin1'),
      Buffer.from('\r\n'));
  }
  if (b) parts.push(Buffer.from(`Content-Length: ${b.length}\r\n`));
  parts.push(Buffer.from('\r\n'));
  if (b) parts.push(b);
  return Buffer.concat(parts);
}

// One keep-alive connection; send() resolves to { status, headers, text, body }.
export class RawConnection {
  constructor(port) {
    this.port = port;
    this.sock = null;
    this.buf = Buffer.alloc(0);
    this.waiter = null;
  }

  async open() {
    this.buf = Buffer.alloc(0);
    this.sock = net.connect({ port: this.port, host: '127.0.0.1', noDelay: true });
    this.closed = false;
    this.sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.poke(); });
    this.sock.on('close', () => { this.closed = true; this.poke(); });
    this.sock.on('error', () => { this.closed = true; this.poke(); });
    await new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    });
  }

  poke() {
    if (this.waiter) this.waiter();
  }

  close() {
    if (this.sock) this.sock.destroy();
    this.sock = null;
  }

  // Parse one response from the buffer, or null when more bytes are needed.
  take(isHead) {
    const end = this.buf.indexOf(HEAD_END);
    if (end < 0) return null;
    const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
    const headers = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const status = Number(m[1]);
    // vouchd always sends Content-Length (its bodies are buffers)
    const len = isHead || status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? 0);
    if (this.buf.length < end + 4 + len) return null;
    const text = this.buf.subarray(end + 4, end + 4 + len).toString('utf8');
    this.buf = this.buf.subarray(end + 4 + len);
    let body = null;
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    return { status, headers, text, body };
  }

  // Send and read the answer.  A kept-alive connection the server closed
  // just before the write is retried once on a new one, as HTTP clients do.
  async send(bytes, opts = {}) {
    const reused = this.sock && !this.closed;
    try {
      return await this.sendOnce(bytes, opts);
    } catch (e) {
      if (!reused || !/closed without an answer/.test(e.message)) throw e;
      this.close();
      return this.sendOnce(bytes, opts);
    }
  }

  async sendOnce(bytes, { isHead = false, timeoutMs = 15000 } = {}) {
    if (!this.sock || this.closed) await this.open();
    this.sock.write(bytes);
    const res = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = null; reject(new Error('response timeout')); }, timeoutMs);
      const check = () => {
        let r;
        try { r = this.take(isHead); } catch (e) { clearTimeout(timer); this.waiter = null; reject(e); return; }
        if (r) { clearTimeout(timer); this.waiter = null; resolve(r); return; }
        if (this.closed) { clearTimeout(timer); this.waiter = null; reject(new Error('connection closed without an answer')); }
      };
      this.waiter = check;
      check();
    });
    if ((res.headers.connection ?? '').toLowerCase() === 'close') this.close();
    return res;
  }
}

// Send one request on a fresh connection.
export async function rawRequest(port, req) {
  const c = new RawConnection(port);
  try {
    return await c.send(buildRequest(req), { isHead: req.method === 'HEAD' });
  } finally {
    c.close();
  }
}
