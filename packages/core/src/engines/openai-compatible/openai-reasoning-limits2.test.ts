import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import type { ReasoningEffort } from '../../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';
import { isOpenAIReasoningModel, openAIReasoningEffort } from './openai-reasoning-models.js';

// Found in review of commit be0df6a, fixed since: reasoning_effort only where the model takes it, and only values it takes.

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer();
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
});

function engine(model: string, config: Partial<ModelConfigInput> = {}): OpenAICompatibleEngine {
  return new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'o', model, baseURL: server.baseURL, ...config }), defaultEngineContext({ env: {} }));
}

const sent = async (model: string, effort: ReasoningEffort): Promise<unknown> => {
  await engine(model).generate({ messages: [{ role: 'user', content: 'Hi' }], reasoning: { effort } });
  return (server.requests[server.requests.length - 1]!.body as Record<string, unknown>).reasoning_effort;
};

describe('model ids misclassified by isOpenAIReasoningModel', () => {
  // o1-mini and o1-preview are o-series models without reasoning_effort: OpenAI answers 400 "Unsupported
  // parameter: 'reasoning_effort' is not supported with this model" (the chat API reference lists the field for
  // o1 and o3-mini at launch; dzhng/deep-research#23/#89). Both ids are in openai 6.49's ChatModel union.
  it.each(['o1-mini', 'o1-mini-2024-09-12', 'o1-preview'])('%s: no reasoning_effort sent', async (model) => {
    expect(await sent(model, 'high')).toBeUndefined();
  });

  // Ollama names models `gpt-oss:20b` / `gpt-oss:120b`; the comment of openai-reasoning-models.ts names Ollama as a
  // server that takes reasoning_effort for gpt-oss, but `gpt-oss(?:-|$)` needs a dash.
  it.each(['gpt-oss:20b', 'gpt-oss:120b'])('%s (Ollama tag) is a reasoning model', (model) => {
    expect(isOpenAIReasoningModel(model)).toBe(true);
  });
});

describe('effort values the model refuses are still sent', () => {
  // "Not all reasoning models support every value" (openai 6.49 ReasoningEffort doc). `none` arrived with gpt-5.1;
  // o-series models take low/medium/high only (gpt-5 adds minimal; xhigh/max are newer still). An effort the
  // deployment cannot take is a provider 400, where Gemini's engine maps levels per model (geminiThinkingLevel).
  // A chat client sending reasoning_effort "none" (gpt-5.1's default) to a router with an o3 fallback gets a 400.
  it('o3, effort none: not sent as "none"', async () => {
    expect(await sent('o3', 'none')).not.toBe('none');
  });
  it('o4-mini, effort max: not sent as "max"', async () => {
    expect(await sent('o4-mini', 'max')).not.toBe('max');
  });
});

describe('the nearest effort per family (openai-reasoning-models.ts)', () => {
  const all = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
  it.each([
    ['o3', ['low', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['o1-2024-12-17', ['low', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-oss:20b', ['low', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-5-mini-2025-08-07', ['minimal', 'minimal', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-5-pro', ['high', 'high', 'high', 'high', 'high', 'high', 'high']],
    ['gpt-5.1', ['none', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-5.1-codex-max', ['low', 'low', 'low', 'medium', 'high', 'xhigh', 'xhigh']],
    ['gpt-5.2', ['none', 'low', 'low', 'medium', 'high', 'xhigh', 'xhigh']],
    ['openai/gpt-5.2-pro', ['medium', 'medium', 'medium', 'medium', 'high', 'xhigh', 'xhigh']],
    ['deepseek-r1', [...all]],
  ] as const)('%s: none..max -> %j', (model, expected) => {
    expect(all.map((e) => openAIReasoningEffort(model, e))).toEqual(expected);
  });

  it('o1, o3-mini, o4-mini and o1-pro still take reasoning_effort', () => {
    expect(['o1', 'o3-mini', 'o4-mini-2025-04-16', 'o1-pro', 'gpt-oss-120b'].map(isOpenAIReasoningModel)).toEqual([true, true, true, true, true]);
  });
});
