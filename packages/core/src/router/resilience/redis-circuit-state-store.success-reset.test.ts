/**
 * A success resets the consecutive failures in the Redis circuit store as it does in the in-memory breaker
 * (circuit-scripts.ts: "the state machine mirrors `CircuitBreaker`"), including the success of a call admitted
 * while no failure was counted (another router's failure reaches a router as the notice the outcome script
 * publishes, or it reports every success while it cannot hear notices); and a healthy deployment's success still
 * costs no round trip. Real Redis from vitest.global-setup.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreakerSchema } from '../../config/schema.js';
import { testServiceUrls } from '../../stores/__fixtures__/store-fixtures.js';
import { connectRedis, RedisHandle } from '../../stores/redis/redis-connection.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { DeploymentCircuit } from './circuit-state-store.js';
import { RedisCircuitStateStore } from './redis-circuit-state-store.js';

const { redisUrl } = testServiceUrls();
const skip = redisUrl ? undefined : 'Redis not available';

describe.skipIf(skip !== undefined)('RedisCircuitStateStore: a success between failures resets them, like CircuitBreaker', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const config = CircuitBreakerSchema.parse({ failureThreshold: 2, cooldownMs: 60_000 });

  async function openStore(prefix = `t${randomBytes(6).toString('hex')}:`): Promise<RedisCircuitStateStore> {
    const store = await RedisCircuitStateStore.connect(redisUrl!, { keyPrefix: prefix });
    cleanup.push(() => store.close());
    return store;
  }

  /**
   * One call admitted while the circuit had no failures (in flight), a failure, that call's success, another
   * failure: the success broke the streak, so two failures in a row never happened.
   */
  async function failureSuccessFailure(first: DeploymentCircuit, second: DeploymentCircuit, flush: () => Promise<void>): Promise<void> {
    const inFlight = await first.acquire();
    second.failure(await second.acquire());
    await flush();
    first.success(inFlight);
    await flush();
    second.failure(await second.acquire());
    await flush();
  }

  it('the in-memory breaker stays closed (control)', async () => {
    const breaker = new CircuitBreaker({ config, now: Date.now });
    await failureSuccessFailure(breaker, breaker, async () => {});
    expect(breaker.state).toBe('closed');
  });

  it('one router: the success of a call admitted before the first failure keeps the circuit closed', async () => {
    const store = await openStore();
    const circuit = store.circuit('primary', { config, now: Date.now });
    await failureSuccessFailure(circuit, circuit, () => store.flush());
    expect(circuit.state).toBe('closed');
  });

  it('one router: a success right after a failure whose report Redis has not answered yet still resets it', async () => {
    const store = await openStore();
    const circuit = store.circuit('primary', { config, now: Date.now });
    const inFlight = await circuit.acquire();
    circuit.failure(await circuit.acquire());
    // No flush: the failure's answer has not come back when the success is reported.
    circuit.success(inFlight);
    await store.flush();
    circuit.failure(await circuit.acquire());
    await store.flush();
    expect(circuit.state).toBe('closed');
  });

  it('two routers: a success in A, which has heard of B\'s failure since (another admission), keeps it closed for both', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const storeA = await openStore(prefix);
    const storeB = await openStore(prefix);
    const a = storeA.circuit('primary', { config, now: Date.now });
    const b = storeB.circuit('primary', { config, now: Date.now });
    const inFlight = await a.acquire();
    b.failure(await b.acquire());
    await storeB.flush();
    // A admits another call: the answer shows the failure B counted.
    const later = await a.acquire();
    a.success(inFlight);
    await storeA.flush();
    b.failure(await b.acquire());
    await storeB.flush();
    expect(b.state).toBe('closed');
    a.release(later);
  });

  // A sends nothing between its admission and its success: B's failure reaches it as the notice the outcome
  // script publishes (docs/core/router.md, Shared circuit state). `storeA.flush()` after B's waits until A has
  // heard what Redis published before; without that wait the notice is only a network hop behind.
  it('two routers: a success in A that sent nothing since B\'s failure still resets the count (A hears the failure notice)', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const storeA = await openStore(prefix);
    const storeB = await openStore(prefix);
    const a = storeA.circuit('primary', { config, now: Date.now });
    const b = storeB.circuit('primary', { config, now: Date.now });
    const runA = vi.spyOn(storeA, 'run');
    await failureSuccessFailure(a, b, async () => {
      await storeB.flush();
      await storeA.flush();
    });
    expect(b.state).toBe('closed');
    // A: its admission and the success that reset B's failure.
    expect(runA).toHaveBeenCalledTimes(2);
  });

  it('a healthy deployment: admission is the only script, the success sends none', async () => {
    const store = await openStore();
    const circuit = store.circuit('primary', { config, now: Date.now });
    const run = vi.spyOn(store, 'run');
    for (let i = 0; i < 3; i++) circuit.success(await circuit.acquire());
    await store.flush();
    expect(run).toHaveBeenCalledTimes(3);
    // After a failure and the success that reset it, successes are free again.
    circuit.failure(await circuit.acquire());
    await store.flush();
    circuit.success(await circuit.acquire());
    await store.flush();
    run.mockClear();
    circuit.success(await circuit.acquire());
    await store.flush();
    expect(run).toHaveBeenCalledTimes(1);
    expect(circuit.state).toBe('closed');
  });

  it('the failure notice goes out once per streak (the first failure since none), not once per failure', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const store = await openStore(prefix);
    const listener = (await connectRedis(redisUrl!, '')).retain();
    cleanup.push(() => listener.release());
    const heard: string[] = [];
    const subscription = await listener.subscribe(store.channel, (key) => heard.push(key), () => {});
    const circuit = store.circuit('primary', { config: CircuitBreakerSchema.parse({ failureThreshold: 5 }), now: Date.now });
    for (let i = 0; i < 3; i++) circuit.failure(await circuit.acquire());
    circuit.unadmittedFailure!();
    circuit.success(await circuit.acquire());
    circuit.failure(await circuit.acquire());
    await store.flush();
    await subscription.caughtUp();
    expect(heard).toEqual([`${prefix}{primary}`, `${prefix}{primary}`]);
  });

  it('a store that cannot hear failure notices reports every success (a correct count over a round trip)', async () => {
    // The store's connection, minus the second (subscribed) connection a store opens to hear notices.
    const full = (await connectRedis(redisUrl!, '')).retain();
    cleanup.push(() => full.release());
    const client = {
      connect: async () => {},
      sendCommand: (args: ReadonlyArray<string>) => full.command(args),
      close: async () => {},
      destroy: () => {},
      on: () => {},
    };
    const errors: unknown[] = [];
    const deaf = new RedisCircuitStateStore(new RedisHandle(client as unknown as ConstructorParameters<typeof RedisHandle>[0], ''), {
      keyPrefix: `t${randomBytes(6).toString('hex')}:`,
      onError: (e) => errors.push(e),
    });
    cleanup.push(() => deaf.close());
    const circuit = deaf.circuit('primary', { config, now: Date.now });
    const run = vi.spyOn(deaf, 'run');
    for (let i = 0; i < 2; i++) circuit.success(await circuit.acquire());
    await deaf.flush();
    expect(run).toHaveBeenCalledTimes(4);
    expect(errors).toEqual([]);
  });

  it('notices missed while the notice connection was down: the success of a call admitted before is reported', async () => {
    const admin = (await connectRedis(redisUrl!, '')).retain();
    cleanup.push(() => admin.release());
    // Its own Redis user, so that CLIENT KILL reaches only this store's subscribed connection.
    const user = `t${randomBytes(6).toString('hex')}`;
    await admin.command(['ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all']);
    cleanup.push(() => admin.command(['ACL', 'DELUSER', user]));
    const url = new URL(redisUrl!);
    url.username = user;
    url.password = 'pw';
    const store = await RedisCircuitStateStore.connect(url.toString(), { keyPrefix: `t${randomBytes(6).toString('hex')}:` });
    cleanup.push(() => store.close());
    const circuit = store.circuit('primary', { config, now: Date.now });
    const key = `${store.keyPrefix}{primary}`;
    expect(store.heard(key)).toBeDefined();
    const before = await circuit.acquire();

    expect(await admin.command(['CLIENT', 'KILL', 'USER', user, 'TYPE', 'pubsub'])).toBe(1);
    // node-redis reconnects and subscribes again by itself.
    await vi.waitFor(
      async () => {
        expect(await admin.command(['PUBSUB', 'NUMSUB', store.channel])).toEqual([store.channel, 1]);
        expect(store.heard(key)).toBeDefined();
      },
      { timeout: 10_000, interval: 20 },
    );
    const run = vi.spyOn(store, 'run');
    circuit.success(before);
    await store.flush();
    expect(run).toHaveBeenCalledTimes(1);
    // Admitted after: heard again, free again.
    circuit.success(await circuit.acquire());
    await store.flush();
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('a Redis user the ACL denies the notice channel: failures still count and open, every success is reported', async () => {
    const admin = (await connectRedis(redisUrl!, '')).retain();
    cleanup.push(() => admin.release());
    const user = `t${randomBytes(6).toString('hex')}`;
    await admin.command(['ACL', 'SETUSER', user, 'on', '>pw', '~*', '+@all', 'resetchannels']);
    cleanup.push(() => admin.command(['ACL', 'DELUSER', user]));
    const url = new URL(redisUrl!);
    url.username = user;
    url.password = 'pw';
    const errors: unknown[] = [];
    const store = await RedisCircuitStateStore.connect(url.toString(), { keyPrefix: `t${randomBytes(6).toString('hex')}:`, onError: (e) => errors.push(e) });
    cleanup.push(() => store.close());
    const circuit = store.circuit('primary', { config, now: Date.now });
    const run = vi.spyOn(store, 'run');
    circuit.success(await circuit.acquire());
    await store.flush();
    expect(run).toHaveBeenCalledTimes(2);
    circuit.failure(await circuit.acquire());
    circuit.failure(await circuit.acquire());
    await store.flush();
    expect(circuit.state).toBe('open');
    // The refused subscription, told once.
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/NOPERM/) })]);
  });
});
