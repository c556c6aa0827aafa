/**
 * `gateway.close()` waits for a `POST /v1/messages/count_tokens` whose remote count holds a place under the tenant's
 * limits (`countAdmission`), as it does for model calls and embeddings: the owner closes the stores only after the
 * place is given back.
 */
import { LLMRouter, createStateStores, type CountTokensOptions, type GenerateRequest } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { mockModel, post } from '../test-support/harness.js';

const LIMITS = { maxConcurrency: 1 };

describe('gateway.close() and a token count holding a concurrency place', () => {
  it('close() waits (within its bound) for a remote count_tokens to release its place, as it does for a call', async () => {
    const router = new LLMRouter({ models: [mockModel('mock')], routing: { strategy: 'priority', retries: { max: 0 } } });
    const stores = await createStateStores({ mode: 'memory' });
    let admitted!: () => void;
    const isAdmitted = new Promise<void>((r) => (admitted = r));
    // A count that does network I/O (Anthropic's count endpoint): it takes its place, the provider answers 300 ms later.
    const countTokens = async (_request: GenerateRequest, options?: CountTokensOptions) => {
      const permit = await options?.admitRemote?.({ deployment: 'mock', provider: 'anthropic' });
      admitted();
      try {
        await new Promise((r) => setTimeout(r, 300));
        return { tokens: 3, exact: true, deployment: 'mock', model: 'mock' };
      } finally {
        await permit?.release();
      }
    };
    const proxied = new Proxy(router, {
      get(target, prop) {
        if (prop === 'countTokens') return countTokens;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const gateway = createGateway({ router: proxied, stores, log: () => {} });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    try {
      const counted = post(gateway, '/v1/messages/count_tokens', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': secret });
      await isAdmitted;
      await gateway.close(2_000);
      // What the server would find in the stores as it closes them right after gateway.close().
      const limits = await stores.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: LIMITS }]);
      expect(limits.remainingConcurrency).toBe(1);
      expect((await counted).status).toBe(200);
    } finally {
      await router.close();
      await stores.close();
    }
  });
});
