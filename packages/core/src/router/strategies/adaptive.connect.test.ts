/**
 * `adaptive` wired to a router as packages/core/README-sections/learning.md showed
 * (`new LLMRouter(config, { strategies: { adaptive } })`, then `adaptive.connect(router)`, which that page no longer
 * shows but which stays harmless): each outcome is learned once.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../learning/predictors/adam.js';
import { LLMRouter } from '../llm-router.js';
import { createAdaptiveStrategy } from './adaptive.js';

describe('adaptive strategy wired as the README shows', () => {
  it('learns from each call once: one answered call is one implicit observation', async () => {
    const adaptive = createAdaptiveStrategy({ implicitWeight: 0.25 });
    const router = new LLMRouter(
      { models: [{ name: 'only', engine: 'mock' }], routing: { strategy: 'adaptive', retries: { max: 0 } } },
      { random: seededRandom(1), strategies: { adaptive } },
    );
    adaptive.connect(router); // as learning.md: "live outcomes from `request:end`"
    const r = await router.generate('What is a CRDT?');
    expect(r.deployment).toBe('only');
    // One success at implicitWeight 0.25 on top of the prior (observations start at 0).
    expect(adaptive.snapshot()['only']!.observations).toBe(0.25);
    await router.close();
  });

  it('a failed attempt counts as one reward-0 observation, not two', async () => {
    const adaptive = createAdaptiveStrategy();
    const router = new LLMRouter(
      {
        models: [
          { name: 'flaky', engine: 'mock', priority: 1, options: { failures: [{ code: 'provider_unavailable', times: 1 }] } },
          { name: 'solid', engine: 'mock', priority: 2 },
        ],
        routing: { strategy: 'adaptive', retries: { max: 0 }, fallbacks: ['flaky', 'solid'], circuitBreaker: { enabled: false } },
      },
      { random: seededRandom(1), strategies: { adaptive } },
    );
    adaptive.connect(router);
    // Ask for the flaky one first so that it fails once and the call falls over.
    const r = await router.generate('q', { model: 'flaky', fallbacks: ['solid'] });
    expect(r.attempts.map((a) => `${a.deployment}:${a.ok}`)).toEqual(['flaky:false', 'solid:true']);
    expect(adaptive.snapshot()['flaky']!.observations).toBe(1);
    await router.close();
  });

  it('a stream its consumer cancelled or closed mid-answer teaches nothing about the deployment that was answering', async () => {
    const adaptive = createAdaptiveStrategy({ implicitWeight: 0.25 });
    const router = new LLMRouter(
      { models: [{ name: 'only', engine: 'mock', options: { reply: 'one two three four five six', chunkDelayMs: 2 } }], routing: { strategy: 'adaptive', retries: { max: 0 } } },
      { random: seededRandom(1), strategies: { adaptive } },
    );
    for (const end of ['cancel', 'return'] as const) {
      const stream = router.stream('q');
      stream.result.catch(() => {});
      const it = stream[Symbol.asyncIterator]();
      let texts = 0;
      for (let i = 0; i < 10 && texts < 2; i++) if ((await it.next()).value?.type === 'text-delta') texts++;
      expect(texts).toBe(2);
      if (end === 'cancel') stream.cancel?.(new Error('client gone'));
      await it.return?.();
      await expect(stream.result).rejects.toMatchObject({ code: 'aborted', deployment: 'only' });
    }
    expect(adaptive.snapshot()['only']?.observations ?? 0).toBe(0);
    await router.close();
  });

  it('connect() before addStrategy, and the strategy registered under two names, learn once too', async () => {
    const held = createAdaptiveStrategy({ implicitWeight: 0.25 });
    const router = new LLMRouter({ models: [{ name: 'only', engine: 'mock' }], routing: { strategy: 'priority' } }, { random: seededRandom(1) });
    held.connect(router);
    router.addStrategy('adaptive', held).addStrategy('adaptive-again', held);
    await router.generate('q', { strategy: 'adaptive' });
    expect(held.snapshot()['only']!.observations).toBe(0.25);
    await router.close();
  });

  it('a strategy replaced by addStrategy under its name stops seeing outcomes; one still registered under another name goes on', async () => {
    const seen = { replaced: 0, kept: 0 };
    const counting = (key: keyof typeof seen) => ({
      name: key,
      rank: (ctx: { candidates: readonly unknown[] }) => [...ctx.candidates],
      onRequestEnd: () => {
        seen[key]++;
      },
    });
    const replaced = counting('replaced');
    const kept = counting('kept');
    const router = new LLMRouter({ models: [{ name: 'only', engine: 'mock' }], routing: { strategy: 'priority' } }, { random: seededRandom(1) });
    router.addStrategy('learner', replaced as never).addStrategy('twice', kept as never).addStrategy('twice-too', kept as never);
    await router.generate('q1');
    expect(seen).toEqual({ replaced: 1, kept: 1 });

    router.addStrategy('learner', createAdaptiveStrategy()).addStrategy('twice', createAdaptiveStrategy());
    await router.generate('q2');
    // Out of the router: no more outcomes (and the router holds no reference to it).
    expect(seen.replaced).toBe(1);
    // Still the router's strategy as "twice-too": it goes on.
    expect(seen.kept).toBe(2);
    await router.close();
  });

  it('route() previews remember no pending decision: they neither take feedback nor push out a real call\'s', async () => {
    const adaptive = createAdaptiveStrategy({ maxPending: 2 });
    const router = new LLMRouter(
      { models: [{ name: 'only', engine: 'mock' }], routing: { strategy: 'adaptive', retries: { max: 0 } } },
      { random: seededRandom(1), strategies: { adaptive } },
    );
    adaptive.connect(router);
    const real = await router.generate('What is a CRDT?');
    for (let i = 0; i < 5; i++) await router.route('What is a CRDT?', { requestId: `preview-${i}` });
    expect(adaptive.feedback('preview-0', 1)).toBe(false);
    // The real call's decision is still there for its feedback (a pending map of 2 would have lost it to the previews).
    expect(adaptive.feedback(real.requestId, 0)).toBe(true);
    await router.close();
  });
});
