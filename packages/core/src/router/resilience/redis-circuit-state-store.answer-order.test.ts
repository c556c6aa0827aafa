/**
 * A Redis circuit's view (state, known failure count) is that of the NEWEST script answer, whatever order the
 * answers are handled in. Redis answers scripts in the order they were sent, but an admission answer goes through
 * `Promise.race([reply, deadline]).then(...)` (more microtask hops) while an outcome answer goes through
 * `run(...).then(...)`: when both come in one read from the socket (a call admitted while another call's failure
 * report is on its way, both written in the same tick), the failure report's answer (failures 1) is handled first.
 * The older admission answer (failures 0) must not overwrite it: the admitted call then succeeds, its success is
 * reported (this router knows of a failure to reset) and resets the count, so the next failure does not open the
 * circuit (threshold 2), as the in-memory breaker (a success between two failures resets them) never does.
 * Real Redis from vitest.global-setup.ts.
 */import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreakerSchema } from '../../config/schema.js';
import { testServiceUrls } from '../../stores/__fixtures__/store-fixtures.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { DeploymentCircuit } from './circuit-state-store.js';
import { RedisCircuitStateStore } from './redis-circuit-state-store.js';

const { redisUrl } = testServiceUrls();

describe.skipIf(!redisUrl)('RedisCircuitStateStore: an admission answered together with a failure report', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const config = CircuitBreakerSchema.parse({ failureThreshold: 2, cooldownMs: 60_000 });

  /** B admitted; A's admission and B's failure sent in the same tick; A succeeds; another failure. */
  async function scenario(circuit: DeploymentCircuit, flush: () => Promise<void>): Promise<void> {
    const b = await circuit.acquire();
    const pendingA = circuit.acquire();
    circuit.failure(b);
    const a = await pendingA;
    await flush();
    circuit.success(a);
    await flush();
    circuit.failure(await circuit.acquire());
    await flush();
  }

  it('the in-memory breaker stays closed (control)', async () => {
    const breaker = new CircuitBreaker({ config, now: Date.now });
    await scenario(breaker, async () => {});
    expect(breaker.state).toBe('closed');
  });

  it('one router: the success between the two failures resets them, the circuit stays closed', async () => {
    const store = await RedisCircuitStateStore.connect(redisUrl!, { keyPrefix: `t${randomBytes(6).toString('hex')}:` });
    cleanup.push(() => store.close());
    // Load both scripts first (a NOSCRIPT retry would add a round trip and hide the race).
    const warm = store.circuit('warm', { config, now: Date.now });
    warm.failure(await warm.acquire());
    warm.success(await warm.acquire());
    await store.flush();

    const circuit = store.circuit('primary', { config, now: Date.now });
    await scenario(circuit, () => store.flush());
    expect(circuit.state).toBe('closed');
  });

  it('one router: an older admission answer (closed) does not hide the opening a newer failure answer showed', async () => {
    const store = await RedisCircuitStateStore.connect(redisUrl!, { keyPrefix: `t${randomBytes(6).toString('hex')}:` });
    cleanup.push(() => store.close());
    const once = CircuitBreakerSchema.parse({ failureThreshold: 1, cooldownMs: 60_000 });
    const warm = store.circuit('warm', { config: once, now: Date.now });
    warm.failure(await warm.acquire());
    warm.reset();
    await store.flush();

    const transitions: string[] = [];
    const circuit = store.circuit('primary', { config: once, now: Date.now, onTransition: (from, to) => transitions.push(`${from}->${to}`) });
    const b = await circuit.acquire();
    const pendingA = circuit.acquire();
    circuit.failure(b);
    await pendingA;
    await store.flush();
    expect(circuit.state).toBe('open');
    expect(circuit.isAvailable()).toBe(false);
    expect(transitions).toEqual(['closed->open']);
  });
});
