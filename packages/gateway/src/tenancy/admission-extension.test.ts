/**
 * `Admission.extend` (the budget reservation's extensions before a retry after billed failed attempts), on the memory
 * stores: concurrent extensions numbered
 * apart, renewed (`held.extensions`) and released at finish after the settle; an extension granted after `finish`
 * released; none asked after `finish`; shared mode with the client gone (late grant released); the `budget_exceeded`
 * message and its `rateInfo`; and the point of the change: `extend` does not keep the request alive, and a budgeted JSON
 * call's router options let go of the spend hook once `generate` settled.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createStateStores, LLMError, type BudgetReserveRequest, type DeploymentInfo, type GenerateOptions, type GenerateRequest, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../auth/principal.js';
import { createHarness, post } from '../test-support/harness.js';
import { admit } from './admission.js';
import { Renewals, type Held } from './renewals.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const candidate = { name: 'm', config: {}, price: { input: 1, output: 2 } } as unknown as DeploymentInfo;
const request = (): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 10 });

let stores: StateStores | undefined;
let renewals: Renewals | undefined;
afterEach(async () => {
  await renewals?.close();
  renewals = undefined;
  await stores?.close();
  stores = undefined;
});

/** Memory stores with a budgeted tenant; `reserve` calls recorded, and held while `gate` is set. */
async function setup(amountUsd = 100, limits?: { rpm: number }) {
  stores = await createStateStores({ mode: 'memory' });
  const tenant = await stores.tenants.createTenant({ id: 't', name: 'T', budget: { amountUsd, period: 'total' }, ...(limits ? { limits } : {}) });
  const principal: Principal = { tenantId: 't', tenant, key: undefined, demo: false };
  const ids: string[] = [];
  const released: string[] = [];
  const ctl: { gate?: Promise<void> } = {};
  const reserve = stores.budgets.reserve.bind(stores.budgets);
  stores.budgets.reserve = async (r: BudgetReserveRequest) => {
    ids.push(r.reservationId);
    if (ctl.gate) await ctl.gate;
    return reserve(r);
  };
  const release = stores.budgets.release.bind(stores.budgets);
  stores.budgets.release = (id: string) => {
    released.push(id);
    return release(id);
  };
  return { stores, principal, ids, released, ctl };
}

const state = () => stores!.budgets.spent('t', 'total');

