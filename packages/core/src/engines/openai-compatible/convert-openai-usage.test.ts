import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer, type OpenAIWireUsage } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { convertOpenAIUsage } from './convert-openai-usage.js';
import { OpenAICompatibleEngine } from './index.js';

// Prompt-cache writes in OpenAI-format usage: `prompt_tokens_details.cache_write_tokens`, as OpenRouter reports
// them (https://openrouter.ai/docs/use-cases/usage-accounting: `cached_tokens` read, `cache_write_tokens` written,
// both inside `prompt_tokens`) and as the llmrr gateway's chat completions do. Through the OpenAI wire server.

let server: OpenAIWireServer;

beforeEach(async () => {
  server = await startOpenAIWireServer();
});

afterEach(async () => {
  await server.close();
});

const engine = () => new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'router', model: 'anthropic/claude-sonnet', baseURL: server.baseURL }), defaultEngineContext({ env: {} }));
const hello: GenerateRequest = { messages: [{ role: 'user', content: 'Hello there' }] };

// OpenRouter's example: 194 prompt tokens, 100 of them written to the cache, none read.
const details = { cached_tokens: 0, cache_write_tokens: 100, audio_tokens: 0 };
const WRITES = { prompt_tokens: 194, completion_tokens: 2, total_tokens: 196, prompt_tokens_details: details } as OpenAIWireUsage;

describe('prompt_tokens_details.cache_write_tokens -> Usage.cacheWriteInputTokens', () => {
  it('a JSON answer: the writes beside the reads, inside the input', async () => {
    server.setScript({ text: 'Hi', usage: WRITES });
    const result = await engine().generate(hello);
    expect(result.usage).toEqual({ inputTokens: 194, outputTokens: 2, totalTokens: 196, cachedInputTokens: 0, cacheWriteInputTokens: 100 });
  });

  it('a stream: the usage chunk carries them to the finish', async () => {
    server.setScript({ text: 'Hi', usage: { ...WRITES, prompt_tokens_details: { cached_tokens: 50, cache_write_tokens: 100 } } as OpenAIWireUsage });
    const parts = await collect(engine().stream(hello));
    expect(parts.at(-1)).toMatchObject({ type: 'finish', usage: { inputTokens: 194, cachedInputTokens: 50, cacheWriteInputTokens: 100 } });
  });

  it('absent or null: no cacheWriteInputTokens (usage as before)', () => {
    expect(convertOpenAIUsage({ prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 4 } })).toEqual({ inputTokens: 10, outputTokens: 1, totalTokens: 11, cachedInputTokens: 4 });
    expect(convertOpenAIUsage({ prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: null, cache_write_tokens: null } })).toEqual({ inputTokens: 10, outputTokens: 1, totalTokens: 11 });
  });
});
