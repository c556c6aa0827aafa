/**
 * Per-call fallbacks (`llmrr.fallbacks`) behind the gateway: the gateway checks them against `router.models(tenant)`,
 * the router against the view it plans the call in. A gateway without stores (every caller the anonymous principal,
 * no router tenant) over a v3 config with a `defaultTenant`: `models()` without a tenant is that tenant's view, the
 * one the router plans a call without a tenant in, so a fallback the gateway accepts is one the router takes (it used
 * to list the shared models there, and the router then refused a listed one with a 400 naming `fallbacks.0`), and a
 * model the default tenant may not use is neither listed nor accepted as a fallback (`llmrr.fallbacks.0`).
 * Official openai client on a served gateway, a local OpenAI-wire upstream.
 */
import { LLMRouter } from '@llmrr/core';
import { startOpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway } from '../node/serve-gateway.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A served store-less gateway over a v3 config whose `defaultTenant` may use `a` and `c` (not `hidden`). */
async function defaultTenantGateway(): Promise<OpenAI> {
  const upstream = await startOpenAIWireServer({ script: { text: 'ok' } });
  closers.push(() => upstream.close());
  const model = (name: string) => ({ name, engine: 'openai-compatible' as const, baseURL: upstream.baseURL, model: 'x', apiKey: 'k', capabilities: ['chat' as const, 'streaming' as const] });
  const router = new LLMRouter(
    {
      version: 3,
      models: [model('a'), model('c'), model('hidden')],
      tenants: [{ id: 'main', allowedModels: ['a', 'c'] }],
      defaultTenant: 'main',
      routing: { strategy: 'priority', retries: { max: 0 } },
    },
    { env: {} },
  );
  closers.push(() => router.close());
  const gateway = createGateway({ router, log: () => {} });
  closers.push(() => gateway.close());
  const served = await serveGateway(gateway, { port: 0 });
  closers.push(() => served.close(1000));
  return new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

function chat(client: OpenAI, fallbacks: string[]) {
  return client.chat.completions
    .create({ model: 'a', messages: [{ role: 'user', content: 'hi' }], llmrr: { fallbacks } } as OpenAI.ChatCompletionCreateParamsNonStreaming)
    .then(
      (r) => ({ ok: true, text: r.choices[0]?.message.content }),
      (e: unknown) => ({ ok: false, status: (e as { status?: number }).status, param: (e as { param?: unknown }).param }),
    );
}

describe('llmrr.fallbacks on a store-less gateway over a v3 defaultTenant', () => {
  it('lists the default tenant\'s models; a listed model as fallback serves the call', { timeout: 30_000 }, async () => {
    const client = await defaultTenantGateway();
    expect((await client.models.list()).data.map((m) => m.id).sort()).toEqual(['a', 'c']);
    expect(await chat(client, ['c'])).toEqual({ ok: true, text: 'ok' });
  });

  it('a model the default tenant may not use is refused as a fallback, naming llmrr.fallbacks.0', { timeout: 30_000 }, async () => {
    const client = await defaultTenantGateway();
    expect(await chat(client, ['hidden'])).toEqual({ ok: false, status: 400, param: 'llmrr.fallbacks.0' });
  });
});
