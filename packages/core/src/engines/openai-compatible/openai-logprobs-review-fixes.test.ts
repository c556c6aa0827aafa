import { describe, expect, it } from 'vitest';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// Fixes after the review of 0f05e5a (openai-compatible engine: logprobs, top_k, verbosity): logprobs decided on the
// reasoning_effort actually sent, reasoning tokens never counted as the answer's, the field names and messages of
// the warnings, the caller's providerOptions, and a malformed logprobs field that never fails an answer.

const wire = useOpenAIWireServer();
const ask = (extra: Partial<GenerateRequest>): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });
const TEXT = 'the quick brown fox';

describe('logprobs follow the reasoning_effort actually sent', () => {
  it('decides logprobs on the body\'s reasoning_effort after providerOptions are merged (gpt-5.1: none -> sent, high -> held back with a warning)', async () => {
    wire.server.setScript({ text: TEXT });
    const engine = wire.engine({ preset: 'openai', apiKey: 'k', model: 'gpt-5.1' });

    // providerOptions turn reasoning on: OpenAI answers 400 to logprobs at any effort but none (the wire server too),
    // so the engine must not send them; the call should succeed with a setting_not_sent warning.
    const high = await engine.generate(ask({ logprobs: {}, providerOptions: { openai: { reasoning_effort: 'high' } } }));
    expect(wire.lastBody().reasoning_effort).toBe('high');
    expect(Object.hasOwn(wire.lastBody(), 'logprobs')).toBe(false);
    expect(high.warnings).toEqual([expect.objectContaining({ code: 'setting_not_sent', field: 'logprobs' })]);

    // And the other way round: providerOptions turn reasoning off (none), so logprobs can go and come back.
    const none = await engine.generate(ask({ logprobs: {}, reasoning: { effort: 'low' }, providerOptions: { openai: { reasoning_effort: 'none' } } }));
    expect(wire.lastBody()).toMatchObject({ reasoning_effort: 'none', logprobs: true });
    expect(none.logprobs?.map((t) => t.token).join('')).toBe(TEXT);
  });
});

// vLLM with a reasoning parser (`--reasoning-parser`, e.g. Qwen3, DeepSeek-R1): its chat handler attaches the
// logprobs of every generated token to the chunk that carries it, `delta.reasoning_content` chunks included
// (vllm/entrypoints/openai/serving_chat.py: `ChatCompletionResponseStreamChoice(delta=delta_message,
// logprobs=logprobs, ...)` for any delta), and the JSON answer's `logprobs.content` covers all `token_ids`, the
// reasoning's as well as the content's. The `vllm` preset sends logprobs by default.
const MODEL = 'Qwen/Qwen3-8B';
const lp = (token: string, logprob: number) => ({ token, logprob, bytes: [...Buffer.from(token, 'utf8')], top_logprobs: [] });
const chunk = (choice: Record<string, unknown>) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-v', object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [{ index: 0, logprobs: null, finish_reason: null, ...choice }] })}\n\n`;
const VLLM_SSE = [
  chunk({ delta: { role: 'assistant', content: '' } }),
  chunk({ delta: { reasoning_content: 'Think' }, logprobs: { content: [lp('Think', -0.5)] } }),
  chunk({ delta: { reasoning_content: ' more.' }, logprobs: { content: [lp(' more', -0.25), lp('.', -0.125)] } }),
  chunk({ delta: { content: 'Hi' }, logprobs: { content: [lp('Hi', -0.0625)] } }),
  chunk({ delta: { content: '!' }, logprobs: { content: [lp('!', -0.03125)] }, finish_reason: 'stop' }),
  'data: [DONE]\n\n',
].join('');
const VLLM_JSON = {
  id: 'chatcmpl-v',
  object: 'chat.completion',
  created: 1,
  model: MODEL,
  choices: [
    {
      index: 0,
      message: { role: 'assistant', reasoning_content: 'Think more.', content: 'Hi!', tool_calls: [] },
      logprobs: { content: [lp('<think>', 0), lp('Think', -0.5), lp(' more', -0.25), lp('.', -0.125), lp('</think>', 0), lp('Hi', -0.0625), lp('!', -0.03125)] },
      finish_reason: 'stop',
      stop_reason: null,
    },
  ],
  usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
};

describe('reasoning tokens are not the answer\'s logprobs (vLLM with a reasoning parser)', () => {
  it('stream: logprobs parts come only after text-deltas, and their tokens joined are the text (reasoning tokens left out)', async () => {
    wire.server.setScript({ rawSSE: VLLM_SSE });
    const parts = await collect(wire.engine({ preset: 'vllm', model: MODEL }).stream(ask({ logprobs: {} })));
    expect(wire.lastBody().logprobs).toBe(true);
    const text = parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
    expect(text).toBe('Hi!');
    parts.forEach((p, i) => {
      if (p.type === 'logprobs') expect(parts[i - 1]?.type).toBe('text-delta');
    });
    const tokens = parts.filter((p): p is Extract<StreamPart, { type: 'logprobs' }> => p.type === 'logprobs').flatMap((p) => p.logprobs.map((t) => t.token));
    expect(tokens.join('')).toBe(text);
  });

  it('JSON: GenerateResult.logprobs tokens joined are the text, not the reasoning before it', async () => {
    wire.server.setScript({ json: VLLM_JSON });
    const result = await wire.engine({ preset: 'vllm', model: MODEL }).generate(ask({ logprobs: {} }));
    expect(result.text).toBe('Hi!');
    expect(result.reasoning).toBeDefined();
    // Either the answer's own tokens, or none (with a warning): never the reasoning's counted as the answer's.
    if (result.logprobs !== undefined) expect(result.logprobs.map((t) => t.token).join('')).toBe(result.text);
  });
});

