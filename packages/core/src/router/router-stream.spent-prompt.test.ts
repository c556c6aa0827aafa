/**
 * A stream attempt that fails before its first content part after its engine reported usage (the prompt, as
 * Anthropic's `message_start` says it) was billed for that prompt: the router fails it over (or fails the stream),
 * and the stream's `spent()` says what such attempts cost, at their deployments' prices, for whoever bills a stream
 * that fails (the gateway). Usage that counts no tokens (or is no object, from an engine in plain JS) is none.
 */
import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import type { LanguageEngine, StreamPart, Usage } from '../spec/index.js';
import { LLMRouter } from './llm-router.js';
import type { RouterStreamPart } from './types.js';

const PROMPT: Usage = { inputTokens: 1100, outputTokens: 0, totalTokens: 1100, cacheWriteInputTokens: 1000 };
const hello = { messages: [{ role: 'user' as const, content: 'Hi' }] };

/** An engine whose streams send `head` and then fail (`stream_interrupted`), or answer `ok` when `head` is undefined. */
function engine(name: string, head: StreamPart[] | undefined): LanguageEngine {
  return {
    specVersion: 'v1',
    provider: 'custom',
    modelId: name,
    capabilities: { streaming: true },
    generate: () => Promise.reject(new Error('not used')),
    async *stream() {
      if (!head) {
        yield { type: 'text-delta', delta: 'ok' };
        yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 1, totalTokens: 6 } };
        return;
      }
      yield* head;
      yield { type: 'error', error: new LLMError({ code: 'stream_interrupted', message: 'cut' }) };
    },
  } as LanguageEngine;
}

async function parts(stream: AsyncIterable<RouterStreamPart>): Promise<RouterStreamPart[]> {
  const all: RouterStreamPart[] = [];
  for await (const p of stream) all.push(p);
  return all;
}

function router(engines: Record<string, LanguageEngine>, retries = 0) {
  const price = { input: 3, output: 15, cacheWrite: 3.75 };
  return new LLMRouter(
    {
      models: Object.keys(engines).map((name, i) => ({ name, engine: 'custom', priority: i + 1, price: i === 0 ? price : { input: 1, output: 5, cacheWrite: 1.25 } })),
      routing: { strategy: 'priority', retries: { max: retries, initialDelayMs: 0, maxDelayMs: 0 } },
    },
    { engines },
  );
}

describe('RouterStream.spent: prompts reported by attempts that failed before their first content', () => {
  it('a single attempt cut after its usage part: the stream fails and spent() has the prompt at its price', async () => {
    const r = router({ a: engine('a', [{ type: 'usage', usage: PROMPT }]) });
    const stream = r.stream(hello);
    const all = await parts(stream);
    expect(all.map((p) => p.type)).toEqual(['error']);
    // 100 fresh at 3 + 1000 writes at 3.75, per 1M tokens.
    expect(stream.spent?.()).toEqual({ usage: PROMPT, cost: { inputUsd: 0.00405, outputUsd: 0, totalUsd: 0.00405, estimated: false }, replay: false });
    await r.close();
  });

  it('a retry and a fallback that answers: spent() sums the failed attempts (each at its deployment price), not the answer', async () => {
    const r = router({ a: engine('a', [{ type: 'usage', usage: PROMPT }]), b: engine('b', undefined) }, 1);
    const stream = r.stream(hello);
    const all = await parts(stream);
    expect(all[0]).toMatchObject({ type: 'route', deployment: 'b' });
    expect((await stream.result).usage.inputTokens).toBe(5);
    const spent = stream.spent?.();
    expect(spent?.usage).toEqual({ inputTokens: 2200, outputTokens: 0, totalTokens: 2200, cacheWriteInputTokens: 2000 });
    expect(spent?.cost.totalUsd).toBeCloseTo(2 * 0.00405, 12);
    await r.close();
  });

  it('the last usage part counts; one with no tokens, or that is no object, is none; an attempt cut with no usage part adds nothing', async () => {
    const later: Usage = { inputTokens: 1200, outputTokens: 0, totalTokens: 1200 };
    const r1 = router({ a: engine('a', [{ type: 'usage', usage: PROMPT }, { type: 'usage', usage: later }]) });
    const s1 = r1.stream(hello);
    await parts(s1);
    expect(s1.spent?.()?.usage).toEqual(later);
    const r2 = router({ a: engine('a', [{ type: 'usage', usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } }]), b: engine('b', [{ type: 'usage', usage: null as unknown as Usage }]) });
    const s2 = r2.stream(hello);
    expect((await parts(s2)).map((p) => p.type)).toEqual(['error']);
    expect(s2.spent?.()).toBeUndefined();
    const r3 = router({ a: engine('a', [{ type: 'response-metadata', id: 'x' }]) });
    const s3 = r3.stream(hello);
    await parts(s3);
    expect(s3.spent?.()).toBeUndefined();
    await Promise.all([r1.close(), r2.close(), r3.close()]);
  });
});
