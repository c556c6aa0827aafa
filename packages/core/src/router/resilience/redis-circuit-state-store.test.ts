/**
 * Circuit state shared through a real Redis (started by vitest.global-setup.ts): two routers, each on its
 * own connection like two gateway processes, over the same upstream deployments.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreakerSchema, type RouterConfigInput } from '../../config/schema.js';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { LLMError } from '../../errors/llm-error.js';
import { testServiceUrls } from '../../stores/__fixtures__/store-fixtures.js';
import { connectRedis, RedisHandle } from '../../stores/redis/redis-connection.js';
import type { GenerateResult, LanguageEngine } from '../../spec/index.js';
import { LLMRouter } from '../llm-router.js';
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
