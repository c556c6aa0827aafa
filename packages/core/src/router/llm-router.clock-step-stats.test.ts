/**
 * Review of 071ade2 ("durations never negative"): the result's `latencyMs` is clamped, but the attempt records and the
 * deployment's latency stats (which `speed-priority`, `balanced`, `intelligent`'s maxLatencyMs read) still take the raw
 * difference of a clock that stepped back.
 */
import { describe, expect, it } from 'vitest';
import { steppingBack } from '../test/stepping-clock.test-helpers.js';
import { LLMRouter } from './llm-router.js';

describe('durations when the clock steps back during a call (review)', () => {
  it("generate: the attempt's latency and the deployment's latency stat are never negative", async () => {
    const router = new LLMRouter({ models: [{ name: 'p', engine: 'mock', options: { reply: 'a b c' } }] }, { now: steppingBack() });
    const r = await router.generate({ messages: [{ role: 'user', content: 'hi' }] }, { cache: false });
    expect(r.latencyMs).toBe(0);
    expect({ attempt: r.attempts[0]!.latencyMs >= 0, stat: (router.stats()['p']!.latencyMs ?? 0) >= 0 }).toEqual({ attempt: true, stat: true });
    await router.close();
  });
});
