/**
 * Circuit state shared through a real Redis (started by vitest.global-setup.ts): two routers, each on its
 * own connection like two gateway processes, over the same upstream deployments. A call waiting for its circuit's
 * admission while Redis holds its answers (a loopback relay: a slow or stalled Redis) ends at once on the caller's abort
 * or a hedge sibling's win.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreakerSchema, type RouterConfigInput } from '../../config/schema.js';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { LLMError } from '../../errors/llm-error.js';
import { testServiceUrls } from '../../stores/__fixtures__/store-fixtures.js';
import { connectRedis, RedisHandle } from '../../stores/redis/redis-connection.js';
import type { EngineFactory } from '../../engines/types.js';
import type { CallOptions, GenerateRequest, GenerateResult, LanguageEngine, StreamPart } from '../../spec/index.js';
import { endsSoon } from '../../test/async.test-helpers.js';
import { startTcpRelay } from '../../test/tcp-relay.js';
import { LLMRouter } from '../llm-router.js';
import type { CircuitStateStore } from './circuit-state-store.js';
import { RedisCircuitStateStore } from './redis-circuit-state-store.js';

const { redisUrl } = testServiceUrls();
const skip = redisUrl ? undefined : 'Redis circuit store tests skipped: Redis (LLMRR_TEST_REDIS_URL) not available (install redis-server, see tools/services)';
if (skip) console.warn(skip);

/** One upstream both routers call: fails, answers, or holds each call until released. */
class Upstream {
  mode: 'fail' | 'ok' | 'hold' = 'ok';
  calls = 0;
  private held: Array<() => void> = [];

  engine(name: string): LanguageEngine {
    const mock = new MockEngine({ modelId: `${name}-model`, reply: `from ${name}` });
    const generate = async (...args: Parameters<MockEngine['generate']>): Promise<GenerateResult> => {
      this.calls++;
      if (this.mode === 'fail') throw new LLMError({ code: 'provider_unavailable', message: `${name} is down`, isRetryable: true });
      if (this.mode === 'hold') await new Promise<void>((res) => this.held.push(res));
      return MockEngine.prototype.generate.apply(mock, args);
    };
    return Object.assign(mock, { generate });
  }

  get holding(): number {
    return this.held.length;
  }

