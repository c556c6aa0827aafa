import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { generateAndStream } from '../../test/call-warnings.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// What the OpenAI-compatible engine leaves out of a request it accepts is said, not done in silence: `warnings` on
// the result, and one `warnings` part before the first content part of a stream. Against the local OpenAI wire
// server, which records the bodies the engine sent.

const wire = useOpenAIWireServer({ script: { text: 'one two three four five six seven eight' } });
const { engine: engineFor } = wire;

const hi = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });

/** generate and stream the request: the streamed text is the generated one. */
async function both(config: Partial<ModelConfigInput>, request: GenerateRequest) {
  const answered = await generateAndStream(engineFor(config), request, wire.lastBody);
  expect(answered.text).toBe(answered.result.text);
  return answered;
}

describe('openai-compatible engine: warnings', () => {
  it('promptCacheKey to a server not known to take prompt_cache_key: not sent, and said so', async () => {
    const { generated, streamed, bodies } = await both({}, hi({ promptCacheKey: 'conv-1' }));
    for (const body of bodies) expect(body).not.toHaveProperty('prompt_cache_key');
    expect(generated).toEqual([{ code: 'setting_not_sent', field: 'promptCacheKey', message: expect.stringContaining('OpenAI-compatible server') }]);
    expect(streamed).toEqual(generated);
  });

  it('the openai preset (and a deployment with options.promptCacheKey) sends it: no warning', async () => {
    for (const config of [{ preset: 'openai', apiKey: 'k', baseURL: wire.server.baseURL }, { options: { promptCacheKey: true } }] as const) {
      const { generated, streamed, bodies } = await both(config, hi({ promptCacheKey: 'conv-1' }));
      for (const body of bodies) expect(body.prompt_cache_key).toBe('conv-1');
      expect(generated).toBeUndefined();
      expect(streamed).toBeUndefined();
    }
  });

  it('an empty promptCacheKey is no key: nothing to warn about', async () => {
    const { generated, streamed } = await both({}, hi({ promptCacheKey: '' }));
    expect(generated).toBeUndefined();
    expect(streamed).toBeUndefined();
  });

  it('user to Mistral (no user field): not sent, and said so; other presets send it', async () => {
    const mistral = await both({ preset: 'mistral', apiKey: 'k' }, hi({ user: 'u-1', seed: 7 }));
    for (const body of mistral.bodies) {
      expect(body).not.toHaveProperty('user');
      expect(body.random_seed).toBe(7); // renamed, not dropped: no warning
    }
    expect(mistral.generated).toEqual([{ code: 'setting_not_sent', field: 'user', message: 'user was not sent: Mistral takes no user field.' }]);
    expect(mistral.streamed).toEqual(mistral.generated);
    const generic = await both({}, hi({ user: 'u-1' }));
    for (const body of generic.bodies) expect(body.user).toBe('u-1');
    expect(generic.generated).toBeUndefined();
    expect(generic.streamed).toBeUndefined();
  });

  it('reasoning that asks for thinking, on a deployment without the reasoning capability: not sent, and said so', async () => {
    for (const reasoning of [{ effort: 'high' }, { budgetTokens: 2048 }] as const) {
      const { generated, streamed, bodies } = await both({}, hi({ reasoning }));
      for (const body of bodies) expect(body).not.toHaveProperty('reasoning_effort');
      expect(generated).toEqual([{ code: 'setting_not_sent', field: 'reasoning', message: expect.stringContaining('no reasoning capability') }]);
      expect(streamed).toEqual(generated);
    }
  });

  it('thinking turned off on a model that does not think is no loss; a reasoning model gets reasoning_effort: no warning', async () => {
    const off = await both({}, hi({ reasoning: { effort: 'none' } }));
    expect(off.generated).toBeUndefined();
    expect(off.streamed).toBeUndefined();
    const o3 = await both({ model: 'o3-mini' }, hi({ reasoning: { effort: 'high' } }));
    for (const body of o3.bodies) expect(body.reasoning_effort).toBe('high');
    expect(o3.generated).toBeUndefined();
    expect(o3.streamed).toBeUndefined();
  });

  it('reasoning sent as something else: an effort the family does not take, a budget (chat completions take efforts)', async () => {
    const max = await both({ model: 'o3-mini' }, hi({ reasoning: { effort: 'max' } }));
    for (const body of max.bodies) expect(body.reasoning_effort).toBe('high');
    expect(max.generated).toEqual([{ code: 'setting_changed', field: 'reasoning.effort', message: 'reasoning.effort max was sent as high: o3-mini takes low, medium, high.' }]);
    expect(max.streamed).toEqual(max.generated);
    const budget = await both({ model: 'o3-mini' }, hi({ reasoning: { budgetTokens: 3000 } }));
    for (const body of budget.bodies) expect(body.reasoning_effort).toBe('high');
    expect(budget.generated).toEqual([
      { code: 'setting_changed', field: 'reasoning.budgetTokens', message: 'reasoning.budgetTokens 3000 was sent as reasoning_effort high: chat completions take an effort, not a token budget.' },
    ]);
    expect(budget.streamed).toEqual(budget.generated);
  });

  it('several at once, in a fixed order (promptCacheKey, user, reasoning)', async () => {
    const { generated, streamed } = await both({ preset: 'mistral', apiKey: 'k' }, hi({ promptCacheKey: 'k1', user: 'u', reasoning: { effort: 'low' } }));
    expect(generated?.map((w) => w.field)).toEqual(['promptCacheKey', 'user', 'reasoning']);
    expect(streamed).toEqual(generated);
  });

  it('cache marks are no warning (a hint; these servers cache prefixes on their own)', async () => {
    const { generated, streamed } = await both({}, {
      messages: [
        { role: 'system', content: 'sys', cacheControl: { type: 'ephemeral' } },
        { role: 'user', content: [{ type: 'text', text: 'hi', cacheControl: { type: 'ephemeral', ttl: '1h' } }] },
      ],
      cacheControl: { type: 'ephemeral' },
    });
    expect(generated).toBeUndefined();
    expect(streamed).toBeUndefined();
  });

  it('an ordinary request: no warnings field on the result and no warnings part', async () => {
    const engine = engineFor({});
    const result = await engine.generate(hi({ temperature: 0.2, topP: 0.9, stop: ['x'], seed: 1, maxTokens: 20, user: 'u' }));
    expect(result).not.toHaveProperty('warnings');
    const parts = await collect(engine.stream(hi()));
    expect(parts.some((p) => p.type === 'warnings')).toBe(false);
  });

  it('the warnings part comes once, first, however many chunks follow (the template fast path included)', async () => {
    wire.server.setScript({ text: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ') });
    try {
      const parts = await collect(engineFor({}).stream(hi({ promptCacheKey: 'k' })));
      expect(parts[0]?.type).toBe('warnings');
      expect(parts.filter((p) => p.type === 'warnings')).toHaveLength(1);
      expect(parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('')).toBe(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '));
    } finally {
      wire.server.setScript({ text: 'one two three four five six seven eight' });
    }
  });

  it('a call that fails says nothing but its error', async () => {
    wire.server.setScript({ error: { status: 400, message: 'bad' } });
    try {
      const parts = await collect(engineFor({}).stream(hi({ promptCacheKey: 'k' })));
      expect(parts.map((p) => p.type)).toEqual(['error']);
      await expect(engineFor({}).generate(hi({ promptCacheKey: 'k' }))).rejects.toMatchObject({ code: 'invalid_request' });
    } finally {
      wire.server.setScript({ text: 'one two three four five six seven eight' });
    }
  });
});
