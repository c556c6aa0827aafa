/**
 * A Redis for one test file: `LLMRR_TEST_REDIS_URL` when it is set, otherwise a redis-server started here with the
 * repository's `tools/services/redis.sh` on a free loopback port in its own temporary folder. `stop()` stops what was
 * started and removes its folder (nothing when the URL came from the environment); it never throws.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestRedis {
  url: string;
  stop(): void;
}

const services = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../tools/services');
const run = (args: string[]) =>
  execFileSync('bash', [join(services, 'redis.sh'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();

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

/** `own`: always a server of its own (a test that changes its configuration, e.g. `maxmemory`, never a shared one). */
export async function startTestRedis(options: { own?: boolean } = {}): Promise<TestRedis> {
  const fromEnv = process.env.LLMRR_TEST_REDIS_URL;
  if (fromEnv && !options.own) return { url: fromEnv, stop: () => undefined };
  const root = mkdtempSync(join(tmpdir(), 'llmrr-test-redis-'));
  chmodSync(root, 0o755);
  const dir = join(root, 'redis');
  const url = run(['start', String(await freePort()), dir]);
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
