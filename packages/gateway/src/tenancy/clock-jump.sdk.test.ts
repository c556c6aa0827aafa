/**
 * A wall clock that jumps forward by more than the lease and reservation TTL (10 minutes) while a call runs (NTP
 * stepping a drifted host, a VM resumed after a pause) must not free that call's concurrency place nor its budget
 * reservation: embedded stores time both on a monotonic clock. Here the stores and the gateway read an injected wall
 * clock that jumps 15 minutes, and the stores' monotonic clock is `performance.now()`. Served gateway, official `openai`
 * client, a local OpenAI-wire upstream that holds the first call's answer while a second call is tried.
 */
import { LLMRouter, createStateStores, type StateStores } from '@llmrr/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { TEST_ADMIN_KEY, adminApi } from '../test-support/admin-api.js';
import { startHeldUpstream, type HeldUpstream } from '../test-support/held-upstream.js';
import type { Gateway } from '../types.js';

/** Wednesday 2026-10-14, 12:00 UTC (a jump of 15 minutes stays in its day). */
const NOON = Date.UTC(2026, 9, 14, 12);
const JUMP_MS = 15 * 60_000;

describe('a wall clock jumping 15 minutes forward while a call runs (embedded stores)', () => {
  let upstream: HeldUpstream;
  let router: LLMRouter;
  let stores: StateStores;
  let gateway: Gateway;
  let served: ServedGateway;
  let jumped = 0;
  const made = performance.now();
  const wall = () => NOON + jumped + Math.floor(performance.now() - made);
  const admin = adminApi(() => gateway);

  beforeAll(async () => {
    upstream = await startHeldUpstream();
    router = new LLMRouter(
      {
        models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat'], price: { input: 100_000, output: 100_000 } }],
        routing: { strategy: 'priority', retries: { max: 0 } },
      },
      { env: {} },
    );
    stores = await createStateStores({ mode: 'memory', clock: wall, monotonicClock: () => performance.now() });
    gateway = createGateway({ router, stores, log: () => {}, auth: { adminKey: TEST_ADMIN_KEY }, now: wall });
    served = await serveGateway(gateway, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await served?.close();
    await gateway?.close();
    await router?.close();
    await stores?.close();
    await upstream?.close();
  });

  const clientOf = async (tenantId: string) => {
    const { secret } = await stores.tenants.createKey(tenantId, { name: 'sdk' });
    return new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
  };
  const ask = (client: OpenAI) => client.chat.completions.create({ model: 'gpt', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
  const statusOf = (call: Promise<unknown>) =>
    call.then(
      () => 200,
      (e: unknown) => (e instanceof OpenAI.APIError ? e.status : -1),
    );

  /** Holds a first call, jumps the wall clock, then tries a second call: its status, or `admitted` once it reached the upstream. */
  const secondAfterJump = async (client: OpenAI) => {
    const base = upstream.received();
    upstream.hold();
    const first = statusOf(ask(client));
    await vi.waitFor(() => expect(upstream.received()).toBe(base + 1));
    jumped += JUMP_MS;
    let second: number | undefined;
    const trying = statusOf(ask(client)).then((s) => (second = s));
    await vi.waitFor(() => expect(second !== undefined || upstream.received() > base + 1).toBe(true), { timeout: 10_000 });
    const outcome = second ?? 'admitted';
    upstream.letGo();
    await trying;
    expect(await first).toBe(200);
    return outcome;
  };

  it("keeps the running call's concurrency place: a second call of a tenant at maxConcurrency 1 is a 429", async () => {
    await stores.tenants.createTenant({ id: 'conc', name: 'conc', limits: { maxConcurrency: 1 } });
    const client = await clientOf('conc');
    expect(await secondAfterJump(client)).toBe(429);
    // Once the first call has ended, its place is free.
    expect(await statusOf(ask(client))).toBe(200);
  });

  it("keeps the running call's budget reservation: a second call the budget cannot cover beside it is a 402", async () => {
    await stores.tenants.createTenant({ id: 'money', name: 'money', budget: { amountUsd: 100, period: 'month' } });
    const client = await clientOf('money');
    // The budget fits one call's reservation, not two.
    upstream.hold();
    const probe = statusOf(ask(client));
    const held = await vi.waitFor(async () => {
      const b = (await (await admin('GET', '/admin/tenants/money/budget')).json()) as { reservedUsd: number };
      expect(b.reservedUsd).toBeGreaterThan(0);
      return b.reservedUsd;
    });
    upstream.letGo();
    expect(await probe).toBe(200);
    const spent = ((await (await admin('GET', '/admin/tenants/money/budget')).json()) as { spentUsd: number }).spentUsd;
    expect((await admin('PUT', '/admin/tenants/money/budget', { amountUsd: Number((spent + held * 1.5).toFixed(6)), period: 'month' })).status).toBe(200);
    expect(await secondAfterJump(client)).toBe(402);
  });
});
