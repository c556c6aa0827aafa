/**
 * `StateStores.ping()`, the round trip a readiness probe makes: it resolves while the services answer, and in
 * shared mode rejects with `store_unavailable` within `redisTimeoutMs` once Redis or PostgreSQL stops answering
 * (a partition, a stalled server: the connection stays open) or goes away; a later ping tries again (PostgreSQL's
 * over a new connection of its own), and after `close()` every ping is `store_unavailable`.
 * Real Redis and PostgreSQL (vitest.global-setup.ts), each reached through a loopback TCP relay the test stalls.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { startTcpRelay, type TcpRelay } from '../test/tcp-relay.js';
import { dropTestSchema, sharedSkipReason, testServiceUrls } from './__fixtures__/store-fixtures.js';
import { createStateStores } from './create-state-stores.js';
import type { StateStores } from './types.js';

/** What `p` did: `resolved`, or the code of the LLMError it rejected with, and after how long (ms). */
async function outcome(p: Promise<unknown>): Promise<{ result: string; ms: number }> {
  const t0 = performance.now();
  const result = await p.then(
    () => 'resolved',
    (e: unknown) => (LLMError.isInstance(e) ? e.code : `not an LLMError: ${String(e)}`),
  );
  return { result, ms: performance.now() - t0 };
}

describe('StateStores.ping in the embedded modes', () => {
  it('resolves in memory mode (SQLite in the process: nothing to reach), and is store_unavailable once closed', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    await expect(stores.ping()).resolves.toBeUndefined();
    await stores.close();
    await expect(stores.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
  });
});

