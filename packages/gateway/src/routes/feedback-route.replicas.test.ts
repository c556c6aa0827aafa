/**
 * Several gateway processes over the same stores (shared mode behind a load balancer): `POST /v1/feedback` checks the
 * request id against the shared ledger, but `adaptive`'s decisions waiting for feedback live in the router of the
 * process that routed the call (gateway README, shared mode; docs: core README-sections/learning.md). A score sent to
 * another process is answered 200 `{ accepted: false, reason: "not_pending", message }`, the message saying why; the
 * process that routed the call takes it.
 */
import { createStateStores, LLMRouter, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { mockModel, post } from '../test-support/harness.js';
import type { Gateway } from '../types.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function replica(stores: StateStores): Gateway {
  const router = new LLMRouter({ models: [mockModel('a'), mockModel('b')], routing: { strategy: 'adaptive', retries: { max: 0 } } }, { env: {} });
  const gateway = createGateway({ router, stores, log: () => {} });
  closers.push(() => router.close(), () => gateway.close());
  return gateway;
}

describe('feedback across gateway replicas sharing stores', () => {
  it('a score posted to the replica that did not route the call is not taken, and the answer says why; the routing replica takes it', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    closers.push(() => stores.close());
    const [one, two] = [replica(stores), replica(stores)];
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const auth = { authorization: `Bearer ${(await stores.tenants.createKey('acme', { name: 'k' })).secret}` };
    const chat = await post(one, '/v1/chat/completions', { model: 'auto', messages: [{ role: 'user', content: 'hello' }] }, auth);
    expect(chat.status).toBe(200);
    const requestId = chat.headers.get('x-request-id')!;
    // The ledger row is shared: replica two knows the request belongs to acme.
    await expect.poll(async () => (await stores.ledger.get(requestId))?.tenantId, { timeout: 5000 }).toBe('acme');
    const elsewhere = await post(two, '/v1/feedback', { request_id: requestId, score: 0 }, auth);
    expect({ status: elsewhere.status, body: await elsewhere.json() }).toEqual({
      status: 200,
      body: { accepted: false, reason: 'not_pending', message: expect.stringMatching(/another gateway process routed it \(adaptive learns per process: send feedback to the process that served the call\)/) },
    });
    // The decision is still waiting in replica one.
    const here = await post(one, '/v1/feedback', { request_id: requestId, score: 0 }, auth);
    expect({ status: here.status, body: await here.json() }).toEqual({ status: 200, body: { accepted: true } });
  });
});
