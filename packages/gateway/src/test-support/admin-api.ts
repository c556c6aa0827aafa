import type { Gateway } from '../types.js';
import { createHarness, type Harness, type HarnessOptions } from './harness.js';

/** The admin key of the admin-route tests' gateways (`gateway.auth.adminKey`). */
export const TEST_ADMIN_KEY = 'admin-secret-for-tests-0123456789';

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
