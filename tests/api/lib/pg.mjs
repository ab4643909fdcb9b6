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
