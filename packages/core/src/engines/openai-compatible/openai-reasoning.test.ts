import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { REASONING_EFFORTS, type ReasoningOptions } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { ask, useOpenAIReasoning } from '../../test/reasoning-wire.test-helpers.js';

// `request.reasoning` -> chat-completions `reasoning_effort`, asserted on the body a local OpenAI wire server receives.

const { wire, engine } = useOpenAIReasoning();

const body = (i = 0) => wire.server.requests[i]!.body as Record<string, unknown>;

describe('openai-compatible: reasoning -> reasoning_effort', () => {
  // A model outside the family table (openai-reasoning-models.ts), declared able to reason, gets every effort as
  // asked; a known family gets the nearest effort it takes (since the graceful-degrade review).
  const declared = { model: 'reasoner-test', capabilities: ['chat' as const, 'reasoning' as const] };
  it.each(REASONING_EFFORTS)('effort %s is sent as reasoning_effort, as is, to a model outside the family table', async (effort) => {
    await engine(declared).generate(ask({ effort }));
    expect(body()).toEqual({ model: 'reasoner-test', messages: [{ role: 'user', content: 'Think about it' }], reasoning_effort: effort });
  });

  it('a gpt-5 (5.0) model gets the nearest effort it takes: none -> minimal, xhigh and max -> high', async () => {
    for (const effort of REASONING_EFFORTS) await engine().generate(ask({ effort }));
    expect(wire.server.requests.map((_, i) => body(i).reasoning_effort)).toEqual(['minimal', 'minimal', 'low', 'medium', 'high', 'high', 'high']);
  });

  // A budget of 0 (no thinking) goes as nothing to a model outside the table: many servers refuse "none".
  it.each([
    [0, undefined],
    [1024, 'low'],
    [2048, 'medium'],
    [32000, 'high'],
  ] as const)('a budget alone (%i) sends the effort of its budget (%s) to a model outside the family table', async (budgetTokens, effort) => {
    await engine(declared).generate(ask({ budgetTokens }));
    expect(body().reasoning_effort).toBe(effort);
  });

  // Thinking off (a budget of 0: Anthropic's thinking disabled through the gateway) to a model outside the table. Groq's
  // qwen/qwen3-32b takes reasoning_effort "none" (thinking off) and "default", and reasons when the field is absent;
  // Ollama's OpenAI endpoint turns thinking off only for "none". Where "none" is not known to be taken (the default,
  // as for xAI grok-3-mini and older vLLM, which refuse it) nothing is sent and the result says so.
  describe('a budget of 0 to a model outside the family table', () => {
    const qwen = { model: 'qwen/qwen3-32b', apiKey: 'gsk-test', capabilities: ['chat' as const, 'reasoning' as const] };

    it.each(['groq', 'ollama'] as const)('%s: sent as none, what effort none sends, with no warning (thinking off, as asked)', async (preset) => {
      await engine({ ...qwen, preset, baseURL: wire.server.baseURL }).generate(ask({ effort: 'none' }));
      const result = await engine({ ...qwen, preset, baseURL: wire.server.baseURL }).generate(ask({ budgetTokens: 0 }));
      expect([body(0).reasoning_effort, body(1).reasoning_effort]).toEqual(['none', 'none']);
      expect(result.warnings ?? []).toEqual([]);
    });

    it('elsewhere not sent, with a setting_not_sent warning naming reasoning.budgetTokens (the model may still think)', async () => {
      const result = await engine(declared).generate(ask({ budgetTokens: 0 }));
      expect(body()).not.toHaveProperty('reasoning_effort');
      expect(result.warnings).toEqual([expect.objectContaining({ code: 'setting_not_sent', field: 'reasoning.budgetTokens' })]);
      expect(result.warnings![0]!.message).toMatch(/not known to take reasoning_effort none .*may still think \(options\.reasoningNone/);
    });

    it('options.reasoningNone turns it on or off against the preset', async () => {
      await engine({ ...declared, options: { reasoningNone: true } }).generate(ask({ budgetTokens: 0 }));
      await engine({ ...qwen, preset: 'groq', baseURL: wire.server.baseURL, options: { reasoningNone: false } }).generate(ask({ budgetTokens: 0 }));
      expect([body(0).reasoning_effort, body(1).reasoning_effort]).toEqual(['none', undefined]);
    });

    it('no warning on a deployment without the reasoning capability (nothing to turn off)', async () => {
      const result = await engine({ model: 'plain-test', capabilities: ['chat'] }).generate(ask({ budgetTokens: 0 }));
      expect(body()).not.toHaveProperty('reasoning_effort');
      expect(result.warnings).toBeUndefined();
    });
  });

  it('streams send it too; no reasoning, an empty object: no field', async () => {
    await collect(engine().stream(ask({ effort: 'low' })));
    await engine().generate(ask(undefined));
    await engine().generate(ask({}));
    expect(wire.server.requests.map((_, i) => body(i).reasoning_effort)).toEqual(['low', undefined, undefined]);
    expect(body().stream).toBe(true);
  });

  it('providerOptions.openai.reasoning_effort wins', async () => {
    await engine().generate(ask({ effort: 'low' }, { providerOptions: { openai: { reasoning_effort: 'high' } } }));
    expect(body().reasoning_effort).toBe('high');
  });

  it('the reasoning the provider answers with comes back as reasoning', async () => {
    wire.server.setScript({ text: '42', reasoning: 'Six times seven.' });
    const result = await engine().generate(ask({ effort: 'medium' }));
    expect(result).toMatchObject({ text: '42', reasoning: 'Six times seven.' });
  });

  // gpt-4o and most open models answer 400 to reasoning_effort: it goes only to a deployment with the
  // `reasoning` capability (configured, or without a list an OpenAI reasoning family by model id), else dropped.
  it('a deployment without the reasoning capability is sent no reasoning_effort (configured, or by model id)', async () => {
    await engine({ model: 'gpt-4o' }).generate(ask({ effort: 'high' }));
    await engine({ capabilities: ['chat', 'streaming', 'tools'] }).generate(ask({ effort: 'none' }));
    await collect(engine({ model: 'openai/gpt-4.1-mini' }).stream(ask({ budgetTokens: 2048 })));
    await engine({ model: 'llama-3.3-70b', capabilities: ['chat', 'reasoning'] }).generate(ask({ effort: 'low' }));
    expect(wire.server.requests.map((_, i) => body(i).reasoning_effort)).toEqual([undefined, undefined, undefined, 'low']);
  });

  it.each([
    ['o1', true],
    ['o3-mini', true],
    ['openai/o4-mini-2025-04-16', true],
    ['gpt-5', true],
    ['gpt-5.1', true],
    ['gpt-5-nano', true],
    ['gpt-oss-120b', true],
    ['gpt-5-chat-latest', false],
    ['gpt-4o', false],
    ['gpt-4.1', false],
    ['mistral-large', false],
  ] as const)('model id %s without a capabilities list: reasoning %s', (model, reasoning) => {
    expect(engine({ model }).capabilities.reasoning === true).toBe(reasoning);
  });

  it('a bad value is an invalid_request naming the field, and nothing is sent', async () => {
    const e = await engine()
      .generate(ask({ effort: 'turbo' } as unknown as ReasoningOptions))
      .catch((x: unknown) => x);
    expect(LLMError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ code: 'invalid_request', param: 'reasoning.effort' });
    expect(wire.server.requests).toHaveLength(0);
  });
});
