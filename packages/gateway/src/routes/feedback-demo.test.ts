/** In demo mode, POST /v1/feedback answers (served as the demo tenant) carry x-llmrr-demo and x-llmrr-tenant, errors included. */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

// README "Run it": "requests without an API key act as the tenant `demo` and every such response carries
// `x-llmrr-demo: true`"; auth/demo-headers.ts: "Every route that authenticates uses it".

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('demo headers on POST /v1/feedback', () => {
  it('a keyless feedback (served as the demo tenant) carries x-llmrr-demo and x-llmrr-tenant', async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { demoTenantId: 'demo' } } });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
    const call = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    expect(call.headers.get('x-llmrr-demo')).toBe('true');
    const id = call.headers.get('x-request-id')!;
    const fb = await post(h.gateway, '/v1/feedback', { request_id: id, score: 1 });
    const unknown = await post(h.gateway, '/v1/feedback', { request_id: 'no-such-request', score: 1 });
    expect([fb.status, unknown.status]).toEqual([200, 404]);
    expect([fb.headers.get('x-llmrr-demo'), fb.headers.get('x-llmrr-tenant'), unknown.headers.get('x-llmrr-demo')]).toEqual(['true', 'demo', 'true']);
  });
});
