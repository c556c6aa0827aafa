import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { collect } from '../../test/async.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine, PROMPT_CACHE_KEY_MAX_LENGTH } from './index.js';
import { shortPromptCacheKey } from './prompt-cache-key.js';

// `promptCacheKey` reaches OpenAI as `prompt_cache_key` (it routes its automatic prompt cache by it); other
// OpenAI-compatible servers never see the field unless their deployment turns it on (a strict server answers 400
// to an unknown field).

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer();
});
afterAll(() => server.close());

const KEY = '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c';
const keyed: GenerateRequest = { messages: [{ role: 'user', content: 'hi' }], promptCacheKey: KEY };

function engineFor(config: Partial<ModelConfigInput>): OpenAICompatibleEngine {
  return new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'd', model: 'gpt-test', baseURL: server.baseURL, ...config }), defaultEngineContext({ env: {} }));
}

async function sentBody(config: Partial<ModelConfigInput>, request: GenerateRequest = keyed): Promise<Record<string, unknown>> {
  const before = server.requests.length;
  await engineFor(config).generate(request);
  expect(server.requests.length).toBe(before + 1);
  return server.requests.at(-1)!.body as Record<string, unknown>;
}

describe('openai-compatible engine: promptCacheKey', () => {
  it('the openai preset sends it as prompt_cache_key, generated and streamed', async () => {
    expect((await sentBody({ preset: 'openai', apiKey: 'k' })).prompt_cache_key).toBe(KEY);
    const before = server.requests.length;
    const parts = await collect(engineFor({ preset: 'openai', apiKey: 'k' }).stream(keyed));
    expect(parts.at(-1)?.type).toBe('finish');
    expect(server.requests.length).toBe(before + 1);
    const body = server.requests.at(-1)!.body as Record<string, unknown>;
    expect(body.stream).toBe(true);
    expect(body.prompt_cache_key).toBe(KEY);
  });

  it('a config without preset and without baseURL is OpenAI, and sends it too', async () => {
    // Its calls go to https://api.openai.com/v1; the fetch seam redirects them to the local wire server.
    const urls: string[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      urls.push(url);
      return globalThis.fetch(url.replace('https://api.openai.com/v1', server.baseURL), init);
    };
    const engine = new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'd', model: 'gpt-test', apiKey: 'k' }), defaultEngineContext({ env: {}, fetch }));
    await engine.generate(keyed);
    expect(urls).toEqual(['https://api.openai.com/v1/chat/completions']);
    expect((server.requests.at(-1)!.body as Record<string, unknown>).prompt_cache_key).toBe(KEY);
  });

  it('no other deployment receives the field: a generic server, vLLM, Groq, Together, Ollama, Mistral, OpenRouter, Azure', async () => {
    for (const config of [
      {},
      { preset: 'vllm' },
      { preset: 'groq', apiKey: 'k' },
      { preset: 'together', apiKey: 'k' },
      { preset: 'ollama' },
      { preset: 'mistral', apiKey: 'k' },
      { preset: 'openrouter', apiKey: 'k' },
      { preset: 'llamacpp' },
      { preset: 'lmstudio' },
      { preset: 'deepseek', apiKey: 'k' },
    ] satisfies Array<Partial<ModelConfigInput>>) {
      const body = await sentBody(config);
      expect(body, JSON.stringify(config)).not.toHaveProperty('prompt_cache_key');
      expect(JSON.stringify(body)).not.toContain(KEY);
    }
    // Azure: the deployment is in the path, and its GA API version refuses unknown arguments.
    const azure = await sentBody({ preset: 'azure-openai', apiKey: 'k', options: { deployment: 'dep' } });
    expect(server.requests.at(-1)!.url).toMatch(/\/openai\/deployments\/dep\/chat\/completions\?api-version=2024-10-21$/);
    expect(azure).not.toHaveProperty('prompt_cache_key');
  });

  it('options.promptCacheKey overrides the preset both ways', async () => {
    expect((await sentBody({ options: { promptCacheKey: true } })).prompt_cache_key).toBe(KEY);
    expect((await sentBody({ preset: 'azure-openai', apiKey: 'k', options: { promptCacheKey: true, apiVersion: '2025-04-01-preview' } })).prompt_cache_key).toBe(KEY);
    expect(await sentBody({ preset: 'openai', apiKey: 'k', options: { promptCacheKey: false } })).not.toHaveProperty('prompt_cache_key');
    expect(() => engineFor({ options: { promptCacheKey: 'yes' } })).toThrowError(/options\.promptCacheKey/);
  });

  it('a request without a key, or with an empty one, sends the same body as before', async () => {
    const plain = await sentBody({ preset: 'openai', apiKey: 'k' }, { messages: [{ role: 'user', content: 'hi' }] });
    expect(plain).toEqual({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    expect(await sentBody({ preset: 'openai', apiKey: 'k' }, { ...keyed, promptCacheKey: '' })).toEqual(plain);
  });

  it('providerOptions.openai.prompt_cache_key still wins (the escape hatch is merged last)', async () => {
    const body = await sentBody({ preset: 'openai', apiKey: 'k' }, { ...keyed, providerOptions: { openai: { prompt_cache_key: 'other' } } });
    expect(body.prompt_cache_key).toBe('other');
  });

  it('a key of 64 characters is sent as it is; a longer one is sent shortened to 64, never refused', async () => {
    const openai = { preset: 'openai', apiKey: 'k' } as const;
    const max = 'k'.repeat(PROMPT_CACHE_KEY_MAX_LENGTH);
    expect((await sentBody(openai, { ...keyed, promptCacheKey: max })).prompt_cache_key).toBe(max);
    // A session id as agents build them (77 characters): its first 47, ':' and FNV-1a 64 of the whole key (UTF-8),
    // computed apart with Python (`h ^= b; h = h * 0x100000001b3 % 2**64` from 0xcbf29ce484222325).
    const session = '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c:sub:0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6d';
    const sent = (await sentBody(openai, { ...keyed, promptCacheKey: session })).prompt_cache_key;
    expect(sent).toBe('0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c:sub:0199b7:c00396915bbb1824');
    expect(sent).toHaveLength(PROMPT_CACHE_KEY_MAX_LENGTH);
    // Streamed: the same form.
    await collect(engineFor(openai).stream({ ...keyed, promptCacheKey: session }));
    expect((server.requests.at(-1)!.body as Record<string, unknown>).prompt_cache_key).toBe(sent);
    // Another key with the same prefix (the last character differs) stays apart.
    expect((await sentBody(openai, { ...keyed, promptCacheKey: `${session.slice(0, -1)}e` })).prompt_cache_key).toBe('0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c:sub:0199b7:c00397915bbb19d7');
    expect((await sentBody(openai, { ...keyed, promptCacheKey: `${max}k` })).prompt_cache_key).toBe(`${'k'.repeat(47)}:afcbfa12d8109b4a`);
    // Characters are code points: 64 emoji are 128 UTF-16 units and go as they are; 65 keep 47 whole emoji.
    const emoji = '\u{1F600}'.repeat(PROMPT_CACHE_KEY_MAX_LENGTH);
    expect((await sentBody(openai, { ...keyed, promptCacheKey: emoji })).prompt_cache_key).toBe(emoji);
    expect((await sentBody(openai, { ...keyed, promptCacheKey: `${emoji}\u{1F600}` })).prompt_cache_key).toBe(`${'\u{1F600}'.repeat(47)}:33a81dd133714888`);
    // Where the key is not sent, its length is nobody's business.
    expect(await sentBody({ preset: 'vllm' }, { ...keyed, promptCacheKey: session })).not.toHaveProperty('prompt_cache_key');
  });

  it('shortPromptCacheKey: deterministic, 64 code points, never cuts a surrogate pair, tells lone surrogates apart', () => {
    for (const key of ['', 'k', 'k'.repeat(64), '\u{1F600}'.repeat(64), '\ud83d'.repeat(64)]) expect(shortPromptCacheKey(key)).toBe(key);
    // 46 ASCII characters then emoji: the 47th code point is a whole emoji (UTF-16 units 47 and 48).
    const mixed = `${'a'.repeat(46)}${'\u{1F600}'.repeat(30)}`;
    const short = shortPromptCacheKey(mixed);
    expect(short).toMatch(/^a{46}\u{1F600}:[0-9a-f]{16}$/u);
    expect([...short]).toHaveLength(PROMPT_CACHE_KEY_MAX_LENGTH);
    expect(shortPromptCacheKey(mixed)).toBe(short);
    // Two lone surrogates, each its own three bytes in the hash: keys that differ only there differ.
    const a = shortPromptCacheKey(`${'x'.repeat(70)}\ud83d`);
    const b = shortPromptCacheKey(`${'x'.repeat(70)}\ud83e`);
    expect(a.slice(0, 48)).toBe(b.slice(0, 48));
    expect(a).not.toBe(b);
    // 1,000 long keys sharing a 60-character prefix: 1,000 distinct forms.
    const forms = new Set(Array.from({ length: 1000 }, (_, i) => shortPromptCacheKey(`${'p'.repeat(60)}-${i}`)));
    expect(forms.size).toBe(1000);
  });

  it('a key that is not a string is refused on every deployment, naming promptCacheKey', async () => {
    for (const config of [{ preset: 'openai', apiKey: 'k' }, { preset: 'vllm' }] satisfies Array<Partial<ModelConfigInput>>) {
      const error = await engineFor(config)
        .generate({ ...keyed, promptCacheKey: 42 as unknown as string })
        .then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'invalid_request', param: 'promptCacheKey', message: expect.stringMatching(/promptCacheKey: expected a string, got number/) });
      expect(LLMError.isInstance(error)).toBe(true);
    }
  });
});
