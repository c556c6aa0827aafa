/**
 * A gateway without stores labels its callers `anonymous` in the metrics. Under a v3 config with `defaultTenant`, the
 * router gives the store-less calls that tenant (`routerTenant` passes none), so the prefetches it makes for them carry
 * `metadata.tenant = <defaultTenant>`: prefetch metering still labels their spend `anonymous`, so one caller's spend
 * is never split across two tenant labels.
 */
import { LLMRouter, type RouterConfigInput } from '@llmrr/core';
import { afterEach, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { get, mockModel, type Harness } from '../test-support/harness.js';
import { metricSeries as series } from '../test-support/metrics-text.js';
import { promptOnePrefetch, supportConversations } from '../test-support/prefetch-conversations.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('store-less gateway under a v3 defaultTenant: every cost series is labelled anonymous (prefetches too)', async () => {
  const config: RouterConfigInput = {
    version: 3,
    models: [mockModel('chat'), mockModel('emb', {}, { capabilities: ['embeddings'] })],
    routing: { strategy: 'priority', retries: { max: 0 } },
    cache: {
      exact: { enabled: true, ttlMs: 3_600_000 },
      semantic: { enabled: true, embedder: 'emb', threshold: 0.95, guardAbove: 0.95 },
      predictive: { enabled: true },
    },
    tenants: [{ id: 'house' }],
    defaultTenant: 'house',
  } as RouterConfigInput;
  const router = new LLMRouter(config, { unknownTenant: 'shared' });
  const gateway = createGateway({ router, log: () => {} });
  h = { gateway, router, stores: undefined, close: async () => { await gateway.close(); await router.close(); } } as Harness;
  await promptOnePrefetch(supportConversations(h));
  expect(router.prefetch!.stats().calls).toBe(1);
  const text = await (await get(gateway, '/metrics')).text();
  const labels = new Set(series(text, 'llm_cost_usd_total').map(([l]) => /tenant="([^"]*)"/.exec(l)![1]));
  expect([...labels]).toEqual(['anonymous']);
});
