/**
 * Prompt-cache affinity in shared mode, end to end: TWO gateway server processes (src/main.ts,
 * LLMRR_STATE=shared) on one real Redis and one real PostgreSQL (vitest.global-setup.ts), in front of
 * two Anthropic wire servers that are two deployments of one model under round-robin. A marked
 * conversation whose turns alternate between the two processes stays on the deployment of its first
 * turn, because both processes remember it in Redis. Skipped, with the reason, when redis-server or
 * PostgreSQL is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const ADMIN = 'shared-affinity-admin-key-0123456789';

function serviceUrl(name: 'LLMRR_TEST_REDIS_URL' | 'LLMRR_TEST_POSTGRES_URL'): string | undefined {
  if (process.env[name]) return process.env[name];
  try {
    return ((inject as (key: string) => unknown)(name) as string | undefined) || undefined;
  } catch {
    return undefined;
  }
}
const redisUrl = serviceUrl('LLMRR_TEST_REDIS_URL');
const postgresUrl = serviceUrl('LLMRR_TEST_POSTGRES_URL');
const missing = [!redisUrl && 'Redis (redis-server)', !postgresUrl && 'PostgreSQL'].filter(Boolean).join(' and ');
const skip = missing ? `two-process prompt-cache affinity test skipped: ${missing} not installed or not started (see tools/services)` : undefined;
if (skip) console.warn(skip);

interface Gateway {
  name: string;
  url: string;
  child: ChildProcess;
  output: () => string;
}

/** Starts src/main.ts with tsx (as a loader, so the pid is the server itself) and waits for its URL. */
function startGateway(name: string, env: Record<string, string>, timeoutMs = 90_000): Promise<Gateway> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', tsx, join(here, 'main.ts')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
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

