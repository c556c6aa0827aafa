import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { collect } from '../../test/async.test-helpers.js';
import { body, dataOf, eventByEvent, kinds, partStream, readSplits, releasedThenCancelled } from '../../test/sse-decoder.test-helpers.js';
import { GeminiStreamDecoder, type GeminiStreamContext } from './gemini-stream-decoder.js';

const FIXTURES = ['gemini-text.sse', 'gemini-function-call.sse', 'gemini-prompt-blocked.sse', 'gemini-overloaded.sse'];
const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

const decoder = (extra: Partial<GeminiStreamContext> = {}) => new GeminiStreamDecoder({ provider: 'gemini', deployment: 'gem', ...extra });
const chunk = (payload: object) => JSON.stringify(payload);
const textChunk = (text: string, finishReason?: string) =>
  chunk({ candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0, ...(finishReason ? { finishReason } : {}) }], responseId: 'r', modelVersion: 'gemini-test' });

describe('GeminiStreamDecoder: chunk by chunk', () => {
  it('gives each chunk its own parts; the finish comes from end(), since Gemini sends no terminal event', () => {
    const d = decoder();
    const perChunk = dataOf(fixture('gemini-text.sse')).map((data) => kinds(d.decode(data)));
    // The prompt's usage once, from the first chunk (the next repeats the same counts, the last finishes).
    expect(perChunk).toEqual([['response-metadata', 'usage', 'text-delta'], ['text-delta'], ['text-delta']]);
    expect(d.done).toBe(false);
    expect(d.end()).toEqual([
      { type: 'finish', finishReason: 'stop', usage: { inputTokens: 8, outputTokens: 1038, totalTokens: 1046, reasoningTokens: 1021 } },
    ]);
    expect(d.done).toBe(true);
    expect(d.decode(textChunk('late'))).toEqual([]);
    expect(d.end()).toEqual([]);
  });

  it('a whole function call gives its delta and its call from one chunk, and reports the thought signature as it is decoded', () => {
    const signatures: string[] = [];
    const d = decoder({ onThoughtSignature: (id, s) => signatures.push(`${id}=${s}`) });
    const [data] = dataOf(fixture('gemini-function-call.sse'));
    const parts = d.decode(data!);
    expect(kinds(parts)).toEqual(['response-metadata', 'tool-call-delta', 'tool-call']);
    const call = parts[2];
    if (call?.type !== 'tool-call') throw new Error('no tool call');
    expect(signatures).toEqual([`${call.toolCall.id}=CiQB0e2Kb9jUH3Q4Yw==`]);
    expect(d.end()).toMatchObject([{ type: 'finish', finishReason: 'tool-calls' }]);
  });

  it('an { error } chunk is terminal at once, with the mapped code', () => {
    const d = decoder();
    const perChunk = dataOf(fixture('gemini-overloaded.sse')).map((data) => d.decode(data));
    expect(kinds(perChunk.at(-1)!)).toEqual(['error:provider_unavailable']);
    expect(perChunk.at(-1)![0]).toMatchObject({ error: { provider: 'gemini', deployment: 'gem', upstreamStatus: 503 } });
    expect(d.done).toBe(true);
    expect(d.end()).toEqual([]);
    expect(d.interrupted(new TypeError('terminated'))).toEqual([]);
  });

  it('blank payloads give nothing; a blocked prompt finishes with content-filter', () => {
    const d = decoder();
    expect(d.decode('  ')).toEqual([]);
    expect(kinds(d.decode(chunk({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 2, totalTokenCount: 2 } })))).toEqual(['response-metadata']);
    expect(d.end()).toMatchObject([{ type: 'finish', finishReason: 'content-filter' }]);
  });
});

