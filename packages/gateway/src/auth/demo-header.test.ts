/**
 * packages/gateway/README.md, "Run it": "It starts in demo mode: requests without an API key act as the tenant `demo`
 * and every such response carries `x-llmrr-demo: true`". That holds for errors too: a keyless request whose body is
 * refused (400, after authentication) carries `x-llmrr-demo` and `x-llmrr-tenant`, as a keyless 404
 * `model_not_found` does.
 */import { LLMRouter, createStateStores, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import type { Gateway } from '../types.js';

describe('demo mode: x-llmrr-demo on every keyless response', () => {
  let router: LLMRouter | undefined;
  let stores: StateStores | undefined;
  let gateway: Gateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await router?.close();
    await stores?.close();
  });

  it('a keyless request with a bad body gets x-llmrr-demo: true, as a keyless 404 does', async () => {
    router = new LLMRouter({ models: [{ name: 'mock', engine: 'mock' }] });
    stores = await createStateStores({ mode: 'memory' });
    await stores.tenants.createTenant({ id: 'demo', name: 'Demo' });
    gateway = createGateway({ router, stores, auth: { demoTenantId: 'demo' } });
    const post = (body: unknown) =>
      gateway!.fetch(new Request('http://gw/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    const notFound = await post({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] });
    const bad = await post({ model: 'mock', messages: [] });
    expect([notFound.status, bad.status]).toEqual([404, 400]);
    expect(notFound.headers.get('x-llmrr-demo')).toBe('true');
    expect(bad.headers.get('x-llmrr-demo')).toBe('true');
    expect(bad.headers.get('x-llmrr-tenant')).toBe('demo');
  });
});
