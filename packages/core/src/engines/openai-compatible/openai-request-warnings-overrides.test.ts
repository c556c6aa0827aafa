import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { generateAndStream } from '../../test/call-warnings.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// The warnings the OpenAI-compatible engine gives say what really went on the wire: a key sent shortened, and the
// caller's providerOptions (merged over the body last). Against the local OpenAI wire server, which records the
// bodies the engine sent.

const wire = useOpenAIWireServer({ script: { text: 'one two three' } });

const hi = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });

/** generate and stream the request; the warnings of each ([] for none) and both recorded bodies. */
async function both(config: Partial<ModelConfigInput>, request: GenerateRequest) {
  const { generated, streamed, bodies } = await generateAndStream(wire.engine(config), request, wire.lastBody);
  return { generated: generated ?? [], streamed: streamed ?? [], bodies };
}

describe('openai-compatible warnings: what the body carries', () => {
  it('a promptCacheKey over 64 characters sent shortened to the openai preset is reported as setting_changed (promptCacheKey)', async () => {
    // An agent's key: `<uuid>:sub:<uuid>`, 77 characters (docs/core/openai-compatible.md): OpenAI takes at most 64.
    const key = '0b7f7a36-3c2f-4d5e-9d8b-6f1b2a3c4d5e:sub:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
    expect(key.length).toBe(77);
    const { generated, streamed, bodies } = await both({ preset: 'openai', apiKey: 'k', baseURL: wire.server.baseURL }, hi({ promptCacheKey: key }));
    // The key went out in another form (its 64-character short form), not as given...
    for (const body of bodies) {
      expect(typeof body.prompt_cache_key).toBe('string');
      expect(body.prompt_cache_key).not.toBe(key);
      expect((body.prompt_cache_key as string).length).toBe(64);
    }
    // ...which is what `setting_changed` is for (spec/warnings.ts: "a setting was sent in another form or value the
    // provider takes").
    const expected = { code: 'setting_changed', field: 'promptCacheKey', message: expect.any(String) };
    expect(generated).toContainEqual(expected);
    expect(streamed).toContainEqual(expected);
  });

  it('reasoning_effort set through providerOptions.openai is on the wire: no warning says reasoning was not sent', async () => {
    // gpt-4o without a capabilities list: no `reasoning` capability, so `request.reasoning` is not mapped; the
    // caller's providerOptions (which "still win over it", spec/messages.ts) put reasoning_effort in the body anyway.
    const { generated, streamed, bodies } = await both({}, hi({ reasoning: { effort: 'high' }, providerOptions: { openai: { reasoning_effort: 'high' } } }));
    for (const body of bodies) expect(body.reasoning_effort).toBe('high');
    const notSent = { code: 'setting_not_sent', field: 'reasoning', message: expect.any(String) };
    expect(generated).not.toContainEqual(notSent);
    expect(streamed).not.toContainEqual(notSent);
  });

  it('a key of 64 characters goes as it is: no warning', async () => {
    const key = 'k'.repeat(64);
    const { generated, streamed, bodies } = await both({ preset: 'openai', apiKey: 'k', baseURL: wire.server.baseURL }, hi({ promptCacheKey: key }));
    for (const body of bodies) expect(body.prompt_cache_key).toBe(key);
    expect(generated).toEqual([]);
    expect(streamed).toEqual([]);
  });

  it('providerOptions that set another reasoning_effort, or remove it: the warning names them and the value sent', async () => {
    const other = await both({ model: 'o3-mini' }, hi({ reasoning: { effort: 'high' }, providerOptions: { openai: { reasoning_effort: 'low' } } }));
    for (const body of other.bodies) expect(body.reasoning_effort).toBe('low');
    const changed = { code: 'setting_changed', field: 'reasoning.effort', message: 'reasoning.effort high was sent as reasoning_effort low: providerOptions.openai.reasoning_effort took its place.' };
    expect(other.generated).toEqual([changed]);
    expect(other.streamed).toEqual([changed]);
    // The preset's own key is merged after `openai` and wins: it is the one named.
    const own = await both({ preset: 'mistral', apiKey: 'k', capabilities: ['chat', 'reasoning'] }, hi({ reasoning: { budgetTokens: 3000 }, providerOptions: { openai: { reasoning_effort: 'low' }, mistral: { reasoning_effort: 'medium' } } }));
    for (const body of own.bodies) expect(body.reasoning_effort).toBe('medium');
    expect(own.generated).toEqual([
      { code: 'setting_changed', field: 'reasoning.budgetTokens', message: 'reasoning.budgetTokens 3000 was sent as reasoning_effort medium: providerOptions.mistral.reasoning_effort took its place.' },
    ]);
    const removed = await both({ model: 'o3-mini' }, hi({ reasoning: { effort: 'high' }, providerOptions: { openai: { reasoning_effort: undefined } } }));
    for (const body of removed.bodies) expect(body).not.toHaveProperty('reasoning_effort');
    expect(removed.generated).toEqual([{ code: 'setting_not_sent', field: 'reasoning', message: 'reasoning was not sent: providerOptions.openai.reasoning_effort removed it.' }]);
    expect(removed.streamed).toEqual(removed.generated);
  });

  it('a prompt_cache_key or user from providerOptions is what is sent, and the warning says so', async () => {
    const { generated, streamed, bodies } = await both({}, hi({ promptCacheKey: 'conv-1', user: 'u-1', providerOptions: { openai: { prompt_cache_key: 'mine', user: 'u-2' } } }));
    for (const body of bodies) {
      expect(body.prompt_cache_key).toBe('mine');
      expect(body.user).toBe('u-2');
    }
    expect(generated).toEqual([
      { code: 'setting_changed', field: 'promptCacheKey', message: expect.stringContaining('providerOptions.openai.prompt_cache_key') },
      { code: 'setting_changed', field: 'user', message: 'user was sent as the value of providerOptions.openai.user.' },
    ]);
    expect(streamed).toEqual(generated);
    // The same key through providerOptions as in promptCacheKey: on the wire as given, no warning.
    const same = await both({}, hi({ promptCacheKey: 'conv-1', providerOptions: { openai: { prompt_cache_key: 'conv-1' } } }));
    expect(same.generated).toEqual([]);
    expect(same.streamed).toEqual([]);
  });
});