describe('GeminiStreamDecoder: the prompt usage before the end', () => {
  const usageChunk = (text: string, usageMetadata: object, finishReason?: string) =>
    chunk({ candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0, ...(finishReason ? { finishReason } : {}) }], usageMetadata, responseId: 'r' });

  it('hands out the prompt (input, cache reads, tool-use prompt) with output 0 as soon as a chunk reports it, again only when it changes', () => {
    const d = decoder();
    const parts = [
      d.decode(usageChunk('a', { trafficType: 'ON_DEMAND' })),
      d.decode(usageChunk('b', { promptTokenCount: 50_000, totalTokenCount: 50_000 })),
      d.decode(usageChunk('c', { promptTokenCount: 50_000, totalTokenCount: 50_000 })),
      d.decode(usageChunk('d', { promptTokenCount: 50_000, cachedContentTokenCount: 40_000, toolUsePromptTokenCount: 7, totalTokenCount: 50_007 })),
    ].map((p) => p.filter((x) => x.type === 'usage'));
    expect(parts).toEqual([
      [],
      [{ type: 'usage', usage: { inputTokens: 50_000, outputTokens: 0, totalTokens: 50_000 } }],
      [],
      [{ type: 'usage', usage: { inputTokens: 50_007, outputTokens: 0, totalTokens: 50_007, cachedInputTokens: 40_000 } }],
    ]);
    // Cut before the finishReason: an error, and the last usage part stands for the prompt.
    expect(kinds(d.interrupted(new TypeError('terminated')))).toEqual(['error:stream_interrupted']);
  });

  it('the finishReason chunk gives no usage part: the finish carries the whole usage once', () => {
    const d = decoder();
    const first = d.decode(usageChunk('a', { promptTokenCount: 8, totalTokenCount: 8 }));
    const last = d.decode(usageChunk('b', { promptTokenCount: 8, cachedContentTokenCount: 4, candidatesTokenCount: 3, totalTokenCount: 11 }, 'STOP'));
    expect(kinds(first)).toEqual(['response-metadata', 'usage', 'text-delta']);
    expect(kinds(last)).toEqual(['text-delta']);
    expect(d.end()).toEqual([{ type: 'finish', finishReason: 'stop', usage: { inputTokens: 8, outputTokens: 3, totalTokens: 11, cachedInputTokens: 4 } }]);
  });
});

describe('GeminiStreamDecoder: failures', () => {
  it('end() without a finishReason is one stream_interrupted error', () => {
    const d = decoder();
    d.decode(textChunk('partial'));
    const parts = d.end();
    expect(kinds(parts)).toEqual(['error:stream_interrupted']);
    expect(parts[0]).toMatchObject({ error: { message: 'gemini: stream ended without a finishReason', isRetryable: true } });
  });

  it('interrupted(): before the finishReason it is stream_interrupted, after it the answer is complete; an abort comes first', () => {
    const before = decoder();
    before.decode(textChunk('partial'));
    expect(before.interrupted(new TypeError('terminated'))[0]).toMatchObject({
      error: { code: 'stream_interrupted', message: 'gemini: stream interrupted: terminated', isRetryable: true },
    });
    const after = decoder();
    after.decode(textChunk('whole.', 'MAX_TOKENS'));
    expect(after.interrupted(new TypeError('terminated'))).toMatchObject([{ type: 'finish', finishReason: 'length' }]);
    const aborted = decoder({ signal: AbortSignal.abort() });
    aborted.decode(textChunk('whole.', 'STOP'));
    expect(kinds(aborted.interrupted(new TypeError('terminated')))).toEqual(['error:aborted']);
    const own = decoder().interrupted(new LLMError({ code: 'invalid_response', message: 'Response has no body' }));
    expect(own[0]).toMatchObject({ error: { code: 'invalid_response', provider: 'gemini', deployment: 'gem' } });
  });

  it('invalid JSON is invalid_response', () => {
    const d = decoder();
    expect(kinds(d.decode('{nope'))).toEqual(['error:invalid_response']);
    expect(d.done).toBe(true);
  });

  it('a chunk of an unexpected shape keeps the parts before it and ends with stream_interrupted', () => {
    const d = decoder();
    const parts = d.decode(chunk({ candidates: [{ content: { parts: 5 } }], responseId: 'r' }));
    expect(kinds(parts)).toEqual(['response-metadata', 'error:stream_interrupted']);
    expect(d.done).toBe(true);
  });
});

describe('GeminiStreamDecoder through SsePartStream', () => {
  it.each(FIXTURES)('%s: the same parts in any read sizes as chunk by chunk', async (name) => {
    const text = fixture(name);
    const expected = eventByEvent(decoder(), text);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    for (const reads of readSplits(text)) {
      expect(await collect(partStream(body(reads), decoder()))).toEqual(expected);
    }
  });

  it('an { error } chunk releases a body that stays open (cancelled if it does not end)', async () => {
    const b = body([new TextEncoder().encode(fixture('gemini-overloaded.sse'))], true);
    const parts = await releasedThenCancelled(b, () => partStream(b, decoder()));
    expect(kinds(parts)).toEqual(['response-metadata', 'usage', 'text-delta', 'error:provider_unavailable']);
  });

  it('a body that fails after the finishReason chunk still finishes', async () => {
    const reads = [new TextEncoder().encode(`data: ${textChunk('done.', 'STOP')}\r\n\r\n`)];
    let i = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        const read = reads[i++];
        if (read) controller.enqueue(read);
        else controller.error(new TypeError('terminated'));
      },
    });
    expect(kinds(await collect(partStream({ stream: failing }, decoder())))).toEqual(['response-metadata', 'text-delta', 'finish']);
  });
});
