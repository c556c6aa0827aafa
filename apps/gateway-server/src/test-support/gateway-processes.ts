/**
 * Two gateway server processes (src/main.ts, LLMRR_STATE=shared) on one real Redis and one real PostgreSQL,
 * for the shared-mode tests: the services' URLs (from vitest.global-setup.ts), starting and stopping a
 * process, and dropping what a run left in the services. Test-only (left out of the build).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, inject } from 'vitest';

const src = dirname(dirname(fileURLToPath(import.meta.url)));

export interface SharedServices {
  redisUrl: string | undefined;
  postgresUrl: string | undefined;
  /** Why the test is skipped (Redis or PostgreSQL missing), or undefined when both are there. */
  skip: string | undefined;
}

function serviceUrl(name: 'LLMRR_TEST_REDIS_URL' | 'LLMRR_TEST_POSTGRES_URL'): string | undefined {
  if (process.env[name]) return process.env[name];
  try {
    return ((inject as (key: string) => unknown)(name) as string | undefined) || undefined;
  } catch {
    return undefined;
  }
}

/** The Redis and PostgreSQL the global setup started; warns with the reason when `test` must be skipped. */
export function sharedServices(test: string): SharedServices {
  const redisUrl = serviceUrl('LLMRR_TEST_REDIS_URL');
  const postgresUrl = serviceUrl('LLMRR_TEST_POSTGRES_URL');
  const missing = [!redisUrl && 'Redis (redis-server)', !postgresUrl && 'PostgreSQL'].filter(Boolean).join(' and ');
  const skip = missing ? `${test} skipped: ${missing} not installed or not started (see tools/services)` : undefined;
  if (skip) console.warn(skip);
  return { redisUrl, postgresUrl, skip };
}

export interface SharedRun {
  /** The PostgreSQL schema and Redis key prefix this run's processes use (and dropSharedState drops). */
  schema: string;
  prefix: string;
  adminKey: string;
}

/**
 * A temporary directory (named from `prefix`) holding `config` as llmrr.config.json, and the environment that
 * starts a gateway process on it (port 0, its data directory inside, no demo tenant) with `state` and `adminKey`.
 */
export function gatewaySetup(config: unknown, state: 'embedded' | 'shared', adminKey: string, prefix = 'llmrr-gateway-'): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify(config));
  const env = {
    PORT: '0',
    INIT_CWD: dir,
    LLMRR_CONFIG: join(dir, 'llmrr.config.json'),
    LLMRR_DATA_DIR: join(dir, 'data'),
    LLMRR_STATE: state,
    LLMRR_ADMIN_KEY: adminKey,
    LLMRR_DEMO: 'false',
  };
  return { dir, env };
}

/**
 * A temporary directory holding `config` as llmrr.config.json, and the environment that starts a gateway
 * process on it in shared mode (port 0, no demo tenant) on `services` with `run`'s schema, prefix and admin key.
 */
export function sharedModeSetup(config: unknown, services: SharedServices, run: SharedRun): { dir: string; env: Record<string, string> } {
  const { dir, env: base } = gatewaySetup(config, 'shared', run.adminKey, 'llmrr-shared-');
  const env = {
    ...base,
    LLMRR_REDIS_URL: services.redisUrl!,
    LLMRR_POSTGRES_URL: services.postgresUrl!,
    LLMRR_REDIS_PREFIX: run.prefix,
    LLMRR_POSTGRES_SCHEMA: run.schema,
  };
  return { dir, env };
}

/** Two gateway processes, A and B, on `config` in shared mode (sharedModeSetup), and their directory. */
export async function startSharedPair(config: unknown, services: SharedServices, run: SharedRun): Promise<{ dir: string; a: Gateway; b: Gateway }> {
  const setup = sharedModeSetup(config, services, run);
  const [a, b] = await Promise.all([startGateway('A', setup.env), startGateway('B', setup.env)]);
  return { dir: setup.dir, a, b };
}

/** Stops A and B (startSharedPair's), then drops the run's state and directory (dropSharedState). */
export async function stopSharedPair(test: string, services: SharedServices, run: SharedRun, pair: { dir?: string; a?: Gateway; b?: Gateway }): Promise<void> {
  await Promise.all([stopGateway(pair.a), stopGateway(pair.b)]);
  dropSharedState(test, services, run, pair.dir);
}

