/**
 * A throwaway Redis or PostgreSQL for one test file, started with the repository's `tools/services/<name>.sh` on a
 * free loopback port in its own temporary folder (`test-redis.ts`, `test-postgres.ts`). `stop()` stops it and removes
 * its folder; it never throws.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestService {
  url: string;
  stop(): void;
}

const services = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../tools/services');

/** A loopback port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Starts `tools/services/<name>.sh` (its `start PORT DIR` prints the URL); `timeoutMs` bounds each script run. */
export async function startTestService(name: 'redis' | 'postgres', timeoutMs: number): Promise<TestService> {
  const run = (args: string[]) =>
    execFileSync('bash', [join(services, `${name}.sh`), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs }).trim();
  const root = mkdtempSync(join(tmpdir(), `llmrr-test-${name}-`));
  chmodSync(root, 0o755); // the postgres user must reach its data dir when we run as root
  const dir = join(root, name);
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
