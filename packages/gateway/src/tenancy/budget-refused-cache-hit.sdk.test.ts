/**
 * A cached answer costs nothing: a tenant whose budget cannot cover the worst case of a new call (402
 * `budget_exceeded`) is still served the router's cache hits, exact and semantic (the local embedder is free), with
 * a ledger row of cost 0 marked as a hit. A miss still gets the 402 and no provider call; a match the model guard
 * would have to judge (a paid call) is a miss. Rate limits apply as before (429 before the budget), and the
 * concurrency slot of a request served this way is given back. The same through the stores marked shared (admission
 * then waits on them with the client's abort in view), and with `streamHoldMs: 0` (every stream committed at once):
 * a streamed miss is still the HTTP 402, never a 200 stream carrying it as an error event. Served gateway, official `openai` client, a local
 * OpenAI-wire upstream that answers from the question it is sent (and counts what reached it).
 */
import { LLMRouter, createStateStores, type RouterConfigInput, type StateStores } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer, type RecordedRequest } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { ledgerRow } from '../test-support/ledger-wait.js';

const lastUser = (req: RecordedRequest): string => {
  const messages = (req.body as { messages: Array<{ role: string; content: string }> }).messages;
  return messages.filter((m) => m.role === 'user').at(-1)!.content;
};

interface Setup {
  upstream: OpenAIWireServer;
  router: LLMRouter;
  stores: StateStores;
  served: ServedGateway;
  client: OpenAI;
  /** Calls to the guard model (`judge`) that reached the router. */
  guardCalls: number;
  close(): Promise<void>;
}

async function setup(mode: 'memory' | 'shared', streamHoldMs?: number): Promise<Setup> {
  const upstream = await startOpenAIWireServer({ script: (req) => (lastUser(req) === 'judge me' ? { text: 'YES' } : { text: `Answer to: ${lastUser(req)}` }) });
  const deployment = (name: string): NonNullable<RouterConfigInput['models']>[number] => ({
    name,
    engine: 'openai-compatible',
    baseURL: upstream.baseURL,
    model: `${name}-test`,
    apiKey: 'k',
    capabilities: ['chat', 'streaming'],
    price: { input: 1, output: 1 },
  });
  const router = new LLMRouter(
    {
      models: [deployment('gpt'), deployment('judge')],
      routing: { strategy: 'priority', retries: { max: 0 } },
      // The exact cache, then the semantic one (local embedder: free); a match below 0.97 goes to the `verify` guard.
      cache: { exact: { enabled: true }, semantic: { enabled: true, embedder: 'local-use', guard: 'verify', guardModel: 'judge', guardAbove: 0.97 } },
    },
    { env: {} },
  );
  const memory = await createStateStores({ mode: 'memory' });
  // Marked shared: admission waits on the stores with the client's abort in view (the path of Redis/PostgreSQL stores).
  const stores: StateStores = mode === 'shared' ? { ...memory, mode: 'shared' } : memory;
  const gateway = createGateway({ router, stores, log: () => {}, ...(streamHoldMs !== undefined ? { streamHoldMs } : {}) });
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 1, period: 'month' }, limits: { maxConcurrency: 1 } });
  const { secret } = await stores.tenants.createKey('acme', { name: 'sdk' });
  const served = await serveGateway(gateway, { port: 0 });
  const s: Setup = {
    upstream,
    router,
    stores,
    served,
    client: new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 }),
    guardCalls: 0,
    async close() {
      await served.close(1000);
      await gateway.close();
      await router.close();
      await memory.close();
      await upstream.close();
    },
  };
  router.on('request:start', (e) => {
    if (e.model === 'judge') s.guardCalls++;
  });
  return s;
}

