import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest, StreamPart, TokenLogprob } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { wireLogprobs } from '../../test/openai-wire-server.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// topK, verbosity and logprobs reach the servers that take them, against the local OpenAI wire server (which
// refuses what OpenAI's API refuses: top_k, logprobs on reasoning models, verbosity low/high before gpt-5), and
// logprobs come back from JSON answers and from every stream chunk.

const wire = useOpenAIWireServer();
const TEXT = 'the quick brown fox';
const ask = (extra: Partial<GenerateRequest>): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });

/** What the engine should return for `text` streamed one word a chunk (the wire server's own numbers). */
function expected(text: string, top: number): TokenLogprob[] {
  return wireLogprobs(text, top).map((t) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: t.bytes,
    ...(top > 0 ? { topLogprobs: t.top_logprobs.map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })) } : {}),
  }));
}

describe('openai-compatible engine: logprobs', () => {
  it('sends logprobs and top_logprobs and returns the JSON answer\'s logprobs.content', async () => {
    wire.server.setScript({ text: TEXT });
    const result = await wire.engine().generate(ask({ logprobs: { topLogprobs: 2 } }));
    expect(wire.lastBody()).toMatchObject({ logprobs: true, top_logprobs: 2 });
    expect(result.text).toBe(TEXT);
    expect(result.logprobs).toEqual(expected(TEXT, 2));
    expect(result.logprobs!.map((t) => t.token).join('')).toBe(TEXT);
    expect(result.logprobs![0]!.topLogprobs).toHaveLength(2);
    expect(result.warnings).toBeUndefined();
  });

  it('topLogprobs absent or 0: logprobs true alone, no top_logprobs sent, none listed', async () => {
    wire.server.setScript({ text: TEXT });
    for (const logprobs of [{}, { topLogprobs: 0 }]) {
      const result = await wire.engine().generate(ask({ logprobs }));
      const body = wire.lastBody();
      expect(body.logprobs).toBe(true);
      expect(Object.hasOwn(body, 'top_logprobs')).toBe(false);
      expect(result.logprobs).toEqual(expected(TEXT, 0));
      expect(result.logprobs!.every((t) => t.topLogprobs === undefined)).toBe(true);
    }
  });

  it('streams a logprobs part right after each text-delta of the same chunk; together they are the JSON answer\'s', async () => {
    wire.server.setScript({ text: TEXT });
    const parts = await collect(wire.engine().stream(ask({ logprobs: { topLogprobs: 3 } })));
    expect(wire.lastBody()).toMatchObject({ stream: true, logprobs: true, top_logprobs: 3 });
    const texts = parts.filter((p) => p.type === 'text-delta');
    const lps = parts.filter((p): p is Extract<StreamPart, { type: 'logprobs' }> => p.type === 'logprobs');
    expect(texts).toHaveLength(4);
    expect(lps).toHaveLength(4);
    parts.forEach((p, i) => {
      if (p.type !== 'logprobs') return;
      const before = parts[i - 1];
      expect(before?.type).toBe('text-delta');
      expect(p.logprobs.map((t) => t.token).join('')).toBe(before?.type === 'text-delta' ? before.delta : '');
    });
    expect(lps.flatMap((p) => p.logprobs)).toEqual(expected(TEXT, 3));
    expect(parts.at(-1)?.type).toBe('finish');
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
  });

  it('a stream of many chunks with logprobs keeps every part (no chunk read past by the content template)', async () => {
    const text = 'a '.repeat(30);
    wire.server.setScript({ text });
    const parts = await collect(wire.engine().stream(ask({ logprobs: {} })));
    const lps = parts.filter((p) => p.type === 'logprobs');
    expect(lps).toHaveLength(30);
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p.type === 'text-delta' ? p.delta : '')).join('')).toBe(text);
  });

  it('a server that takes logprobs but returns none: no logprobs, no warning', async () => {
    wire.server.setScript({ text: TEXT, omitLogprobs: true });
    const result = await wire.engine().generate(ask({ logprobs: { topLogprobs: 1 } }));
    expect(wire.lastBody().logprobs).toBe(true);
    expect(result.logprobs).toBeUndefined();
    expect(result.warnings).toBeUndefined();
    const parts = await collect(wire.engine().stream(ask({ logprobs: { topLogprobs: 1 } })));
    expect(parts.some((p) => p.type === 'logprobs' || p.type === 'warnings')).toBe(false);
  });

  it('not sent to OpenAI reasoning models (the wire server, like the API, answers 400 to them): a warning instead', async () => {
    wire.server.setScript({ text: TEXT });
    for (const model of ['o4-mini', 'gpt-5', 'gpt-5-mini-2025-08-07', 'gpt-5.1-codex']) {
      const engine = wire.engine({ preset: 'openai', apiKey: 'k', model });
      const result = await engine.generate(ask({ logprobs: { topLogprobs: 2 } }));
      const body = wire.lastBody();
      expect(Object.hasOwn(body, 'logprobs') || Object.hasOwn(body, 'top_logprobs')).toBe(false);
      expect(result.logprobs).toBeUndefined();
      expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'logprobs', message: expect.stringMatching(/return no logprobs/) }]);
      const parts = await collect(engine.stream(ask({ logprobs: {} })));
      expect(parts[0]).toMatchObject({ type: 'warnings', warnings: [{ field: 'logprobs' }] });
      expect(parts.at(-1)?.type).toBe('finish');
    }
    // Forced through providerOptions: the server refuses as the API does.
    const forced = wire.engine({ preset: 'openai', apiKey: 'k', model: 'o3' }).generate(ask({ providerOptions: { openai: { logprobs: true } } }));
    await expect(forced).rejects.toSatisfy((e) => LLMError.isInstance(e) && e.statusCode === 400 && /logprobs/.test(e.message));
  });

  it('gpt-5.1 and later: sent at reasoning effort none (their default), not at another effort', async () => {
    wire.server.setScript({ text: TEXT });
    const engine = wire.engine({ preset: 'openai', apiKey: 'k', model: 'gpt-5.1' });
    const plain = await engine.generate(ask({ logprobs: {} }));
    expect(wire.lastBody().logprobs).toBe(true);
    expect(plain.logprobs).toEqual(expected(TEXT, 0));
    const none = await engine.generate(ask({ logprobs: {}, reasoning: { effort: 'none' } }));
    expect(wire.lastBody()).toMatchObject({ logprobs: true, reasoning_effort: 'none' });
    expect(none.logprobs).toHaveLength(4);
    const low = await engine.generate(ask({ logprobs: {}, reasoning: { effort: 'low' } }));
    expect(wire.lastBody()).toMatchObject({ reasoning_effort: 'low' });
    expect(Object.hasOwn(wire.lastBody(), 'logprobs')).toBe(false);
    expect(low.warnings).toEqual([{ code: 'setting_not_sent', field: 'logprobs', message: expect.stringMatching(/only at reasoning_effort none/) }]);
  });

  it('not sent where the preset refuses them (Groq, Mistral, Together, LM Studio) nor to deepseek-reasoner; options.logprobs overrides', async () => {
    wire.server.setScript({ text: TEXT });
    for (const preset of ['groq', 'mistral', 'together', 'lmstudio'] as const) {
      const result = await wire.engine({ preset, apiKey: 'k' }).generate(ask({ logprobs: { topLogprobs: 1 } }));
      expect(Object.hasOwn(wire.lastBody(), 'logprobs')).toBe(false);
      expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'logprobs', message: expect.stringContaining('logprobs were not sent') }]);
    }
    const reasoner = await wire.engine({ preset: 'deepseek', apiKey: 'k', model: 'deepseek-reasoner' }).generate(ask({ logprobs: {} }));
    expect(reasoner.warnings?.[0]).toMatchObject({ field: 'logprobs', message: expect.stringContaining('deepseek-reasoner') });
    const chat = await wire.engine({ preset: 'deepseek', apiKey: 'k', model: 'deepseek-chat' }).generate(ask({ logprobs: {} }));
    expect(chat.logprobs).toHaveLength(4);
    const on = await wire.engine({ preset: 'groq', apiKey: 'k', options: { logprobs: true } }).generate(ask({ logprobs: {} }));
    expect(on.logprobs).toHaveLength(4);
    const off = await wire.engine({ options: { logprobs: false } }).generate(ask({ logprobs: {} }));
    expect(off.warnings?.[0]).toMatchObject({ field: 'logprobs', message: expect.stringContaining('options.logprobs is false') });
  });

  it('providerOptions win: removing logprobs or changing top_logprobs is named in the warning', async () => {
    wire.server.setScript({ text: TEXT });
    const removed = await wire.engine().generate(ask({ logprobs: {}, providerOptions: { openai: { logprobs: false } } }));
    expect(wire.lastBody().logprobs).toBe(false);
    expect(removed.logprobs).toBeUndefined();
    expect(removed.warnings).toEqual([{ code: 'setting_not_sent', field: 'logprobs', message: expect.stringContaining('providerOptions.openai.logprobs removed it') }]);
    const changed = await wire.engine().generate(ask({ logprobs: { topLogprobs: 2 }, providerOptions: { openai: { top_logprobs: 4 } } }));
    expect(wire.lastBody().top_logprobs).toBe(4);
    expect(changed.logprobs![0]!.topLogprobs).toHaveLength(4);
    expect(changed.warnings).toEqual([{ code: 'setting_changed', field: 'logprobs.topLogprobs', message: expect.stringContaining('providerOptions.openai.top_logprobs') }]);
  });
});

