/**
 * The semantic cache's guard calls (the router's own `generate` calls on `guardModel`, never rated: their request ids
 * are the router's) are internal: `adaptive` neither takes slots for pending feedback for them (which would push real
 * calls' decisions out before their feedback arrives) nor learns from them.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../learning/predictors/adam.js';
import { SEMANTIC_GUARD_METADATA_KEY } from '../../semantic-cache/semantic-cache-hook.js';
import { LLMRouter } from '../llm-router.js';
import { AdaptiveStrategy } from './adaptive.js';

describe('adaptive: semantic guard calls', () => {
  it('three chat calls fit in maxPending 3 even when the semantic cache asked its guard model in between, and the guard deployment learns nothing', async () => {
    const adaptive = new AdaptiveStrategy({ maxPending: 3 });
    const router = new LLMRouter(
      {
        models: [
          { name: 'main', engine: 'mock', capabilities: ['chat'], options: { reply: 'Mount Everest is 8,849 m tall.' } },
          { name: 'judge', engine: 'mock', capabilities: ['chat'], options: { reply: 'NO' } },
          { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
        ],
        routing: { strategy: 'adaptive', retries: { max: 0 }, circuitBreaker: { enabled: false } },
        // Every match goes to the guard, which says NO (a miss): each call after the first asks it once.
        cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.0001, guardAbove: 0.99999, guard: 'verify', guardModel: 'judge' } },
      },
      { random: seededRandom(3), strategies: { adaptive } },
    );
    const guardCalls: string[] = [];
    router.on('request:end', (e) => {
      if (e.metadata?.[SEMANTIC_GUARD_METADATA_KEY] !== undefined) guardCalls.push(e.requestId);
    });
    for (const [id, q] of [['c1', 'How tall is Mount Everest?'], ['c2', 'How tall is Mount Everest exactly?'], ['c3', 'What is the height of Mount Everest?']] as const) {
      const r = await router.generate(q, { requestId: id, model: 'main' });
      expect(r.deployment).toBe('main');
    }
    expect(guardCalls).toHaveLength(2);
    // The first real call's decision is still there for its feedback.
    expect(router.feedback('c1', 1)).toBe(true);
    // The guard's answers taught nothing (no model for it at all), nor can they be rated.
    expect(adaptive.snapshot()['judge']).toBeUndefined();
    expect(adaptive.snapshot()['main']?.observations).toBeGreaterThan(0);
    expect(router.feedback(guardCalls[0]!, 0)).toBe(false);
    await router.close();
  });
});
