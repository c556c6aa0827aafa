/**
 * Starts a throwaway Redis and PostgreSQL for the shared-mode store tests (tools/services/*.sh), on
 * free loopback ports, and hands their URLs to the tests as LLMRR_TEST_REDIS_URL and
 * LLMRR_TEST_POSTGRES_URL (env, and vitest `provide`). URLs already set in the environment are used
 * as they are. When a server is not installed, its URL stays unset and those tests skip with a reason.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const servicesDir = resolve(here, '../../tools/services');

interface Provider {
  provide(key: string, value: unknown): void;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

function run(script: string, args: string[]): string {
  return execFileSync('bash', [join(servicesDir, script), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();
}

function available(script: string): boolean {
  try {
    run(script, ['available']);
    return true;
  } catch {
    return false;
  }
}

/** Test folders whose tests use the services: shared stores, the Redis cache stores, Redis circuit state. */
const SERVICE_TEST_DIRS = ['src/stores/', 'src/cache/', 'src/semantic-cache/', 'src/router/resilience/'];

/**
 * False when the command line names test filters and none of them can reach a test that uses the
 * services (`SERVICE_TEST_DIRS`, or a file named after stores, shared mode, Redis or a cache), so other
 * test runs do not pay for starting servers. Errs on the side of starting.
 */
export function runMayNeedServices(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith('-')) {
      if (!a.includes('=')) i++; // its value may follow; skipping a real filter only means we start the services
      continue;
    }
    if (!['run', 'watch', 'dev', 'related'].includes(a)) filters.push(a);
  }
  if (filters.length === 0) return true;
  return filters.some((f) => {
    if (/stores|shared|redis|cache|circuit/.test(f)) return true;
    // Vitest filters match anywhere in a test file's path; absolute ones are cut to their `src/...` part.
    const rel = f.replace(/\\/g, '/').replace(/^.*?(?=src\/)/, '').replace(/^\.\//, '');
    return SERVICE_TEST_DIRS.some((dir) => dir.includes(rel) || rel.startsWith(dir));
  });
}

export default async function setup(project?: Provider): Promise<() => void> {
  if (!runMayNeedServices(process.argv)) return () => undefined;
  const stops: Array<() => void> = [];
  let root: string | undefined;
  const tempRoot = () => {
    if (!root) {
      root = mkdtempSync(join(tmpdir(), 'llmrr-services-'));
      chmodSync(root, 0o755); // the postgres user must reach its data dir when we run as root
    }
    return root;
  };

  const start = async (envName: string, script: string, sub: string) => {
    if (process.env[envName]) return;
    if (process.env.LLMRR_TEST_SERVICES === 'off' || !available(script)) return;
    const dir = join(tempRoot(), sub);
    try {
      const url = run(script, ['start', String(await freePort()), dir]);
      stops.push(() => {
        try {
          run(script, ['stop', dir]);
        } catch {
          /* best effort */
        }
      });
      process.env[envName] = url;
    } catch (e) {
      const err = e as { stderr?: string; message?: string };
      console.warn(`[llmrr test services] could not start ${sub}: ${err.stderr || err.message}`);
    }
  };

  await start('LLMRR_TEST_REDIS_URL', 'redis.sh', 'redis');
  await start('LLMRR_TEST_POSTGRES_URL', 'postgres.sh', 'postgres');
  project?.provide('LLMRR_TEST_REDIS_URL', process.env.LLMRR_TEST_REDIS_URL ?? '');
  project?.provide('LLMRR_TEST_POSTGRES_URL', process.env.LLMRR_TEST_POSTGRES_URL ?? '');

  return () => {
    for (const stop of stops.reverse()) stop();
    if (root) rmSync(root, { recursive: true, force: true });
  };
}
