import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../engines/index.js';
import { LLMError } from '../errors/llm-error.js';
import { LLMRouter } from '../router/llm-router.js';
import type { ChatMessage, GenerateRequest } from '../spec/index.js';
import { NOT_A_URL_SHOWN } from '../util/redact-url.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../test/anthropic-wire-server.js';
import { dropTestSchema, sharedSkipReason, testServiceUrls } from './__fixtures__/store-fixtures.js';
import { createStateStores, UNKNOWN_MAXMEMORY_CACHE_MAX_BYTES } from './create-state-stores.js';
import { openPostgres } from './postgres/postgres-database.js';
import { RedisAffinityStore } from './redis/redis-affinity-store.js';
import type { StateStoresConfig } from './types.js';

async function errorOf(p: Promise<unknown>): Promise<LLMError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  if (!LLMError.isInstance(e)) throw new Error(`expected LLMError, got ${String(e)}`);
  return e;
}

/** A port that accepts TCP and closes at once: a peer that is not Redis/PostgreSQL. */
let deadPort = 0;
let dead: Server;
beforeAll(async () => {
  dead = createServer((s) => s.destroy());
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  deadPort = (dead.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => dead.close(r));
});

describe('createStateStores', () => {
  it('memory mode gives working stores that vanish on close', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    expect(stores.mode).toBe('memory');
    await stores.tenants.createTenant({ id: 'a', name: 'A' });
    expect((await stores.rateLimiter.acquire([{ kind: 'tenant', id: 'a', limits: { rpm: 1 } }], { estimatedTokens: 0 })).ok).toBe(true);
    await stores.close();
    await stores.close(); // idempotent
    const again = await createStateStores({ mode: 'memory' });
    expect(await again.tenants.getTenant('a')).toBeUndefined();
    await again.close();
  });

  it('embedded mode keeps tenants, keys, ledger, audit and budgets across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-embedded-'));
    try {
      const config: StateStoresConfig = { mode: 'embedded', dataDir: join(dir, 'nested', 'data'), synchronous: 'full' };
      const first = await createStateStores(config);
      await first.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const { secret } = await first.tenants.createKey('acme', { name: 'k' });
      await first.ledger.record({ requestId: 'r', tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0.5, latencyMs: 1, status: 'success' });
      await first.audit.append({ actor: 'admin', action: 'tenant.create', target: 'acme' });
      await first.budgets.reserve({ tenantId: 'acme', period: 'total', limitUsd: 1, estimateUsd: 0.5, reservationId: 'b' });
      await first.budgets.settle('b', 0.4);
      await first.close();

      const second = await createStateStores(config);
      expect((await second.tenants.authenticate(secret)).ok).toBe(true);
      expect((await second.ledger.get('r'))?.costUsd).toBe(0.5);
      expect(await second.audit.verify()).toMatchObject({ ok: true, count: 1 });
      expect((await second.budgets.spent('acme', 'total')).spentUsd).toBeCloseTo(0.4, 9);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad configs naming the field', async () => {
    expect((await errorOf(createStateStores({ mode: 'cloud' } as never))).param).toBe('mode');
    expect((await errorOf(createStateStores({ mode: 'embedded', dataDir: '' }))).param).toBe('dataDir');
    expect((await errorOf(createStateStores({ mode: 'shared', redisUrl: '', postgresUrl: 'postgres://x' }))).param).toBe('redisUrl');
    expect((await errorOf(createStateStores({ mode: 'shared', redisUrl: 'redis://x', postgresUrl: '' }))).param).toBe('postgresUrl');
  });

  it('says clearly when Redis is unreachable', async () => {
    const e = await errorOf(createStateStores({ mode: 'shared', redisUrl: `redis://:hunter2@127.0.0.1:${deadPort}`, postgresUrl: 'postgres://127.0.0.1:1/x' }));
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toContain('Cannot connect to Redis');
    expect(e.message).not.toContain('hunter2');
  });

  it('names an unreachable Redis without the credentials of its URL (user info, query string, fragment)', async () => {
    const e = await errorOf(createStateStores({ mode: 'shared', redisUrl: `redis://user:hunter2@127.0.0.1:${deadPort}/0?password=q-hunter3#f-hunter4`, postgresUrl: 'postgres://127.0.0.1:1/x' }));
    expect(e.message).toContain(`Cannot connect to Redis at redis://127.0.0.1:${deadPort}/0:`);
    expect(e.message).not.toMatch(/hunter|user/);
  });

  it.each(['redis://:REDIS-SECRET-PW@127.0.0.1:notaport', 'redis://:12#REDIS-SECRET-PW@127.0.0.1:6379'])('a Redis URL that does not parse (%s) is a config_invalid that does not carry its password, in message or cause', async (redisUrl) => {
    // Node's URL error keeps the whole URL in its `input`: any logger that inspects the error would print it.
    const e = await errorOf(createStateStores({ mode: 'shared', redisUrl, postgresUrl: 'postgres://127.0.0.1:1/x' }));
    expect(e.code).toBe('config_invalid');
    // The "#" in the password puts its "@" after the fragment's start: where the host is cannot be told.
    const shown = redisUrl.includes('#') ? 'redis://\\(address not shown\\)' : 'redis://127\\.0\\.0\\.1:\\w+';
    expect(e.message).toMatch(new RegExp(`^Cannot connect to Redis at ${shown}: the URL does not parse`));
    expect(inspect(e, { depth: 5 })).not.toContain('REDIS-SECRET-PW');
  });

  it('names a Unix socket path given as the Redis URL (no credential in it) in its config_invalid', async () => {
    const e = await errorOf(createStateStores({ mode: 'shared', redisUrl: '/var/run/redis/redis.sock', postgresUrl: 'postgres://127.0.0.1:1/x' }));
    expect(e.message).toContain('Cannot connect to Redis at /var/run/redis/redis.sock:');
  });

  it('names a PostgreSQL key/value connection string without any part of it (its password)', { timeout: 60_000 }, async () => {
    const e = await errorOf(openPostgres('host=127.0.0.1 port=1 user=llmrr password=KV-SECRET-PW dbname=app sslmode=disable').then((h) => h.release()));
    expect(e.message).toContain(`Cannot prepare PostgreSQL at ${NOT_A_URL_SHOWN}:`);
    expect(e.message).not.toContain('KV-SECRET-PW');
  });

  it.skipIf(!testServiceUrls().redisUrl)('says clearly when PostgreSQL is unreachable (and closes Redis)', async () => {
    const e = await errorOf(createStateStores({ mode: 'shared', redisUrl: testServiceUrls().redisUrl as string, postgresUrl: `postgres://u:secretpw@127.0.0.1:${deadPort}/db` }));
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toContain('PostgreSQL');
    expect(e.message).not.toContain('secretpw');
  });

  it.skipIf(sharedSkipReason() !== undefined)('refuses an unsafe PostgreSQL schema name', async () => {
    const urls = testServiceUrls();
    const e = await errorOf(createStateStores({ mode: 'shared', redisUrl: urls.redisUrl as string, postgresUrl: urls.postgresUrl as string, postgresSchema: 'x; DROP TABLE y' }));
    expect(e.param).toBe('postgresSchema');
  });
});

