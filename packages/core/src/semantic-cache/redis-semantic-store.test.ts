import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { connectRedis, type RedisHandle } from '../stores/redis/redis-connection.js';
import { createSemanticCache } from './create-semantic-cache.js';
import { RedisSemanticStore } from './redis-semantic-store.js';
import { SemanticCache } from './semantic-cache.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';

const script = resolve(__dirname, '../../../../tools/services/redis.sh');
let url = process.env.LLMRR_TEST_REDIS_URL ?? '';
let ownDir: string | undefined;
let skipReason = '';

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

beforeAll(async () => {
  if (url) return;
  try {
    execFileSync('bash', [script, 'available'], { stdio: 'ignore' });
  } catch {
    skipReason = 'redis-server is not installed (apt-get install -y redis-server) and LLMRR_TEST_REDIS_URL is unset';
    return;
  }
  ownDir = mkdtempSync(join(tmpdir(), 'llmrr-semantic-redis-'));
  url = execFileSync('bash', [script, 'start', String(await freePort()), ownDir], { encoding: 'utf8', timeout: 30_000 }).trim();
});

afterAll(() => {
  if (!ownDir) return;
  execFileSync('bash', [script, 'stop', ownDir], { stdio: 'ignore' });
  rmSync(ownDir, { recursive: true, force: true });
});

/**
 * Runs `setUser` (an `ACL SETUSER` with `&*`), or says why this Redis cannot: its version below 6.2 (from `INFO
 * server`), or the command's refusal (no admin rights, ACL disabled by a managed service). Undefined when it ran.
 */
async function aclUserUnsupported(admin: RedisHandle, setUser: string[]): Promise<string | undefined> {
  const where = process.env.LLMRR_TEST_REDIS_URL ? 'the Redis at LLMRR_TEST_REDIS_URL' : 'the local redis-server';
  const info = await admin.command<string>(['INFO', 'server']).catch(() => '');
  const version = /redis_version:(\d+)\.(\d+)/.exec(String(info));
  if (version && Number(version[1]) * 100 + Number(version[2]) < 602) {
    return `${where} is Redis ${version[1]}.${version[2]}: a test user with the ACL channel rule '&*' needs Redis >= 6.2`;
  }
  try {
    await admin.command(setUser);
    return undefined;
  } catch (e) {
    return `${where} refused ACL SETUSER (admin rights needed to make a test user): ${e instanceof Error ? e.message : String(e)}`;
  }
}

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }] });
const answer = (text: string) => ({ text, toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(3, 1), deployment: 'm1', model: 'mock-1', provider: 'mock' });
const config = { enabled: true, threshold: 0.8, guardAbove: 0.8 };
let n = 0;

async function pair(options: { maxEntries?: number; now?: () => number } = {}) {
  const prefix = `t${process.pid}-${++n}`;
  const mk = async () => {
    const store = await RedisSemanticStore.connect({ url, prefix, ...options });
    return new SemanticCache({ config: { ...config, ...(options.maxEntries ? { maxEntries: options.maxEntries } : {}) }, embedder: new BagOfWordsEmbedder(), store, ...(options.now ? { now: options.now } : {}) });
  };
  return [await mk(), await mk()] as const;
}

