/**
 * `shutting_down` raised by an engine (a user engine whose own backend is shutting down, e.g. another llmrr
 * gateway) is a retryable 503 like `provider_unavailable`: the call falls over to the next deployment. The
 * gateway's own shutdown cut is the caller's abort, which the router stops on by its signal whatever the code.
 */
import { describe, expect, it } from 'vitest';
import { LLMRouter } from '../llm-router.js';

function routerWith(code: 'shutting_down' | 'provider_unavailable'): LLMRouter {
  return new LLMRouter({
    models: [
      { name: 'draining', engine: 'mock', priority: 1, options: { reply: 'from draining', failures: [{ code, times: 10 }] } },
      { name: 'healthy', engine: 'mock', priority: 2, options: { reply: 'from healthy' } },
    ],
    routing: { strategy: 'priority', retries: { max: 0 } },
  });
}

describe('an engine failing with shutting_down (its retryable 503)', () => {
  it('falls over to the next deployment, as provider_unavailable (503, retryable) does', async () => {
    const control = await routerWith('provider_unavailable').generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(control.deployment).toBe('healthy');
    const got = await routerWith('shutting_down')
      .generate({ messages: [{ role: 'user', content: 'hi' }] })
      .then(
        (r) => r.deployment,
        (e: unknown) => `failed: ${(e as { code?: string }).code}`,
      );
    expect(got).toBe('healthy');
  });
});
