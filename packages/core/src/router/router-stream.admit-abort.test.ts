/**
 * An admission (`beforeAttemptAfterSpend`) that never settles does not keep a stream whose caller aborted (or
 * cancelled it) pending: the caller's abort ends the wait at once.
 */
import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import type { LanguageEngine, StreamPart, Usage } from '../spec/index.js';
import { LLMRouter } from './llm-router.js';

const PROMPT: Usage = { inputTokens: 1100, outputTokens: 0, totalTokens: 1100 };
const hello = { messages: [{ role: 'user' as const, content: 'Hi' }] };

function engine(name: string, head: StreamPart[]): LanguageEngine {
  return {
    specVersion: 'v1',
    provider: 'custom',
    modelId: name,
    capabilities: { streaming: true },
    generate: () => Promise.reject(new Error('not used')),
    async *stream() {
      yield* head;
      yield { type: 'error', error: new LLMError({ code: 'stream_interrupted', message: 'cut' }) };
    },
  } as LanguageEngine;
}

function router() {
  return new LLMRouter(
    {
      models: [{ name: 'a', engine: 'custom', priority: 1, price: { input: 3, output: 15 } }],
      routing: { strategy: 'priority', retries: { max: 2, initialDelayMs: 0, maxDelayMs: 0 } },
    },
    { engines: { a: engine('a', [{ type: 'usage', usage: PROMPT }]) } },
  );
}

/** Only a guard against a hang: what the stream does comes from its parts, not from this bound. */
const HANG_MS = 5_000;

/** How `p` settled, or `{ settled: false }` when it has not within `ms`. */
async function within<T>(p: Promise<T>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<{ settled: false }>((r) => (timer = setTimeout(() => r({ settled: false }), ms)));
  try {
    return await Promise.race([p.then((v) => ({ settled: true as const, v }), (e: unknown) => ({ settled: true as const, e })), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a pending admission after a billed attempt', () => {
  it("the caller's abort ends the stream while beforeAttemptAfterSpend is pending", async () => {
    const r = router();
    const ac = new AbortController();
    let asked = false;
    let onAsked!: () => void;
    const askedOnce = new Promise<void>((resolve) => (onAsked = resolve));
    const stream = r.stream(hello, {
      signal: ac.signal,
      beforeAttemptAfterSpend: () => {
        asked = true;
        onAsked();
        return new Promise<void>(() => {});
      },
    });
    stream.result.catch(() => {});
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    first.catch(() => {});
    // The retry after the billed attempt is waiting for its admission (asked, never settled).
    await within(askedOnce, HANG_MS);
    expect(asked).toBe(true);
    ac.abort();
    // The part the consumer waits for is the abort, at once (the admission itself goes on); the stream then ends.
    const part = await within(first, HANG_MS);
    expect(part).toMatchObject({ settled: true, v: { value: { type: 'error', error: { code: 'aborted' } }, done: false } });
    expect(await within(it.next(), HANG_MS)).toMatchObject({ settled: true, v: { done: true } });
    const out = await within(stream.result, HANG_MS);
    expect(out).toMatchObject({ settled: true, e: { code: 'aborted' } });
    await r.close();
  });

  it('cancel() ends the stream while beforeAttemptAfterSpend is pending', async () => {
    const r = router();
    let asked = false;
    let onAsked!: () => void;
    const askedOnce = new Promise<void>((resolve) => (onAsked = resolve));
    const stream = r.stream(hello, {
      beforeAttemptAfterSpend: () => {
        asked = true;
        onAsked();
        return new Promise<void>(() => {});
      },
    });
    stream.result.catch(() => {});
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    first.catch(() => {});
    // The retry after the billed attempt is waiting for its admission (asked, never settled).
    await within(askedOnce, HANG_MS);
    expect(asked).toBe(true);
    stream.cancel?.();
    const out = await within(stream.result, HANG_MS);
    expect(out.settled).toBe(true);
    await r.close();
  });
});
