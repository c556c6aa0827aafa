/**
 * A success resets the consecutive failures in the Redis circuit store as it does in the in-memory breaker
 * (circuit-scripts.ts: "the state machine mirrors `CircuitBreaker`"), including the success of a call admitted
 * while no failure was counted (another router's failure reaches a router as the notice the outcome script
 * publishes, or it reports every success while it cannot hear notices: its subscribed connection down or not
 * answering, or a circuit marked by a router whose Redis user cannot publish them); and a healthy deployment's success
 * still costs no round trip. Real Redis from vitest.global-setup.ts (behind a loopback relay for a stalled
 * connection).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { CircuitBreakerSchema } from '../../config/schema.js';
import { testServiceUrls } from '../../stores/__fixtures__/store-fixtures.js';
import { connectRedis, RedisHandle } from '../../stores/redis/redis-connection.js';
import { RedisTenantEvents } from '../../stores/redis/redis-tenant-events.js';
import { startTcpRelay } from '../../test/tcp-relay.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitPermit, DeploymentCircuit } from './circuit-state-store.js';
import { RedisCircuitStateStore, type RedisCircuitStateStoreOptions } from './redis-circuit-state-store.js';

const { redisUrl } = testServiceUrls();
const skip = redisUrl ? undefined : 'Redis not available';

describe.skipIf(skip !== undefined)('RedisCircuitStateStore: a success between failures resets them, like CircuitBreaker', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  const config = CircuitBreakerSchema.parse({ failureThreshold: 2, cooldownMs: 60_000 });

  async function openStore(prefix = `t${randomBytes(6).toString('hex')}:`, url = redisUrl!, options: RedisCircuitStateStoreOptions = {}): Promise<RedisCircuitStateStore> {
    const store = await RedisCircuitStateStore.connect(url, { keyPrefix: prefix, ...options });
    cleanup.push(() => store.close());
    return store;
  }

  async function admin(): Promise<RedisHandle> {
    const handle = (await connectRedis(redisUrl!, '')).retain();
    cleanup.push(() => handle.release());
    return handle;
  }

  /** A Redis user of its own with these ACL rules, as a URL (and its name). */
  async function userUrl(rules: string[]): Promise<{ url: string; user: string }> {
    const a = await admin();
    const user = `t${randomBytes(6).toString('hex')}`;
    await a.command(['ACL', 'SETUSER', user, 'on', '>pw', ...rules]);
    cleanup.push(() => a.command(['ACL', 'DELUSER', user]));
    const url = new URL(redisUrl!);
    url.username = user;
    url.password = 'pw';
    return { url: url.toString(), user };
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

  /**
   * A missed B's failure notice: the success of `inFlight` (admitted before that failure) is reported (one script in
   * A) and resets B's failure, so B's next failure leaves the circuit closed. Returns the spy on A's `run`.
   */
  async function missedNoticeSuccessResets(
    storeA: RedisCircuitStateStore,
    a: DeploymentCircuit,
    inFlight: CircuitPermit | undefined,
    storeB: RedisCircuitStateStore,
    b: DeploymentCircuit,
  ): Promise<MockInstance<RedisCircuitStateStore['run']>> {
    const runA = vi.spyOn(storeA, 'run');
    a.success(inFlight);
    expect(runA).toHaveBeenCalledTimes(1);
    await storeA.flush();
    b.failure(await b.acquire());
    await storeB.flush();
    expect(b.state).toBe('closed');
    return runA;
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
    const redis = await admin();
    // Its own Redis user, so that CLIENT KILL reaches only this store's subscribed connection.
    const { url, user } = await userUrl(['~*', '&*', '+@all']);
    const store = await openStore(undefined, url);
    const circuit = store.circuit('primary', { config, now: Date.now });
    const key = `${store.keyPrefix}{primary}`;
    expect(store.heard(key)).toBeDefined();
    const before = await circuit.acquire();

    expect(await redis.command(['CLIENT', 'KILL', 'USER', user, 'TYPE', 'pubsub'])).toBe(1);
    // node-redis reconnects and subscribes again by itself.
    await vi.waitFor(
      async () => {
        expect(await redis.command(['PUBSUB', 'NUMSUB', store.channel])).toEqual([store.channel, 1]);
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
    // Redis 7 gives a new ACL user no channel unless told (acl-pubsub-default resetchannels).
    const { url } = await userUrl(['~*', '+@all', 'resetchannels']);
    const errors: unknown[] = [];
    const store = await openStore(undefined, url, { onError: (e) => errors.push(e) });
    const circuit = store.circuit('primary', { config, now: Date.now });
    const run = vi.spyOn(store, 'run');
    circuit.success(await circuit.acquire());
    await store.flush();
    expect(run).toHaveBeenCalledTimes(2);
    circuit.failure(await circuit.acquire());
    circuit.failure(await circuit.acquire());
    await store.flush();
    expect(circuit.state).toBe('open');
    // Told once each: it may not publish the notices (its failures, the second one included, go unannounced), nor
    // subscribe to them.
    expect(errors).toEqual([
      expect.objectContaining({ code: 'permission_denied', message: expect.stringMatching(/may not PUBLISH on .*failed: NOPERM/) }),
      expect.objectContaining({ message: expect.stringMatching(/^NOPERM/) }),
    ]);
  });

  it('two routers, B\'s Redis user denied the channel: B\'s admissions mark the circuit, so A reports its success too (one breaker)', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const { url } = await userUrl(['~*', '+@all', 'resetchannels']);
    const storeA = await openStore(prefix);
    const storeB = await openStore(prefix, url, { onError: () => {} });
    const a = storeA.circuit('primary', { config, now: Date.now });
    const b = storeB.circuit('primary', { config, now: Date.now });
    const other = storeA.circuit('other', { config, now: Date.now });
    // B serves a call: its admission marks the circuit (B's failures are never announced).
    b.success(await b.acquire());
    await storeB.flush();
    // A's admission reads the mark, so A does not trust silence there.
    await failureSuccessFailure(a, b, async () => {
      await storeB.flush();
      await storeA.flush();
    });
    expect(b.state).toBe('closed');
    // The mark is in the circuit's hash (one cluster slot), for a minute: no key of the prefix's own.
    const redis = await admin();
    const key = `${prefix}{primary}`;
    expect(Number(await redis.command(['HGET', key, 'u']))).toBeGreaterThan(Date.now());
    expect(await redis.command(['PTTL', key])).toBeGreaterThan(0);
    expect(((await redis.command(['KEYS', `${prefix}*`])) as string[]).sort()).toEqual([key]);
    // A circuit B never touched is not marked: A's clean success there sends nothing.
    const run = vi.spyOn(storeA, 'run');
    other.success(await other.acquire());
    await storeA.flush();
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("B's Redis user denied the channel from its start: B marks each circuit it creates, so a call A admitted before B's first script there reports its success (one breaker)", async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const { url } = await userUrl(['~*', '+@all', 'resetchannels']);
    const storeA = await openStore(prefix);
    const storeB = await openStore(prefix, url, { onError: () => {} });
    // B knows from its start that it cannot publish (its probe at open).
    expect(storeB.unannouncing).toBe(true);
    const a = storeA.circuit('fallback', { config, now: Date.now });
    // (A router creates its circuits when it starts, long before a failover first uses a fallback.)
    const b = storeB.circuit('fallback', { config, now: Date.now });
    await storeB.flush();
    // A admits a call; B's first call on the circuit fails (unannounced); A's call succeeds; B fails again.
    await failureSuccessFailure(a, b, async () => {
      await storeB.flush();
      await storeA.flush();
    });
    expect(b.state).toBe('closed');
  });

  it('PUBLISH refused after start: the store marks every circuit it created (in batches, one key per script), not only the one whose notice was refused; nothing after close()', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const { url, user } = await userUrl(['~*', '&*', '+@all']);
    const storeA = await openStore(prefix);
    const storeB = await openStore(prefix, url, { onError: () => {} });
    const b = storeB.circuit('primary', { config, now: Date.now });
    const names = Array.from({ length: 600 }, (_, i) => `fallback-${i}`);
    for (const n of names) storeB.circuit(n, { config, now: Date.now });
    const a = storeA.circuit('fallback-599', { config, now: Date.now });
    const redis = await admin();
    // Nothing marked while B may publish (a closed circuit without failures has no keys).
    await storeB.flush();
    expect(await redis.command(['EXISTS', `${prefix}{fallback-0}`])).toBe(0);
    await redis.command(['ACL', 'SETUSER', user, '-publish']);

    b.failure(await b.acquire());
    await storeB.flush();
    expect(storeB.unannouncing).toBe(true);
    // flush() waits for the marking run too.
    const marks = await Promise.all(names.map((n) => redis.command(['HEXISTS', `${prefix}{${n}}`, 'u'])));
    expect(marks.every((m) => m === 1)).toBe(true);
    expect(Number(await redis.command(['PTTL', `${prefix}{fallback-599}`]))).toBeGreaterThan(0);
    // A circuit B never used since: A's clean admission there is not trusted, its success goes to Redis.
    const runA = vi.spyOn(storeA, 'run');
    a.success(await a.acquire());
    await storeA.flush();
    expect(runA).toHaveBeenCalledTimes(2);

    // Closed: no mark is written any more (a circuit created after close() included).
    await storeB.close();
    await redis.command(['DEL', `${prefix}{fallback-1}`]);
    storeB.circuit('late', { config, now: Date.now });
    await storeB.flush();
    expect(await redis.command(['EXISTS', `${prefix}{fallback-1}`, `${prefix}{late}`])).toBe(0);
  });

  it('a Redis user that may subscribe but not PUBLISH: each store tells onError once, and every success is reported', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const { url } = await userUrl(['~*', '&*', '+@all', '-publish']);
    const errors: unknown[] = [];
    const storeA = await openStore(prefix, url, { onError: (e) => errors.push(e) });
    const storeB = await openStore(prefix, url, { onError: (e) => errors.push(e) });
    const a = storeA.circuit('primary', { config, now: Date.now });
    const b = storeB.circuit('primary', { config, now: Date.now });
    await failureSuccessFailure(a, b, async () => {
      await storeB.flush();
      await storeA.flush();
    });
    expect(b.state).toBe('closed');
    expect(errors).toEqual([
      expect.objectContaining({ code: 'permission_denied', message: expect.stringMatching(/NOPERM/) }),
      expect.objectContaining({ code: 'permission_denied', message: expect.stringMatching(/NOPERM/) }),
    ]);
  });

  it('PUBLISH refused after start (an ACL changed): the outcome script says the notice was not sent and marks the circuit; onError is told and other routers stop trusting silence there', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const { url, user } = await userUrl(['~*', '&*', '+@all']);
    const errorsB: unknown[] = [];
    const storeA = await openStore(prefix);
    const storeB = await openStore(prefix, url, { onError: (e) => errorsB.push(e) });
    const a = storeA.circuit('primary', { config, now: Date.now });
    const b = storeB.circuit('primary', { config, now: Date.now });
    const redis = await admin();
    await redis.command(['ACL', 'SETUSER', user, '-publish']);

    b.failure(await b.acquire());
    b.failure(await b.acquire());
    await storeB.flush();
    expect(b.state).toBe('open');
    // Told once (the first failure of the streak is the one announced; its PUBLISH was refused).
    expect(errorsB).toEqual([expect.objectContaining({ code: 'permission_denied', message: expect.stringContaining(`may not PUBLISH on ${prefix}failed`) })]);
    // The outcome script marked the circuit: a reset keeps the mark (B is still there).
    expect(await redis.command(['HEXISTS', `${prefix}{primary}`, 'u'])).toBe(1);
    // A clean admission in A now is not trusted: its success goes to Redis.
    b.reset();
    await storeB.flush();
    const runA = vi.spyOn(storeA, 'run');
    a.success(await a.acquire());
    await storeA.flush();
    expect(runA).toHaveBeenCalledTimes(2);
    expect(await redis.command(['HEXISTS', `${prefix}{primary}`, 'u'])).toBe(1);
  });

  it('a subscribed connection that stops delivering without closing: silence is no longer trusted (a PING unanswered within timeoutMs), the success is reported', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    // Through the relay: connection #0 is A's, #1 its subscribed one (opened by the constructor).
    const storeA = await openStore(prefix, `redis://127.0.0.1:${relay.port}`);
    const storeB = await openStore(prefix);
    const a = storeA.circuit('primary', { config, now: Date.now });
    const b = storeB.circuit('primary', { config, now: Date.now });
    const key = `${prefix}{primary}`;
    const inFlight = await a.acquire();
    expect(storeA.heard(key)).toBeDefined();

    relay.stall(1);
    b.failure(await b.acquire());
    await storeB.flush();
    // flush() waits for the notices at most timeoutMs (1 s): it neither hangs nor leaves silence trusted. The hang
    // guard is ten times that.
    const flushed = await Promise.race([storeA.flush().then(() => 'flushed'), new Promise((r) => setTimeout(() => r('hung'), 10_000))]);
    expect(flushed).toBe('flushed');
    expect(storeA.heard(key)).toBeUndefined();

    await missedNoticeSuccessResets(storeA, a, inFlight, storeB, b);
  }, 20_000);


  /** The ids of `user`'s clients Redis has in pub/sub mode now (other test files share the Redis). */
  async function pubsubClients(redis: RedisHandle, user: string): Promise<string[]> {
    const list = String(await redis.command(['CLIENT', 'LIST', 'TYPE', 'pubsub']));
    return [...list.matchAll(/^id=(\d+) .* user=(\S+) /gm)].filter((m) => m[2] === user).map((m) => m[1]!);
  }

  it('a stalled subscribed connection is noticed without a flush (a PING every 2 s, answered within timeoutMs) and renewed once the PING stays unanswered 5 s longer: subscribed again on a new connection, notices missed meanwhile reset the count, then silence is trusted again', async () => {
    const prefix = `t${randomBytes(6).toString('hex')}:`;
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    const redis = await admin();
    // Through the relay, as a Redis user of its own (to tell its connections apart): connection #0 is A's, #1 its
    // subscribed one.
    const { url, user } = await userUrl(['~*', '&*', '+@all']);
    const viaRelay = new URL(url);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    const storeA = await openStore(prefix, viaRelay.toString());
    const storeB = await openStore(prefix);
    const a = storeA.circuit('primary', { config, now: Date.now });
    const b = storeB.circuit('primary', { config, now: Date.now });
    const key = `${prefix}{primary}`;
    const first = await pubsubClients(redis, user);
    expect(first).toHaveLength(1);
    const inFlight = await a.acquire();
    expect(storeA.heard(key)).toBeDefined();

    relay.stall(1);
    // B's failure notice never reaches A's stalled connection.
    b.failure(await b.acquire());
    await storeB.flush();
    // A's PING (every 2 s) goes unanswered: past timeoutMs silence is no longer trusted, 5 s later the connection
    // is dropped and a new one (#2, not stalled) subscribes.
    await vi.waitFor(
      async () => {
        const now = await pubsubClients(redis, user);
        expect(now).toHaveLength(1);
        expect(now).not.toEqual(first);
        expect(storeA.heard(key)).toBeDefined();
      },
      { timeout: 25_000, interval: 50 },
    );
    // The notice was missed: the success of the call admitted before it is reported, and resets B's failure.
    const runA = await missedNoticeSuccessResets(storeA, a, inFlight, storeB, b);
    b.success(await b.acquire());
    await storeB.flush();
    // Back to normal on the new connection: a clean success costs no script, and B's next failure is heard.
    runA.mockClear();
    await failureSuccessFailure(a, b, async () => {
      await storeB.flush();
      await storeA.flush();
    });
    expect(b.state).toBe('closed');
    expect(runA).toHaveBeenCalledTimes(2);
    b.success(await b.acquire());
    await storeB.flush();
    await storeA.flush();
    runA.mockClear();
    a.success(await a.acquire());
    await storeA.flush();
    expect(runA).toHaveBeenCalledTimes(1);
  }, 45_000);

  // An ACL without PING (`+@pubsub` does not include it): the refusal is an answer, after every notice queued before
  // it, so the connection delivers. Renewing it would churn the handle's subscribed connection every check, telling
  // every listener on it (the tenant-deletion listener's `onMissed`: every tenant re-checked) that it missed notices.
  it('a PING the subscribed connection refuses (an ACL without PING): onError is told once, silence is still trusted, the connection is kept', async () => {
    const { url, user } = await userUrl(['~*', '&*', '+@all', '-ping']);
    const redis = await admin();
    const handle = (await connectRedis(url, '')).retain();
    cleanup.push(() => handle.release());
    const errors: unknown[] = [];
    const store = new RedisCircuitStateStore(handle, { keyPrefix: `t${randomBytes(6).toString('hex')}:`, onError: (e) => errors.push(e) });
    cleanup.push(() => store.close());
    // Another listener on the same subscribed connection (as the tenant-deletion listener is in shared mode).
    const listening: boolean[] = [];
    const other = await handle.subscribe(`t${randomBytes(6).toString('hex')}:tenant-deleted`, () => {}, (up) => listening.push(up));
    cleanup.push(async () => other.close());
    const key = `${store.keyPrefix}{primary}`;
    store.circuit('primary', { config, now: Date.now });
    await vi.waitFor(() => expect(store.heard(key)).toBeDefined(), { timeout: 5_000, interval: 20 });
    const first = await pubsubClients(redis, user);
    expect(first).toHaveLength(1);
    // Two PING checks (what the store's 2 s timer runs), both refused.
    await store.flush();
    await store.flush();
    expect(store.heard(key)).toBeDefined();
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/^NOPERM/) })]);
    // Not renewed: no listener was told it may miss messages, and Redis still has the same subscribed connection.
    expect(listening).toEqual([true]);
    expect(await pubsubClients(redis, user)).toEqual(first);
  }, 20_000);

  // Redis slower than timeoutMs for a moment (a fork, a slow script) is not a stalled connection: silence is not
  // trusted meanwhile, but the connection is kept, with the notices queued on it.
  it('a PING answered late (a slow Redis, not a stalled connection): silence is not trusted meanwhile, the connection and the notices queued on it are kept', async () => {
    const target = new URL(redisUrl!);
    const relay = await startTcpRelay({ host: target.hostname, port: Number(target.port) });
    cleanup.push(() => relay.close());
    const handle = (await connectRedis(`redis://127.0.0.1:${relay.port}`, '')).retain();
    cleanup.push(() => handle.release());
    const store = new RedisCircuitStateStore(handle, { keyPrefix: `t${randomBytes(6).toString('hex')}:`, timeoutMs: 1_000, onError: () => {} });
    cleanup.push(() => store.close());
    const key = `${store.keyPrefix}{primary}`;
    store.circuit('primary', { config, now: Date.now });
    const channel = `t${randomBytes(6).toString('hex')}:tenant-deleted`;
    const events = new RedisTenantEvents(handle, { channel, timeoutMs: 2_000 });
    cleanup.push(() => events.close());
    const seen: string[] = [];
    const sub = await events.onDeleted(
      (id) => seen.push(`deleted ${id}`),
      () => seen.push('missed'),
    );
    cleanup.push(async () => sub.close());
    await vi.waitFor(() => expect(store.heard(key)).toBeDefined(), { timeout: 5_000, interval: 20 });
    const publisher = new RedisTenantEvents(await connectRedis(redisUrl!, ''), { channel, timeoutMs: 2_000 });
    cleanup.push(() => publisher.close());

    // Redis answers late for a moment (the commands run, the answers come after timeoutMs).
    relay.hold();
    await publisher.deleted('acme');
    await vi.waitFor(() => expect(store.heard(key)).toBeUndefined(), { timeout: 10_000, interval: 20 });
    relay.flush();
    await vi.waitFor(() => expect(store.heard(key)).toBeDefined(), { timeout: 15_000, interval: 20 });
    // The deletion published while Redis was slow was queued on the subscribed connection: delivered, not missed.
    expect(seen).toEqual(['deleted acme']);
  }, 40_000);
});