describe('a changed top_logprobs names logprobs.topLogprobs', () => {
  it('a setting_changed for top_logprobs has field logprobs.topLogprobs (the GenerateRequest path the Gemini engine and the gateway\'s field tables use)', async () => {
    wire.server.setScript({ text: TEXT });
    const result = await wire.engine().generate(ask({ logprobs: { topLogprobs: 2 }, providerOptions: { openai: { top_logprobs: 4 } } }));
    expect(wire.lastBody().top_logprobs).toBe(4);
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'setting_changed', field: 'logprobs.topLogprobs' })]);
  });
});

describe('the engine\'s top_logprobs never outlives a logprobs the caller turned off', () => {
  it('providerOptions logprobs false with topLogprobs asked: no top_logprobs left in the body (OpenAI answers 400 to it without logprobs true), the call succeeds with the warning', async () => {
    wire.server.setScript({ text: TEXT });
    const result = await wire.engine().generate(ask({ logprobs: { topLogprobs: 2 }, providerOptions: { openai: { logprobs: false } } }));
    expect(wire.lastBody().logprobs).toBe(false);
    expect(Object.hasOwn(wire.lastBody(), 'top_logprobs')).toBe(false);
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'setting_not_sent', field: 'logprobs', message: expect.stringContaining('providerOptions.openai.logprobs removed it') })]);
  });
});

describe('gpt-5-chat-latest: logprobs held back (reported refused, not verified)', () => {
  it('not sent, with a warning, in JSON and in a stream; gpt-5.1-chat-latest still gets them', async () => {
    wire.server.setScript({ text: TEXT });
    const engine = wire.engine({ preset: 'openai', apiKey: 'k', model: 'gpt-5-chat-latest' });
    const result = await engine.generate(ask({ logprobs: { topLogprobs: 2 } }));
    expect(Object.hasOwn(wire.lastBody(), 'logprobs') || Object.hasOwn(wire.lastBody(), 'top_logprobs')).toBe(false);
    expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'logprobs', message: expect.stringContaining('gpt-5-chat-latest is reported to refuse logprobs') }]);
    const parts = await collect(engine.stream(ask({ logprobs: {} })));
    expect(parts[0]).toMatchObject({ type: 'warnings', warnings: [{ field: 'logprobs' }] });
    expect(parts.at(-1)?.type).toBe('finish');
    const chat51 = await wire.engine({ preset: 'openai', apiKey: 'k', model: 'gpt-5.1-chat-latest' }).generate(ask({ logprobs: {} }));
    expect(wire.lastBody().logprobs).toBe(true);
    expect(chat51.logprobs?.map((t) => t.token).join('')).toBe(TEXT);
  });
});

describe('logprobs set to another value through providerOptions', () => {
  it('Together\'s count (providerOptions.together.logprobs: 1) is named as sent in its place, not as removed', async () => {
    wire.server.setScript({ text: TEXT });
    const result = await wire.engine({ preset: 'together', apiKey: 'k' }).generate(ask({ logprobs: {}, providerOptions: { together: { logprobs: 1 } } }));
    expect(wire.lastBody().logprobs).toBe(1);
    expect(result.logprobs).toBeUndefined();
    expect(result.warnings).toEqual([
      {
        code: 'setting_changed',
        field: 'logprobs',
        message: expect.stringContaining('logprobs were sent as the value of providerOptions.together.logprobs (1), not logprobs: true'),
      },
    ]);
    expect(result.warnings?.[0]?.message).not.toContain('removed');
  });

  it('logprobs: true set by the caller keeps its own top_logprobs; the engine adds the asked count beside it', async () => {
    wire.server.setScript({ text: TEXT });
    await wire.engine().generate(ask({ logprobs: { topLogprobs: 3 }, providerOptions: { openai: { logprobs: true } } }));
    expect(wire.lastBody()).toMatchObject({ logprobs: true, top_logprobs: 3 });
  });
});

describe('a malformed logprobs field never fails an answer', () => {
  const malformed = { content: [{ token: 'Hi', logprob: 'very likely' }] };
  const json = {
    id: 'chatcmpl-m',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, logprobs: malformed, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
  const sse = [
    `data: ${JSON.stringify({ id: 'chatcmpl-m', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, logprobs: malformed, finish_reason: null }] })}\n\n`,
    `data: ${JSON.stringify({ id: 'chatcmpl-m', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta: {}, logprobs: 'x', finish_reason: 'stop' }] })}\n\n`,
    'data: [DONE]\n\n',
  ].join('');

  it('not asked for: not read (JSON and stream)', async () => {
    wire.server.setScript({ json });
    const result = await wire.engine().generate(ask({}));
    expect(result.text).toBe('Hi');
    expect(result.logprobs).toBeUndefined();
    wire.server.setScript({ rawSSE: sse });
    const parts = await collect(wire.engine().stream(ask({})));
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'finish']);
  });

  it('asked for: the answer comes without logprobs (JSON and stream)', async () => {
    wire.server.setScript({ json });
    const result = await wire.engine().generate(ask({ logprobs: {} }));
    expect(wire.lastBody().logprobs).toBe(true);
    expect(result.text).toBe('Hi');
    expect(result.logprobs).toBeUndefined();
    wire.server.setScript({ rawSSE: sse });
    const parts = await collect(wire.engine().stream(ask({ logprobs: {} })));
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'finish']);
  });

  it('well-formed logprobs the provider sends unasked are not read either', async () => {
    wire.server.setScript({ json: { ...json, choices: [{ ...json.choices[0], logprobs: { content: [{ token: 'Hi', logprob: -1 }] } }] } });
    expect((await wire.engine().generate(ask({}))).logprobs).toBeUndefined();
  });
});
