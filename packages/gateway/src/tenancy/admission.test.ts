import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createStateStores, type DeploymentInfo, type GenerateRequest, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../auth/principal.js';
import { admit, takePlace } from './admission.js';
import { Renewals } from './renewals.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let stores: StateStores | undefined;
afterEach(async () => {
  await stores?.close();
  stores = undefined;
});

const candidate = { name: 'm', config: {}, price: { input: 1, output: 2 } } as unknown as DeploymentInfo;

describe('admit: budget reservations', () => {
  it('gives every reservation its own id, also for a repeated request id, each settled on its own', async () => {
    stores = await createStateStores({ mode: 'memory' });
    const tenant = await stores.tenants.createTenant({ id: 't', name: 'T', budget: { amountUsd: 100, period: 'total' } });
    const principal = { tenantId: 't', tenant, key: undefined, demo: false };
    const ids: string[] = [];
    const reserve = stores.budgets.reserve.bind(stores.budgets);
    stores.budgets.reserve = (r) => {
      ids.push(r.reservationId);
      return reserve(r);
    };
    const admissions = [];
    // A custom `generateId` that repeats: the same request id for every request.
    for (let i = 0; i < 50; i++) {
      admissions.push(
        await admit({ stores, principal, request: { messages: [{ role: 'user', content: 'hi' }], maxTokens: 10 }, requestId: 'same', candidates: [candidate], defaultMaxOutputTokens: 10, rateLimitOutputTokens: 10 }),
      );
    }
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) {
      expect(id.startsWith('same~')).toBe(true);
      // Never longer than the random UUID suffix it replaces.
      expect(id.length).toBeLessThanOrEqual('same~'.length + 36);
    }
    expect((await stores.budgets.spent('t', 'total')).reservedUsd).toBeGreaterThan(0);
    for (const a of admissions) await a.finish({ usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, costUsd: 0.01, charged: true });
    const state = await stores.budgets.spent('t', 'total');
    expect(state.spentUsd).toBeCloseTo(0.5, 9);
    expect(state.reservedUsd).toBe(0);
  });
});

describe('admit: a finish that failed, tried again', () => {
  let renewals: Renewals | undefined;
  afterEach(async () => {
    await renewals?.close();
    renewals = undefined;
  });

  it('holds only what is left to give back, not the request, while it waits to be tried again', async () => {
    stores = await createStateStores({ mode: 'memory' });
    const tenant = await stores.tenants.createTenant({ id: 't', name: 'T', limits: { maxConcurrency: 1 }, budget: { amountUsd: 100, period: 'total' } });
    const principal: Principal = { tenantId: 't', tenant, key: undefined, demo: false };
    const settle = stores.budgets.settle.bind(stores.budgets);
    let down = true;
    stores.budgets.settle = (id, usd) => (down ? Promise.reject(new Error('SQLITE_BUSY: database is locked')) : settle(id, usd));
    // The interval is long: the retry waits (its first try is at the next tick, 250 ms), holding what it holds.
    renewals = new Renewals(stores, () => undefined);
    /** A call admitted and finished (its settlement failing) in a scope of its own: what is left is the retry's. */
    const call = async (): Promise<WeakRef<GenerateRequest>> => {
      const request: GenerateRequest = { messages: [{ role: 'user', content: 'x'.repeat(100_000) }], maxTokens: 10 };
      const admission = await admit({ stores, principal, request, requestId: 'r', candidates: [candidate], defaultMaxOutputTokens: 10, rateLimitOutputTokens: 10, renewals });
      // (Not `expect(...).rejects`: vitest keeps what it asserted on, the admission with it.)
      const failure = await admission.finish({ usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, costUsd: 0.01, charged: true }).then(
        () => undefined,
        (e: unknown) => String(e),
      );
      expect(failure).toContain('SQLITE_BUSY');
      return new WeakRef(request);
    };
    const ref = await call();
    // (No deref() before this: it would keep the request alive for the rest of the job.)
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(ref.deref()).toBeUndefined();
    // What was left is still done once the store answers: the cost charged, the reservation gone.
    down = false;
    await vi.waitFor(
      async () => {
        const state = await stores!.budgets.spent('t', 'total');
        expect({ spentUsd: state.spentUsd, reservedUsd: state.reservedUsd }).toEqual({ spentUsd: 0.01, reservedUsd: 0 });
      },
      { timeout: 10_000, interval: 20 },
    );
  });
});

describe('takePlace: a place held across work (/api/route plans) reports what is left when it is given back', () => {
  it('counts the places other requests took while it was held (as peek says), not only the state when it was taken', async () => {
    stores = await createStateStores({ mode: 'memory' });
    const tenant = await stores.tenants.createTenant({ id: 't', name: 'T', limits: { rpm: 10, maxConcurrency: 3 } });
    const principal: Principal = { tenantId: 't', tenant, key: undefined, demo: false };
    const log = () => undefined;
    // A: one /api/route plan in progress; B: another one admitted meanwhile, still planning.
    const a = (await takePlace(stores, principal, log))!;
    const b = (await takePlace(stores, principal, log))!;
    await a.release();
    const left = await a.left();
    const truth = await stores.rateLimiter.peek([{ kind: 'tenant', id: 't', limits: tenant.limits! }]);
    // Two requests counted, B's place still held.
    expect({ remainingRequests: left.remainingRequests, remainingConcurrency: left.remainingConcurrency }).toEqual({ remainingRequests: 8, remainingConcurrency: 2 });
    expect(left).toEqual(truth);
    await b.release();
  });
});
