/**
 * Prompt-cache writes in the ledger, the edge cases (each found by the review of 007a71d):
 *
 * 1. A router cache hit (exact cache) called no provider and wrote nothing to any provider cache: its ledger
 *    row and metrics carry no prompt-cache reads or writes (`providerCacheUsage`), so invoices and
 *    `llm_tokens_total{type="cache_write"}` count each write once, on the row of the call that made it (as
 *    OpenTelemetry, whose `applyResult` leaves a hit's usage out). The same for a predictive-cache prefetch and
 *    the hit it serves.
 * 2. An engine whose usage names 1-hour cache writes without (or above) the total, which `computeCost` clamps
 *    and prices, is recorded clamped the same way (`ledgerCounts`): the call is answered and has its row.
 * 3. An Anthropic stream that breaks after content (an `error` event, as the API sends `overloaded_error`
 *    mid-stream) is ledgered with the input, cache reads and cache writes Anthropic reported in
 *    `message_start` (the decoder hands them out as a `usage` part at once), the output estimated from the
 *    text sent.
 *
 * Real SQLite (in memory) stores; a local node:http server speaking Anthropic's SSE for (3).
 */
import { computeCost, type ModelPrice, type Usage } from '@llmrr/core';
import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import { afterEach, describe, expect, it } from 'vitest';
import { FixedUsageEngine } from '../test-support/fixed-usage-engine.js';
import { createHarness, mockModel, post, type Harness, type ModelInput } from '../test-support/harness.js';

const PRICE: ModelPrice = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 };
const USAGE: Usage = { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cachedInputTokens: 300, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 };
// The cascades' question, the weak model's wrong answer (the arithmetic verifier escalates it) and the strong one's.
const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make?';
const WRONG = 'She makes 9 * 2 = 19 dollars.\n#### 19';
const RIGHT = 'She makes 9 * 2 = 18 dollars.\n#### 18';

function metric(text: string, line: RegExp): number {
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').at(-1)) : 0;
}

let h: Harness | undefined;
let upstream: AnthropicWireServer | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await upstream?.close();
  upstream = undefined;
});

async function setup(models: ModelInput[], extra: Parameters<typeof createHarness>[0] = {}): Promise<{ harness: Harness; secret: string }> {
  const harness = await createHarness({ models, stores: 'memory', ...extra });
  h = harness;
  await harness.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  const secret = (await harness.stores!.tenants.createKey('acme', { name: 'k' })).secret;
  return { harness, secret };
}

/**
 * The exact cache on; `weak` (priority 1) answers WRONG with USAGE, so the arithmetic verifier escalates; each cascade
 * goes from `weak` to its own strong model (priorities 2, 3, ...), served by the engine given. All at PRICE.
 */
function weakFirstCascades(cascades: Record<string, { strong: string; engine: FixedUsageEngine }>) {
  const entries = Object.entries(cascades);
  return setup([mockModel('weak', {}, { price: PRICE, priority: 1 }), ...entries.map(([, c], i) => mockModel(c.strong, {}, { price: PRICE, priority: i + 2 }))], {
    cache: { exact: { enabled: true } },
    routing: { cascades: entries.map(([name, c]) => ({ name, weak: 'weak', strong: c.strong, verifier: 'arithmetic' })) },
    routerOptions: {
      engines: { weak: new FixedUsageEngine(USAGE, { modelId: 'weak-test', reply: WRONG }), ...Object.fromEntries(entries.map(([, c]) => [c.strong, c.engine])) },
    },
  });
}

