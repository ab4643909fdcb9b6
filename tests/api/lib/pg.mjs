// Stop and start the throwaway PostgreSQL server of tests/pg/with-postgres.sh
// (VOUCH_TEST_PG_DIR, VOUCH_TEST_PG_BIN, VOUCH_TEST_PG_BASE), as the
// `postgres` user when we are root, like the script does.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';

const execFileP = promisify(execFile);

export const PG_DIR = process.env.VOUCH_TEST_PG_DIR;
const PG_BIN = process.env.VOUCH_TEST_PG_BIN;

function pgCtl(args) {
  const cmd = join(PG_BIN, 'pg_ctl');
  const argv = ['-D', join(PG_DIR, 'data'), ...args];
  return process.getuid() === 0
    ? execFileP('runuser', ['-u', 'postgres', '--', cmd, ...argv])
    : execFileP(cmd, argv);
}

// Fast shutdown: connected clients are disconnected, new ones refused.
export async function stopPostgres() {
  await pgCtl(['-m', 'fast', '-w', '-t', '60', 'stop']);
}

export async function startPostgres() {
  const port = new URL(process.env.VOUCH_TEST_PG_BASE).port;
  await pgCtl(['-l', join(PG_DIR, 'server.log'), '-w', '-t', '60', '-o',
    `-h 127.0.0.1 -p ${port} -k ${PG_DIR} -c max_connections=200`, 'start']);
}

// A TCP proxy to the cluster that can stop forwarding while keeping every
// connection open: a database server that hangs, or a stuck proxy.
export async function freezableProxy() {
  const { createServer, connect } = await import('node:net');
  const target = Number(new URL(process.env.VOUCH_TEST_PG_BASE).port);
  const pairs = new Set();
  let frozen = false;
  const link = ([a, b]) => { a.pipe(b); b.pipe(a); };
  const unlink = ([a, b]) => { a.unpipe(b); b.unpipe(a); a.pause(); b.pause(); };
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    const pair = [client, upstream];
    pairs.add(pair);
    if (frozen) pair.forEach((s) => s.pause());
    else link(pair);
    const drop = () => { pair.forEach((s) => s.destroy()); pairs.delete(pair); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    freeze() { frozen = true; for (const p of pairs) unlink(p); },
    thaw() { frozen = false; for (const p of pairs) link(p); },
    close() { for (const p of pairs) p.forEach((s) => s.destroy()); return new Promise((r) => server.close(r)); },
  };
}
