import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { expectNoWarnings, generateAndStream } from '../../test/call-warnings.test-helpers.js';
import { useGeminiWireServer } from './gemini-wire.test-helpers.js';

// What the Gemini engine changes or leaves out of a request it accepts is said, not done in silence: `warnings`
// on the result, and one `warnings` part before the first content part of a stream. Against the local Gemini
// wire server, which records the bodies the engine sent.

const wire = useGeminiWireServer();
const { engine: engineFor } = wire;

const both = (request: GenerateRequest, config: Partial<ModelConfigInput> = {}) => generateAndStream(engineFor(config), request, wire.lastBody);

describe('gemini engine: warnings', () => {
  it('a system message after the conversation started is joined into systemInstruction, and said so (messages.N)', async () => {
    const request: GenerateRequest = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'system', content: 'Now answer in French.' },
        { role: 'system', content: '' },
        { role: 'user', content: 'how are you?' },
      ],
    };
    const { generated, streamed, bodies } = await both(request);
    for (const body of bodies) {
      expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.\n\nNow answer in French.' }] });
      expect((body.contents as unknown[]).length).toBe(3);
    }
    // The leading system message is where Gemini takes it; the empty one carried nothing.
    expect(generated).toEqual([{ code: 'system_message_hoisted', field: 'messages.3', message: expect.stringContaining('systemInstruction') }]);
    expect(streamed).toEqual(generated);
  });

  it('user, promptCacheKey and a user message name are not sent, and said so', async () => {
    const { generated, streamed, bodies } = await both({
      messages: [{ role: 'user', content: 'hi', name: 'alice' }],
      user: 'u-1',
      promptCacheKey: 'conv-1',
    });
    for (const body of bodies) expect(JSON.stringify(body)).not.toMatch(/alice|u-1|conv-1/);
    expect(generated?.map((w) => [w.code, w.field])).toEqual([
      ['setting_not_sent', 'messages.0.name'],
      ['setting_not_sent', 'user'],
      ['setting_not_sent', 'promptCacheKey'],
    ]);
    expect(streamed).toEqual(generated);
  });

  it('a system or assistant message\u2019s author name is not sent, and said so; a tool message\u2019s name (the function) is sent', async () => {
    const { generated, streamed, bodies } = await both({
      messages: [
        { role: 'system', content: 'Moderate.', name: 'moderator' },
        { role: 'user', content: 'Tea or coffee?' },
        { role: 'assistant', content: 'Tea.', name: 'tea_bot' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'vote', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'c1', content: 'tea', name: 'vote' },
      ],
    });
    for (const body of bodies) expect(JSON.stringify(body)).not.toMatch(/moderator|tea_bot/);
    expect(generated?.map((w) => [w.code, w.field])).toEqual([
      ['setting_not_sent', 'messages.0.name'],
      ['setting_not_sent', 'messages.2.name'],
    ]);
    expect(streamed).toEqual(generated);
  });

  it('logitBias is not sent (Gemini has no token bias), and said so; an empty map is none', async () => {
    const { generated, streamed, bodies } = await both({ messages: [{ role: 'user', content: 'hi' }], logitBias: { '50256': -100 } });
    for (const body of bodies) expect(JSON.stringify(body)).not.toContain('50256');
    expect(generated).toEqual([{ code: 'setting_not_sent', field: 'logitBias', message: expect.stringContaining('no token logit bias') }]);
    expect(streamed).toEqual(generated);
    expect((await both({ messages: [{ role: 'user', content: 'hi' }], logitBias: {} })).generated).toBeUndefined();
  });

  it('thinking asked of a deployment that cannot think: no thinkingConfig, and said so; a thinking model gets it', async () => {
    const ask: GenerateRequest = { messages: [{ role: 'user', content: 'hi' }], reasoning: { effort: 'high' } };
    const off = await both(ask, { model: 'gemini-2.0-flash' });
    for (const body of off.bodies) expect(JSON.stringify(body)).not.toContain('thinkingConfig');
    expect(off.generated).toEqual([{ code: 'setting_not_sent', field: 'reasoning', message: expect.stringContaining('no reasoning capability') }]);
    expect(off.streamed).toEqual(off.generated);
    const on = await both(ask);
    for (const body of on.bodies) expect((body.generationConfig as Record<string, unknown>).thinkingConfig).toBeDefined();
    expect(on.generated).toBeUndefined();
    expect(on.streamed).toBeUndefined();
    // Turning thinking off on a model that cannot think loses nothing.
    const none = await both({ ...ask, reasoning: { effort: 'none' } }, { model: 'gemini-2.0-flash' });
    expect(none.generated).toBeUndefined();
    expect(none.streamed).toBeUndefined();
  });

  it('thinking sent as something else: a level the model lacks, thinking that cannot be off, a clamped budget', async () => {
    const cases: Array<[string, GenerateRequest['reasoning'], Record<string, unknown>, { field: string; message: string }]> = [
      ['gemini-3-pro-preview', { effort: 'medium' }, { thinkingLevel: 'high', includeThoughts: true }, { field: 'reasoning.effort', message: 'reasoning.effort medium was sent as thinkingLevel high: gemini-3-pro-preview takes low, high.' }],
      ['gemini-3-pro-preview', { effort: 'none' }, { thinkingLevel: 'low' }, { field: 'reasoning.effort', message: 'reasoning.effort none was sent as thinkingLevel low: gemini-3-pro-preview takes low, high and cannot turn thinking off.' }],
      ['gemini-2.5-pro', { effort: 'none' }, { thinkingBudget: 128 }, { field: 'reasoning.effort', message: 'reasoning.effort none (a budget of 0 tokens) was sent as thinkingBudget 128: gemini-2.5-pro takes 128 to 32768 and cannot turn thinking off.' }],
      ['gemini-2.5-flash', { budgetTokens: 30000 }, { thinkingBudget: 24576, includeThoughts: true }, { field: 'reasoning.budgetTokens', message: 'reasoning.budgetTokens 30000 (a budget of 30000 tokens) was sent as thinkingBudget 24576: gemini-2.5-flash takes 1 to 24576 or 0 (off).' }],
    ];
    for (const [model, reasoning, sent, warning] of cases) {
      const { generated, streamed, bodies } = await both({ messages: [{ role: 'user', content: 'hi' }], reasoning }, { model });
      for (const body of bodies) expect((body.generationConfig as Record<string, unknown>).thinkingConfig).toEqual(sent);
      expect(generated).toEqual([{ code: 'setting_changed', ...warning }]);
      expect(streamed).toEqual(generated);
    }
    // As asked: no warning (an effort sent as its budget is the mapping, not a change).
    for (const [model, reasoning] of [['gemini-3-flash-preview', { effort: 'minimal' }], ['gemini-2.5-flash', { effort: 'max' }], ['gemini-2.5-flash', { budgetTokens: 0 }]] as const) {
      const { generated, streamed } = await both({ messages: [{ role: 'user', content: 'hi' }], reasoning }, { model });
      expect(generated).toBeUndefined();
      expect(streamed).toBeUndefined();
    }
  });

  it('an ordinary request (sampling, stop, seed, JSON mode, tools, cache marks, leading system messages): no warnings at all', async () => {
    const request: GenerateRequest = {
      messages: [
        { role: 'system', content: 'a', cacheControl: { type: 'ephemeral' } },
        { role: 'system', content: 'b' },
        { role: 'user', content: [{ type: 'text', text: 'hi', cacheControl: { type: 'ephemeral', ttl: '1h' } }] },
      ],
      temperature: 0.3,
      topP: 0.8,
      stop: ['END'],
      seed: 4,
      maxTokens: 50,
      responseFormat: { type: 'json_object' },
      tools: [{ name: 'f', parameters: { type: 'object', properties: {} }, cacheControl: { type: 'ephemeral' } }],
      toolChoice: 'auto',
      cacheControl: { type: 'ephemeral' },
    };
    // Gemini 3: JSON mode beside tools (models before it are sent the tools without JSON mode, with a warning).
    await expectNoWarnings(engineFor({ model: 'gemini-3-flash-preview' }), request);
  });

  it('JSON mode with tools on Gemini 2.5 (a 400 there): the tools go without JSON mode, said so; streamed or not', async () => {
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: 'hi' }],
      responseFormat: { type: 'json_schema', schema: { type: 'object', properties: { city: { type: 'string' } } }, description: 'The answer.' },
      tools: [{ name: 'f', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
    };
    const { generated, streamed, bodies } = await both(request);
    for (const body of bodies) {
      expect(body.tools).toHaveLength(1);
      expect(body.generationConfig ?? {}).not.toHaveProperty('responseMimeType');
      expect(body.generationConfig ?? {}).not.toHaveProperty('responseSchema');
    }
    expect(generated).toEqual([{ code: 'setting_not_sent', field: 'responseFormat', message: expect.stringContaining('refuses JSON mode in a request with tools') }]);
    expect(streamed).toEqual(generated);
  });

  it('the warnings part comes once, first, however many chunks follow', async () => {
    wire.server.enqueue({ parts: 'one two three four five six', chunks: 6 });
    const parts = await collect(engineFor().stream({ messages: [{ role: 'user', content: 'hi' }], user: 'u' }));
    expect(parts[0]?.type).toBe('warnings');
    expect(parts.filter((p) => p.type === 'warnings')).toHaveLength(1);
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeGreaterThan(1);
  });

  it('a call the provider refuses says nothing but its error', async () => {
    wire.server.enqueue({ error: { status: 400, message: 'bad' } });
    const parts = await collect(engineFor().stream({ messages: [{ role: 'user', content: 'hi' }], user: 'u' }));
    expect(parts.map((p) => p.type)).toEqual(['error']);
  });
});