  releaseOne(): void {
    this.held.shift()?.();
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const COOLDOWN_MS = 400;

describe.skipIf(skip !== undefined)(skip ?? 'RedisCircuitStateStore (real Redis)', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function store(prefix: string, options: ConstructorParameters<typeof RedisCircuitStateStore>[1] = {}) {
    const s = await RedisCircuitStateStore.connect(redisUrl!, { keyPrefix: prefix, ...options });
    cleanup.push(() => s.close());
    return s;
  }

  /** Two routers ("processes"), each with its own store connection, over one primary upstream and a healthy backup. */
  async function twoRouters(circuitBreaker: NonNullable<RouterConfigInput['routing']>['circuitBreaker']) {
    const prefix = `t${randomBytes(6).toString('hex')}:circuit:`;
    const primary = new Upstream();
    const backup = new Upstream();
    const config: RouterConfigInput = {
      models: [
        { name: 'primary', engine: 'mock', priority: 1 },
        { name: 'backup', engine: 'mock', priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker },
    };
    const make = async (label: string) => {
      const circuitStore = await store(prefix);
      const router = new LLMRouter(config, { engines: { primary: primary.engine('primary'), backup: backup.engine('backup') }, circuitStore });
      cleanup.push(() => router.close());
      const circuit: string[] = [];
      router.on('circuit', (e) => circuit.push(`${label}:${e.deployment}:${e.from}->${e.to}`));
      return { router, store: circuitStore, circuit };
    };
    const a = await make('A');
    const b = await make('B');
    const raw = await connectRedis(redisUrl!, '');
    cleanup.push(() => raw.retain().release());
    return { a, b, primary, backup, prefix, raw };
  }

  it('failures seen by router A open the circuit for router B, which then sends the primary nothing', async () => {
    const { a, b, primary } = await twoRouters({ failureThreshold: 2, cooldownMs: 60_000 });
    primary.mode = 'fail';
    expect((await a.router.generate('one')).deployment).toBe('backup');
    await a.store.flush();
    expect(a.router.stats()['primary']?.circuit).toBe('closed'); // one failure of two
    expect((await b.router.generate('two')).deployment).toBe('backup'); // B's failure is the second
    await b.store.flush();
    expect(primary.calls).toBe(2);
    expect(b.circuit).toEqual(['B:primary:closed->open']);
    // A has not heard yet: its view is closed, the admission script tells it, and the primary is not called
    // (a stream, which goes through the same admission).
    const stream = a.router.stream('three');
    const parts = [];
    for await (const p of stream) parts.push(p);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'backup' });
    expect((await stream.result).attempts.map((x) => x.deployment)).toEqual(['backup']);
    expect(primary.calls).toBe(2);
    expect(a.circuit).toEqual(['A:primary:closed->open']);
    // Now both exclude it at candidate selection, without asking Redis.
    const decision = await a.router.route('four');
    expect(decision.excluded).toEqual([{ name: 'primary', reason: 'circuit open (last error provider_unavailable)', kind: 'circuit', circuit: 'open' }]);
    expect((await b.router.generate('five')).deployment).toBe('backup');
    expect(primary.calls).toBe(2);
  });

  it('half-open admits only halfOpenMaxProbes probes across both routers; successful probes from either close it for both', async () => {
    const { a, b, primary, prefix, raw } = await twoRouters({ failureThreshold: 2, cooldownMs: COOLDOWN_MS, halfOpenMaxProbes: 2, successThreshold: 2 });
    primary.mode = 'fail';
    await a.router.generate('f1');
    await a.router.generate('f2');
    await a.store.flush();
    expect(a.router.stats()['primary']?.circuit).toBe('open');
    await sleep(COOLDOWN_MS + 100);

    primary.mode = 'hold';
    const probeA = a.router.generate('probe from A');
    await until(() => primary.holding === 1, 'the first probe');
    const probeB = b.router.generate('probe from B');
    await until(() => primary.holding === 2, 'the second probe');
    // Both slots are taken: further calls from either router go to the backup without reaching the primary
    // (the timeout only keeps a regression from hanging the test: a third probe would be held).
    expect((await a.router.generate('more from A', { timeouts: { totalMs: 2_000 } })).deployment).toBe('backup');
    expect((await b.router.generate('more from B', { timeouts: { totalMs: 2_000 } })).deployment).toBe('backup');
    expect(primary.calls).toBe(4);
    expect(await raw.command(['HGET', `${prefix}{primary}`, 's'])).toBe('h');
    expect(await raw.command(['ZCARD', `${prefix}{primary}:probes`])).toBe(2);

    primary.mode = 'ok';
    primary.releaseOne();
    expect((await probeA).deployment).toBe('primary');
    await a.store.flush();
    expect(await raw.command(['HGET', `${prefix}{primary}`, 's'])).toBe('h'); // one success of two
    primary.releaseOne();
    expect((await probeB).deployment).toBe('primary');
    await b.store.flush();
    // Closed, and a closed circuit with no failures leaves no keys behind.
    expect(await raw.command(['EXISTS', `${prefix}{primary}`, `${prefix}{primary}:probes`])).toBe(0);

    expect((await a.router.generate('after A')).deployment).toBe('primary');
    expect((await b.router.generate('after B')).deployment).toBe('primary');
    expect(a.router.stats()['primary']?.circuit).toBe('closed');
    expect(b.router.stats()['primary']?.circuit).toBe('closed');
    expect(a.circuit).toEqual(['A:primary:closed->open', 'A:primary:open->half-open', 'A:primary:half-open->closed']);
    expect(b.circuit).toEqual(['B:primary:closed->half-open', 'B:primary:half-open->closed']);
  });

  it('a failed probe re-opens the circuit for both, with a fresh cooldown in Redis time', async () => {
    const { a, b, primary, prefix, raw } = await twoRouters({ failureThreshold: 1, cooldownMs: COOLDOWN_MS });
    primary.mode = 'fail';
    await b.router.generate('opens');
    await b.store.flush();
    const firstOpened = Number(await raw.command(['HGET', `${prefix}{primary}`, 'o']));
    await sleep(COOLDOWN_MS + 100);
    expect((await a.router.generate('failed probe')).attempts.map((x) => `${x.deployment}:${x.errorCode ?? 'ok'}`)).toEqual([
      'primary:provider_unavailable',
      'backup:ok',
    ]);
    await a.store.flush();
    expect(Number(await raw.command(['HGET', `${prefix}{primary}`, 'o']))).toBeGreaterThanOrEqual(firstOpened + COOLDOWN_MS);
    primary.mode = 'ok';
    // B's view is past the first cooldown (half-open), but Redis says open again: refused without a call.
    expect((await b.router.generate('refused')).deployment).toBe('backup');
    expect(primary.calls).toBe(2);
    expect(b.router.stats()['primary']?.circuit).toBe('open');
  });

  it('a failure that opens the circuit reads unavailable at once (before Redis answers it); a count Redis reset meanwhile is corrected by the answer', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:circuit:`;
    let t = 1_000_000;
    const config = CircuitBreakerSchema.parse({ failureThreshold: 2, cooldownMs: 60_000 });
    const aStore = await store(prefix);
    const a = aStore.circuit('d', { config, now: () => t });
    const bStore = await store(prefix);
    const b = bStore.circuit('d', { config, now: () => t });
    a.failure(await a.acquire()); // one of two
    expect({ available: a.isAvailable(), reopensInMs: a.reopensInMs?.() }).toEqual({ available: true, reopensInMs: 0 });
    await aStore.flush();
    a.failure(await a.acquire()); // the second: opens, though Redis has not answered yet
    expect({ available: a.isAvailable(), reopensInMs: a.reopensInMs?.() }).toEqual({ available: false, reopensInMs: 60_000 });
    t += 1_000;
    expect(a.reopensInMs?.()).toBe(59_000);
    await aStore.flush();
    expect({ state: a.state, available: a.isAvailable() }).toEqual({ state: 'open', available: false });
    // Closed again (a reset); then one failure counted by A, reset by B's success, which A does not see.
    a.reset();
    await aStore.flush();
    a.failure(await a.acquire());
    await aStore.flush();
    const permit = await a.acquire(); // its answer: one failure counted
    b.success(await b.acquire());
    await bStore.flush();
    a.failure(permit); // A reckons it the second; Redis counts it the first
    expect(a.isAvailable()).toBe(false);
    await aStore.flush();
    expect({ state: a.state, available: a.isAvailable(), reopensInMs: a.reopensInMs?.() }).toEqual({ state: 'closed', available: true, reopensInMs: 0 });
  });

  it("a failure right after this router's own success, still unanswered, does not read as opening (the success reset the count): closed, as Redis counts it", async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:circuit:`;
    const s = await store(prefix);
    const config = CircuitBreakerSchema.parse({ failureThreshold: 2, cooldownMs: 60_000 });
    const c = s.circuit('d', { config, now: () => 1_000_000 });
    c.failure(await c.acquire()); // one of two, answered
    await s.flush();
    const p1 = await c.acquire();
    const p2 = await c.acquire();
    // Two calls end one right after the other: a success, then a failure (Redis applies them in that order).
    c.success(p1);
    c.failure(p2);
    // As in memory: the success reset the count, the failure is the first of two: closed, available.
    const atOnce = { available: c.isAvailable(), reopensInMs: c.reopensInMs?.() };
    await s.flush();
    expect({ atOnce, after: { state: c.state, available: c.isAvailable() } }).toEqual({
      atOnce: { available: true, reopensInMs: 0 },
      after: { state: 'closed', available: true },
    });
  });

