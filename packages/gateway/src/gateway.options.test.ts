/**
 * `createGateway`'s option checks: a bad option is the operator's configuration error, `config_invalid` naming the
 * option (in `param` and in the message), whichever option it is: `limits.*` (checked with or without stores),
 * `streamHoldMs`, `readyTimeoutMs` and `cors` alike, as `apps/gateway-server`'s settings are.
 */
import { createStateStores, LLMRouter, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from './gateway.js';
import { mockModel } from './test-support/harness.js';
import type { GatewayOptions } from './types.js';

let router: LLMRouter | undefined;
let stores: StateStores | undefined;
afterEach(async () => {
  await router?.close();
  await stores?.close();
  router = undefined;
  stores = undefined;
});

const BAD: Array<[string, Partial<GatewayOptions>]> = [
  ['limits.maxBodyBytes', { limits: { maxBodyBytes: 0 } }],
  ['limits.maxMessages', { limits: { maxMessages: Number.NaN } }],
  ['limits.defaultMaxOutputTokens', { limits: { defaultMaxOutputTokens: -1 } }],
  ['limits.rateLimitOutputTokens', { limits: { rateLimitOutputTokens: 0.5 } }],
  ['limits.maxBodyBytesInFlight', { limits: { maxBodyBytesInFlight: 0 } }],
  ['limits.leaseRenewIntervalMs', { limits: { leaseRenewIntervalMs: 0 } }],
  ['streamHoldMs', { streamHoldMs: -1 }],
  ['readyTimeoutMs', { readyTimeoutMs: 0 }],
  ['cors.maxAgeSeconds', { cors: { origins: '*', maxAgeSeconds: -1 } }],
];

describe('createGateway option errors', () => {
  it.each(BAD)('%s: config_invalid naming it, with stores and without', async (param, options) => {
    router = new LLMRouter({ models: [mockModel('m')] });
    stores = await createStateStores({ mode: 'memory' });
    for (const withStores of [false, true]) {
      let thrown: unknown;
      try {
        const made = createGateway({ router, ...(withStores ? { stores } : {}), metrics: false, log: () => {}, ...options });
        await made.close();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, `stores: ${withStores}`).toMatchObject({ code: 'config_invalid', param, message: expect.stringContaining(param) as string });
    }
  });
});
