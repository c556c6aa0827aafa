/**
 * A call's own `retries` (RouterCallOptions.retries, merged over the config's) with delays past a timer's longest
 * delay (2^31 - 1 ms): the backoff waits the longest a timer can, so the caller's deadline ends the call; Node fires a
 * longer timer after 1 ms, which sent the retry at once.
 */
import { describe, expect, it } from 'vitest';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { LLMRouter } from '../llm-router.js';

const HUGE = 2 ** 31;

describe("a call's own retry delays past the longest timer delay", () => {
  it.each([
    ['initialDelayMs/maxDelayMs at 2^31 - 1', { max: 1, initialDelayMs: HUGE - 1, maxDelayMs: HUGE - 1, jitter: false }, undefined],
    ['initialDelayMs/maxDelayMs', { max: 1, initialDelayMs: HUGE, maxDelayMs: HUGE, jitter: false }, undefined],
    ['a Retry-After under maxRetryAfterMs', { max: 1, maxRetryAfterMs: 4 * HUGE }, HUGE],
  ] as const)('%s: the retry does not go out at once', async (_name, retries, retryAfterMs) => {
    const engine = new MockEngine({ reply: 'second try', failures: [{ code: 'provider_error', times: 1, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }] });
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { engines: { m: engine } });
    try {
      const outcome = await router.generate('x', { cache: false, retries, signal: AbortSignal.timeout(400) }).then(
        (r) => `answered: ${r.text}`,
        (e: { code?: string }) => `failed: ${String(e.code)}`,
      );
      // Waiting (then the caller's 400 ms deadline) or a refusal of the delay are both right; a second request
      // within 400 ms is the timer firing at once.
      expect({ requests: engine.calls, outcome }).toEqual({ requests: expect.any(Number), outcome: expect.stringMatching(/^failed: /) });
      expect(engine.calls).toBeLessThanOrEqual(1);
    } finally {
      await router.close();
    }
  });
});