  it("a probe whose process never reports frees its slot after probeTtlMs", async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:circuit:`;
    const config = CircuitBreakerSchema.parse({ failureThreshold: 1, cooldownMs: 100, halfOpenMaxProbes: 1 });
    const dyingStore = await store(prefix, { probeTtlMs: 300 });
    const dying = dyingStore.circuit('d', { config, now: Date.now });
    const alive = (await store(prefix, { probeTtlMs: 300 })).circuit('d', { config, now: Date.now });
    dying.failure();
    await dyingStore.flush();
    expect(dying.state).toBe('open');
    await sleep(150);
    expect((await dying.acquire())?.probe).toBe(true); // taken, never reported
    expect(await alive.acquire()).toBeUndefined();
    await sleep(350);
    expect((await alive.acquire())?.probe).toBe(true);
  });

  it("a tenant created again under its id (another incarnation) starts with its own models' circuits closed; the same incarnation shares them", async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:circuit:`;
    const config: RouterConfigInput = {
      models: [{ name: 'shared', engine: 'mock' }],
      routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    };
    const failing = { name: 'own', engine: 'mock', options: { failures: [{ code: 'provider_unavailable', message: 'down', times: 100 }] } };
    const working = { name: 'own', engine: 'mock', options: { reply: 'mine' } };
    const make = async () => {
      const circuitStore = await store(prefix);
      const router = new LLMRouter(config, { circuitStore, unknownTenant: 'shared' });
      cleanup.push(() => router.close());
      return { router, circuitStore };
    };
    const a = await make();
    const b = await make();
    // A serves the tenant's first incarnation (created at 1000): its own model fails and its circuit opens in Redis.
    a.router.setTenant({ id: 'acme', models: [failing] }, { incarnation: 1000 });
    await expect(a.router.generate('hi', { tenant: 'acme', model: 'own' })).rejects.toMatchObject({ code: 'provider_unavailable' });
    await a.circuitStore.flush();
    expect(a.router.circuits()).toContainEqual({ deployment: 'own', tenant: 'acme', state: 'open' });
    // B serving the same incarnation (and model config) shares that circuit: refused without a call.
    b.router.setTenant({ id: 'acme', models: [failing] }, { incarnation: 1000 });
    await expect(b.router.generate('hi', { tenant: 'acme', model: 'own' })).rejects.toMatchObject({ code: 'circuit_open' });
    // The tenant deleted and created again (created at 2000), in A and in B: a new customer, closed circuits.
    for (const r of [a.router, b.router]) {
      r.removeTenant('acme');
      r.setTenant({ id: 'acme', models: [working] }, { incarnation: 2000 });
      expect(await r.generate('hi', { tenant: 'acme', model: 'own' })).toMatchObject({ deployment: 'own', text: 'mine' });
      expect(r.circuits()).toContainEqual({ deployment: 'own', tenant: 'acme', state: 'closed' });
    }
    // setTenant with another incarnation (back to the first), without removeTenant, makes the own models anew too:
    // keyed by the first incarnation again, whose circuit is open.
    a.router.setTenant({ id: 'acme', models: [failing] }, { incarnation: 1000 });
    await expect(a.router.generate('hi', { tenant: 'acme', model: 'own' })).rejects.toMatchObject({ code: 'circuit_open' });
  });

  it("a tenant's model changed to call another upstream or key starts closed in every process; a priority change keeps the open circuit", async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:circuit:`;
    const config: RouterConfigInput = {
      models: [{ name: 'shared', engine: 'mock' }],
      routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    };
    // An upstream that answers only the right key: first called with a wrong one, the fix is a new key (only that
    // field of the model's config changes).
    const keyed: EngineFactory = (model) => {
      const mock = new MockEngine({ modelId: 'x', reply: 'mine' });
      const generate = async (...args: Parameters<MockEngine['generate']>): Promise<GenerateResult> => {
        if (model.apiKey !== 'sk-right') throw new LLMError({ code: 'provider_unavailable', message: 'down', isRetryable: true });
        return MockEngine.prototype.generate.apply(mock, args);
      };
      return Object.assign(mock, { generate });
    };
    const own = { name: 'own', engine: 'keyed', apiKey: 'sk-wrong' };
    const fixed = { ...own, apiKey: 'sk-right' };
    const keys: string[] = [];
    const make = async () => {
      const redis = await store(prefix);
      const circuitStore: CircuitStateStore = { circuit: (key, options) => (keys.push(key), redis.circuit(key, options)) };
      const router = new LLMRouter(config, { circuitStore, unknownTenant: 'shared', engineFactories: { keyed } });
      cleanup.push(() => router.close());
      return { router, redis };
    };
    const a = await make();
    const b = await make();
    a.router.setTenant({ id: 'acme', models: [own] }, { incarnation: 1000 });
    b.router.setTenant({ id: 'acme', models: [own] }, { incarnation: 1000 });
    await expect(a.router.generate('hi', { tenant: 'acme', model: 'own' })).rejects.toMatchObject({ code: 'provider_unavailable' });
    await a.redis.flush();
    // B shares the open circuit (same config, same key in both processes): refused without a call.
    await expect(b.router.generate('hi', { tenant: 'acme', model: 'own' })).rejects.toMatchObject({ code: 'circuit_open' });
    // Only the priority changed: the same upstream and key, the same (open) circuit.
    b.router.setTenant({ id: 'acme', models: [{ ...own, priority: 5 }] }, { incarnation: 1000 });
    await expect(b.router.generate('hi', { tenant: 'acme', model: 'own' })).rejects.toMatchObject({ code: 'circuit_open' });
    // The key changed (as an admin PATCH sets it; each process reads the tenant again): closed at once, in both.
    for (const r of [a.router, b.router]) {
      r.setTenant({ id: 'acme', models: [fixed] }, { incarnation: 1000 });
      expect(await r.generate('hi', { tenant: 'acme', model: 'own' })).toMatchObject({ deployment: 'own', text: 'mine' });
    }
    // A shared deployment's key is its name; no key holds a secret (the fingerprint is a hash).
    expect(keys.filter((k) => !k.startsWith('acme:'))).toEqual(['shared', 'shared']);
    // A's and B's first, B's priority change (one key), then A's and B's fixed model (another one).
    const ownKeys = keys.filter((k) => k.startsWith('acme:'));
    expect(ownKeys).toEqual([ownKeys[0], ownKeys[0], ownKeys[0], ownKeys[3], ownKeys[3]]);
    expect(ownKeys[3]).not.toBe(ownKeys[0]);
    for (const k of keys) expect(k).not.toMatch(/sk-wrong|sk-right/);
  });

  it("a tenant's model that timed out and was given longer timeouts starts closed in every process, not refused by the old circuit", async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:circuit:`;
    const config: RouterConfigInput = {
      models: [{ name: 'shared', engine: 'mock' }],
      routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    };
    // A model that answers, slowly: its first bound (totalMs 50) is shorter than it takes, the fix a longer one.
    const slow: EngineFactory = () => new MockEngine({ modelId: 'x', reply: 'mine', delayMs: 300 });
    const own = { name: 'own', engine: 'slow', timeouts: { totalMs: 50 } };
    const longer = { ...own, timeouts: { totalMs: 60_000 } };
    const make = async () => {
      const circuitStore = await store(prefix);
      const router = new LLMRouter(config, { circuitStore, unknownTenant: 'shared', engineFactories: { slow } });
      cleanup.push(() => router.close());
      return { router, redis: circuitStore };
    };
    const a = await make();
    const b = await make();
    a.router.setTenant({ id: 'acme', models: [own] }, { incarnation: 1000 });
    b.router.setTenant({ id: 'acme', models: [own] }, { incarnation: 1000 });
    await expect(a.router.generate('hi', { tenant: 'acme', model: 'own' })).rejects.toMatchObject({ code: 'timeout' });
    await a.redis.flush();
    await expect(b.router.generate('hi', { tenant: 'acme', model: 'own' })).rejects.toMatchObject({ code: 'circuit_open' });
    // The timeouts changed (as an admin PATCH sets them; each process reads the tenant again): closed, in both.
    for (const r of [b.router, a.router]) {
      r.setTenant({ id: 'acme', models: [longer] }, { incarnation: 1000 });
      expect(await r.generate('hi', { tenant: 'acme', model: 'own' })).toMatchObject({ deployment: 'own', text: 'mine' });
    }
  });

  it('when Redis fails, calls go on from the local view and onError hears about it', async () => {
    const errors: unknown[] = [];
    const handle = await connectRedis(redisUrl!, '');
    const circuitStore = new RedisCircuitStateStore(handle, { keyPrefix: `t${randomBytes(6).toString('hex')}:`, onError: (e) => errors.push(e) });
    await handle.release(); // the connection is gone
    cleanup.push(() => circuitStore.close());
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { circuitStore });
    cleanup.push(() => router.close());
    expect((await router.generate('still works')).deployment).toBe('m');
    expect(errors.length).toBeGreaterThan(0);
  });

  it("without onError, Redis errors go to the router's warn option (at most every 30 s), not to console.warn", async () => {
    const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const warned: string[] = [];
      const handle = await connectRedis(redisUrl!, '');
      const circuitStore = new RedisCircuitStateStore(handle, { keyPrefix: `t${randomBytes(6).toString('hex')}:` });
      cleanup.push(() => circuitStore.close());
      const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { circuitStore, warn: (m) => warned.push(m) });
      cleanup.push(() => router.close());
      await handle.release(); // the connection is gone
      expect((await router.generate('still works')).deployment).toBe('m');
      expect((await router.generate('still works')).deployment).toBe('m');
      await vi.waitFor(() => expect(warned.length).toBeGreaterThan(0), { timeout: 5_000 });
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatch(/^\[llmrr\] Redis circuit store: .*; circuits decide from local state meanwhile$/);
      expect(consoleWarn).not.toHaveBeenCalled();
    } finally {
      consoleWarn.mockRestore();
    }
  });

  describe('two routers on one store without onError: whose log hears what', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    /** A store over its own connection (released by the caller to make Redis fail) and its `close` in cleanup. */
    const store = async (options: ConstructorParameters<typeof RedisCircuitStateStore>[1] = {}) => {
      const handle = await connectRedis(redisUrl!, '');
      const circuitStore = new RedisCircuitStateStore(handle, { keyPrefix: `t${randomBytes(6).toString('hex')}:`, ...options });
      cleanup.push(() => circuitStore.close());
      return { handle, circuitStore };
    };

    it("a circuit's Redis error reaches the warn of the router whose call met it, not that of another router created after it", async () => {
      const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const { handle, circuitStore } = await store();
      const a: string[] = [];
      const b: string[] = [];
      const routerA = new LLMRouter({ models: [{ name: 'tenant-a-model', engine: 'mock' }] }, { circuitStore, warn: (m) => a.push(m) });
      cleanup.push(() => routerA.close());
      const routerB = new LLMRouter({ models: [{ name: 'tenant-b-model', engine: 'mock' }] }, { circuitStore, warn: (m) => b.push(m) });
      cleanup.push(() => routerB.close());
      await handle.release(); // Redis gone
      expect((await routerA.generate('only A calls')).deployment).toBe('tenant-a-model');
      await vi.waitFor(() => expect(a.length).toBeGreaterThan(0), { timeout: 5_000 });
      expect(a).toEqual([expect.stringMatching(/^\[llmrr\] Redis circuit store: .*; circuits decide from local state meanwhile$/)]);
      // Each log has its own 30 s window: B's first error is told to B although A was just told one.
      expect((await routerB.generate('now B')).deployment).toBe('tenant-b-model');
      await vi.waitFor(() => expect(b.length).toBe(1), { timeout: 5_000 });
      expect(a).toHaveLength(1);
      expect(consoleWarn).not.toHaveBeenCalled();
    });

    it("a closed router leaves the store: the live router's errors reach its own warn, none the closed one's", async () => {
      const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const { handle, circuitStore } = await store();
      const a: string[] = [];
      const b: string[] = [];
      const routerA = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { circuitStore, warn: (m) => a.push(m) });
      cleanup.push(() => routerA.close());
      const routerB = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { circuitStore, warn: (m) => b.push(m) });
      await routerB.close(); // e.g. a gateway reloaded its config: the old router is closed, its log with it
      await handle.release();
      expect((await routerA.generate('still works')).deployment).toBe('m');
      await vi.waitFor(() => expect(a.length).toBeGreaterThan(0), { timeout: 5_000 });
      // The store's own errors (its subscription's connection gone) too: to A's log alone.
      await circuitStore.flush();
      expect({ a: a.length, b: b.length, console: consoleWarn.mock.calls.length }).toEqual({ a: 1, b: 0, console: 0 });
    });

    it("a warn that rejects (an async log): the call goes on, no unhandled rejection", async () => {
      const { handle, circuitStore } = await store();
      let told = 0;
      const rejecting = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, {
        circuitStore,
        warn: async () => {
          told++;
          throw new Error('log backend down');
        },
      });
      cleanup.push(() => rejecting.close());
      await handle.release();
      expect((await rejecting.generate('still works')).deployment).toBe('m');
      await vi.waitFor(() => expect(told).toBe(1), { timeout: 5_000 });
      // (vitest fails the run on an unhandled rejection: give it a turn to surface.)
      await new Promise((resolve) => setImmediate(resolve));
    });

    it("the store's own warn option hears the errors concerning no circuit, and those of a router's circuits without a warn of its own", async () => {
      const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const own: string[] = [];
      const { handle, circuitStore } = await store({ warn: (m) => own.push(m) });
      const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { circuitStore });
      cleanup.push(() => router.close());
      await handle.release();
      expect((await router.generate('still works')).deployment).toBe('m');
      await vi.waitFor(() => expect(own).toHaveLength(1), { timeout: 5_000 });
      expect(own[0]).toMatch(/^\[llmrr\] Redis circuit store: .*; circuits decide from local state meanwhile$/);
      expect(consoleWarn).not.toHaveBeenCalled();
    });

    describe('a Redis user that may not PUBLISH (RedisCircuitStateStore.connect warns while it waits, before any router)', () => {
      /** A Redis URL of a new user with every command but no channel (no PUBLISH); deleted in cleanup. */
      const noPublishUrl = async () => {
        const admin = await connectRedis(redisUrl!, '');
        cleanup.push(() => admin.release());
        const user = `t${randomBytes(6).toString('hex')}`;
        await admin.command(['ACL', 'SETUSER', user, 'on', '>pw', '~*', '+@all', 'resetchannels']);
        cleanup.push(() => admin.command(['ACL', 'DELUSER', user]));
        const url = new URL(redisUrl!);
        url.username = user;
        url.password = 'pw';
        return url.toString();
      };
      const PERMISSION = /^\[llmrr\] Redis circuit store: this Redis user may not PUBLISH on \S+: NOPERM.*; circuits decide from local state meanwhile( \(and \d+ more error\(s\) since\))?$/;

      it("the warning is kept until a router joins: its warn hears it (once, one prefix), console.warn does not", async () => {
        const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
        const circuitStore = await RedisCircuitStateStore.connect(await noPublishUrl(), { keyPrefix: `t${randomBytes(6).toString('hex')}:` });
        cleanup.push(() => circuitStore.close());
        const warned: string[] = [];
        const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { circuitStore, warn: (m) => warned.push(m) });
        cleanup.push(() => router.close());
        expect((await router.generate('hi')).deployment).toBe('m');
        await circuitStore.flush();
        expect(consoleWarn).not.toHaveBeenCalled();
        expect(warned).toEqual([expect.stringMatching(PERMISSION)]);
      });

      it("a warn given to the store hears it at once; a store no router ever joined tells console.warn at close", async () => {
        const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
        const url = await noPublishUrl();
        const own: string[] = [];
        const withWarn = await RedisCircuitStateStore.connect(url, { keyPrefix: `t${randomBytes(6).toString('hex')}:`, warn: (m) => own.push(m) });
        cleanup.push(() => withWarn.close());
        await vi.waitFor(() => expect(own).toEqual([expect.stringMatching(PERMISSION)]), { timeout: 5_000 });
        const alone = await RedisCircuitStateStore.connect(url, { keyPrefix: `t${randomBytes(6).toString('hex')}:` });
        await alone.flush();
        expect(consoleWarn).not.toHaveBeenCalled();
        await alone.close();
        expect(consoleWarn.mock.calls).toEqual([[expect.stringMatching(PERMISSION)]]);
      });
    });
  });
});

