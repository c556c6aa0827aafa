/**
 * A call whose budget settlement failed (Redis did not answer within its bound) and failed again until given up: the
 * log names the call (its request id and tenant), as a prefetch charge's give-up names its prefetch. Before, it said
 * only "releasing limits or settling the budget of a finished call failed, and failed again until given up": an
 * operator could not tell which request's cost was lost from the budget.
 * In-process gateway, real LLMRouter (priced mock engine), core's Redis budget store on a real Redis (its own server:
 * the test pauses its clients with `CLIENT PAUSE`), the other stores SQLite in memory. The give-up is the gateway's
 * close (its last try, while Redis is still paused), not the 10 minutes of tries.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { LLMRouter, createStateStores, type BudgetStore, type StateStores } from '@llmrr/core';
import { afterEach, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';
import type { Gateway } from '../types.js';

let redis: TestRedis | undefined;
let memory: StateStores | undefined;
let budgets: BudgetStore | undefined;
let router: LLMRouter | undefined;
let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  await router?.close();
  await budgets?.close().catch(() => undefined);
  await memory?.close();
  redis?.stop();
  [redis, memory, budgets, router, gateway] = [undefined, undefined, undefined, undefined, undefined];
});

it("a call's settlement given up is logged with the call's request id and tenant", async () => {
  redis = await startTestRedis({ own: true });
  const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
  const [connection, mod] = await Promise.all(['redis-connection', 'redis-budget-store'].map((n) => import(/* @vite-ignore */ file(n))));
  const handle = await connection.connectRedis(redis.url, `gu${randomBytes(4).toString('hex')}:`);
  budgets = new mod.RedisBudgetStore(handle, Date.now, { timeoutMs: 300 }) as BudgetStore;
  memory = await createStateStores({ mode: 'memory' });
  const stores: StateStores = { ...memory, budgets };
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  // Redis stops answering as the call's row is written (its settlement is issued right after, in the same run), and
  // for longer than the test runs: the settlement, and every try of it, is past its bound.
  const record = stores.ledger.record.bind(stores.ledger);
  stores.ledger.record = (entry) => {
    execFileSync('redis-cli', ['-u', redis!.url, 'CLIENT', 'PAUSE', '5000', 'ALL']);
    return record(entry);
  };
  const logged: string[] = [];
  router = new LLMRouter({ models: [{ name: 'mock', engine: 'mock', price: { input: 1000, output: 1000 }, capabilities: ['chat'], options: {} }], routing: { strategy: 'priority', retries: { max: 0 } } });
  gateway = createGateway({ router, stores, log: (e) => void logged.push(e.message) });
  const res = await gateway.fetch(
    new Request('http://gateway.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ model: 'mock', max_tokens: 20, messages: [{ role: 'user', content: 'hello there' }] }),
    }),
  );
  await res.text();
  expect(res.status).toBe(200);
  const requestId = res.headers.get('x-request-id')!;
  expect(requestId).toBeTruthy();
  // The gateway closes while Redis is still paused: its last try fails too, and the call is given up.
  await gateway.close();
  gateway = undefined;
  expect(logged).toContain(`releasing limits or settling the budget of a finished call failed, and failed again until given up: call ${requestId} (tenant "acme")`);
}, 60_000);