describe.skipIf(sharedSkipReason() !== undefined)(sharedSkipReason() ?? 'createStateStores: prompt-cache affinity in shared mode', () => {
  const urls = testServiceUrls();
  const id = randomBytes(6).toString('hex');
  const prefix = `aff${id}:`;
  const open = () => createStateStores({ mode: 'shared', redisUrl: urls.redisUrl!, postgresUrl: urls.postgresUrl!, redisKeyPrefix: prefix, postgresSchema: `aff_${id}` });
  let servers: AnthropicWireServer[] = [];

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await dropTestSchema(urls.postgresUrl, `aff_${id}`);
    const keys = (await redisCommand(['KEYS', `${prefix}*`])) as string[];
    if (keys.length > 0) await redisCommand(['DEL', ...keys]);
  });

  async function redisCommand(args: string[]): Promise<unknown> {
    const { createClient } = await import('redis');
    const c = createClient({ url: urls.redisUrl! });
    await c.connect();
    try {
      return await c.sendCommand(args);
    } finally {
      await c.close();
    }
  }

  it('opens a Redis affinity store under <prefix>affinity:, seen by another process\'s stores, closed with the stores', async () => {
    const [one, two] = [await open(), await open()];
    let closedOne = false;
    try {
      expect(one.affinity).toBeInstanceOf(RedisAffinityStore);
      expect((one.affinity as RedisAffinityStore).keyPrefix).toBe(`${prefix}affinity:`);
      await one.affinity!.remember([{ key: 'k1', ttlMs: 60_000 }], 'claude-test', 'claude-a');
      expect(await redisCommand(['GET', `${prefix}affinity:k1:claude-test`])).toBe('60000:claude-a');
      const pttl = Number(await redisCommand(['PTTL', `${prefix}affinity:k1:claude-test`]));
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(60_000);
      // Another set of stores (its own connection, as another gateway process has) finds it.
      expect(await two.affinity!.find(['nope', 'k1'], ['claude-test'])).toEqual([{ key: 'k1', model: 'claude-test', deployment: 'claude-a', ttlMs: 60_000 }]);
      await one.close();
      closedOne = true;
      // Closing one process's stores closed its connection (the store answers no more) but not the other's.
      await expect(Promise.resolve(one.affinity!.find(['k1'], ['claude-test']))).rejects.toThrow();
      expect((await two.affinity!.find(['k1'], ['claude-test']))[0]?.deployment).toBe('claude-a');
    } finally {
      if (!closedOne) await one.close();
      await two.close();
    }
  });

  it('two routers on two sets of shared stores keep a marked conversation on the deployment of its first turn', async () => {
    servers = await Promise.all([startAnthropicWireServer({ apiKey: 'ak' }), startAnthropicWireServer({ apiKey: 'ak' })]);
    const [sa, sb] = servers as [AnthropicWireServer, AnthropicWireServer];
    const models = [
      { name: 'claude-a', alias: 'claude', engine: 'anthropic', model: 'claude-test-1', baseURL: sa.url, apiKey: 'ak' },
      { name: 'claude-b', alias: 'claude', engine: 'anthropic', model: 'claude-test-1', baseURL: sb.url, apiKey: 'ak' },
    ];
    const [one, two] = [await open(), await open()];
    const routers = [one, two].map((s) => new LLMRouter({ models, routing: { strategy: 'round-robin', retries: { max: 0 } } }, { env: {}, promptCacheAffinityStore: s.affinity! }));
    const [r1, r2] = routers as [LLMRouter, LLMRouter];
    try {
      // r2's round-robin is one step ahead of r1's, so without shared affinity turns would switch.
      await r2.generate({ messages: [{ role: 'user', content: 'warm up' }], maxTokens: 8 }, { model: 'claude' });
      const mark = { type: 'ephemeral' } as const;
      const turn = (n: number): GenerateRequest => {
        const messages: ChatMessage[] = [{ role: 'system', content: `You answer briefly (${id}). `.repeat(20), cacheControl: mark }];
        for (let i = 1; i <= n; i++) {
          messages.push({ role: 'user', content: `question ${i}`, ...(i === n ? { cacheControl: mark } : {}) });
          if (i < n) messages.push({ role: 'assistant', content: `answer ${i}` });
        }
        return { messages, maxTokens: 8 };
      };
      const got: string[] = [];
      for (let n = 1; n <= 6; n++) got.push((await (n % 2 === 1 ? r1 : r2).generate(turn(n), { model: 'claude' })).deployment);
      expect(got).toEqual(Array(6).fill(got[0]));
      // Unmarked requests still alternate on one router.
      const unmarked = [];
      for (const content of ['u1', 'u2']) unmarked.push(await r1.generate({ messages: [{ role: 'user', content }], maxTokens: 8 }, { model: 'claude' }));
      expect(unmarked[0]!.deployment).not.toBe(unmarked[1]!.deployment);
    } finally {
      await Promise.all(routers.map((r) => r.close()));
      await one.close();
      await two.close();
    }
  });
});