describe.each([
  ['memory', undefined],
  ['shared', undefined],
  // Streams committed at once: a cache-only stream is held until it opens all the same (its miss is the 402).
  ['memory', 0],
] as const)('a tenant over its budget is served cached answers (%s stores, streamHoldMs %s)', (mode, streamHoldMs) => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup(mode, streamHoldMs);
  }, 60_000);
  afterAll(() => s?.close());

  const ask = async (content: string, stream = false) => {
    if (stream) {
      const { data, response } = await s.client.chat.completions.create({ model: 'gpt', max_tokens: 40, stream: true, messages: [{ role: 'user', content }] }).withResponse();
      let text = '';
      for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
      return { text, cache: response.headers.get('x-llmrr-cache'), id: response.headers.get('x-request-id')! };
    }
    const { data, response } = await s.client.chat.completions.create({ model: 'gpt', max_tokens: 40, messages: [{ role: 'user', content }] }).withResponse();
    return { text: data.choices[0]!.message.content, cache: response.headers.get('x-llmrr-cache'), id: response.headers.get('x-request-id')! };
  };
  const refusal = async (content: string, stream = false) => {
    try {
      await ask(content, stream);
    } catch (e) {
      if (e instanceof OpenAI.APIError) return { status: e.status, code: (e.error as { code?: string } | undefined)?.code };
      throw e;
    }
    return { status: 200, code: undefined };
  };

  it('exact and semantic hits are served at cost 0 with a ledger row marked as a hit; a miss is 402 without a provider call', async () => {
    const question = 'What is the capital city of France?';
    expect(await ask(question)).toMatchObject({ text: `Answer to: ${question}`, cache: 'miss' });
    // Spent: the budget has nothing left for a new call's worst case.
    const { spentUsd } = await s.stores.budgets.spent('acme', 'month');
    expect(spentUsd).toBeGreaterThan(0);
    await s.stores.tenants.updateTenant('acme', { budget: { amountUsd: spentUsd, period: 'month' } });
    const sent = s.upstream.requests.length;

    for (const stream of [false, true]) {
      const exact = await ask(question, stream);
      expect({ text: exact.text, cache: exact.cache }).toEqual({ text: `Answer to: ${question}`, cache: 'hit-exact' });
      expect(await ledgerRow({ ledger: s.stores.ledger }, exact.id)).toMatchObject({ status: 'success', costUsd: 0, cacheHit: true, stream });
      // The question in other case, served by the semantic cache (embedded lower-cased: cosine 1, above `guardAbove`).
      const semantic = await ask('what is the capital city of France?', stream);
      expect({ text: semantic.text, cache: semantic.cache }).toEqual({ text: `Answer to: ${question}`, cache: 'hit-semantic' });
      expect(await ledgerRow({ ledger: s.stores.ledger }, semantic.id)).toMatchObject({ status: 'success', costUsd: 0, cacheHit: true });
    }
    // A new question: the 402 as before, and nothing reached the upstream.
    expect(await refusal('How many moons does Mars have?')).toEqual({ status: 402, code: 'budget_exceeded' });
    expect(await refusal('How many moons does Mars have?', true)).toEqual({ status: 402, code: 'budget_exceeded' });
    // So is a stream of the Responses API and of Anthropic's Messages (the same call path).
    const streams: Array<[string, Record<string, unknown>]> = [
      ['/v1/responses', { model: 'gpt', max_output_tokens: 40, stream: true, input: 'How many moons does Mars have?' }],
      ['/v1/messages', { model: 'gpt', max_tokens: 40, stream: true, messages: [{ role: 'user', content: 'How many moons does Mars have?' }] }],
    ];
    for (const [path, body] of streams) {
      const res = await fetch(`${s.served.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.client.apiKey}`, 'content-type': 'application/json', ...(path === '/v1/messages' ? { 'anthropic-version': '2023-06-01' } : {}) },
        body: JSON.stringify(body),
      });
      expect({ path, status: res.status, contentType: res.headers.get('content-type'), body: await res.text() }).toMatchObject({ path, status: 402, contentType: expect.stringContaining('application/json'), body: expect.stringContaining('Budget of tenant') });
    }
    // A match the guard would judge (cosine 0.96 with USE lite, below `guardAbove`): no paid guard call for it, a 402.
    expect(await refusal('what is the capital city of france')).toEqual({ status: 402, code: 'budget_exceeded' });
    expect({ upstream: s.upstream.requests.length - sent, guardCalls: s.guardCalls }).toEqual({ upstream: 0, guardCalls: 0 });
    const after = await s.stores.budgets.spent('acme', 'month');
    expect({ spentUsd: after.spentUsd, reservedUsd: after.reservedUsd }).toEqual({ spentUsd, reservedUsd: 0 });
  }, 60_000);

  it('rate limits apply as before: over its requests per minute a cached answer is a 429', async () => {
    // The concurrency slot of every cache-only answer above was given back (maxConcurrency 1): this one is admitted.
    const question = 'What is the capital city of France?';
    expect((await ask(question)).cache).toBe('hit-exact');
    await s.stores.tenants.updateTenant('acme', { limits: { rpm: 1 } });
    const answers = [await refusal(question), await refusal(question)];
    expect(answers.map((a) => a.status)).toContain(429);
  }, 60_000);
});
