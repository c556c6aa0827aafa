/** In demo mode, /v1/messages/count_tokens answers carry x-llmrr-demo and x-llmrr-tenant, errors after authentication included. */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

// README header table: `x-llmrr-demo: true`, `x-llmrr-tenant` on "every answer to a request served as the demo
// tenant (model calls, embeddings, token counts, ...), errors after authentication included".

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('demo headers on /v1/messages/count_tokens errors', () => {
  it('a keyless count_tokens for an unknown model (404 after authentication) carries x-llmrr-demo and x-llmrr-tenant', async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { demoTenantId: 'demo' } } });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
    const ok = await post(h.gateway, '/v1/messages/count_tokens', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    const missing = await post(h.gateway, '/v1/messages/count_tokens', { model: 'nope', messages: [{ role: 'user', content: 'hi' }] });
    expect([ok.status, missing.status]).toEqual([200, 404]);
    expect(ok.headers.get('x-llmrr-demo')).toBe('true');
    expect([missing.headers.get('x-llmrr-demo'), missing.headers.get('x-llmrr-tenant')]).toEqual(['true', 'demo']);
  });
});