describe('createStateStores: prompt-cache affinity outside shared mode', () => {
  it('memory mode has no affinity store (the router keeps its in-process default)', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    expect(stores.affinity).toBeUndefined();
    await stores.close();
  });
});

describe.skipIf(sharedSkipReason() !== undefined)(sharedSkipReason() ?? "createStateStores: the exact cache and the stores' Redis", () => {
  const urls = testServiceUrls();
  const id = randomBytes(6).toString('hex');
  const prefix = `xc${id}:`;
  const schema = `xc_${id}`;
  const base = { mode: 'shared', redisUrl: urls.redisUrl!, postgresUrl: urls.postgresUrl!, redisKeyPrefix: prefix, postgresSchema: schema } as const;
  const answer = { text: 'x'.repeat(1000) } as never;

  afterAll(async () => {
    await dropTestSchema(urls.postgresUrl, schema);
    for (const db of ['0', '1']) {
      const keys = (await redisCommand(['KEYS', `${prefix}*`], db)) as string[];
      if (keys.length > 0) await redisCommand(['DEL', ...keys], db);
    }
  });

  async function redisCommand(args: string[], db = '0'): Promise<unknown> {
    const { createClient } = await import('redis');
    const c = createClient({ url: `${urls.redisUrl!}/${db}` });
    await c.connect();
    try {
      return await c.sendCommand(args);
    } finally {
      await c.close();
    }
  }

  it("on the stores' Redis, the cache keeps its entries within cacheMaxBytes (oldest dropped), never growing without bound", async () => {
    const stores = await createStateStores({ ...base, cacheMaxBytes: 5_000 });
    try {
      for (let i = 0; i < 20; i++) await stores.cache!.set(`k${i}`, answer, 60_000);
      expect(Number(await redisCommand(['GET', `${prefix}cache#bound:bytes`]))).toBeLessThanOrEqual(5_000);
      // (Each entry counts about 1700 bytes: its JSON, its key four times and ENTRY_OVERHEAD_BYTES.)
      expect(((await redisCommand(['KEYS', `${prefix}cache:*`])) as string[]).length).toBe(2);
      expect(await stores.cache!.get('k19')).toEqual(answer);
      expect(await stores.cache!.get('k0')).toBeUndefined();
      await stores.cache!.clear();
    } finally {
      await stores.close();
    }
    // Without cacheMaxBytes: bounded all the same (the default), the bound's keys next to the entries.
    const byDefault = await createStateStores(base);
    try {
      await byDefault.cache!.set('k', answer, 60_000);
      expect(Number(await redisCommand(['GET', `${prefix}cache#bound:bytes`]))).toBeGreaterThan(1000);
      await byDefault.cache!.clear();
    } finally {
      await byDefault.close();
    }
  });

  it("cacheRedisUrl puts the cache there (entries there only), closed with the stores; another database of the stores' server keeps the bound, said at the start", async () => {
    const warnings: string[] = [];
    const stores = await createStateStores({ ...base, cacheRedisUrl: `${urls.redisUrl!}/1`, onWarning: (m) => warnings.push(m) });
    try {
      await stores.cache!.set('k', answer, 60_000);
      expect(await redisCommand(['EXISTS', `${prefix}cache:k`], '1')).toBe(1);
      expect(await redisCommand(['EXISTS', `${prefix}cache:k`], '0')).toBe(0);
      // One server (one run_id), one maxmemory: bounded as on the stores' Redis (a server of its own is not:
      // gateway's shared-redis-cache-limits.test.ts).
      expect(await redisCommand(['EXISTS', `${prefix}cache#bound:bytes`], '1')).toBe(1);
      expect(warnings).toEqual([expect.stringMatching(/^cacheRedisUrl \(.*\/1\) is a database of the stores' own Redis server, which shares one maxmemory: the exact cache is kept within \d+ bytes there \(cacheMaxBytes, its default\)/)]);
      await stores.cache!.clear();
      await stores.ping();
    } finally {
      await stores.close();
    }
    await expect(Promise.resolve(stores.cache!.get('k'))).rejects.toMatchObject({ code: 'store_unavailable' });
    const e = await errorOf(createStateStores({ ...base, cacheRedisUrl: `redis://:hunter2@127.0.0.1:${deadPort}` }));
    expect(e.param).toBe('cacheRedisUrl');
    expect(e.message).not.toContain('hunter2');
    expect((await errorOf(createStateStores({ ...base, cacheMaxBytes: 0 }))).param).toBe('cacheMaxBytes');
  });

  /** A user of the stores' Redis refused `commands` (as managed services refuse CONFIG), its URL, and its removal. */
  async function restrictedUser(name: string, commands: string[]): Promise<{ url: string; remove(): Promise<unknown> }> {
    await redisCommand(['ACL', 'SETUSER', name, 'on', `>pw-${name}`, '~*', '&*', '+@all', ...commands.map((c) => `-${c}`)]);
    const url = new URL(urls.redisUrl!);
    url.username = name;
    url.password = `pw-${name}`;
    return { url: url.href, remove: () => redisCommand(['ACL', 'DELUSER', name]) };
  }

  it("reads the stores' Redis memory policy from INFO when CONFIG is refused (as on managed Redis): no warning", async () => {
    const user = await restrictedUser(`nocfg${id}`, ['config']);
    const warnings: string[] = [];
    try {
      const stores = await createStateStores({ ...base, redisUrl: user.url, onWarning: (m) => warnings.push(m) });
      await stores.ping();
      await stores.close();
    } finally {
      await user.remove();
    }
    expect(warnings).toEqual([]);
  });

  it("warns (onWarning) when the stores' Redis memory policy cannot be read (INFO and CONFIG refused), naming the cache's bound in force, and opens all the same", async () => {
    const user = await restrictedUser(`noinfo${id}`, ['config', 'info']);
    const warnings: string[] = [];
    try {
      const stores = await createStateStores({ ...base, redisUrl: user.url, onWarning: (m) => warnings.push(m) });
      await stores.ping();
      await stores.close();
      // Given a bound, the warning names that one.
      await (await createStateStores({ ...base, redisUrl: user.url, cacheMaxBytes: 2_000_000, onWarning: (m) => warnings.push(m) })).close();
    } finally {
      await user.remove();
    }
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/maxmemory and maxmemory-policy could not be read .*it must be noeviction/);
    expect(warnings[0]).toContain(
      `the exact cache is kept within ${UNKNOWN_MAXMEMORY_CACHE_MAX_BYTES} bytes there (cacheMaxBytes, its default) while its maxmemory is unknown: set cacheMaxBytes to at most a quarter of its maxmemory`,
    );
    expect(warnings[1]).toContain('the exact cache is kept within 2000000 bytes there (cacheMaxBytes): set cacheMaxBytes');
    expect(warnings.join('')).not.toContain(`pw-noinfo${id}`);
  });

  it("closes the stores' connections when onWarning throws (a caller refusing the set-up), and rejects with its error", async () => {
    const user = await restrictedUser(`strict${id}`, ['config', 'info']);
    const connections = async () =>
      String(await redisCommand(['CLIENT', 'LIST']))
        .split('\n')
        .filter((line) => line.includes(` user=strict${id} `)).length;
    try {
      const strict = (m: string) => {
        throw new Error(`refusing to start: ${m}`);
      };
      await expect(createStateStores({ ...base, redisUrl: user.url, onWarning: strict })).rejects.toThrow(/refusing to start: .*could not be read/);
      await vi.waitFor(async () => expect(await connections()).toBe(0), { timeout: 5_000, interval: 100 });
    } finally {
      await user.remove();
    }
  });
});