describe('RedisSemanticStore (real redis-server)', () => {
  it('shares entries between two clients, tenant-scoped', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const [a, b] = await pair();
    await a.store(ask('what is the capital of france'), scope, answer('Paris'));
    expect((await b.lookup(ask('what is the capital of france'), scope))?.answer.text).toBe('Paris');
    expect(await b.lookup(ask('what is the capital of france'), { ...scope, tenant: 'globex' })).toBeUndefined();
    await b.store(ask('who wrote hamlet'), scope, answer('Shakespeare'));
    expect((await a.lookup(ask('who wrote hamlet'), scope))?.answer.text).toBe('Shakespeare');
    // A third client that connects later loads what is there.
    const late = await RedisSemanticStore.connect({ url, prefix: `t${process.pid}-${n}` });
    expect(await late.size()).toBe(2);
    await Promise.all([a.close(), b.close(), late.close()]);
  });

  it('is shared by two processes', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const prefix = `t${process.pid}-proc`;
    const peer = (...args: string[]) =>
      execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@llmrr/source', resolve(__dirname, '__fixtures__/redis-peer-process.ts'), ...args], {
        encoding: 'utf8',
        timeout: 60_000,
        cwd: resolve(__dirname, '../..'),
      }).trim();
    expect(peer('store', url, prefix, 'what is the boiling point of water', '100 C')).toBe('STORED');
    const here = await RedisSemanticStore.connect({ url, prefix });
    const cache = new SemanticCache({ config, embedder: new BagOfWordsEmbedder(), store: here });
    expect((await cache.lookup(ask('what is the boiling point of water'), scope))?.answer.text).toBe('100 C');
    await cache.store(ask('who painted the mona lisa'), scope, answer('Leonardo'));
    expect(peer('lookup', url, prefix, 'who painted the mona lisa')).toBe('Leonardo');
    await cache.eraseTenant('acme');
    expect(peer('lookup', url, prefix, 'what is the boiling point of water')).toBe('MISS');
    await cache.close();
  }, 120_000);

  it('erasure by one client is seen by the other (tenant and user)', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const [a, b] = await pair();
    await a.store(ask('alpha one'), scope, answer('A'), { user: 'u1' });
    await a.store(ask('beta two'), scope, answer('B'), { user: 'u2' });
    await a.store(ask('alpha one'), { ...scope, tenant: 'globex' }, answer('G'), { user: 'u1' });
    expect(await b.lookup(ask('alpha one'), scope)).toBeDefined(); // b has mirrored it
    expect(await b.eraseUser('acme', 'u1')).toBe(1);
    expect(await a.lookup(ask('alpha one'), scope)).toBeUndefined();
    expect(await a.lookup(ask('beta two'), scope)).toBeDefined();
    expect(await a.eraseTenant('acme')).toBe(1);
    expect(await b.lookup(ask('beta two'), scope)).toBeUndefined();
    expect((await b.lookup(ask('alpha one'), { ...scope, tenant: 'globex' }))?.answer.text).toBe('G');
    await Promise.all([a.close(), b.close()]);
  });

  it('erases a user\'s entries kept under the user key and under the raw id (written before ids were hashed), seen by the other client', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const [a, b] = await pair();
    // The namespace of this scope: read from a memory twin (the Redis store keeps no answers in process).
    const twin = new SemanticCache({ config, embedder: new BagOfWordsEmbedder() });
    await twin.store(ask('probe'), scope, answer('P'));
    const twinCatalog = (twin.backend as unknown as { catalog: { ids(): IterableIterator<number>; get(id: number): { namespace: string } } }).catalog;
    const namespace = twinCatalog.get([...twinCatalog.ids()][0]!).namespace;
    await a.store({ ...ask('alpha one'), user: 'u1' }, scope, answer('A'));
    await a.backend.add({ namespace, tenant: 'acme', user: 'u1', prompt: 'beta two', vector: (await new BagOfWordsEmbedder().embed(['beta two']))[0]!, answer: { ...answer('B'), createdAt: Date.now() }, expiresAt: Date.now() + 60_000 });
    await a.store({ ...ask('gamma three'), user: 'u2' }, scope, answer('C'));
    expect((await b.lookup(ask('beta two'), scope))?.answer.text).toBe('B');
    expect((await b.lookup(ask('alpha one'), scope))?.answer.text).toBe('A');
    expect(await a.eraseUser('acme', 'u1')).toBe(2);
    expect(await b.lookup(ask('alpha one'), scope)).toBeUndefined();
    expect(await b.lookup(ask('beta two'), scope)).toBeUndefined();
    expect((await b.lookup(ask('gamma three'), scope))?.answer.text).toBe('C');
    await Promise.all([a.close(), b.close(), twin.close()]);
  });

  it('expires entries (Redis key TTL and the mirrored expiry) and caps the total', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    let t = Date.now();
    const now = () => t;
    const [a, b] = await pair({ maxEntries: 2, now });
    await a.store(ask('alpha one'), scope, answer('A'));
    await a.store(ask('beta two'), scope, answer('B'));
    await b.store(ask('gamma three'), scope, answer('C'));
    expect(await a.lookup(ask('alpha one'), scope)).toBeUndefined(); // evicted by b's insert
    expect(await a.lookup(ask('gamma three'), scope)).toBeDefined();
    expect(await b.backend.size()).toBe(2);
    t += 86_400_001; // past the default ttlMs
    expect(await a.lookup(ask('gamma three'), scope)).toBeUndefined();
    expect(await b.lookup(ask('beta two'), scope)).toBeUndefined();
    await a.clear();
    expect(await b.backend.size()).toBe(0);
    await Promise.all([a.close(), b.close()]);
  });

  it('evicts the least recently used entry, with recency shared by both processes (a hit elsewhere counts)', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const [a, b] = await pair({ maxEntries: 2 });
    await a.store(ask('alpha one'), scope, answer('A'));
    await a.store(ask('beta two'), scope, answer('B'));
    // b serves alpha: alpha is now more recent than beta, though older by insertion.
    expect((await b.lookup(ask('alpha one'), scope))?.answer.text).toBe('A');
    // The hit's touch is not awaited by the lookup; a later command on b's connection is answered after it.
    await b.backend.size();
    await a.store(ask('gamma three'), scope, answer('C'));
    expect((await a.lookup(ask('alpha one'), scope))?.answer.text).toBe('A');
    expect(await b.lookup(ask('beta two'), scope)).toBeUndefined(); // the least recently used went
    expect((await b.lookup(ask('gamma three'), scope))?.answer.text).toBe('C');
    expect(await a.backend.size()).toBe(2);
    await Promise.all([a.close(), b.close()]);
  });

  it('drops keys with UNLINK, never a blocking DEL: a client whose ACL refuses DEL erases, evicts and clears as before', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const admin = await connectRedis(url, '', 'test admin');
    const user = `nodel${process.pid}-${++n}`;
    // Everything but DEL (commands a script calls included): a DEL anywhere fails with NOPERM. A user of its own
    // needs ACL (Redis >= 6) and the rights to make one, the channel rule `&*` Redis >= 6.2: a Redis given by
    // LLMRR_TEST_REDIS_URL that cannot (an older one, a managed one without admin rights) skips the test.
    const cannot = await aclUserUnsupported(admin, ['ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', '-del']);
    if (cannot !== undefined) {
      await admin.release();
      return ctx.skip(cannot);
    }
    try {
      const as = new URL(url);
      as.username = user;
      as.password = 'pw';
      const prefix = `t${process.pid}-unlink${n}`;
      const cache = new SemanticCache({ config: { ...config, maxEntries: 3 }, embedder: new BagOfWordsEmbedder(), store: await RedisSemanticStore.connect({ url: as.toString(), prefix, maxEntries: 3 }) });
      await cache.store(ask('alpha one'), scope, answer('A'), { user: 'u1' });
      await cache.store(ask('beta two'), scope, answer('B'), { user: 'u2' });
      await cache.store(ask('gamma three'), { ...scope, tenant: 'globex' }, answer('G'), { user: 'u1' });
      // Past the cap: the least recently used entry (alpha) is dropped by the add script.
      await cache.store(ask('delta four'), scope, answer('D'));
      expect(await cache.lookup(ask('alpha one'), scope)).toBeUndefined();
      expect(await cache.eraseUser('acme', 'u2')).toBe(1);
      expect(await cache.eraseTenant('acme')).toBe(1);
      expect([await cache.lookup(ask('beta two'), scope), await cache.lookup(ask('delta four'), scope)]).toEqual([undefined, undefined]);
      expect((await cache.lookup(ask('gamma three'), { ...scope, tenant: 'globex' }))?.answer.text).toBe('G');
      // No key of the erased tenant is left (entries, erasure sets).
      expect(await admin.command<string[]>(['KEYS', `${prefix}*acme*`])).toEqual([]);
      await cache.clear();
      expect(await cache.backend.size()).toBe(0);
      await cache.close();
    } finally {
      await admin.command(['ACL', 'DELUSER', user]);
      await admin.release();
    }
  });

  it('is built from config and fails fast with a clear error when Redis is unreachable', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const c = await createSemanticCache({ ...config, store: { type: 'redis', url, prefix: `t${process.pid}-cfg` } }, { });
    expect(c.backend.kind).toBe('redis');
    await c.close();
    const port = await freePort();
    await expect(RedisSemanticStore.connect({ url: `redis://127.0.0.1:${port}` })).rejects.toMatchObject({ code: 'engine_unavailable', message: expect.stringContaining('Cannot connect to Redis') });
  });
});
