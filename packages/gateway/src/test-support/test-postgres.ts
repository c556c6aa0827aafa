/**
 * A PostgreSQL for one test file: `LLMRR_TEST_POSTGRES_URL` when it is set, otherwise a server started here with the
 * repository's `tools/services/postgres.sh` on a free loopback port in its own temporary folder (as `test-redis.ts`
 * does for Redis). `stop()` stops what was started and removes its folder (nothing when the URL came from the
 * environment); it never throws. Give each user its own `postgresSchema` (a shared server holds other tests' tables).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestPostgres {
  url: string;
  stop(): void;
}

const services = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../tools/services');
const run = (args: string[]) =>
  execFileSync('bash', [join(services, 'postgres.sh'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 }).trim();

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const fromEnv = process.env.LLMRR_TEST_POSTGRES_URL;
  if (fromEnv) return { url: fromEnv, stop: () => undefined };
  const root = mkdtempSync(join(tmpdir(), 'llmrr-test-postgres-'));
  chmodSync(root, 0o755); // the postgres user must reach its data dir when we run as root
  const dir = join(root, 'postgres');
  let url: string;
  try {
    url = run(['start', String(await freePort()), dir]);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    url,
    stop() {
      try {
        run(['stop', dir]);
      } catch {
        /* best effort: the server may be gone already */
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