describe('prompt-cache writes in the ledger: cache hits, odd counts, broken streams', () => {
  it('a router cache hit records no provider-cache writes, and llm_tokens_total{type="cache_write"} does not grow', async () => {
    const { harness, secret } = await setup([mockModel('claude', {}, { price: PRICE })], {
      cache: { exact: { enabled: true } },
      routerOptions: { engines: { claude: new FixedUsageEngine(USAGE, { modelId: 'claude-test', reply: 'Cached answer.' }) } },
    });
    const body = { model: 'claude', messages: [{ role: 'user', content: 'the same question' }] };
    const first = await post(harness.gateway, '/v1/chat/completions', body, { authorization: `Bearer ${secret}` });
    expect(first.status).toBe(200);
    await first.text();
    const hit = await post(harness.gateway, '/v1/chat/completions', body, { authorization: `Bearer ${secret}` });
    expect(hit.status).toBe(200);
    await hit.text();
    expect(hit.headers.get('x-llmrr-cache')).toBe('hit-exact');

    const row = await harness.stores!.ledger.get(hit.headers.get('x-request-id')!);
    expect(row).toMatchObject({ cacheHit: true, costUsd: 0 });
    // No provider was called: nothing was written to (or read from) a provider's prompt cache.
    // (soft: the row, the invoice and the metric each report on their own)
    expect.soft(row).toMatchObject({ cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
    expect.soft(row).toMatchObject({ cachedInputTokens: 0 });
    // The tenant's invoice counts the one real write (600), not 1200.
    const invoice = await harness.stores!.ledger.invoice('acme', 0, Date.now() + 60_000);
    expect.soft(invoice.cacheWriteInputTokens).toBe(600);
    const text = await (await harness.gateway.fetch(new Request('http://gateway.test/metrics'))).text();
    expect.soft(metric(text, /^llm_tokens_total\{type="cache_write",model="claude"\}/)).toBe(600);
  });

  it('a predictive-cache prefetch and the cache hit it serves do not both count the same cache writes', async () => {
    // The prefetch calls the model (its row has the 500 writes, rightly); the live follow-up is then served
    // from the prefetched entry: its row must not count those 500 writes a second time.
    const usage: Usage = { inputTokens: 900, outputTokens: 12, totalTokens: 912, cachedInputTokens: 200, cacheWriteInputTokens: 500, cacheWrite1hInputTokens: 50 };
    const { harness, secret } = await setup([mockModel('chat'), mockModel('emb', {}, { capabilities: ['embeddings'] })], {
      cache: {
        exact: { enabled: true, ttlMs: 3_600_000 },
        semantic: { enabled: true, embedder: 'emb', threshold: 0.95, guardAbove: 0.95 },
        predictive: { enabled: true },
      },
      routerOptions: { unknownTenant: 'shared', engines: { chat: new FixedUsageEngine(usage) } },
    });
    const conversation = (session: string) => {
      const messages: Array<{ role: string; content: string }> = [{ role: 'system', content: `Support session ${session}` }];
      return async (question: string) => {
        messages.push({ role: 'user', content: question });
        const res = await post(harness.gateway, '/v1/chat/completions', { model: 'chat', messages, user: session }, { authorization: `Bearer ${secret}` });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
        messages.push({ role: 'assistant', content: body.choices[0]!.message.content });
        await harness.router.prefetch!.settled();
        return res;
      };
    };
    for (const u of ['u1', 'u2']) {
      const c = conversation(u);
      await c('How do I reset my password?');
      await c('And how do I change the email address on my account?');
    }
    const u3 = conversation('u3');
    await u3('How do I reset my password?');
    expect(harness.router.prefetch!.stats('acme').calls).toBe(1);
    const follow = await u3('And how do I change the email address on my account?');
    expect(follow.headers.get('x-llmrr-cache')).toBe('hit-exact');
    const rows = await harness.stores!.ledger.query({ tenantId: 'acme', limit: 1000 });
    expect(rows.some((r) => r.endpoint === 'prefetch')).toBe(true); // (recorded before the hit was served)
    // Model calls made (live misses + the prefetch) x 500 writes each: what the provider wrote and billed.
    const modelCalls = rows.filter((r) => !r.cacheHit).length;
    const invoice = await harness.stores!.ledger.invoice('acme', 0, Date.now() + 60_000);
    expect(invoice.cacheWriteInputTokens).toBe(500 * modelCalls);
  });

  it('an answered call whose engine reports 1-hour cache writes without their total is still answered and ledgered', async () => {
    // Priced without complaint (computeCost clamps the 1-hour part to the writes) ...
    const odd: Usage = { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cacheWrite1hInputTokens: 100 };
    expect(computeCost(odd, PRICE).totalUsd).toBeGreaterThan(0);
    const logged: string[] = [];
    const { harness, secret } = await setup([mockModel('claude', {}, { price: PRICE })], {
      routerOptions: { engines: { claude: new FixedUsageEngine(odd, { modelId: 'claude-test', reply: 'An answer.' }) } },
      gateway: { log: (entry) => void logged.push(`${entry.message}: ${String((entry.error as Error | undefined)?.message ?? '')}`) },
    });
    const res = await post(harness.gateway, '/v1/chat/completions', { model: 'claude', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    const text = await res.text();
    // ... and ledgered the same way: the provider answered (and billed), so the client gets its answer and
    // the ledger its row, the 1-hour part clamped to the writes (none reported: 0), as the price was.
    expect(logged.filter((l) => l.includes('usage ledger'))).toEqual([]);
    expect(res.status, text).toBe(200);
    const row = await harness.stores!.ledger.get(res.headers.get('x-request-id')!);
    expect(row).toMatchObject({ inputTokens: 1000, outputTokens: 20 });
    expect(row).toMatchObject({ cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0, costUsd: computeCost(odd, PRICE).totalUsd });
  });

  it('1-hour writes above the writes, and reads and writes beyond the input, are recorded as they were priced', async () => {
    const odd: Usage = { inputTokens: 1000, outputTokens: 20, totalTokens: 1020, cachedInputTokens: 700, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 900 };
    const { harness, secret } = await setup([mockModel('claude', {}, { price: PRICE })], {
      routerOptions: { engines: { claude: new FixedUsageEngine(odd, { modelId: 'claude-test', reply: 'An answer.' }) } },
    });
    const res = await post(harness.gateway, '/v1/chat/completions', { model: 'claude', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('[DONE]');
    const row = await harness.stores!.ledger.get(res.headers.get('x-request-id')!);
    // 700 reads of 1000 input leave 300 for writes, all of them 1-hour (computeCost's clamps).
    expect(row).toMatchObject({ inputTokens: 1000, cachedInputTokens: 700, cacheWriteInputTokens: 300, cacheWrite1hInputTokens: 300, costUsd: computeCost(odd, PRICE).totalUsd });
  });

  it('a streamed router cache hit records no provider-cache reads or writes either', async () => {
    const { harness, secret } = await setup([mockModel('claude', {}, { price: PRICE })], {
      cache: { exact: { enabled: true } },
      routerOptions: { engines: { claude: new FixedUsageEngine(USAGE, { modelId: 'claude-test', reply: 'Cached answer.' }) } },
    });
    const body = { model: 'claude', stream: true, messages: [{ role: 'user', content: 'the same question' }] };
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await post(harness.gateway, '/v1/chat/completions', body, { authorization: `Bearer ${secret}` });
      expect(res.status).toBe(200);
      await res.text();
      ids.push(res.headers.get('x-request-id')!);
    }
    const [miss, hit] = await Promise.all(ids.map((id) => harness.stores!.ledger.get(id)));
    expect(miss).toMatchObject({ cacheHit: false, inputTokens: 1000, cachedInputTokens: 300, cacheWriteInputTokens: 600, cacheWrite1hInputTokens: 100 });
    // The hit keeps the answer's token counts (as before) but no provider-cache counts.
    expect(hit).toMatchObject({ cacheHit: true, costUsd: 0, inputTokens: 1000, outputTokens: 20, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
  });

  it('an escalated cascade whose weak step was a router cache hit records only the strong call\'s cache writes', async () => {
    const STRONG: Usage = { inputTokens: 2000, outputTokens: 30, totalTokens: 2030, cacheWriteInputTokens: 1800 };
    const { harness, secret } = await weakFirstCascades({
      a: { strong: 's1', engine: new FixedUsageEngine(STRONG, { modelId: 's1-test', reply: RIGHT }) },
      b: { strong: 's2', engine: new FixedUsageEngine(STRONG, { modelId: 's2-test', reply: RIGHT }) },
    });
    const rows = [];
    for (const model of ['a', 'b']) {
      const res = await post(harness.gateway, '/v1/chat/completions', { model, messages: [{ role: 'user', content: QUESTION }] }, { authorization: `Bearer ${secret}` });
      expect(res.status).toBe(200);
      await res.text();
      rows.push(await harness.stores!.ledger.get(res.headers.get('x-request-id')!));
    }
    // `a` called both models; `b` got its weak answer from the router cache and called s2 only.
    expect(rows[0]).toMatchObject({ cacheHit: false, cachedInputTokens: 300, cacheWriteInputTokens: 2400, cacheWrite1hInputTokens: 100 });
    expect(rows[1]).toMatchObject({ cacheHit: false, cachedInputTokens: 0, cacheWriteInputTokens: 1800, cacheWrite1hInputTokens: 0 });
    const invoice = await harness.stores!.ledger.invoice('acme', 0, Date.now() + 60_000);
    expect(invoice.cacheWriteInputTokens).toBe(2400 + 1800);
  });

  it('a cascade whose strong call fails after a weak step answered from the router cache bills no cache counts for it', async () => {
    const { harness, secret } = await weakFirstCascades({
      ok: { strong: 'strong', engine: new FixedUsageEngine(USAGE, { modelId: 'strong-test', reply: RIGHT }) },
      bad: { strong: 'broken', engine: new FixedUsageEngine(USAGE, { modelId: 'broken-test', failures: [{ code: 'provider_unavailable', times: 1000 }] }) },
    });
    const ask = async (model: string, stream: boolean) => {
      const res = await post(harness.gateway, '/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: QUESTION }] }, { authorization: `Bearer ${secret}` });
      await res.text();
      return { status: res.status, row: await harness.stores!.ledger.get(res.headers.get('x-request-id')!) };
    };
    expect((await ask('ok', false)).status).toBe(200); // the weak answer is now in the router cache
    for (const stream of [false, true]) {
      const { status, row } = await ask('bad', stream);
      expect(status).toBe(503); // (streamed: the strong stream failed before its first byte)
      // The weak step (a cache hit: cost 0) is all this request got; it read and wrote no provider cache.
      expect(row).toMatchObject({ status: 'error', costUsd: 0, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
    }
  });

  it('an Anthropic stream that breaks after content keeps the cache reads and writes message_start reported', async () => {
    upstream = await startAnthropicWireServer({ apiKey: 'ak' });
    // message_start reports 100 fresh + 300 read + 600 written input tokens; 6 text deltas, then an
    // `overloaded_error` event after the 5th delta (event 1 message_start, 2 block start, 3 ping, 4.. deltas).
    upstream.enqueue({
      content: 'one two three four five six',
      chunks: 6,
      usage: { input_tokens: 100, cache_read_input_tokens: 300, cache_creation_input_tokens: 600, output_tokens: 40 },
      streamError: { afterEvents: 8 },
    });
    const { harness, secret } = await setup([
      { name: 'claude', engine: 'anthropic', baseURL: upstream.url, model: 'claude-test', apiKey: 'ak', capabilities: ['chat', 'streaming'], price: PRICE },
    ]);
    const res = await post(harness.gateway, '/v1/chat/completions', { model: 'claude', stream: true, messages: [{ role: 'user', content: 'count to six' }] }, { authorization: `Bearer ${secret}` });
    expect(res.status).toBe(200);
    const sse = await res.text();
    expect(sse).toContain('one'); // content reached the client before the break
    const row = await harness.stores!.ledger.get(res.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'error', stream: true });
    // What Anthropic reported (and bills) for the prompt: 1000 input tokens, 300 of them read, 600 written.
    expect(row).toMatchObject({ inputTokens: 1000, cachedInputTokens: 300, cacheWriteInputTokens: 600 });
    // The output is estimated from the text sent (5 of 6 words), not message_start's placeholder output_tokens
    // 1, nor the 40 the complete answer would have reported; priced with the reported prompt counts.
    expect(row!.outputTokens).toBeGreaterThan(1);
    expect(row!.outputTokens).toBeLessThan(40);
    const usage: Usage = { inputTokens: 1000, outputTokens: row!.outputTokens, totalTokens: 1000 + row!.outputTokens, cachedInputTokens: 300, cacheWriteInputTokens: 600 };
    expect(row!.costUsd).toBe(computeCost(usage, PRICE).totalUsd);
  });
});
