/**
 * A cascade stream (no semantic cache, no guard) whose strong step's stream is cut after its usage part (Anthropic's
 * message_start) and that keeps the weak answer (`onStrongFailure: 'weak'`): what the strong step's failed attempt
 * had reported paid is not a semantic guard call, so the result reports no `guardCost`, as `generate()` does; that
 * prompt was billed, so the kept answer's cost has it (`failedAttemptsCost`, its tokens in `failedAttemptsUsage`). A
 * strong step whose retry answers after such a cut is billed the cut attempt's prompt too; one whose retry breaks
 * after some content leaves that prompt in the cascade's `spent()`, in its tokens as in its cost, and not as a guard's.
 * Each such attempt is also listed with its deployment (`failedAttempts`, in the result and in `spent()`).
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

/**
 * Streams report the prompt, then are cut before content (the first `cuts` of them; default all, later ones answer, or
 * break after some content with `thenBreak`); generate() fails like a cut answer.
 */
function strongEngine(cuts = Infinity, thenBreak = false): LanguageEngine {
  let streams = 0;
  return {
    specVersion: 'v1',
    provider: 'custom',
    modelId: 'strong',
    capabilities: { streaming: true },
    generate: () => Promise.reject(new LLMError({ code: 'stream_interrupted', message: 'cut' })),
    async *stream() {
      if (streams++ >= cuts) {
        yield { type: 'text-delta', delta: 'strong answer' };
        if (thenBreak) {
          yield { type: 'error', error: new LLMError({ code: 'stream_interrupted', message: 'broken mid-answer' }) };
          return;
        }
        yield { type: 'finish', finishReason: 'stop', usage: STRONG_USAGE };
        return;
      }
      yield { type: 'usage', usage: PROMPT };
      yield { type: 'error', error: new LLMError({ code: 'stream_interrupted', message: 'cut' }) };
    },
  } as unknown as LanguageEngine;
}

const STRONG_USAGE: Usage = { inputTokens: 1000, outputTokens: 100, totalTokens: 1100 };

function router(strong = strongEngine(), retries = 0) {
  return new LLMRouter(
    {
      models: [
        { name: 'weak', engine: 'custom', price: { input: 1, output: 2 } },
        { name: 'strong', engine: 'custom', price: { input: 3, output: 15 } },
      ],
      routing: {
        strategy: 'priority',
        retries: { max: retries, initialDelayMs: 0, maxDelayMs: 0 },
        cascades: [{ name: 'c', weak: 'weak', strong: 'strong', verifier: 'low', threshold: 0.5, onStrongFailure: 'weak' }],
      },
    } as never,
    { engines: { weak: weakEngine(), strong }, verifiers: { low: () => ({ score: 1 }) } } as never,
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

  it('the kept weak answer is billed the strong attempt\'s reported prompt (cost and failedAttempts fields), its usage the weak step\'s', async () => {
    const r = router();
    const s = r.stream(hello, { model: 'c' });
    for await (const _ of s);
    const result = await s.result;
    expect(result.usage).toEqual(WEAK_USAGE);
    expect(result.failedAttemptsUsage).toEqual(PROMPT);
    // Weak: 10 input at 1 and 5 output at 2; the strong prompt: 1000 input at 3 (per 1M tokens).
    expect(result.failedAttemptsCost?.totalUsd).toBeCloseTo(0.003, 12);
    expect(result.cost.totalUsd).toBeCloseTo((10 + 10) / 1e6 + 0.003, 12);
    // The attempt on its own, on the strong deployment (not the weak one that answered).
    expect(result.failedAttempts?.map((a) => [a.deployment, a.usage])).toEqual([['strong', PROMPT]]);
    await r.close();
  });
});

describe('cascade stream, strong step cut after its usage part, its retry answers', () => {
  it('the cascade result has both steps and the cut attempt\'s prompt in its cost, its tokens in failedAttemptsUsage', async () => {
    const r = router(strongEngine(1), 1);
    const s = r.stream(hello, { model: 'c' });
    for await (const _ of s);
    const result = await s.result;
    expect(result.text).toBe('strong answer');
    expect(result.usage).toMatchObject({ inputTokens: 1010, outputTokens: 105 });
    expect(result.failedAttemptsUsage).toEqual(PROMPT);
    expect(result.failedAttempts?.map((a) => [a.deployment, a.usage])).toEqual([['strong', PROMPT]]);
    expect(result.cost.totalUsd).toBeCloseTo((10 + 10) / 1e6 + (1000 * 3 + 100 * 15) / 1e6 + 0.003, 12);
    await r.close();
  });
});

describe('cascade stream, strong step retried after a cut after its usage part, then broken mid-answer', () => {
  it('spent() counts the cut attempt\'s prompt in its tokens as in its cost, and reports no guard cost (none configured)', async () => {
    const r = router(strongEngine(1, true), 1);
    const s = r.stream(hello, { model: 'c' });
    const types: string[] = [];
    for await (const p of s) types.push(p.type);
    expect(types).toEqual(['route', 'text-delta', 'error']);
    const spent = s.spent?.();
    // Weak: 10 in at 1 + 5 out at 2; the strong cut prompt: 1000 in at 3 (per 1M). What the gateway bills (ledger
    // tokens, tokens per minute) comes from this usage, so the billed prompt's tokens are in it.
    expect(spent?.cost.totalUsd).toBeCloseTo(20 / 1e6 + 0.003, 12);
    expect(spent?.usage.inputTokens).toBe(WEAK_USAGE.inputTokens + PROMPT.inputTokens);
    expect(spent?.guardCost).toBeUndefined();
    expect(spent?.guardUsage).toBeUndefined();
    // The cut attempt on its own, with its deployment (a consumer counting spend per deployment puts it there).
    expect(spent?.failedAttempts?.map((a) => [a.deployment, a.usage, a.cost.totalUsd])).toEqual([['strong', PROMPT, 0.003]]);
    await r.close();
  });
});