describe('openai-compatible engine: topK', () => {
  it('sent as top_k to the presets whose servers take it', async () => {
    wire.server.setScript({ text: TEXT, acceptsTopK: true });
    for (const preset of ['vllm', 'together', 'openrouter', 'llamacpp', 'lmstudio'] as const) {
      const result = await wire.engine({ preset, apiKey: 'k' }).generate(ask({ topK: 40 }));
      expect(wire.lastBody().top_k).toBe(40);
      expect(result.warnings).toBeUndefined();
    }
    const parts = await collect(wire.engine({ preset: 'vllm' }).stream(ask({ topK: 5 })));
    expect(wire.lastBody()).toMatchObject({ stream: true, top_k: 5 });
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
  });

  it('not sent elsewhere (OpenAI answers 400 to it), with a warning; options.topK turns it on', async () => {
    wire.server.setScript({ text: TEXT });
    for (const config of [{ preset: 'openai' }, { preset: 'azure-openai' }, { preset: 'groq' }, { preset: 'mistral' }, { preset: 'deepseek' }, { preset: 'ollama' }, {}] as const) {
      const result = await wire.engine({ ...config, apiKey: 'k' }).generate(ask({ topK: 3 }));
      expect(Object.hasOwn(wire.lastBody(), 'top_k')).toBe(false);
      expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'topK', message: expect.stringContaining('set options.topK on the model') }]);
    }
    wire.server.setScript({ text: TEXT, acceptsTopK: true });
    await wire.engine({ options: { topK: true } }).generate(ask({ topK: 3 }));
    expect(wire.lastBody().top_k).toBe(3);
    await wire.engine({ preset: 'vllm', options: { topK: false } }).generate(ask({ topK: 3 }));
    expect(Object.hasOwn(wire.lastBody(), 'top_k')).toBe(false);
  });

  it('the wire server refuses top_k as OpenAI does; providerOptions that change it are named', async () => {
    wire.server.setScript({ text: TEXT });
    const refused = wire.engine().generate(ask({ providerOptions: { openai: { top_k: 2 } } }));
    await expect(refused).rejects.toSatisfy((e) => LLMError.isInstance(e) && e.statusCode === 400 && e.message.includes('Unrecognized request argument supplied: top_k'));
    wire.server.setScript({ text: TEXT, acceptsTopK: true });
    const changed = await wire.engine({ preset: 'vllm' }).generate(ask({ topK: 3, providerOptions: { vllm: { top_k: 7 } } }));
    expect(wire.lastBody().top_k).toBe(7);
    expect(changed.warnings).toEqual([{ code: 'setting_changed', field: 'topK', message: 'topK was sent as the value of providerOptions.vllm.top_k.' }]);
  });
});

