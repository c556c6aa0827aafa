import { tenantScopedId } from '@llmrr/core';
import type { AnthropicWireServer, OpenAIWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// OpenAI routes its automatic prompt cache by `prompt_cache_key`; the Codex CLI sends one (its session id) on
// every Responses request. Through the gateway it reaches an OpenAI deployment (the `openai` preset) from both
// /v1/chat/completions and /v1/responses, and no other OpenAI-compatible server (some refuse unknown fields) nor
// Anthropic. It never changes the answer, so the gateway's exact cache ignores it. A shared deployment (the
// operator's account) gets the key of tenant acme as its tenant-scoped form (`tenantScopedId`), a model of acme's own
// the key itself (see src/tenancy/end-user-scoping.sdk.test.ts).

let openaiUp: OpenAIWireServer;
let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

const KEY = '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c';
/** What the shared `openai`-preset deployment receives for a key of tenant acme's. */
const scoped = (key: string) => tenantScopedId('acme', key);
const caps: Array<'chat' | 'streaming' | 'tools'> = ['chat', 'streaming', 'tools'];

beforeAll(async () => {
  ({ gw, upstreams: { openai: openaiUp, anthropic: claudeUp } } = await servedOverWireUpstreams(
    (u) => [
      // The same local upstream behind the `openai` preset and behind a generic OpenAI-compatible deployment.
      wireDeployment(u, 'gpt', { preset: 'openai', model: 'gpt-openai' }),
      { name: 'local', engine: 'openai-compatible', baseURL: u.openai.baseURL, model: 'gpt-local', capabilities: caps },
      { name: 'vllm', engine: 'openai-compatible', preset: 'vllm', baseURL: u.openai.baseURL, model: 'gpt-vllm', capabilities: caps },
      wireDeployment(u, 'claude'),
    ],
    { cache: { exact: { enabled: true } } },
  ));
  // Acme's own OpenAI account (its key), on the same local upstream.
  await gw.harness.stores!.tenants.updateTenant('acme', {
    models: [{ name: 'own-gpt', engine: 'openai-compatible', preset: 'openai', baseURL: openaiUp.baseURL, model: 'gpt-own', apiKey: 'sk-acme', capabilities: caps }],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(openaiUp, claudeUp));

type Sent = Record<string, unknown>;
const lastOpenAIBody = (): Sent => openaiUp.requests.at(-1)!.body as Sent;

/** A fresh question per call, so the gateway's exact cache does not answer it (`llmrr.cache: false` would do too). */
let n = 0;
const question = () => `Weather in Paris? (${++n})`;

describe('prompt_cache_key through the official openai SDK', () => {
  it('chat.completions.create: reaches the openai-preset deployment, JSON and streamed', async () => {
    await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: question() }], prompt_cache_key: KEY });
    expect(lastOpenAIBody()).toMatchObject({ model: 'gpt-openai', prompt_cache_key: scoped(KEY) });

    const stream = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: question() }], prompt_cache_key: KEY, stream: true });
    for await (const _ of stream) void _;
    expect(lastOpenAIBody()).toMatchObject({ model: 'gpt-openai', stream: true, prompt_cache_key: scoped(KEY) });
  });

  it('responses.create: reaches the openai-preset deployment, JSON and streamed (as Codex sends it)', async () => {
    await gw.openai().responses.create({ model: 'gpt', input: question(), prompt_cache_key: KEY, store: false });
    expect(lastOpenAIBody()).toMatchObject({ model: 'gpt-openai', prompt_cache_key: scoped(KEY) });

    const stream = await gw.openai().responses.create({
      model: 'gpt',
      instructions: 'You are a coding agent.',
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: question() }] }],
      prompt_cache_key: KEY,
      store: false,
      stream: true,
    });
    let completed = false;
    for await (const event of stream) if (event.type === 'response.completed') completed = true;
    expect(completed).toBe(true);
    expect(lastOpenAIBody()).toMatchObject({ model: 'gpt-openai', stream: true, prompt_cache_key: scoped(KEY) });
  });

  it('a generic OpenAI-compatible deployment, vLLM and Anthropic never receive it', async () => {
    for (const model of ['local', 'vllm']) {
      await gw.openai().chat.completions.create({ model, messages: [{ role: 'user', content: question() }], prompt_cache_key: KEY });
      await gw.openai().responses.create({ model, input: question(), prompt_cache_key: KEY, store: false });
      expect(openaiUp.requests.map((r) => (r.body as Sent).model)).toEqual([`gpt-${model}`, `gpt-${model}`]);
      for (const r of openaiUp.requests) expect(r.body).not.toHaveProperty('prompt_cache_key');
      clearRequests(openaiUp);
    }
    await gw.openai().chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: question() }], prompt_cache_key: KEY });
    await gw.openai().responses.create({ model: 'claude', input: question(), prompt_cache_key: KEY, store: false });
    expect(claudeUp.requests).toHaveLength(2);
    for (const r of claudeUp.requests) expect(JSON.stringify(r.body)).not.toContain(KEY);
    for (const r of claudeUp.requests) expect(JSON.stringify(r.body)).not.toContain(scoped(KEY));
  });

  it('null and an empty key are no key; the body is the one sent without it', async () => {
    const content = question();
    await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content }], llmrr: { cache: false } } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const plain = openaiUp.requests.at(-1)!.rawBody;
    expect(plain).not.toContain('prompt_cache_key');
    for (const prompt_cache_key of [null, '']) {
      await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content }], prompt_cache_key, llmrr: { cache: false } } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      expect(openaiUp.requests.at(-1)!.rawBody).toBe(plain);
    }
  });

  it('a key that is not a string is a 400 naming prompt_cache_key, on both endpoints, before any call', async () => {
    const refusals = [
      await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: question() }], prompt_cache_key: 42 as unknown as string }).catch((e: unknown) => e),
      await gw.openai().responses.create({ model: 'gpt', input: question(), prompt_cache_key: { id: 'k' } as unknown as string }).catch((e: unknown) => e),
    ];
    for (const e of refusals) expect(e).toMatchObject({ status: 400, param: 'prompt_cache_key' });
    expect((refusals[0] as Error).message).toMatch(/prompt_cache_key/);
    expect(openaiUp.requests).toHaveLength(0);
  });

  it('a key over 64 characters (OpenAI\u2019s limit) is a hint, never a 400: the tenant\u2019s own OpenAI account gets it shortened to 64, on both endpoints; a shared one its tenant-scoped form', async () => {
    // An agent's `<uuid>:sub:<uuid>` (77 characters): its first 47, ':' and 16 hex digits of FNV-1a 64 of the whole key.
    // Sent so to the tenant's own OpenAI account; the shared one gets its tenant-scoped form, 49 characters.
    const session = `${KEY}:sub:0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6d`;
    const short = '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c:sub:0199b7:c00396915bbb1824';
    await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: question() }], prompt_cache_key: session });
    expect(lastOpenAIBody().prompt_cache_key).toBe(scoped(session));
    expect(scoped(session)).toHaveLength(49);
    clearRequests(openaiUp);
    const response = await gw.openai().responses.create({ model: 'own-gpt', input: question(), prompt_cache_key: session, store: false });
    expect(lastOpenAIBody().prompt_cache_key).toBe(short);
    expect(response.prompt_cache_key).toBe(session);
    await gw.openai().chat.completions.create({ model: 'own-gpt', messages: [{ role: 'user', content: question() }], prompt_cache_key: session });
    expect(lastOpenAIBody().prompt_cache_key).toBe(short);
    const stream = await gw.openai().chat.completions.create({ model: 'own-gpt', messages: [{ role: 'user', content: question() }], prompt_cache_key: session, stream: true });
    for await (const _ of stream) void _;
    expect(lastOpenAIBody()).toMatchObject({ stream: true, prompt_cache_key: short });
    // 64 characters go as they are (and so do 64 emoji: characters are counted in code points).
    await gw.openai().responses.create({ model: 'own-gpt', input: question(), prompt_cache_key: 'k'.repeat(64) });
    expect(lastOpenAIBody().prompt_cache_key).toBe('k'.repeat(64));
    await gw.openai().chat.completions.create({ model: 'own-gpt', messages: [{ role: 'user', content: question() }], prompt_cache_key: '\u{1F600}'.repeat(64) });
    expect(lastOpenAIBody().prompt_cache_key).toBe('\u{1F600}'.repeat(64));
    expect(openaiUp.requests.map((r) => [(r.body as Sent).model, r.headers.authorization])).toEqual(Array(5).fill(['gpt-own', 'Bearer sk-acme']));
  });

  it('the gateway\u2019s exact cache ignores it: another session asking the same is a hit', async () => {
    const body = (key?: string): OpenAI.ChatCompletionCreateParamsNonStreaming => ({
      model: 'gpt',
      messages: [{ role: 'user', content: 'Cached across sessions?' }],
      ...(key ? { prompt_cache_key: key } : {}),
    });
    const miss = await gw.openai().chat.completions.create(body('session-a')).withResponse();
    expect(miss.response.headers.get('x-llmrr-cache')).toBe('miss');
    expect(lastOpenAIBody().prompt_cache_key).toBe(scoped('session-a'));
    const other = await gw.openai().chat.completions.create(body('session-b')).withResponse();
    expect(other.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
    const none = await gw.openai().chat.completions.create(body()).withResponse();
    expect(none.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(other.data.choices[0]!.message.content).toBe(miss.data.choices[0]!.message.content);
    expect(openaiUp.requests).toHaveLength(1);
  });
});
