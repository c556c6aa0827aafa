import { describe, expect, it } from 'vitest';
import { steppingBack } from '../test/stepping-clock.test-helpers.js';
import { LLMRouter } from './llm-router.js';

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