describe('openai-compatible engine: verbosity', () => {
  it('sent to OpenAI GPT-5 models, low and high included (gpt-5.3-codex and later Codex models too)', async () => {
    wire.server.setScript({ text: TEXT });
    for (const model of ['gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-5.1', 'gpt-5.1-chat-latest', 'gpt-5.2', 'gpt-5.3-codex', 'gpt-5.4']) {
      const result = await wire.engine({ preset: 'openai', apiKey: 'k', model }).generate(ask({ verbosity: 'low' }));
      expect(wire.lastBody().verbosity).toBe('low');
      expect(result.warnings).toBeUndefined();
    }
  });

  it('medium only to older models, gpt-5-chat and the Codex models up to gpt-5.2-codex (what the API takes); low and high not sent, with a warning', async () => {
    wire.server.setScript({ text: TEXT });
    for (const model of ['gpt-4o', 'gpt-5-codex', 'gpt-5-chat-latest', 'gpt-5.1-codex', 'gpt-5.1-codex-mini', 'gpt-5.1-codex-max', 'gpt-5.2-codex-2026-01-14']) {
      const engine = wire.engine({ preset: 'openai', apiKey: 'k', model });
      const high = await engine.generate(ask({ verbosity: 'high' }));
      expect(Object.hasOwn(wire.lastBody(), 'verbosity')).toBe(false);
      expect(high.warnings).toEqual([{ code: 'setting_not_sent', field: 'verbosity', message: `verbosity high was not sent: ${model} takes only verbosity medium.` }]);
      const medium = await engine.generate(ask({ verbosity: 'medium' }));
      expect(wire.lastBody().verbosity).toBe('medium');
      expect(medium.warnings).toBeUndefined();
    }
    // Forced through providerOptions: the server answers as the API does.
    const forced = wire.engine({ preset: 'openai', apiKey: 'k', model: 'gpt-4o' }).generate(ask({ providerOptions: { openai: { verbosity: 'low' } } }));
    await expect(forced).rejects.toSatisfy((e) => LLMError.isInstance(e) && e.statusCode === 400 && /verbosity/.test(e.message));
  });

  it('Azure only with options.verbosity; other presets and no preset not at all; providerOptions win', async () => {
    wire.server.setScript({ text: TEXT });
    const azure = await wire.engine({ preset: 'azure-openai', apiKey: 'k', model: 'gpt-5' }).generate(ask({ verbosity: 'low' }));
    expect(Object.hasOwn(wire.lastBody(), 'verbosity')).toBe(false);
    expect(azure.warnings?.[0]).toMatchObject({ code: 'setting_not_sent', field: 'verbosity', message: expect.stringContaining('options.verbosity') });
    await wire.engine({ preset: 'azure-openai', apiKey: 'k', model: 'gpt-5', options: { verbosity: true, apiVersion: '2025-04-01-preview' } }).generate(ask({ verbosity: 'low' }));
    expect(wire.lastBody().verbosity).toBe('low');
    for (const config of [{ preset: 'groq' }, { preset: 'vllm' }, {}] as const) {
      const result = await wire.engine({ ...config, apiKey: 'k', model: 'gpt-5' }).generate(ask({ verbosity: 'medium' }));
      expect(Object.hasOwn(wire.lastBody(), 'verbosity')).toBe(false);
      expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'verbosity', message: expect.stringContaining('not known to take verbosity') }]);
    }
    const changed = await wire.engine({ preset: 'openai', apiKey: 'k', model: 'gpt-5' }).generate(ask({ verbosity: 'low', providerOptions: { openai: { verbosity: 'high' } } }));
    expect(wire.lastBody().verbosity).toBe('high');
    expect(changed.warnings).toEqual([{ code: 'setting_changed', field: 'verbosity', message: 'verbosity low was sent as the value of providerOptions.openai.verbosity.' }]);
  });

  it('all three on one streamed request: one warnings part first, for what was not sent', async () => {
    wire.server.setScript({ text: TEXT });
    const parts = await collect(wire.engine({ preset: 'openai', apiKey: 'k', model: 'gpt-4o' }).stream(ask({ topK: 4, verbosity: 'low', logprobs: {} })));
    const body = wire.lastBody();
    expect(body.logprobs).toBe(true);
    expect(Object.hasOwn(body, 'top_k') || Object.hasOwn(body, 'verbosity')).toBe(false);
    expect(parts[0]).toMatchObject({ type: 'warnings' });
    expect(parts[0]?.type === 'warnings' ? parts[0].warnings.map((w) => w.field) : []).toEqual(['topK', 'verbosity']);
    expect(parts.filter((p) => p.type === 'logprobs')).toHaveLength(4);
  });

  it('a request without them sends the same body as before', async () => {
    wire.server.setScript({ text: TEXT });
    await wire.engine({ preset: 'vllm', model: 'gpt-5' }).generate(ask({}));
    expect(Object.keys(wire.lastBody()).sort()).toEqual(['messages', 'model']);
  });
});
