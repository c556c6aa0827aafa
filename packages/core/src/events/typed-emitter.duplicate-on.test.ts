/**
 * Review of 071ade2: `on()` ignores a listener already registered for the event, but still returns a remover, which
 * removes the registration someone else made. Disposing of a subscription that did nothing unsubscribes another party.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../learning/predictors/adam.js';
import { LLMRouter } from '../router/llm-router.js';
import { createAdaptiveStrategy } from '../router/strategies/adaptive.js';
import { TypedEmitter } from './typed-emitter.js';

describe('TypedEmitter.on with a listener already added', () => {
  it("the second subscriber's remover leaves the first subscription in place", () => {
    const e = new TypedEmitter<{ tick: number }>();
    const seen: number[] = [];
    const log = (n: number) => seen.push(n);
    e.on('tick', log); // component A, keeps its subscription for the app's lifetime
    const offB = e.on('tick', log); // component B subscribes the same function (ignored) ...
    offB(); // ... and later goes away
    e.emit('tick', 1);
    expect(seen).toEqual([1]);
    e.off('tick', log); // off(fn) still removes the one registration
    e.emit('tick', 2);
    expect([seen, e.has('tick')]).toEqual([[1], false]);
  });

  it("a registered adaptive strategy keeps learning after a caller undoes its own router.on(request:end, onRequestEnd)", async () => {
    const adaptive = createAdaptiveStrategy({ implicitWeight: 0.25 });
    const router = new LLMRouter(
      { models: [{ name: 'only', engine: 'mock' }], routing: { strategy: 'adaptive', retries: { max: 0 } } },
      { random: seededRandom(1), strategies: { adaptive } },
    );
    // A caller wires the learner itself for a while (as `connect` does), then unwires what it wired.
    const off = router.on('request:end', adaptive.onRequestEnd);
    off();
    await router.generate('What is a CRDT?');
    // The router's own wiring (strategies option) must still feed it: one implicit observation.
    expect(adaptive.snapshot()['only']?.observations ?? 0).toBe(0.25);
    await router.close();
  });
});
