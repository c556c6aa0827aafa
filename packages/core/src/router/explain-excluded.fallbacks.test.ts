/**
 * `decision.excluded` lists the candidates a strategy left out (`ctx.leftOut`, intelligent's constraints), but not one
 * that `routing.fallbacks` names and that fits: buildOrder appends it after the ranked candidates, so it is tried and
 * is in `decision.order` only.
 */
import { describe, expect, it } from 'vitest';
import { LLMRouter } from './llm-router.js';

describe('explain: excluded and order', () => {
  it('a deployment in the order is not listed as excluded', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'good', engine: 'mock', quality: 0.9, price: { input: 3, output: 15 } },
        { name: 'weak', engine: 'mock', quality: 0.5, price: { input: 0.1, output: 0.2 } },
      ],
      routing: { strategy: 'intelligent', options: { intelligent: { minQuality: 0.8 } }, fallbacks: ['weak'] },
    });
    try {
      const d = await router.route('hello');
      const both = d.excluded.filter((x) => d.order.includes(x.name));
      expect({ order: d.order, excludedAndTried: both }).toEqual({ order: ['good', 'weak'], excludedAndTried: [] });
    } finally {
      await router.close();
    }
  });
});
