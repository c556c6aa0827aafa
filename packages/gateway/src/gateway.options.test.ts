/**
 * `createGateway`'s option checks: a bad option is the operator's configuration error, `config_invalid` naming the
 * option (in `param` and in the message), whichever option it is: `limits.*` (checked with or without stores),
 * `streamHoldMs`, `readyTimeoutMs` and `cors` alike, as `apps/gateway-server`'s settings are. A refused gateway
 * leaves the router as it was: every check runs before anything is attached to it.
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

describe('a refused createGateway', () => {
  it.each(BAD)('%s: leaves no listener on the router (every check before the metrics and the rest attach)', async (param, options) => {
    const r = (router = new LLMRouter({ models: [mockModel('m')] }));
    const s = (stores = await createStateStores({ mode: 'memory' }));
    // The router's listeners, counted: each `on` adds one, its unsubscribe removes it.
    const on = r.on.bind(r);
    let listeners = 0;
    r.on = ((event: Parameters<typeof on>[0], listener: Parameters<typeof on>[1]) => {
      const off = on(event, listener);
      listeners++;
      return () => {
        listeners--;
        off();
      };
    }) as typeof r.on;
    // A gateway that is made and closed attaches its listeners and takes them off: the count is right.
    const made = createGateway({ router: r, stores: s, log: () => {} });
    expect(listeners).toBeGreaterThan(0);
    await made.close();
    const before = listeners;
    expect(() => createGateway({ router: r, stores: s, log: () => {}, ...options })).toThrow(expect.objectContaining({ code: 'config_invalid', param }) as Error);
    expect(listeners).toBe(before);
  });
});
