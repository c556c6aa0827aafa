import type { CallOptions, GenerateRequest, GenerateResult, StreamPart } from '@llmrr/core';
import type { MockEngineOptions } from '@llmrr/core/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockEngineWrapper } from '../test-support/mock-engine-wrapper.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

/**
 * The ledger row's `latencyMs` is measured on the monotonic clock (`performance.now()`), its `createdAt` on the
 * wall clock (`deps.now`). When the wall clock steps back while a request runs (an NTP correction, a VM
 * resumed), the call is still answered and ledgered. (Found in review: the latency was `deps.now() -
 * startedAt`, negative after such a step, `ledger.record` refused the row (`latencyMs` must be >= 0) and the
 * settler turned that into a 500: the provider call was made and paid, the client got an error instead of the
 * answer, and the request was missing from usage and invoices.)
 */
const clock = { offsetMs: 0 };
const now = () => Date.now() + clock.offsetMs;

/** The mock's answers; while answering, the wall clock steps back 2 s (as an NTP step would). */
class ClockStepEngine extends MockEngineWrapper {
  constructor(options: MockEngineOptions = {}) {
    super(options);
  }

  async generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    clock.offsetMs -= 2_000;
    return this.inner.generate(request, options);
  }

  async *stream(request: GenerateRequest, options?: CallOptions): AsyncIterable<StreamPart> {
    clock.offsetMs -= 2_000;
    yield* this.inner.stream(request, options);
  }
}

// The router on the gateway's clock too, as in production (both default to Date.now): its time to first
// token then comes out negative, and the row is recorded without it.
for (const routerOnWallClock of [false, true]) describe(`a wall-clock step back during a request${routerOnWallClock ? ' (the router on the same clock)' : ''}`, () => {
  let h: Harness;
  let secret: string;
  beforeEach(async () => {
    clock.offsetMs = 0;
    h = await createHarness({
      models: [mockModel('mock')],
      routerOptions: { ...(routerOnWallClock ? { now } : {}), engines: { mock: new ClockStepEngine({ reply: 'Hello there.' }) } },
      stores: 'memory',
      gateway: { now },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    secret = (await h.stores!.tenants.createKey('acme', { name: 'k' })).secret;
  });
  afterEach(() => h.close());

  for (const stream of [false, true]) {
    it(`still answers and ledgers the paid call (${stream ? 'stream' : 'JSON'})`, async () => {
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', stream, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      if (stream) expect(body, 'the stream ends with [DONE], not an error frame').toContain('data: [DONE]');
      const rows = await h.stores!.ledger.query({ tenantId: 'acme' });
      expect(rows.map((r) => r.status)).toEqual(['success']);
      expect(rows[0]!.costUsd).toBeGreaterThan(0);
      expect(rows[0]!.latencyMs).toBeGreaterThanOrEqual(0);
      expect(rows[0]!.latencyMs).toBeLessThan(2_000);
      if (rows[0]!.ttftMs !== undefined) expect(rows[0]!.ttftMs).toBeGreaterThanOrEqual(0);
      // The row's time is the wall clock's (the request came in before the step).
      expect(Math.abs(rows[0]!.createdAt - Date.now())).toBeLessThan(10_000);
    });
  }
});

// (Found in review: a gateway `now` with fractional milliseconds, e.g. `performance.timeOrigin + performance.now()`,
// dated the ledger row with a fraction, which the ledger refuses (`createdAt` must be an integer): every paid call
// then went unledgered.)
describe('a gateway clock that reads fractional milliseconds', () => {
  let h: Harness;
  let secret: string;
  const fractional = () => Date.now() + 0.75;
  beforeEach(async () => {
    h = await createHarness({ models: [mockModel('mock', { reply: 'Hello there.' })], stores: 'memory', gateway: { now: fractional } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 100, period: 'month' } });
    secret = (await h.stores!.tenants.createKey('acme', { name: 'k' })).secret;
  });
  afterEach(() => h.close());

  for (const stream of [false, true]) {
    it(`is read in whole milliseconds: the call is answered, ledgered and charged (${stream ? 'stream' : 'JSON'})`, async () => {
      const before = Date.now();
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', stream, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      if (stream) expect(body, 'the stream ends with [DONE], not an error frame').toContain('data: [DONE]');
      const rows = await h.stores!.ledger.query({ tenantId: 'acme' });
      expect(rows.map((r) => r.status)).toEqual(['success']);
      expect(Number.isInteger(rows[0]!.createdAt)).toBe(true);
      expect(rows[0]!.createdAt).toBeGreaterThanOrEqual(before);
      const budget = await h.stores!.budgets.spent('acme', 'month');
      expect(budget).toMatchObject({ reservedUsd: 0, spentUsd: rows[0]!.costUsd });
    });
  }
});