/** A mock engine whose answers wait on `gate` (honouring the abort), counting the calls started. */
class GatedEngine extends MockEngine {
  started = 0;
  /** Called as a call starts (after its deployment's admission came back). */
  onStart: () => void = () => {};
  constructor(private readonly gate: Promise<void> = new Promise<void>(() => {})) {
    super();
  }

  private async gated(signal: AbortSignal | undefined): Promise<void> {
    this.started++;
    this.onStart();
    await new Promise<void>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      void this.gate.then(resolve);
    });
  }

  override async generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    await this.gated(options?.signal);
    return super.generate(request, options);
  }

  override async *stream(request: GenerateRequest, options: CallOptions = {}): AsyncGenerator<StreamPart> {
    await this.gated(options.signal);
    yield* super.stream(request, options);
  }
}

describe.skipIf(skip !== undefined)(skip ?? "RedisCircuitStateStore whose answers are held: a call waiting for its admission does not wait for Redis", () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /**
   * Deployments a and b (hedged after `delayMs`) over real Redis behind a relay, whose answers are held from a's first
   * start on (a's admission came back): an admission round trip sent after it is pending. The store's bound is
   * generous, as an operator may set it (the docs ask to keep it above the longest attempt). `released`: the permits
   * given back, by circuit key.
   */
  async function heldRedis(delayMs: number) {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    const url = new URL(redisUrl!);
    url.port = String(relay.port);
    const store = await RedisCircuitStateStore.connect(url.toString(), { keyPrefix: `t${randomBytes(6).toString('hex')}:`, timeoutMs: 60_000 });
    cleanup.push(() => store.close());
    cleanup.push(() => relay.flush());
    const released: string[] = [];
    const circuitStore: CircuitStateStore = {
      circuit: (key, options) => {
        const circuit = store.circuit(key, options);
        const release = circuit.release.bind(circuit);
        circuit.release = (permit) => {
          released.push(key);
          release(permit);
        };
        return circuit;
      },
    };
    let open!: () => void;
    const a = new GatedEngine(new Promise<void>((resolve) => (open = resolve)));
    const b = new GatedEngine();
    a.onStart = () => {
      relay.hold();
      a.onStart = () => {};
    };
    const router = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'mock', priority: 1, capabilities: ['chat', 'streaming'] },
          { name: 'b', engine: 'mock', priority: 2, capabilities: ['chat', 'streaming'] },
        ],
        routing: { strategy: 'priority', retries: { max: 0 }, hedging: { enabled: true, delayMs, maxHedges: 1 } },
      },
      { engines: { a, b }, circuitStore },
    );
    cleanup.push(() => router.close());
    const hedged = new Promise<void>((resolve) => router.on('hedge', () => resolve()));
    return { router, a, b, open, hedged, released, flush: () => relay.flush() };
  }

  it("control: a hedged stream answers while b's admission round trip is held", async () => {
    const { router, b, open, hedged } = await heldRedis(50);
    const stream = router.stream('hi');
    const text = (async () => {
      let t = '';
      for await (const p of stream) if (p.type === 'text-delta') t += p.delta;
      return t;
    })();
    await hedged;
    expect(b.started).toBe(0);
    open();
    await endsSoon(text);
    expect((await stream.result).deployment).toBe('a');
  });

  it("a hedged generate answers while b's admission round trip is held (it does not wait for Redis); b's permit, when it comes, is given back", async () => {
    const { router, b, open, hedged, released, flush } = await heldRedis(50);
    const pending = router.generate('hi');
    await hedged;
    expect(b.started).toBe(0);
    open(); // a answers: the call has its answer; b is cancelled before its request went out
    await endsSoon(pending);
    expect((await pending).deployment).toBe('a');
    expect(released).toEqual([]);
    flush();
    await vi.waitFor(() => expect(released).toEqual(['b']), { timeout: 5_000 });
    expect(b.started).toBe(0);
  });

  it("the caller's abort ends a call waiting for its admission at once (aborted); its permit, when it comes, is given back", async () => {
    const { router, a, open, released, flush } = await heldRedis(60_000);
    // The first call's admission comes back (a starts; Redis answers are held from then on): the second call's
    // admission round trip is pending when its caller aborts.
    const first = router.generate('one');
    await vi.waitFor(() => expect(a.started).toBe(1), { timeout: 5_000 });
    const controller = new AbortController();
    const second = router.generate('two', { signal: controller.signal });
    controller.abort();
    await endsSoon(second);
    await expect(second).rejects.toMatchObject({ code: 'aborted' });
    flush();
    await vi.waitFor(() => expect(released).toEqual(['a']), { timeout: 5_000 });
    open();
    expect((await first).deployment).toBe('a');
    expect(a.started).toBe(1);
  });
});

