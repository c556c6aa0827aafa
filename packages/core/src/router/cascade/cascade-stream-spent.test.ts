/**
 * A cascade stream (no semantic cache, no guard) whose strong step's stream is cut after its usage part (Anthropic's
 * message_start) and that keeps the weak answer (`onStrongFailure: 'weak'`): what the strong step's failed attempt
 * had reported paid is not a semantic guard call, so the result reports no `guardCost`, as `generate()` does.
 */
import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { LanguageEngine, Usage } from '../../spec/index.js';
import { LLMRouter } from '../llm-router.js';

const PROMPT: Usage = { inputTokens: 1000, outputTokens: 0, totalTokens: 1000 };
const WEAK_USAGE: Usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
const hello = { messages: [{ role: 'user' as const, content: 'Hi' }] };

function weakEngine(): LanguageEngine {
  return {
    specVersion: 'v1',
    provider: 'custom',
    modelId: 'weak',
    capabilities: { streaming: true },
    generate: async () => ({ text: 'weak answer', toolCalls: [], finishReason: 'stop', usage: WEAK_USAGE }),
    async *stream() {
      yield { type: 'text-delta', delta: 'weak answer' };
      yield { type: 'finish', finishReason: 'stop', usage: WEAK_USAGE };
    },
  } as unknown as LanguageEngine;
}

/** Streams report the prompt, then are cut before content; generate() fails like a cut answer. */
function strongEngine(): LanguageEngine {
  return {
    specVersion: 'v1',
    provider: 'custom',
    modelId: 'strong',
    capabilities: { streaming: true },
    generate: () => Promise.reject(new LLMError({ code: 'stream_interrupted', message: 'cut' })),
    async *stream() {
      yield { type: 'usage', usage: PROMPT };
      yield { type: 'error', error: new LLMError({ code: 'stream_interrupted', message: 'cut' }) };
    },
  } as unknown as LanguageEngine;
}

function router() {
  return new LLMRouter(
    {
      models: [
        { name: 'weak', engine: 'custom', price: { input: 1, output: 2 } },
        { name: 'strong', engine: 'custom', price: { input: 3, output: 15 } },
      ],
      routing: {
        strategy: 'priority',
        retries: { max: 0, initialDelayMs: 0, maxDelayMs: 0 },
        cascades: [{ name: 'c', weak: 'weak', strong: 'strong', verifier: 'low', threshold: 0.5, onStrongFailure: 'weak' }],
      },
    } as never,
    { engines: { weak: weakEngine(), strong: strongEngine() }, verifiers: { low: () => ({ score: 1 }) } } as never,
  );
}

describe('cascade stream, strong step cut after its usage part, weak answer kept', () => {
  it('the result reports no guard cost (no semantic guard is configured)', async () => {
    const r = router();
    const s = r.stream(hello, { model: 'c' });
    for await (const _ of s);
    const result = await s.result;
    expect(result.text).toBe('weak answer');
    expect(result.cascade?.strongError).toBeDefined();
    expect(result.guardCost).toBeUndefined();
    await r.close();
  });
});
