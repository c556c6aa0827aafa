/**
 * A semantic hit that the guard adapted (or verified) made a paid call of `guardModel`: the live call's result
 * costs what the guard call cost, and the guard call's metadata names the tenant and the live call.
 */
import { describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { LLMRouter } from '../router/llm-router.js';
import type { RouterEvents } from '../router/types.js';
import { SEMANTIC_GUARD_METADATA_KEY } from './semantic-cache-hook.js';

function router(guard: 'adapt' | 'verify') {
  return new LLMRouter(
    {
      models: [
        { name: 'main', engine: 'mock', capabilities: ['chat'], price: { input: 5, output: 15 }, options: { reply: 'Mount Everest is 8,849 m tall.' } },
        { name: 'cheap', engine: 'mock', capabilities: ['chat'], price: { input: 1, output: 2 }, options: { reply: guard === 'verify' ? 'YES' : 'Mount Everest is 8,849 m tall today.' } },
        { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
      ],
      routing: { strategy: 'priority', retries: { max: 0 } },
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard, guardModel: 'cheap' } },
    },
    { engines: { emb: new MockEngine({ modelId: 'mock-embed' }) } },
  );
}

describe('semantic guard calls are paid for', () => {
  for (const guard of ['adapt', 'verify'] as const) {
    it(`guard ${guard}: the live call that was served through the guard reports the guard call's cost`, async () => {
      const r = router(guard);
      const ends: Array<RouterEvents['request:end']> = [];
      r.on('request:end', (e) => ends.push(e));
      const first = await r.generate('how tall is mount everest', { model: 'main', tenant: 'acme' });
      expect(first.cached).toBe(false);
      const second = await r.generate('how tall is mount everest today', { model: 'main', tenant: 'acme' });
      // Served from the semantic cache through the guard...
      expect(second.cached).toBe('semantic');
      // ...which called the priced guard model once:
      const guardCall = ends.find((e) => e.result?.deployment === 'cheap');
      expect(guardCall, 'the guard model was called').toBeDefined();
      const guardUsd = guardCall!.result?.cost.totalUsd ?? 0;
      expect(guardUsd).toBeGreaterThan(0);
      // The live call costs the guard call; the guard call names the tenant and the live call.
      expect({ liveCallCostUsd: second.cost.totalUsd, guardCallMetadata: guardCall!.metadata }).toEqual({
        liveCallCostUsd: guardUsd,
        guardCallMetadata: { tenant: 'acme', [SEMANTIC_GUARD_METADATA_KEY]: second.requestId },
      });
      await r.close();
    });
  }
});
