import { describe, expect, it } from 'vitest';
import { LLMRouter } from './llm-router.js';

/** A wall clock that steps back by a minute on every read after the first (an NTP step, a resumed VM). */
function steppingBack(): () => number {
  let t = 1_800_000_000_000;
  return () => {
    const now = t;
    t -= 60_000;
    return now;
  };
}

describe('durations when the clock steps back during a call', () => {
  it('generate: latency is 0, never negative', async () => {
    const router = new LLMRouter({ models: [{ name: 'p', engine: 'mock', options: { reply: 'a b c' } }] }, { now: steppingBack() });
    const r = await router.generate({ messages: [{ role: 'user', content: 'hi' }] }, { cache: false });
    expect(r.text).toBe('a b c');
    expect(r.latencyMs).toBe(0);
    await router.close();
  });

  it('stream: latency and time to first token are 0, never negative', async () => {
    const router = new LLMRouter({ models: [{ name: 'p', engine: 'mock', options: { reply: 'a b c', chunkDelayMs: 1 } }] }, { now: steppingBack() });
    const s = router.stream({ messages: [{ role: 'user', content: 'hi' }] }, { cache: false });
    for await (const part of s) void part;
    const r = await s.result;
    expect(r.text).toBe('a b c');
    expect(r.latencyMs).toBe(0);
    expect(r.timeToFirstTokenMs).toBe(0);
    await router.close();
  });
});