describe('Admission.extend', () => {
  it('concurrent extensions (hedged attempts) get ids of their own, are renewed, and are released at finish after the settle', async () => {
    const { principal, ids, released } = await setup();
    renewals = new Renewals(stores!, () => undefined);
    let held: Held | undefined;
    const add = renewals.add.bind(renewals);
    renewals.add = (lease, id) => (held = add(lease, id));
    const a = await admit({ stores: stores!, principal, request: request(), requestId: 'r', candidates: [candidate], defaultMaxOutputTokens: 10, rateLimitOutputTokens: 10, renewals });
    const reserved = (await state()).reservedUsd;
    await Promise.all([a.extend!(0.001), a.extend!(0.002)]);
    const main = ids[0]!;
    expect(ids).toEqual([main, `${main}+1`, `${main}+2`]);
    expect(held?.extensions).toEqual([`${main}+1`, `${main}+2`]);
    // What the two billed attempts cost on top of one call's worst case.
    expect((await state()).reservedUsd).toBeCloseTo(reserved + 0.003, 9);
    // Billed less than reserved since: nothing more asked.
    await a.extend!(0.0000001);
    expect(ids.length).toBe(4);
    await a.finish({ usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, costUsd: 0.01, charged: true });
    expect(released).toEqual(expect.arrayContaining([`${main}+1`, `${main}+2`]));
    const s = await state();
    expect({ spent: s.spentUsd, reserved: s.reservedUsd }).toEqual({ spent: expect.closeTo(0.01, 9) as number, reserved: 0 });
  });

  it('an extension granted after finish is released; none is asked after finish', async () => {
    const { principal, ids, released, ctl } = await setup();
    const a = await admit({ stores: stores!, principal, request: request(), requestId: 'r', candidates: [candidate], defaultMaxOutputTokens: 10, rateLimitOutputTokens: 10 });
    let open!: () => void;
    ctl.gate = new Promise((r) => (open = r));
    const pending = a.extend!(0.5);
    await vi.waitFor(() => expect(ids.length).toBe(2));
    await a.finish({ usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, costUsd: 0.01, charged: true });
    open();
    await pending;
    await vi.waitFor(() => expect(released).toContain(`${ids[0]}+1`));
    await vi.waitFor(async () => expect((await state()).reservedUsd).toBe(0));
    await a.extend!(1);
    expect(ids.length).toBe(2);
  });

  it('shared mode, the client gone while the store answers: the call ends aborted, the late grant is released', async () => {
    const { principal, ids, released, ctl } = await setup();
    (stores as { mode: string }).mode = 'shared';
    renewals = new Renewals(stores!, () => undefined, 20);
    const client = new AbortController();
    const a = await admit({ stores: stores!, principal, request: request(), requestId: 'r', candidates: [candidate], defaultMaxOutputTokens: 10, rateLimitOutputTokens: 10, renewals, signal: client.signal });
    let open!: () => void;
    ctl.gate = new Promise((r) => (open = r));
    const pending = a.extend!(0.5).then(
      () => undefined,
      (e: unknown) => e,
    );
    await vi.waitFor(() => expect(ids.length).toBe(2));
    client.abort();
    const e = await pending;
    expect(LLMError.isInstance(e) && e.code).toBe('aborted');
    open();
    await vi.waitFor(() => expect(released).toContain(`${ids[0]}+1`), { timeout: 5_000 });
    await a.finish({ usage: undefined, costUsd: 0, charged: false });
    await vi.waitFor(async () => expect((await state()).reservedUsd).toBe(0));
  });

  it('budget_exceeded: what was billed, what an attempt may cost, and the limits in details.rateInfo', async () => {
    const { principal } = await setup(0.0001, { rpm: 100 });
    const a = await admit({ stores: stores!, principal, request: request(), requestId: 'r', candidates: [candidate], defaultMaxOutputTokens: 10, rateLimitOutputTokens: 10 });
    const e = await a.extend!(0.0001).then(
      () => undefined,
      (x: unknown) => x as LLMError,
    );
    expect(e?.code).toBe('budget_exceeded');
    expect(e?.param).toBe('model');
    expect(e?.message).toBe('Budget of tenant "t" for total is exhausted: $0.000070 of $0.0001 left; failed attempts were billed $0.000100 for the tokens their provider reported, and a further attempt may cost up to $0.000030');
    expect((e?.details as { rateInfo?: unknown }).rateInfo).toEqual(a.rateInfo);
    expect(a.rateInfo).toBeDefined();
    await a.finish({ usage: undefined, costUsd: 0.0001, charged: true });
  });

  it('extend holds no reference to the request (the router may keep the hook after the call)', async () => {
    const { principal } = await setup();
    const make = async () => {
      const r: GenerateRequest = { messages: [{ role: 'user', content: 'x'.repeat(100_000) }], maxTokens: 10 };
      const a = await admit({ stores: stores!, principal, request: r, requestId: 'r', candidates: [candidate], defaultMaxOutputTokens: 10, rateLimitOutputTokens: 10 });
      return { extend: a.extend!, finish: a.finish, ref: new WeakRef(r) };
    };
    const { extend, ref } = await make();
    for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
    expect(typeof extend).toBe('function');
  });
});

describe("a budgeted JSON call's spend hook, through the gateway", () => {
  it('is on the router options while generate runs and let go of once it settled (the options may be held longer)', async () => {
    const h = await createHarness({ stores: 'memory' });
    try {
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 100, period: 'total' } });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
      const seen: Array<{ options: GenerateOptions; during: unknown }> = [];
      const generate = h.router.generate.bind(h.router);
      h.router.generate = (input, options = {}) => {
        seen.push({ options, during: options.beforeAttemptAfterSpend });
        return generate(input, options);
      };
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
      expect(res.status).toBe(200);
      await res.text();
      expect(seen).toHaveLength(1);
      expect(typeof seen[0]!.during).toBe('function');
      expect(seen[0]!.options.beforeAttemptAfterSpend).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});
