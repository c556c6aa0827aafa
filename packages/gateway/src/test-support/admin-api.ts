import { engineFactory, type EngineFactory } from '@llmrr/core';
import type { Gateway } from '../types.js';
import { createHarness, type Harness, type HarnessOptions } from './harness.js';

/** The admin key of the admin-route tests' gateways (`gateway.auth.adminKey`). */
export const TEST_ADMIN_KEY = 'admin-secret-for-tests-0123456789';

/**
 * An engine kind of the router's own (`RouterOptions.engineFactories: ownEngineFactories`) whose `options` may hold
 * anything (it answers as the mock engine): for the tests of how the admin API shows and takes a tenant model's
 * options (URLs, tokens under any name), since every built-in engine refuses option keys it does not read.
 */
export const OWN_ENGINE = 'own-engine';
export const ownEngineFactories: Readonly<Record<string, EngineFactory>> = {
  [OWN_ENGINE]: (m, ctx) => engineFactory('mock')!({ ...m, engine: 'mock', options: {} }, ctx),
};

/** A harness with in-memory stores and the admin API on under `TEST_ADMIN_KEY` (other options as given). */
export function createAdminHarness(options: Omit<HarnessOptions, 'stores'> = {}): Promise<Harness> {
  return createHarness({ ...options, stores: 'memory', gateway: { ...options.gateway, auth: { adminKey: TEST_ADMIN_KEY, ...options.gateway?.auth } } });
}

/**
 * `admin(method, path, body?)`: an admin API request (the admin key as bearer, a JSON body when given) on the
 * gateway `gateway()` returns at the time of the call, without a server (so a harness made again in `beforeEach`
 * is the one asked).
 */
export function adminApi(gateway: () => Gateway, adminKey: string = TEST_ADMIN_KEY) {
  return (method: string, path: string, body?: unknown): Promise<Response> =>
    gateway().fetch(
      new Request(`http://gateway.test${path}`, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    );
}