async function stopGateway(g: Gateway | undefined): Promise<void> {
  if (!g || g.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => g.child.once('exit', () => resolve()));
  g.child.kill('SIGTERM');
  const timer = setTimeout(() => g.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: prompt-cache affinity across two gateway processes', () => {
  const id = randomBytes(5).toString('hex');
  const prefix = `gwa${id}:`;
  const schema = `gwa_${id}`;
  let dir: string;
  let wireA: AnthropicWireServer | undefined;
  let wireB: AnthropicWireServer | undefined;
  let a: Gateway | undefined;
  let b: Gateway | undefined;
  let secret = '';

  const post = (g: Gateway, path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${g.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  /** Turn `n` of a conversation in Anthropic's format: a marked system prompt, the last user turn marked (as Claude Code does). */
  const turn = (n: number, marks = true) => {
    const mark = marks ? { cache_control: { type: 'ephemeral' } } : {};
    const messages: Array<Record<string, unknown>> = [];
    for (let i = 1; i <= n; i++) {
      messages.push({ role: 'user', content: [{ type: 'text', text: `question ${i}`, ...(i === n ? mark : {}) }] });
      if (i < n) messages.push({ role: 'assistant', content: `answer ${i}` });
    }
    return { model: 'claude', max_tokens: 16, system: [{ type: 'text', text: `You answer briefly (${id}). `.repeat(20), ...mark }], messages };
  };
  /** Sends a /v1/messages request through `g`; returns the deployment that served it. */
  const send = async (g: Gateway, body: unknown): Promise<string> => {
    const res = await post(g, '/v1/messages', body, { 'x-api-key': secret, 'anthropic-version': '2023-06-01' });
    const text = await res.text();
    expect(res.status, `${g.name}: ${text}`).toBe(200);
    return res.headers.get('x-llmrr-model') ?? '';
  };

  beforeAll(async () => {
    [wireA, wireB] = await Promise.all([startAnthropicWireServer({ apiKey: 'ak' }), startAnthropicWireServer({ apiKey: 'ak' })]);
    const deployment = (name: string, url: string) => ({ name, alias: 'claude', engine: 'anthropic', model: 'claude-test-1', baseURL: url, apiKey: 'ak', capabilities: ['chat', 'streaming'] });
    const config = {
      version: 2,
      models: [deployment('claude-a', wireA.url), deployment('claude-b', wireB.url)],
      // A spreading strategy: each process alternates between the two deployments on its own.
      routing: { strategy: 'round-robin', retries: { max: 0 } },
      cache: { exact: { enabled: false } },
    };
    dir = mkdtempSync(join(tmpdir(), 'llmrr-shared-affinity-'));
    writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify(config));
    const env = {
      PORT: '0',
      INIT_CWD: dir,
      LLMRR_CONFIG: join(dir, 'llmrr.config.json'),
      LLMRR_DATA_DIR: join(dir, 'data'),
      LLMRR_STATE: 'shared',
      LLMRR_REDIS_URL: redisUrl!,
      LLMRR_POSTGRES_URL: postgresUrl!,
      LLMRR_REDIS_PREFIX: prefix,
      LLMRR_POSTGRES_SCHEMA: schema,
      LLMRR_ADMIN_KEY: ADMIN,
      LLMRR_DEMO: 'false',
    };
    [a, b] = await Promise.all([startGateway('A', env), startGateway('B', env)]);
    const admin = { authorization: `Bearer ${ADMIN}` };
    expect((await post(a, '/admin/tenants', { id: 'affinity', name: 'Affinity' }, admin)).status).toBe(201);
    const created = await post(a, '/admin/tenants/affinity/keys', { name: 'test' }, admin);
    expect(created.status).toBe(201);
    secret = ((await created.json()) as { secret: string }).secret;
  }, 180_000);

  afterAll(async () => {
    await Promise.all([stopGateway(a), stopGateway(b)]);
    await Promise.all([wireA?.close(), wireB?.close()]);
    // Drop what this run created, in a plain Node child (vitest's module runner mangles pg's CommonJS classes).
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
    const done = spawnSync(process.execPath, ['-e', cleanup], { cwd: dirname(here), env: { ...process.env, NODE_OPTIONS: '', PG_URL: postgresUrl, REDIS_URL: redisUrl }, encoding: 'utf8', timeout: 30_000 });
    if (done.status !== 0) console.warn(`shared-mode affinity test cleanup failed: ${done.stderr}`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('says at start that prompt-cache affinity is shared through Redis', () => {
    for (const g of [a!, b!]) expect(g.output()).toContain('prompt-cache affinity: on (Redis, shared)');
  });

  it("a marked conversation alternating between the two processes stays on its first turn's deployment", async () => {
    // B's round-robin one step ahead of A's: without a shared memory, B's turns would go to the other deployment.
    await send(b!, turn(1, false));
    const before = { a: wireA!.requests.length, b: wireB!.requests.length };
    const served: string[] = [];
    for (let n = 1; n <= 6; n++) served.push(await send(n % 2 === 1 ? a! : b!, turn(n)));
    const first = served[0]!;
    expect(['claude-a', 'claude-b']).toContain(first);
    expect(served).toEqual(Array(6).fill(first));
    const counts = { a: wireA!.requests.length - before.a, b: wireB!.requests.length - before.b };
    expect(counts).toEqual(first === 'claude-a' ? { a: 6, b: 0 } : { a: 0, b: 6 });
    // The upstream saw the marks (the affinity is about its prompt cache).
    const last = (first === 'claude-a' ? wireA! : wireB!).requests.at(-1)!;
    expect(JSON.stringify(last.body)).toContain('"cache_control":{"type":"ephemeral"}');
  });

  it('the strategy still spreads requests without marks', async () => {
    const served = [await send(a!, turn(3, false)), await send(a!, turn(3, false)), await send(b!, turn(3, false)), await send(b!, turn(3, false))];
    expect(served[0]).not.toBe(served[1]);
    expect(served[2]).not.toBe(served[3]);
  });
});
