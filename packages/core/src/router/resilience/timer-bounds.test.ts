/**
 * Time bounds past a timer's longest delay (2^31 - 1 ms, about 24.8 days): Node fires such a timer after 1 ms, so a
 * "practically never" bound would time out every attempt at once. A call's own `timeouts` that long wait the longest
 * a timer can; a config refuses them, naming the field.
 */
import { describe, expect, it } from 'vitest';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { LLMRouter } from '../llm-router.js';
import { redisTimeout } from '../../stores/redis/redis-connection.js';

const HUGE = 2 ** 31;

describe('time bounds past the longest timer delay', () => {
  it.each([{ totalMs: HUGE }, { firstTokenMs: HUGE }, { totalMs: 30 * 24 * 3_600_000, firstTokenMs: Number.MAX_SAFE_INTEGER }])(
    'a call with timeouts %j is answered, not timed out at once',
    async (timeouts) => {
      const router = new LLMRouter(
        { models: [{ name: 'm', engine: 'mock' }], routing: { retries: { max: 0 } } },
        { engines: { m: new MockEngine({ reply: 'one two three', delayMs: 20, chunkDelayMs: 5 }) } },
      );
      try {
        expect((await router.generate('x', { cache: false, timeouts })).text).toBe('one two three');
        let text = '';
        for await (const p of router.stream('x', { cache: false, timeouts })) if (p.type === 'text-delta') text += p.delta;
        expect(text).toBe('one two three');
      } finally {
        await router.close();
      }
    },
  );

  it('a stream whose consumerIdleMs is past the longest delay is not abandoned while its consumer pauses', async () => {
    const router = new LLMRouter(
      { models: [{ name: 'm', engine: 'mock' }], routing: { retries: { max: 0 } } },
      { engines: { m: new MockEngine({ reply: 'one two three four five six', chunkDelayMs: 5 }) } },
    );
    try {
      const s = router.stream('x', { cache: false, timeouts: { consumerIdleMs: 8 * HUGE } });
      const parts: string[] = [];
      for await (const p of s) {
        parts.push(p.type);
        await new Promise((r) => setTimeout(r, 30));
      }
      expect(parts).not.toContain('error');
      expect((await s.result).text).toBe('one two three four five six');
    } finally {
      await router.close();
    }
  });

  it.each(['firstTokenMs', 'totalMs', 'consumerIdleMs'])('a config with routing.timeouts.%s past it is refused, naming the field', (field) => {
    expect(() => new LLMRouter({ models: [{ name: 'm', engine: 'mock' }], routing: { timeouts: { [field]: HUGE } } })).toThrow(
      new RegExp(`routing\\.timeouts\\.${field}.*2147483647`),
    );
  });

  it.each([
    ['hedging.delayMs', { hedging: { enabled: true, delayMs: 3_000_000_000 } }],
    ['retries.maxDelayMs', { retries: { maxDelayMs: HUGE } }],
    ['retries.initialDelayMs', { retries: { initialDelayMs: HUGE } }],
    ['retries.maxRetryAfterMs', { retries: { maxRetryAfterMs: HUGE } }],
  ] as const)('a config with routing.%s past it is refused (a hedge "after days" would go out at once)', (field, routing) => {
    expect(() => new LLMRouter({ models: [{ name: 'm', engine: 'mock' }], routing: routing as never })).toThrow(
      new RegExp(`routing\\.${field.replace('.', '\\.')}.*2147483647`),
    );
  });

  it('redisTimeoutMs past it is refused, naming the field', () => {
    expect(() => redisTimeout(HUGE)).toThrow(/redisTimeoutMs must be a positive integer \(ms\) of at most 2147483647/);
    expect(redisTimeout(2 ** 31 - 1)).toBe(2 ** 31 - 1);
  });
});