const skip = sharedSkipReason();
describe.skipIf(skip !== undefined)(skip ?? 'StateStores.ping in shared mode', () => {
  const urls = testServiceUrls();
  const id = randomBytes(5).toString('hex');
  const schema = `ping_${id}`;
  const TIMEOUT_MS = 300;
  const opened: Array<{ stores: StateStores; relays: TcpRelay[] }> = [];

  /** Shared stores whose Redis and PostgreSQL connections go through relays of their own. */
  async function open(): Promise<{ stores: StateStores; redis: TcpRelay; pg: TcpRelay }> {
    const redisUrl = new URL(urls.redisUrl!);
    const postgresUrl = new URL(urls.postgresUrl!);
    const redis = await startTcpRelay({ host: redisUrl.hostname, port: Number(redisUrl.port) });
    const pg = await startTcpRelay({ host: postgresUrl.hostname, port: Number(postgresUrl.port || 5432) });
    redisUrl.hostname = '127.0.0.1';
    redisUrl.port = String(redis.port);
    postgresUrl.hostname = '127.0.0.1';
    postgresUrl.port = String(pg.port);
    const stores = await createStateStores({
      mode: 'shared',
      redisUrl: redisUrl.toString(),
      postgresUrl: postgresUrl.toString(),
      redisKeyPrefix: `ping${id}:`,
      postgresSchema: schema,
      redisTimeoutMs: TIMEOUT_MS,
    });
    opened.push({ stores, relays: [redis, pg] });
    return { stores, redis, pg };
  }

  afterAll(async () => {
    for (const o of opened) {
      for (const r of o.relays) await r.close();
      await Promise.race([o.stores.close().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))]);
    }
    await dropTestSchema(urls.postgresUrl, schema);
  }, 30_000);

  it('resolves while both answer; a stalled Redis is store_unavailable within redisTimeoutMs', async () => {
    const { stores, redis } = await open();
    expect((await outcome(stores.ping())).result).toBe('resolved');
    redis.stall();
    const o = await outcome(stores.ping());
    expect(o.result).toBe('store_unavailable');
    expect(o.ms).toBeLessThan(TIMEOUT_MS + 2_000);
  }, 30_000);

  it('a stalled PostgreSQL is store_unavailable within the same bound', async () => {
    const { stores, pg } = await open();
    expect((await outcome(stores.ping())).result).toBe('resolved');
    pg.stall();
    const o = await outcome(stores.ping());
    expect(o.result).toBe('store_unavailable');
    expect(o.ms).toBeLessThan(TIMEOUT_MS + 2_000);
  }, 30_000);

  it('a PostgreSQL answer late past the bound fails that ping; the next ping, once answers flow again, resolves', async () => {
    const { stores, pg } = await open();
    expect((await outcome(stores.ping())).result).toBe('resolved');
    pg.hold();
    const late = await outcome(stores.ping());
    expect(late.result).toBe('store_unavailable');
    expect(late.ms).toBeLessThan(TIMEOUT_MS + 2_000);
    pg.flush();
    // Every ping has the same 300 ms bound: on a loaded machine (CI with other work) one can miss it, so what is checked
    // is that pings resolve again once answers flow (the late answer does not leave the pool broken), within 10 s.
    const until = Date.now() + 10_000;
    let next = await outcome(stores.ping());
    while (next.result !== 'resolved' && Date.now() < until) next = await outcome(stores.ping());
    expect(next.result).toBe('resolved');
  }, 30_000);

  it('after close() the ping is store_unavailable', async () => {
    const { stores } = await open();
    expect((await outcome(stores.ping())).result).toBe('resolved');
    await stores.close();
    expect((await outcome(stores.ping())).result).toBe('store_unavailable');
  }, 30_000);

  it('a Redis that went away (connection closed) is store_unavailable', async () => {
    const { stores, redis } = await open();
    expect((await outcome(stores.ping())).result).toBe('resolved');
    await redis.close();
    const o = await outcome(stores.ping());
    expect(o.result).toBe('store_unavailable');
  }, 30_000);
});

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: the best-effort stores follow redisTimeoutMs', () => {
  const urls = testServiceUrls();
  const schema = `besteffort_${randomBytes(5).toString('hex')}`;

  afterAll(async () => {
    await dropTestSchema(urls.postgresUrl, schema);
  }, 30_000);

  it('a lower redisTimeoutMs bounds the exact cache, circuit and affinity stores too; the default keeps them at 1 s', async () => {
    const base = { mode: 'shared' as const, redisUrl: urls.redisUrl!, postgresUrl: urls.postgresUrl!, redisKeyPrefix: `besteffort${randomBytes(4).toString('hex')}:`, postgresSchema: schema };
    const low = await createStateStores({ ...base, redisTimeoutMs: 150 });
    const dflt = await createStateStores(base);
    try {
      const bounds = (s: StateStores) => [s.cache, s.circuits, s.affinity].map((store) => (store as unknown as { timeoutMs: number }).timeoutMs);
      expect(bounds(low)).toEqual([150, 150, 150]);
      expect(bounds(dflt)).toEqual([1_000, 1_000, 1_000]);
    } finally {
      await low.close();
      await dflt.close();
    }
  }, 30_000);

  it('a stalled Redis makes an exact-cache lookup fail within the lower redisTimeoutMs, not the 1 s default', async () => {
    const redisUrl = new URL(urls.redisUrl!);
    const relay = await startTcpRelay({ host: redisUrl.hostname, port: Number(redisUrl.port) });
    redisUrl.hostname = '127.0.0.1';
    redisUrl.port = String(relay.port);
    const stores = await createStateStores({
      mode: 'shared',
      redisUrl: redisUrl.toString(),
      postgresUrl: urls.postgresUrl!,
      redisKeyPrefix: `besteffort${randomBytes(4).toString('hex')}:`,
      postgresSchema: schema,
      redisTimeoutMs: 100,
    });
    try {
      await expect(stores.cache!.get('k')).resolves.toBeUndefined();
      relay.stall();
      const t0 = performance.now();
      await expect(stores.cache!.get('k')).rejects.toMatchObject({ code: 'store_unavailable' });
      // The bound is 100 ms; the default would have waited 1 000. Even a loaded machine fires a 100 ms timer well
      // before 900 ms.
      expect(performance.now() - t0).toBeLessThan(900);
    } finally {
      await relay.close();
      await Promise.race([stores.close().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))]);
    }
  }, 30_000);
});
