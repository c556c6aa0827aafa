/**
 * Review: `routing.hedging.delayMs` is any positive integer (config/schema.ts HedgingSchema) and is slept with a
 * plain setTimeout (run-attempts.ts `host.sleep(plan.hedging.delayMs, ...)`): past 2^31 - 1 ms Node fires it after
 * 1 ms, so a delay meant as "hedge only after days" hedges every call at once (two paid requests). The commit
 * clamps (`timerDelay`) or refuses (`timerMs` in the schema) other timers, not this one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import '../../engines/index.js';
import { LLMRouter } from '../llm-router.js';

const routers: LLMRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

describe('hedging.delayMs past 2^31 - 1 ms (review)', () => {
  it('a call answered in 200 ms sends no hedge (or the config is refused)', async () => {
    let r: LLMRouter;
    try {
      r = new LLMRouter({
        models: [
          { name: 'a', engine: 'mock', model: 'mock-a', options: { delayMs: 200 } },
          { name: 'b', engine: 'mock', model: 'mock-b', options: { delayMs: 200 } },
        ],
        routing: { hedging: { enabled: true, delayMs: 3_000_000_000 }, fallbacks: { a: ['b'] } },
      } as never);
    } catch (e) {
      expect((e as { code?: string }).code).toBe('config_invalid'); // refusing it is a fix too
      return;
    }
    routers.push(r);
    await r.generate('hello', { model: 'a' });
    const stats = r.stats();
    expect({ a: stats['a']?.requests ?? 0, b: stats['b']?.requests ?? 0 }).toEqual({ a: 1, b: 0 });
  });
});