describe('RedisCircuitStateStore without an answer from Redis', () => {
  /** A store over a Redis client that never answers (timeoutMs 50), and the errors it reports. */
  function hungStore() {
    const hung = {
      connect: async () => {},
      sendCommand: () => new Promise(() => {}),
      close: async () => {},
      destroy: () => {},
      on: () => {},
    };
    const errors: string[] = [];
    const circuitStore = new RedisCircuitStateStore(new RedisHandle(hung as unknown as ConstructorParameters<typeof RedisHandle>[0], ''), {
      timeoutMs: 50,
      onError: (e) => errors.push(e instanceof Error ? e.message : String(e)),
    });
    return { circuitStore, errors };
  }

  it('waits at most timeoutMs for admission, then decides from the local view', async () => {
    const { circuitStore, errors } = hungStore();
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { circuitStore });
    const r = await router.generate('hi');
    expect(r.deployment).toBe('m');
    expect(errors).toEqual(['no circuit admission answer within 50 ms']);
    await router.close();
  });

  it('peek (a token count reading the state) waits at most timeoutMs or until its signal aborts, then answers the local view', async () => {
    const { circuitStore, errors } = hungStore();
    const transitions: string[] = [];
    const circuit = circuitStore.circuit('d', { config: CircuitBreakerSchema.parse({}), now: Date.now, onTransition: (from, to) => transitions.push(`${from}->${to}`) });
    expect(await circuit.peek!()).toBe('closed');
    expect(errors).toEqual(['no circuit state answer within 50 ms']);
    const controller = new AbortController();
    const peeking = circuit.peek!(controller.signal);
    controller.abort();
    expect(await peeking).toBe('closed');
    expect(errors).toHaveLength(1); // an abort is the caller's, not Redis's trouble
    expect(transitions).toEqual([]);
  });

  it('close() waits for the outcomes in flight at most timeoutMs, then lets go of the connection', async () => {
    const { circuitStore } = hungStore();
    const circuit = circuitStore.circuit('d', { config: CircuitBreakerSchema.parse({}), now: Date.now });
    circuit.failure();
    let closed = false;
    const closing = circuitStore.close().then(() => (closed = true));
    // Shutdown must not hang on an outcome Redis never answers (hang guard: well above timeoutMs 50).
    await vi.waitFor(() => expect(closed).toBe(true), { timeout: 5_000 });
    await closing;
  });

  it('rejects bad options naming the field', () => {
    const handle = new RedisHandle({ on: () => {} } as unknown as ConstructorParameters<typeof RedisHandle>[0], '');
    expect(() => new RedisCircuitStateStore(handle, { probeTtlMs: 0 })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'probeTtlMs' }));
    expect(() => new RedisCircuitStateStore(handle, { timeoutMs: 1.5 })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'timeoutMs' }));
  });
});