/** A request to `g` with a JSON body (when `body` is given) and `headers`. */
export function gatewayRequest(g: Gateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${g.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}

/** An admin API call on `g` with `adminKey`; expects `status` (the answer in the message) and returns the parsed body. */
export async function adminCall<T = Record<string, unknown>>(g: Gateway, adminKey: string, method: string, path: string, body: unknown, status: number): Promise<T> {
  const res = await gatewayRequest(g, method, path, body, { authorization: `Bearer ${adminKey}` });
  const text = await res.text();
  expect(res.status, `${g.name} ${method} ${path}: ${text}`).toBe(status);
  return JSON.parse(text) as T;
}

export interface Gateway {
  name: string;
  url: string;
  child: ChildProcess;
  output: () => string;
}

/**
 * Starts src/main.ts with tsx (as a loader, so the pid is the server itself) and waits for its URL; `spawned` gets the
 * process and its output so far at once (to signal it during startup).
 */
export function startGateway(name: string, env: Record<string, string>, timeoutMs = 90_000, spawned?: (child: ChildProcess, output: () => string) => void): Promise<Gateway> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', tsx, join(src, 'main.ts')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  spawned?.(child, () => out);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      // The last line of the start banner: everything before it (state, cache) is printed by then.
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m || !out.includes('  try: curl')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({ name, url: m[1]!, child, output: () => out });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${out}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 15 s; resolves when the process has exited. */
export async function stopGateway(g: Gateway | undefined): Promise<void> {
  if (!g || g.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => g.child.once('exit', () => resolve()));
  g.child.kill('SIGTERM');
  const timer = setTimeout(() => g.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Drops the PostgreSQL schema and the Redis keys under the prefix `run` created, in a plain Node child
 * (synchronous: an `afterAll` need not await it), warning, naming `test`, when that fails; then
 * removes `dir` (sharedModeSetup's).
 */
export function dropSharedState(test: string, services: SharedServices, run: SharedRun, dir: string | undefined): void {
  const { schema, prefix } = run;
  const cleanup = `
      const pg = require('pg');
      const { createClient } = require('redis');
      (async () => {
        const c = new pg.Client({ connectionString: process.env.PG_URL });
        await c.connect();
        await c.query('DROP SCHEMA IF EXISTS ${schema} CASCADE');
        await c.end();
        const r = createClient({ url: process.env.REDIS_URL });
        await r.connect();
        for await (const keys of r.scanIterator({ MATCH: '${prefix}*', COUNT: 500 })) if (keys.length) await r.unlink(keys);
        await r.close();
      })().catch((e) => { console.error(e); process.exit(1); });`;
  const env = { ...process.env, NODE_OPTIONS: '', PG_URL: services.postgresUrl, REDIS_URL: services.redisUrl };
  const done = spawnSync(process.execPath, ['-e', cleanup], { cwd: dirname(src), env, encoding: 'utf8', timeout: 30_000 });
  if (done.status !== 0) console.warn(`${test} cleanup failed: ${done.stderr}`);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs `sql` in `run`'s PostgreSQL schema (its search path), in a plain Node child as `dropSharedState` does; throws
 * with pg's message when it fails. For a test that changes rows behind the gateways' backs (a restored row).
 */
export function sharedSql(services: SharedServices, run: SharedRun, sql: string): void {
  const script = `
      const pg = require('pg');
      (async () => {
        const c = new pg.Client({ connectionString: process.env.PG_URL });
        await c.connect();
        try {
          await c.query('SET search_path TO ' + process.env.PG_SCHEMA);
          await c.query(process.env.PG_SQL);
        } finally {
          await c.end();
        }
      })().catch((e) => { console.error(e); process.exit(1); });`;
  const env = { ...process.env, NODE_OPTIONS: '', PG_URL: services.postgresUrl, PG_SCHEMA: run.schema, PG_SQL: sql };
  const done = spawnSync(process.execPath, ['-e', script], { cwd: dirname(src), env, encoding: 'utf8', timeout: 30_000 });
  if (done.status !== 0) throw new Error(`SQL failed: ${done.stderr}`);
}
